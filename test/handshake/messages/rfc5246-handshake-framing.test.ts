/** RFC 5246 §7.4 handshake header and §6.2.1 fragmentation: the reassembler. */
import { describe, expect, it } from 'vitest';
import { concatBytes } from '../../../src/codec/bytes.ts';
import { HandshakeReassembler, decodeHandshake, encodeHandshake } from '../../../src/handshake/messages/handshake.ts';
import { HandshakeType } from '../../../src/handshake/messages/types.ts';
import { Xorshift, expectDecodeError } from './helpers.ts';

const rng = new Xorshift(0xf4a9);
const messages = [
  encodeHandshake(HandshakeType.client_hello, rng.bytes(300)),
  encodeHandshake(HandshakeType.server_hello_done, new Uint8Array(0)),
  encodeHandshake(HandshakeType.certificate, rng.bytes(5000)),
  encodeHandshake(HandshakeType.finished, rng.bytes(12)),
];
const stream = concatBytes(...messages);

function drain(r: HandshakeReassembler): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let m = r.next(); m !== undefined; m = r.next()) {
    expect(m.raw.subarray(4)).toEqual(m.body);
    expect(m.raw[0]).toBe(m.type);
    out.push(m.raw);
  }
  return out;
}

describe('RFC 5246 §7.4 handshake header', () => {
  it('encodes type + uint24 length + body', () => {
    expect(encodeHandshake(20, Uint8Array.of(1, 2, 3))).toEqual(Uint8Array.of(20, 0, 0, 3, 1, 2, 3));
    expect(encodeHandshake(14, new Uint8Array(0))).toEqual(Uint8Array.of(14, 0, 0, 0));
  });

  it('decodeHandshake takes exactly one message', () => {
    expect(decodeHandshake(Uint8Array.of(20, 0, 0, 1, 9))).toEqual({ type: 20, body: Uint8Array.of(9), raw: Uint8Array.of(20, 0, 0, 1, 9) });
    expectDecodeError(() => decodeHandshake(Uint8Array.of(20, 0, 0, 1, 9, 9)));
    expectDecodeError(() => decodeHandshake(Uint8Array.of(20, 0, 0, 2, 9)));
  });
});

describe('RFC 5246 §6.2.1 handshake reassembly', () => {
  it('reassembles messages split into 1-byte fragments', () => {
    const r = new HandshakeReassembler();
    const out: Uint8Array[] = [];
    for (let i = 0; i < stream.length; i++) {
      r.push(stream.subarray(i, i + 1));
      out.push(...drain(r));
      // Mid-message (and only then) a partial message is buffered.
      const boundary = out.reduce((n, m) => n + m.length, 0) === i + 1;
      expect(r.hasPartial).toBe(!boundary);
    }
    expect(out).toEqual(messages);
    expect(r.hasPartial).toBe(false);
  });

  it('yields several messages from one fragment', () => {
    const r = new HandshakeReassembler();
    r.push(stream);
    expect(drain(r)).toEqual(messages);
    expect(r.next()).toBeUndefined();
    expect(r.hasPartial).toBe(false);
  });

  it('handles random fragment boundaries', () => {
    const split = new Xorshift(77);
    for (let k = 0; k < 50; k++) {
      const r = new HandshakeReassembler();
      const out: Uint8Array[] = [];
      for (let at = 0; at < stream.length; ) {
        const n = split.range(0, 700);
        r.push(stream.subarray(at, at + n));
        at += n;
        out.push(...drain(r));
      }
      expect(out).toEqual(messages);
    }
  });

  it('returned messages are copies (later pushes do not change them)', () => {
    const r = new HandshakeReassembler();
    const buf = Uint8Array.from(messages[3] ?? []);
    r.push(buf);
    const m = r.next();
    buf.fill(0);
    r.push(encodeHandshake(20, new Uint8Array(12)));
    expect(m?.raw).toEqual(messages[3]);
  });

  it('rejects a declared length above maxMessageSize as soon as the header is complete', () => {
    const r = new HandshakeReassembler();
    r.push(Uint8Array.of(HandshakeType.server_key_exchange, 0x01, 0x00));
    expect(r.next()).toBeUndefined();
    r.push(Uint8Array.of(0x01)); // 65537 bytes (a ClientHello may be larger: test/handshake/limits.test.ts)
    expectDecodeError(() => r.next());
  });

  it('accepts exactly maxMessageSize', () => {
    const r = new HandshakeReassembler({ maxMessageSize: 1000 });
    r.push(encodeHandshake(HandshakeType.client_key_exchange, new Uint8Array(1000)));
    expect(r.next()?.body.length).toBe(1000);
    r.push(Uint8Array.of(HandshakeType.client_key_exchange, 0, 0x03, 0xe9));
    expectDecodeError(() => r.next());
  });

  it('allows larger Certificate messages only', () => {
    const r = new HandshakeReassembler();
    const big = encodeHandshake(HandshakeType.certificate, new Uint8Array(100_000));
    r.push(big);
    expect(r.next()?.raw).toEqual(big);
    const r2 = new HandshakeReassembler();
    r2.push(encodeHandshake(HandshakeType.server_key_exchange, new Uint8Array(100_000)).subarray(0, 4));
    expectDecodeError(() => r2.next());
    const r3 = new HandshakeReassembler({ maxMessageSize: 1000, maxCertificateSize: 2000 });
    r3.push(Uint8Array.of(HandshakeType.certificate, 0, 0x10, 0));
    expectDecodeError(() => r3.next());
  });

  it('buffers a partial header without error', () => {
    const r = new HandshakeReassembler();
    r.push(Uint8Array.of(1, 0xff));
    expect(r.next()).toBeUndefined();
    expect(r.hasPartial).toBe(true);
  });
});
