/** Hello extensions: the block (RFC 5246 §7.4.1.4) and each typed codec, named after its RFC. */
import { describe, expect, it } from 'vitest';
import { hexToBytes } from '../../../src/codec/bytes.ts';
import * as X from '../../../src/handshake/messages/index.ts';
import { randomExtensions } from './cases.ts';
import { Xorshift, decodesOrTlsError, encodeWith, expectDecodeError, expectIllegalParameter, mutate, readerOf } from './helpers.ts';

describe('RFC 5246 §7.4.1.4 extensions block', () => {
  it('round-trips random extension lists', () => {
    const rng = new Xorshift(0xe7);
    for (let i = 0; i < 300; i++) {
      const exts = randomExtensions(rng, 10);
      const bytes = encodeWith((w) => X.encodeExtensions(w, exts));
      const r = readerOf(bytes);
      expect(X.decodeExtensions(r)).toEqual(exts);
      expect(r.remaining).toBe(0);
    }
  });

  it('encodes an empty list as a zero-length block', () => {
    expect(encodeWith((w) => X.encodeExtensions(w, []))).toEqual(Uint8Array.of(0, 0));
  });

  it('rejects every truncated prefix with DecodeError', () => {
    const exts = [
      { type: 0, data: X.encodeServerName('example.com') },
      { type: 23, data: new Uint8Array(0) },
    ];
    const bytes = encodeWith((w) => X.encodeExtensions(w, exts));
    for (let n = 0; n < bytes.length; n++) expectDecodeError(() => X.decodeExtensions(readerOf(bytes.subarray(0, n))));
  });

  it('rejects duplicates with illegal_parameter', () => {
    expectIllegalParameter(() => X.decodeExtensions(readerOf(hexToBytes('000a' + 'ff01000100' + 'ff01000100'))));
    expectIllegalParameter(() => X.decodeExtensions(readerOf(hexToBytes('0008' + '00170000' + '00170000'))));
  });

  it('rejects a dangling half entry inside the block', () => {
    expectDecodeError(() => X.decodeExtensions(readerOf(hexToBytes('0005001700000a'))));
  });

  it('findExtension finds by type and carries unknown ones', () => {
    const exts = X.decodeExtensions(readerOf(hexToBytes('000a' + 'fafa0002abcd' + '00170000')));
    expect(X.findExtension(exts, 0xfafa)?.data).toEqual(Uint8Array.of(0xab, 0xcd));
    expect(X.findExtension(exts, X.ExtensionType.extended_master_secret)?.data).toEqual(new Uint8Array(0));
    expect(X.findExtension(exts, X.ExtensionType.server_name)).toBeUndefined();
  });
});

describe('RFC 6066 §3 server_name', () => {
  it('round-trips a host name', () => {
    const data = X.encodeServerName('localhost');
    expect(data).toEqual(hexToBytes('000c0000096c6f63616c686f7374'));
    expect(X.decodeServerName(data)).toBe('localhost');
  });

  it('rejects an empty list and an empty name (vector bounds → decode_error)', () => {
    expectDecodeError(() => X.decodeServerName(hexToBytes('0000')));
    expectDecodeError(() => X.decodeServerName(hexToBytes('0003000000')));
  });

  it('rejects non-ASCII, control bytes and a trailing dot with illegal_parameter', () => {
    expectIllegalParameter(() => X.decodeServerName(hexToBytes('000600000361e962'))); // "aéb" (latin-1)
    expectIllegalParameter(() => X.decodeServerName(hexToBytes('0006000003610062'))); // NUL inside
    expectIllegalParameter(() => X.decodeServerName(hexToBytes('000600000361622e'))); // "ab."
  });

  it('rejects two names of the same type with decode_error (as OpenSSL)', () => {
    expectDecodeError(() => X.decodeServerName(hexToBytes('000a' + '0000026162' + '0000026364')));
  });

  it('skips names of unknown types but requires a host_name', () => {
    expect(X.decodeServerName(hexToBytes('000a' + '0700027878' + '0000026162'))).toBe('ab');
    expectIllegalParameter(() => X.decodeServerName(hexToBytes('0005' + '0700027878')));
  });

  it('rejects list-length mismatches and trailing bytes', () => {
    expectDecodeError(() => X.decodeServerName(hexToBytes('000600000361')));
    expectDecodeError(() => X.decodeServerName(hexToBytes('0005000003616263')));
    expectDecodeError(() => X.decodeServerName(hexToBytes('00050000026162' + '00')));
  });

  it('recognises the server acknowledgment (empty extension_data)', () => {
    expect(X.isServerNameAck(new Uint8Array(0))).toBe(true);
    expect(X.isServerNameAck(X.encodeServerName('a'))).toBe(false);
  });

  it('refuses to encode a non-ASCII or empty name', () => {
    expect(() => X.encodeServerName('é.example')).toThrow(RangeError);
    expect(() => X.encodeServerName('')).toThrow(RangeError);
  });
});

describe('RFC 8422 §5.1.1 supported_groups and RFC 5246 §7.4.1.4.1 signature_algorithms', () => {
  const codecs = [
    { name: 'supported_groups', dec: X.decodeSupportedGroups, enc: X.encodeSupportedGroups },
    { name: 'signature_algorithms', dec: X.decodeSignatureAlgorithms, enc: X.encodeSignatureAlgorithms },
  ];
  for (const c of codecs) {
    it(`${c.name}: round-trips random lists`, () => {
      const rng = new Xorshift(c.name.length);
      for (let i = 0; i < 200; i++) {
        const v = rng.u16s(rng.range(1, 40));
        expect(c.dec(c.enc(v))).toEqual(v);
      }
    });
    it(`${c.name}: rejects odd, empty, overlong and trailing`, () => {
      expectDecodeError(() => c.dec(hexToBytes('0003001d00')));
      expectDecodeError(() => c.dec(hexToBytes('0000')));
      expectDecodeError(() => c.dec(hexToBytes('0004001d')));
      expectDecodeError(() => c.dec(hexToBytes('0002001d00')));
    });
  }
  it('decodes the common client lists', () => {
    expect(X.decodeSupportedGroups(hexToBytes('0006001d00170018'))).toEqual([29, 23, 24]);
    expect(X.decodeSignatureAlgorithms(hexToBytes('000404030503'))).toEqual([0x0403, 0x0503]);
  });
});

describe('RFC 8422 §5.1.2 ec_point_formats', () => {
  it('round-trips and rejects an empty list', () => {
    expect(X.encodeEcPointFormats([0])).toEqual(Uint8Array.of(1, 0));
    expect(X.decodeEcPointFormats(Uint8Array.of(3, 0, 1, 2))).toEqual([0, 1, 2]);
    expectDecodeError(() => X.decodeEcPointFormats(Uint8Array.of(0)));
    expectDecodeError(() => X.decodeEcPointFormats(Uint8Array.of(2, 0)));
    expectDecodeError(() => X.decodeEcPointFormats(Uint8Array.of(1, 0, 0)));
  });
});

describe('RFC 7627 §5.1 extended_master_secret', () => {
  it('is empty; data is a decode_error', () => {
    expect(X.encodeExtendedMasterSecret()).toEqual(new Uint8Array(0));
    expect(X.decodeExtendedMasterSecret(new Uint8Array(0))).toBe(true);
    expectDecodeError(() => X.decodeExtendedMasterSecret(Uint8Array.of(0)));
  });
});

describe('RFC 5746 §3.2 renegotiation_info', () => {
  it('round-trips the empty initial value and a 12-byte verify_data', () => {
    expect(X.encodeRenegotiationInfo()).toEqual(Uint8Array.of(0));
    expect(X.decodeRenegotiationInfo(Uint8Array.of(0))).toEqual(new Uint8Array(0));
    const v = new Uint8Array(12).fill(7);
    expect(X.decodeRenegotiationInfo(X.encodeRenegotiationInfo(v))).toEqual(v);
  });
  it('rejects missing, overlong and trailing lengths', () => {
    expectDecodeError(() => X.decodeRenegotiationInfo(new Uint8Array(0)));
    expectDecodeError(() => X.decodeRenegotiationInfo(Uint8Array.of(2, 1)));
    expectDecodeError(() => X.decodeRenegotiationInfo(Uint8Array.of(0, 0)));
  });
});

describe('RFC 7301 §3.1 application_layer_protocol_negotiation', () => {
  const te = new TextEncoder();
  it('round-trips protocol names', () => {
    const names = [te.encode('h2'), te.encode('http/1.1')];
    const data = X.encodeAlpn(names);
    expect(data).toEqual(hexToBytes('000c02683208687474702f312e31'));
    expect(X.decodeAlpn(data)).toEqual(names);
  });
  it('rejects an empty list, an empty name, and length mismatches', () => {
    expectDecodeError(() => X.decodeAlpn(hexToBytes('0000')));
    expectDecodeError(() => X.decodeAlpn(hexToBytes('000300016a')));
    expectDecodeError(() => X.decodeAlpn(hexToBytes('0004026832')));
    expectDecodeError(() => X.decodeAlpn(hexToBytes('000302683200')));
  });
});

describe('RFC 6066 §4 max_fragment_length', () => {
  it('maps codes 1..4 to 2^9..2^12', () => {
    expect([1, 2, 3, 4].map((c) => X.decodeMaxFragmentLength(Uint8Array.of(c)))).toEqual([512, 1024, 2048, 4096]);
    for (const n of [512, 1024, 2048, 4096] as const) expect(X.decodeMaxFragmentLength(X.encodeMaxFragmentLength(n))).toBe(n);
  });
  it('rejects other codes with illegal_parameter and bad lengths with decode_error', () => {
    expectIllegalParameter(() => X.decodeMaxFragmentLength(Uint8Array.of(0)));
    expectIllegalParameter(() => X.decodeMaxFragmentLength(Uint8Array.of(5)));
    expectDecodeError(() => X.decodeMaxFragmentLength(new Uint8Array(0)));
    expectDecodeError(() => X.decodeMaxFragmentLength(Uint8Array.of(1, 1)));
  });
});

describe('RFC 8449 §4 record_size_limit', () => {
  it('accepts values ≥ 64 and rejects smaller ones with illegal_parameter', () => {
    expect(X.decodeRecordSizeLimit(X.encodeRecordSizeLimit(64))).toBe(64);
    expect(X.decodeRecordSizeLimit(hexToBytes('4001'))).toBe(16385);
    expectIllegalParameter(() => X.decodeRecordSizeLimit(hexToBytes('003f')));
    expectDecodeError(() => X.decodeRecordSizeLimit(hexToBytes('40')));
    expectDecodeError(() => X.decodeRecordSizeLimit(hexToBytes('400100')));
  });
});

describe('RFC 5077 §3.2 session_ticket extension', () => {
  it('carries the ticket raw (empty when requesting one)', () => {
    expect(X.decodeSessionTicket(new Uint8Array(0))).toEqual(new Uint8Array(0));
    const t = new Xorshift(5).bytes(100);
    expect(X.decodeSessionTicket(X.encodeSessionTicket(t))).toEqual(t);
  });
});

describe('typed extension decoders under fuzzing', () => {
  const te = new TextEncoder();
  const decoders: readonly [string, (d: Uint8Array) => unknown, Uint8Array][] = [
    ['server_name', X.decodeServerName, X.encodeServerName('www.example.org')],
    ['supported_groups', X.decodeSupportedGroups, X.encodeSupportedGroups([29, 23, 24])],
    ['ec_point_formats', X.decodeEcPointFormats, X.encodeEcPointFormats([0])],
    ['signature_algorithms', X.decodeSignatureAlgorithms, X.encodeSignatureAlgorithms([0x0403, 0x0804])],
    ['extended_master_secret', X.decodeExtendedMasterSecret, X.encodeExtendedMasterSecret()],
    ['renegotiation_info', X.decodeRenegotiationInfo, X.encodeRenegotiationInfo(new Uint8Array(12))],
    ['alpn', X.decodeAlpn, X.encodeAlpn([te.encode('h2'), te.encode('http/1.1')])],
    ['max_fragment_length', X.decodeMaxFragmentLength, X.encodeMaxFragmentLength(2048)],
    ['record_size_limit', X.decodeRecordSizeLimit, X.encodeRecordSizeLimit(16385)],
    ['session_ticket', X.decodeSessionTicket, X.encodeSessionTicket(Uint8Array.of(1, 2, 3))],
  ];
  for (const [name, dec, valid] of decoders) {
    it(`${name}: every strict prefix is rejected (session_ticket is raw) and random bytes throw only TlsError`, () => {
      if (name !== 'session_ticket') {
        for (let n = 0; n < valid.length; n++) {
          expect(decodesOrTlsError(() => dec(valid.subarray(0, n)))).toBe(false);
        }
      }
      const rng = new Xorshift(name.length * 131);
      for (let i = 0; i < 1000; i++) {
        decodesOrTlsError(() => dec(rng.bool() ? rng.bytes(rng.range(0, 40)) : mutate(rng, valid)));
      }
      expect(decodesOrTlsError(() => dec(valid))).toBe(true);
    });
  }
});
