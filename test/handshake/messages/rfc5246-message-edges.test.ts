/** Hand-built malformed and edge-case messages, each asserting the exact error class (alert). */
import { describe, expect, it } from 'vitest';
import { hexToBytes } from '../../../src/codec/bytes.ts';
import type { ByteWriter } from '../../../src/codec/writer.ts';
import * as M from '../../../src/handshake/messages/index.ts';
import { encodeWith, expectDecodeError, expectIllegalParameter, readerOf } from './helpers.ts';

const random32 = new Uint8Array(32).fill(0xab);

/** A ClientHello body with each field written by hand, so lengths can be wrong on purpose. */
function rawClientHello(o: {
  sessionId?: (w: ByteWriter) => void;
  suites?: (w: ByteWriter) => void;
  compression?: (w: ByteWriter) => void;
  tail?: (w: ByteWriter) => void;
}): Uint8Array {
  return encodeWith((w) => {
    w.u16(0x0303).bytes(random32);
    (o.sessionId ?? ((x) => x.u8(0)))(w);
    (o.suites ?? ((x) => x.u16(2).u16(0xc02b)))(w);
    (o.compression ?? ((x) => x.u8(1).u8(0)))(w);
    o.tail?.(w);
  });
}

const ch = (b: Uint8Array): unknown => M.decodeClientHello(readerOf(b));
const sh = (b: Uint8Array): unknown => M.decodeServerHello(readerOf(b));

describe('RFC 5246 §7.4.1.2 ClientHello', () => {
  it('decodes a minimal hello with no extensions block as extensions []', () => {
    expect(ch(rawClientHello({}))).toEqual({
      version: 0x0303,
      random: random32,
      sessionId: new Uint8Array(0),
      cipherSuites: [0xc02b],
      compressionMethods: [0],
      extensions: [],
    });
  });

  it('decodes an empty extensions block as []', () => {
    expect(ch(rawClientHello({ tail: (w) => w.u16(0) }))).toMatchObject({ extensions: [] });
  });

  it('accepts a 32-byte session_id and rejects a 33-byte one', () => {
    expect(ch(rawClientHello({ sessionId: (w) => w.u8(32).bytes(new Uint8Array(32)) }))).toMatchObject({
      sessionId: new Uint8Array(32),
    });
    expectDecodeError(() => ch(rawClientHello({ sessionId: (w) => w.u8(33).bytes(new Uint8Array(33)) })));
  });

  it('rejects a truncated random', () => {
    expectDecodeError(() => ch(Uint8Array.of(3, 3, ...random32.subarray(0, 31))));
  });

  it('rejects an odd cipher_suites length', () => {
    expectDecodeError(() => ch(rawClientHello({ suites: (w) => w.u16(3).u16(0xc02b).u8(0) })));
  });

  it('rejects an empty cipher_suites list', () => {
    expectDecodeError(() => ch(rawClientHello({ suites: (w) => w.u16(0) })));
  });

  it('rejects cipher_suites longer than the message', () => {
    expectDecodeError(() => ch(rawClientHello({ suites: (w) => w.u16(200).u16(0xc02b) })));
  });

  it('rejects an empty compression_methods list', () => {
    expectDecodeError(() => ch(rawClientHello({ compression: (w) => w.u8(0) })));
  });

  it('rejects an extensions block longer than the rest of the message', () => {
    expectDecodeError(() => ch(rawClientHello({ tail: (w) => w.u16(10).u16(23).u16(0) })));
  });

  it('rejects an extension whose data is longer than the block', () => {
    expectDecodeError(() => ch(rawClientHello({ tail: (w) => w.u16(6).u16(23).u16(5).u16(0) })));
  });

  it('rejects a one-byte stray tail (not an extensions block)', () => {
    expectDecodeError(() => ch(rawClientHello({ tail: (w) => w.u8(0) })));
  });

  it('rejects duplicate extensions with illegal_parameter (RFC 5246 §7.4.1.4)', () => {
    expectIllegalParameter(() =>
      ch(rawClientHello({ tail: (w) => w.withLength16((b) => b.u16(23).u16(0).u16(10).u16(0).u16(23).u16(0)) })),
    );
  });

  it('carries unknown extensions in order, raw', () => {
    const m = ch(
      rawClientHello({
        tail: (w) => w.withLength16((b) => b.u16(0xfafa).u16(2).u16(0x1234).u16(23).u16(0).u16(0x0a0a).u16(0)),
      }),
    );
    expect(m).toMatchObject({
      extensions: [
        { type: 0xfafa, data: Uint8Array.of(0x12, 0x34) },
        { type: 23, data: new Uint8Array(0) },
        { type: 0x0a0a, data: new Uint8Array(0) },
      ],
    });
  });
});

describe('RFC 5246 §7.4.1.3 ServerHello', () => {
  const head = (w: ByteWriter): ByteWriter => w.u16(0x0303).bytes(random32);

  it('decodes without an extensions block', () => {
    expect(sh(encodeWith((w) => head(w).u8(0).u16(0xc02b).u8(0)))).toMatchObject({ cipherSuite: 0xc02b, extensions: [] });
  });

  it('rejects a 33-byte session_id', () => {
    expectDecodeError(() => sh(encodeWith((w) => head(w).u8(33).bytes(new Uint8Array(33)).u16(0xc02b).u8(0))));
  });

  it('rejects duplicate extensions with illegal_parameter', () => {
    expectIllegalParameter(() =>
      sh(encodeWith((w) => head(w).u8(0).u16(0xc02b).u8(0).withLength16((b) => b.u16(0xff01).u16(1).u8(0).u16(0xff01).u16(1).u8(0)))),
    );
  });

  it('rejects a truncated cipher_suite', () => {
    expectDecodeError(() => sh(encodeWith((w) => head(w).u8(0).u8(0xc0))));
  });
});

describe('RFC 5246 §7.4.2 Certificate', () => {
  const cert = (b: Uint8Array): unknown => M.decodeCertificate(readerOf(b));

  it('decodes an empty certificate_list (a client with no certificate)', () => {
    expect(cert(Uint8Array.of(0, 0, 0))).toEqual({ certificates: [] });
  });

  it('rejects a zero-length ASN.1Cert', () => {
    expectDecodeError(() => cert(Uint8Array.of(0, 0, 3, 0, 0, 0)));
  });

  it('rejects a certificate longer than the list', () => {
    expectDecodeError(() => cert(Uint8Array.of(0, 0, 4, 0, 0, 2, 0x30)));
  });

  it('rejects a list longer than the message', () => {
    expectDecodeError(() => cert(Uint8Array.of(0, 0, 9, 0, 0, 1, 0x30)));
  });
});

describe('RFC 5246 §7.4.4 CertificateRequest', () => {
  const cr = (b: Uint8Array): unknown => M.decodeCertificateRequest(readerOf(b));

  it('rejects an empty certificate_types list', () => {
    expectDecodeError(() => cr(Uint8Array.of(0, 0, 2, 4, 3, 0, 0)));
  });

  it('rejects an odd supported_signature_algorithms length', () => {
    expectDecodeError(() => cr(Uint8Array.of(1, 64, 0, 3, 4, 3, 5, 0, 0)));
  });

  it('rejects an empty DistinguishedName', () => {
    expectDecodeError(() => cr(Uint8Array.of(1, 64, 0, 2, 4, 3, 0, 2, 0, 0)));
  });
});

describe('RFC 5246 §7.4.5 ServerHelloDone', () => {
  it('is empty; any body byte is a decode_error', () => {
    expect(() => M.decodeServerHelloDone(readerOf(new Uint8Array(0)))).not.toThrow();
    expect(encodeWith((w) => M.encodeServerHelloDone(w))).toEqual(new Uint8Array(0));
    expectDecodeError(() => M.decodeServerHelloDone(readerOf(Uint8Array.of(0))));
  });
});

describe('RFC 5246 §7.4.8 CertificateVerify', () => {
  it('rejects a signature longer than the message', () => {
    expectDecodeError(() => M.decodeCertificateVerify(readerOf(Uint8Array.of(4, 3, 0, 72, 0x30))));
  });
});

describe('RFC 5246 §7.4.9 Finished', () => {
  it('accepts exactly 12 bytes of verify_data', () => {
    expect(M.decodeFinished(readerOf(new Uint8Array(12).fill(1)))).toEqual({ verifyData: new Uint8Array(12).fill(1) });
  });

  it.each([0, 11, 13, 32])('rejects %i bytes of verify_data', (n) => {
    expectDecodeError(() => M.decodeFinished(readerOf(new Uint8Array(n))));
  });
});

describe('RFC 5077 §3.3 NewSessionTicket', () => {
  it('decodes lifetime and ticket', () => {
    expect(M.decodeNewSessionTicket(readerOf(hexToBytes('0000012c0003010203')))).toEqual({
      lifetimeHint: 300,
      ticket: Uint8Array.of(1, 2, 3),
    });
  });

  it('rejects a ticket longer than the message', () => {
    expectDecodeError(() => M.decodeNewSessionTicket(readerOf(hexToBytes('0000012c00040102'))));
  });
});
