import { describe, expect, it } from 'vitest';
import {
  BadRecordMacError,
  DecodeError,
  ProtocolVersionError,
  RecordOverflowError,
  TlsError,
  UnexpectedMessageError,
  AlertDescription,
} from '../../src/alerts.ts';
import { bytesToHex, concatBytes, hexToBytes } from '../../src/codec/bytes.ts';
import { nobleAeadProvider } from '../../src/crypto/aead/noble.ts';
import { nodeAeadProvider } from '../../src/crypto/aead/node.ts';
import type { AeadProvider } from '../../src/crypto/aead/provider.ts';
import { ContentType } from '../../src/record/content-type.ts';
import { HalfConnection, MAX_SEQUENCE } from '../../src/record/half-connection.ts';
import { aeadProtection, nullProtection, type RecordProtection } from '../../src/record/protection.ts';
import { MAX_PLAINTEXT, RecordLayer, type PlainRecord } from '../../src/record/record-layer.ts';
import { Aeads, type AeadDescriptor } from '../../src/suites.ts';
import { seededRandom } from './helpers.ts';

const h = hexToBytes;
const providers: readonly AeadProvider[] = [nobleAeadProvider, nodeAeadProvider];
const aeads: readonly AeadDescriptor[] = [Aeads.aes128gcm, Aeads.aes256gcm, Aeads.chacha20poly1305];

function keyed(desc: AeadDescriptor, provider: AeadProvider, fill = 0x42): RecordProtection {
  return aeadProtection(desc, new Uint8Array(desc.keyLength).fill(fill), new Uint8Array(desc.fixedIvLength).fill(fill + 1), provider);
}

/** A connected pair: `a` writes, `b` reads, both switched to the same keys. */
function pair(desc: AeadDescriptor, provider: AeadProvider): { a: RecordLayer; b: RecordLayer } {
  const a = new RecordLayer();
  const b = new RecordLayer();
  a.setPendingWrite(keyed(desc, provider));
  a.activateWrite();
  b.setPendingRead(keyed(desc, provider));
  b.activateRead();
  return { a, b };
}

function readAll(rl: RecordLayer): PlainRecord[] {
  const out: PlainRecord[] = [];
  for (let r = rl.read(); r !== undefined; r = rl.read()) out.push(r);
  return out;
}

function expectTlsError(fn: () => unknown, cls: new (...args: never[]) => TlsError, alert: number): void {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(cls);
  expect((caught as TlsError).alert).toBe(alert);
}

function readWire(hex: string, encrypted?: RecordProtection): () => unknown {
  return () => {
    const rl = new RecordLayer();
    if (encrypted !== undefined) {
      rl.setPendingRead(encrypted);
      rl.activateRead();
    }
    rl.push(h(hex));
    return readAll(rl);
  };
}

describe('RFC 5246 §6.2.1 framing (plaintext records)', () => {
  it('reads several records from one push and one record from 1-byte pushes', () => {
    const wire = h('16030300040e000000' + '1503030002010016030100050100000100');
    const rl = new RecordLayer();
    rl.push(wire);
    expect(readAll(rl).map((r) => [r.type, r.version, bytesToHex(r.data)])).toEqual([
      [22, 0x0303, '0e000000'],
      [21, 0x0303, '0100'],
      [22, 0x0301, '0100000100'],
    ]);
    const slow = new RecordLayer();
    const got: PlainRecord[] = [];
    for (const b of wire) {
      slow.push(Uint8Array.of(b));
      got.push(...readAll(slow));
    }
    expect(got.map((r) => bytesToHex(r.data))).toEqual(['0e000000', '0100', '0100000100']);
    expect(slow.buffered).toBe(0);
  });

  it('returns undefined for every truncated prefix of a record and nothing is lost', () => {
    const wire = h('160303000a0102030405060708090a');
    for (let n = 0; n < wire.length; n++) {
      const rl = new RecordLayer();
      rl.push(wire.subarray(0, n));
      expect(rl.read()).toBeUndefined();
      rl.push(wire.subarray(n));
      expect(bytesToHex(rl.read()?.data ?? new Uint8Array())).toBe('0102030405060708090a');
    }
  });

  it('returned data is a copy: mutating the pushed buffer afterwards does not change it', () => {
    const wire = h('16030300020e00');
    const rl = new RecordLayer();
    rl.push(wire);
    const rec = rl.read();
    wire.fill(0);
    expect(bytesToHex(rec?.data ?? new Uint8Array())).toBe('0e00');
  });

  it('rejects an unknown content type with unexpected_message', () => {
    for (const t of [0, 19, 24, 255]) {
      expectTlsError(readWire(`${t.toString(16).padStart(2, '0')}0303000100`), UnexpectedMessageError, AlertDescription.unexpected_message);
    }
  });

  it('rejects bytes that are not TLS at all ("GET / HTTP/1.1", SSLv2 hello) with decode_error', () => {
    expectTlsError(readWire(bytesToHex(new TextEncoder().encode('GET / HTTP/1.1\r\nHost: x\r\n\r\n'))), DecodeError, AlertDescription.decode_error);
    expectTlsError(readWire('802e0103010015000000100000'), DecodeError, AlertDescription.decode_error);
  });

  it('rejects a record version whose major byte is not 3 with protocol_version', () => {
    expectTlsError(readWire('16020000010e'), ProtocolVersionError, AlertDescription.protocol_version);
    expectTlsError(readWire('16fe0300010e'), ProtocolVersionError, AlertDescription.protocol_version);
  });

  it('accepts any {03,xx} record version by default and enforces expectedReadVersion once set', () => {
    const rl = new RecordLayer();
    rl.push(h('16030000010e'));
    expect(rl.read()?.version).toBe(0x0300);
    const pinned = new RecordLayer();
    pinned.expectedReadVersion = 0x0303;
    pinned.push(h('16030100010e'));
    expect(() => pinned.read()).toThrow(ProtocolVersionError);
  });

  it('rejects an oversized length from the header alone, before the body arrives (record_overflow)', () => {
    expectTlsError(readWire('1703034001'), RecordOverflowError, AlertDescription.record_overflow);
    expectTlsError(readWire('17030344ff'), RecordOverflowError, AlertDescription.record_overflow);
    const rl = new RecordLayer();
    rl.push(h('1703034000'));
    expect(rl.read()).toBeUndefined(); // exactly 2^14 is allowed, waits for the body
  });

  it('applies a smaller maxPlaintext (max_fragment_length) to incoming records', () => {
    const rl = new RecordLayer({ maxPlaintext: 512 });
    rl.push(h('1703030201'));
    expect(() => rl.read()).toThrow(RecordOverflowError);
    expect(() => new RecordLayer({ maxPlaintext: 0 })).toThrow(RangeError);
    expect(() => new RecordLayer().setMaxPlaintext(MAX_PLAINTEXT + 1)).toThrow(RangeError);
  });

  it('rejects zero-length handshake, alert and ChangeCipherSpec records (unexpected_message, as GnuTLS); allows empty application data', () => {
    for (const t of ['14', '15', '16']) expectTlsError(readWire(`${t}03030000`), UnexpectedMessageError, AlertDescription.unexpected_message);
    const rl = new RecordLayer();
    rl.push(h('1703030000'));
    expect(rl.read()?.data.length).toBe(0);
  });

  it('stays failed after an error: the same error is thrown again, no further parsing', () => {
    const rl = new RecordLayer();
    rl.push(h('630303000100' + '16030300020e00'));
    let first: unknown;
    try {
      rl.read();
    } catch (e) {
      first = e;
    }
    expect(first).toBeInstanceOf(UnexpectedMessageError);
    expect(() => rl.read()).toThrow(first as Error);
  });
});

describe('RFC 5246 §6.2.1 fragmentation on write', () => {
  it('splits data larger than maxPlaintext into full records plus a remainder', () => {
    const rl = new RecordLayer({ maxPlaintext: 100 });
    const data = new Uint8Array(250).map((_, i) => i & 0xff);
    const wire = rl.write(ContentType.application_data, data);
    expect(wire.length).toBe(3 * 5 + 250);
    const reader = new RecordLayer({ maxPlaintext: 100 });
    reader.push(wire);
    const recs = readAll(reader);
    expect(recs.map((r) => r.data.length)).toEqual([100, 100, 50]);
    expect(bytesToHex(concatBytes(...recs.map((r) => r.data)))).toBe(bytesToHex(data));
    expect(rl.writeSequence).toBe(3n);
  });

  it('writes 2^14-byte records by default and uses writeVersion in the header', () => {
    const rl = new RecordLayer();
    rl.writeVersion = 0x0301;
    const wire = rl.write(ContentType.handshake, new Uint8Array(MAX_PLAINTEXT + 1));
    expect(bytesToHex(wire.subarray(0, 5))).toBe('1603014000');
    expect(bytesToHex(wire.subarray(5 + MAX_PLAINTEXT, 10 + MAX_PLAINTEXT))).toBe('1603010001');
  });

  it('writes one empty application-data record, refuses empty handshake/alert/CCS data', () => {
    const rl = new RecordLayer();
    expect(bytesToHex(rl.write(ContentType.application_data, new Uint8Array(0)))).toBe('1703030000');
    expect(() => rl.write(ContentType.handshake, new Uint8Array(0))).toThrow(TypeError);
  });
});

describe('RFC 5246 §7.1 ChangeCipherSpec switching and §6.1 sequence numbers', () => {
  it('activate without pending keys is an unexpected ChangeCipherSpec', () => {
    expectTlsError(() => new RecordLayer().activateRead(), UnexpectedMessageError, AlertDescription.unexpected_message);
    expectTlsError(() => new RecordLayer().activateWrite(), UnexpectedMessageError, AlertDescription.unexpected_message);
  });

  it('resets the sequence number to 0 at activation and counts per direction', () => {
    const rl = new RecordLayer();
    rl.write(ContentType.handshake, h('01'));
    rl.write(ContentType.handshake, h('02'));
    expect(rl.writeSequence).toBe(2n);
    expect(rl.readSequence).toBe(0n);
    rl.setPendingWrite(keyed(Aeads.aes128gcm, nobleAeadProvider));
    rl.activateWrite();
    expect(rl.writeSequence).toBe(0n);
    const wire = rl.write(ContentType.handshake, h('1400000c000000000000000000000000'));
    // GCM explicit nonce = the write sequence number (0) right after the header.
    expect(bytesToHex(wire.subarray(5, 13))).toBe('0000000000000000');
    expect(bytesToHex(rl.write(ContentType.application_data, h('00')).subarray(5, 13))).toBe('0000000000000001');
  });

  it('refuses to wrap: the record after 2^64 - 2 fails with internal_error', () => {
    const hc = new HalfConnection(MAX_SEQUENCE - 2n);
    expect(hc.next()).toBe(MAX_SEQUENCE - 2n);
    expect(hc.next()).toBe(MAX_SEQUENCE - 1n);
    expectTlsError(() => hc.next(), TlsError, AlertDescription.internal_error);
  });
});

describe('RFC 5288 / RFC 7905 protection', () => {
  it('null protection returns the fragment unchanged and is not "encrypted"', () => {
    expect(bytesToHex(nullProtection.protect(ContentType.handshake, 0x0303, h('0102'), 0n))).toBe('0102');
    expect(new RecordLayer().readEncrypted).toBe(false);
  });

  it('ChaCha20-Poly1305 nonce is the IV XOR the left-padded sequence number; GCM nonce is salt ‖ explicit', () => {
    const key = new Uint8Array(32).fill(1);
    const iv = h('a0a1a2a3a4a5a6a7a8a9aaab');
    const p = aeadProtection(Aeads.chacha20poly1305, key, iv, nobleAeadProvider);
    const seq = 0x0102030405060708n;
    const body = p.protect(ContentType.application_data, 0x0303, h('68656c6c6f'), seq);
    // Computed by hand: a0a1a2a3 ‖ (a4a5a6a7a8a9aaab XOR 0102030405060708).
    const nonce = h('a0a1a2a3a5a7a5a3adafada3');
    const aad = h('0102030405060708' + '17' + '0303' + '0005');
    expect(bytesToHex(body)).toBe(bytesToHex(nobleAeadProvider.create('CHACHA20-POLY1305', key).seal(nonce, aad, h('68656c6c6f'))));

    const g = aeadProtection(Aeads.aes128gcm, new Uint8Array(16).fill(2), h('01020304'), nobleAeadProvider);
    const gb = g.protect(ContentType.alert, 0x0303, h('0100'), 5n);
    expect(bytesToHex(gb.subarray(0, 8))).toBe('0000000000000005');
    const sealed = nobleAeadProvider
      .create('AES-128-GCM', new Uint8Array(16).fill(2))
      .seal(h('010203040000000000000005'), h('0000000000000005' + '15' + '0303' + '0002'), h('0100'));
    expect(bytesToHex(gb.subarray(8))).toBe(bytesToHex(sealed));
  });

  it('GCM accepts any explicit nonce chosen by the peer (RFC 5288 §3)', () => {
    const key = new Uint8Array(16).fill(3);
    const salt = h('0a0b0c0d');
    const explicit = h('deadbeefcafef00d');
    const sealed = nobleAeadProvider
      .create('AES-128-GCM', key)
      .seal(concatBytes(salt, explicit), h('0000000000000000' + '17' + '0303' + '0003'), h('616263'));
    const p = aeadProtection(Aeads.aes128gcm, key, salt, nodeAeadProvider);
    expect(bytesToHex(p.unprotect(ContentType.application_data, 0x0303, concatBytes(explicit, sealed), 0n))).toBe('616263');
  });

  it('rejects keys and IVs of the wrong length', () => {
    expect(() => aeadProtection(Aeads.aes128gcm, new Uint8Array(32), new Uint8Array(4), nobleAeadProvider)).toThrow(TypeError);
    expect(() => aeadProtection(Aeads.chacha20poly1305, new Uint8Array(32), new Uint8Array(4), nobleAeadProvider)).toThrow(TypeError);
  });
});

describe.each(providers.map((p) => [p.name, p] as const))('encrypted records, %s provider', (_n, provider) => {
  for (const desc of aeads) {
    describe(desc.name, () => {
      it('round-trips records of many sizes through a writer/reader pair, 1-byte pushes included', () => {
        const { a, b } = pair(desc, provider);
        const rnd = seededRandom(desc.keyLength + desc.fixedIvLength);
        const sent: string[] = [];
        const wire: Uint8Array[] = [];
        for (const size of [0, 1, 13, 100, 1000, MAX_PLAINTEXT]) {
          const data = rnd.bytes(size);
          sent.push(bytesToHex(data));
          wire.push(a.write(ContentType.application_data, data));
        }
        const all = concatBytes(...wire);
        expect(readAll((b.push(all), b)).map((r) => bytesToHex(r.data))).toEqual(sent);
        const { a: a2, b: b2 } = pair(desc, provider);
        const small = a2.write(ContentType.handshake, h('0e000000'));
        const got: PlainRecord[] = [];
        for (const x of small) {
          b2.push(Uint8Array.of(x));
          got.push(...readAll(b2));
        }
        expect(got.map((r) => bytesToHex(r.data))).toEqual(['0e000000']);
      });

      it('any bit flip in header, explicit nonce, ciphertext or tag gives bad_record_mac (or a header error)', () => {
        const { a } = pair(desc, provider);
        const wire = a.write(ContentType.application_data, h('00112233445566778899'));
        for (let i = 0; i < wire.length * 8; i++) {
          const bad = wire.slice();
          bad[i >> 3] = (bad[i >> 3] as number) ^ (1 << (i & 7));
          const rl = new RecordLayer();
          rl.setPendingRead(keyed(desc, provider));
          rl.activateRead();
          rl.push(bad);
          let err: unknown;
          try {
            const r = rl.read();
            // A length change can only make the record incomplete; then it never decrypts.
            expect(r).toBeUndefined();
            continue;
          } catch (e) {
            err = e;
          }
          expect(err).toBeInstanceOf(TlsError);
          // Byte 0 (type), 1-2 (version) may fail at the header; everything else must be bad_record_mac.
          if (i >= 40) expect(err).toBeInstanceOf(BadRecordMacError);
          if (err instanceof BadRecordMacError) expect(err.message).toBe('record authentication failed');
        }
      });

      it('a record read at the wrong sequence number, with the wrong type, or under the wrong key fails with bad_record_mac', () => {
        const p = keyed(desc, provider);
        const body = p.protect(ContentType.application_data, 0x0303, h('0102030405'), 7n);
        expect(bytesToHex(p.unprotect(ContentType.application_data, 0x0303, body, 7n))).toBe('0102030405');
        expect(() => p.unprotect(ContentType.application_data, 0x0303, body, 8n)).toThrow(BadRecordMacError);
        expect(() => p.unprotect(ContentType.handshake, 0x0303, body, 7n)).toThrow(BadRecordMacError);
        expect(() => p.unprotect(ContentType.application_data, 0x0301, body, 7n)).toThrow(BadRecordMacError);
        expect(() => keyed(desc, provider, 0x43).unprotect(ContentType.application_data, 0x0303, body, 7n)).toThrow(BadRecordMacError);
        // Skipping a record on the stream: the reader's sequence number no longer matches.
        const { a, b } = pair(desc, provider);
        a.write(ContentType.application_data, h('01'));
        b.push(a.write(ContentType.application_data, h('02')));
        expect(() => b.read()).toThrow(BadRecordMacError);
      });

      it('every truncation of the fragment below explicit nonce + tag is bad_record_mac, identical message', () => {
        const p = keyed(desc, provider);
        const body = p.protect(ContentType.application_data, 0x0303, h('01'), 0n);
        const messages = new Set<string>();
        for (let n = 0; n < body.length; n++) {
          try {
            p.unprotect(ContentType.application_data, 0x0303, body.subarray(0, n), 0n);
            expect.unreachable();
          } catch (e) {
            expect(e).toBeInstanceOf(BadRecordMacError);
            messages.add((e as Error).message);
          }
        }
        expect([...messages]).toEqual(['record authentication failed']);
      });

      it('an encrypted zero-length handshake record, or a plaintext above maxPlaintext, is refused after decryption', () => {
        const p = keyed(desc, provider);
        const empty = p.protect(ContentType.handshake, 0x0303, new Uint8Array(0), 0n);
        expectTlsError(readWire('16030300' + empty.length.toString(16).padStart(2, '0') + bytesToHex(empty), keyed(desc, provider)), UnexpectedMessageError, AlertDescription.unexpected_message);

        const big = p.protect(ContentType.application_data, 0x0303, new Uint8Array(MAX_PLAINTEXT + 1), 0n);
        const rl = new RecordLayer();
        rl.setPendingRead(keyed(desc, provider));
        rl.activateRead();
        rl.push(concatBytes(h('170303'), Uint8Array.of(big.length >> 8, big.length & 0xff), big));
        expect(() => rl.read()).toThrow(RecordOverflowError);
      });

      it('ciphertext longer than 2^14 + 256 is record_overflow from the header', () => {
        expectTlsError(readWire('1703034101', keyed(desc, provider)), RecordOverflowError, AlertDescription.record_overflow);
        const rl = new RecordLayer();
        rl.setPendingRead(keyed(desc, provider));
        rl.activateRead();
        rl.push(h('1703034100'));
        expect(rl.read()).toBeUndefined();
      });
    });
  }
});

describe('deframer resource use', () => {
  it('a full-size record trickled in 1-byte pushes is read correctly and quickly', () => {
    const w = new RecordLayer();
    const data = new Uint8Array(MAX_PLAINTEXT).map((_, i) => (i * 31) & 0xff);
    const wire = w.write(ContentType.application_data, data);
    const rl = new RecordLayer();
    const t0 = performance.now();
    for (let i = 0; i < wire.length - 1; i++) {
      rl.push(wire.subarray(i, i + 1));
      expect(rl.read()).toBeUndefined();
    }
    rl.push(wire.subarray(wire.length - 1));
    const rec = rl.read();
    expect(performance.now() - t0).toBeLessThan(5000);
    expect(bytesToHex(rec?.data ?? new Uint8Array())).toBe(bytesToHex(data));
    expect(rl.buffered).toBe(0);
  });

  it('records straddling many pushes keep their order with the bytes that follow', () => {
    const w = new RecordLayer();
    const wire = concatBytes(...[1, 2, 3, 4, 5].map((n) => w.write(ContentType.application_data, new Uint8Array(200).fill(n))));
    const rl = new RecordLayer();
    const got: number[] = [];
    for (let at = 0; at < wire.length; at += 3) {
      rl.push(wire.subarray(at, at + 3));
      for (let r = rl.read(); r !== undefined; r = rl.read()) got.push(r.data[0] ?? -1, r.data[199] ?? -1, r.data.length);
    }
    expect(got).toEqual([1, 1, 200, 2, 2, 200, 3, 3, 200, 4, 4, 200, 5, 5, 200]);
  });
});

describe('key wiping (style.md §10, best effort)', () => {
  for (const provider of providers) {
    for (const desc of aeads) {
      it(`${provider.name} ${desc.name}: a protection replaced at ChangeCipherSpec is wiped and no longer opens its records`, () => {
        const old = keyed(desc, provider);
        const body = old.protect(ContentType.application_data, 0x0303, h('0102'), 0n);
        const hc = new HalfConnection();
        hc.setPending(old);
        hc.activate();
        hc.setPending(keyed(desc, provider, 0x11));
        hc.activate();
        expect(() => old.unprotect(ContentType.application_data, 0x0303, body, 0n)).toThrow(BadRecordMacError);
      });
    }
  }

  it('RecordLayer.destroy wipes both directions and drops buffered bytes', () => {
    const rl = new RecordLayer();
    const rp = keyed(Aeads.aes128gcm, nobleAeadProvider);
    const body = rp.protect(ContentType.application_data, 0x0303, h('01'), 0n);
    rl.setPendingRead(rp);
    rl.activateRead();
    rl.push(h('1703'));
    rl.destroy();
    expect(rl.buffered).toBe(0);
    expect(() => rp.unprotect(ContentType.application_data, 0x0303, body, 0n)).toThrow(BadRecordMacError);
  });
});
