/** A table of every message codec with random and edge-value generators, used by the property tests. */
import { expect } from 'vitest';
import { ByteReader } from '../../../src/codec/reader.ts';
import type { ByteWriter } from '../../../src/codec/writer.ts';
import * as M from '../../../src/handshake/messages/index.ts';
import { HandshakeType, type Extension } from '../../../src/handshake/messages/types.ts';
import { encodeWith, type Xorshift } from './helpers.ts';

export interface CodecCase {
  readonly name: string;
  readonly section: string;
  readonly type: number;
  /** 'reject': every strict prefix of the body is malformed; 'opaque': any body is valid;
   *  'optional-tail': a prefix ending just before the optional extensions block is valid. */
  readonly bodyPrefixes: 'reject' | 'opaque' | 'optional-tail';
  /** Encoded bodies of hand-picked typical and edge values, each checked to round-trip. */
  samples(): Uint8Array[];
  /** Encodes a random message, decodes and re-encodes it, asserting equality; returns the body. */
  randomRoundTrip(rng: Xorshift): Uint8Array;
  decode(body: Uint8Array): unknown;
}

function makeCase<T>(c: {
  name: string;
  section: string;
  type: number;
  bodyPrefixes: CodecCase['bodyPrefixes'];
  decode: (r: ByteReader) => T;
  encode: (w: ByteWriter, m: T) => void;
  random: (rng: Xorshift) => T;
  samples: readonly T[];
}): CodecCase {
  const check = (m: T): Uint8Array => {
    const body = encodeWith((w) => c.encode(w, m));
    const back = c.decode(new ByteReader(body));
    expect(back).toEqual(m);
    expect(encodeWith((w) => c.encode(w, back))).toEqual(body);
    return body;
  };
  return {
    name: c.name,
    section: c.section,
    type: c.type,
    bodyPrefixes: c.bodyPrefixes,
    samples: () => c.samples.map(check),
    randomRoundTrip: (rng) => check(c.random(rng)),
    decode: (body) => c.decode(new ByteReader(body)),
  };
}

export function randomExtensions(rng: Xorshift, max = 6): Extension[] {
  const n = rng.int(max + 1);
  const types = new Set<number>();
  while (types.size < n) types.add(rng.u32() & 0xffff);
  return [...types].map((type) => ({ type, data: rng.bytes(rng.range(0, 40)) }));
}

const zeros32 = new Uint8Array(32);
const ff32 = new Uint8Array(32).fill(0xff);

export const cases: readonly CodecCase[] = [
  makeCase({
    name: 'ClientHello',
    section: 'RFC 5246 §7.4.1.2',
    type: HandshakeType.client_hello,
    bodyPrefixes: 'optional-tail',
    decode: M.decodeClientHello,
    encode: M.encodeClientHello,
    random: (rng) => ({
      version: rng.u32() & 0xffff,
      random: rng.bytes(32),
      sessionId: rng.bytes(rng.range(0, 32)),
      cipherSuites: rng.u16s(rng.range(1, 60)),
      compressionMethods: Array.from({ length: rng.range(1, 5) }, () => rng.int(256)),
      extensions: randomExtensions(rng),
    }),
    samples: [
      { version: 0x0303, random: zeros32, sessionId: new Uint8Array(0), cipherSuites: [0xc02b], compressionMethods: [0], extensions: [] },
      {
        version: 0x0303,
        random: ff32,
        sessionId: new Uint8Array(32).fill(7),
        cipherSuites: Array.from({ length: 0x7fff }, (_, i) => i),
        compressionMethods: Array.from({ length: 255 }, (_, i) => i),
        extensions: [
          { type: 0, data: M.encodeServerName('localhost') },
          { type: 0xfafa, data: new Uint8Array(0) },
          { type: 0xffff, data: new Uint8Array(1000).fill(1) },
        ],
      },
    ],
  }),
  makeCase({
    name: 'ServerHello',
    section: 'RFC 5246 §7.4.1.3',
    type: HandshakeType.server_hello,
    bodyPrefixes: 'optional-tail',
    decode: M.decodeServerHello,
    encode: M.encodeServerHello,
    random: (rng) => ({
      version: rng.u32() & 0xffff,
      random: rng.bytes(32),
      sessionId: rng.bytes(rng.range(0, 32)),
      cipherSuite: rng.u32() & 0xffff,
      compressionMethod: rng.int(256),
      extensions: randomExtensions(rng),
    }),
    samples: [
      { version: 0x0303, random: zeros32, sessionId: new Uint8Array(0), cipherSuite: 0xc0b1, compressionMethod: 0, extensions: [] },
      {
        version: 0x0303,
        random: ff32,
        sessionId: new Uint8Array(32).fill(9),
        cipherSuite: 0xffff,
        compressionMethod: 255,
        extensions: [{ type: 0xff01, data: Uint8Array.of(0) }, { type: 23, data: new Uint8Array(0) }],
      },
    ],
  }),
  makeCase({
    name: 'Certificate',
    section: 'RFC 5246 §7.4.2',
    type: HandshakeType.certificate,
    bodyPrefixes: 'reject',
    decode: M.decodeCertificate,
    encode: M.encodeCertificate,
    random: (rng) => ({ certificates: Array.from({ length: rng.int(4) }, () => rng.bytes(rng.range(1, 300))) }),
    samples: [
      { certificates: [] },
      { certificates: [Uint8Array.of(0x30)] },
      { certificates: [new Uint8Array(70000).fill(0x30), new Uint8Array(500).fill(0x31)] },
    ],
  }),
  makeCase({
    name: 'ServerKeyExchange',
    section: 'RFC 5246 §7.4.3',
    type: HandshakeType.server_key_exchange,
    bodyPrefixes: 'opaque',
    decode: M.decodeServerKeyExchange,
    encode: M.encodeServerKeyExchange,
    random: (rng) => ({ body: rng.bytes(rng.range(0, 300)) }),
    samples: [{ body: new Uint8Array(0) }, { body: new Uint8Array(65) }],
  }),
  makeCase({
    name: 'CertificateRequest',
    section: 'RFC 5246 §7.4.4',
    type: HandshakeType.certificate_request,
    bodyPrefixes: 'reject',
    decode: M.decodeCertificateRequest,
    encode: M.encodeCertificateRequest,
    random: (rng) => ({
      certificateTypes: Array.from({ length: rng.range(1, 5) }, () => rng.int(256)),
      signatureAlgorithms: rng.u16s(rng.range(1, 20)),
      certificateAuthorities: Array.from({ length: rng.int(4) }, () => rng.bytes(rng.range(1, 80))),
    }),
    samples: [
      { certificateTypes: [64], signatureAlgorithms: [0x0403], certificateAuthorities: [] },
      {
        certificateTypes: [1, 64, 66],
        signatureAlgorithms: [0x0403, 0x0503, 0x0804],
        certificateAuthorities: [Uint8Array.of(0x30, 0), new Uint8Array(200).fill(0x30)],
      },
    ],
  }),
  makeCase({
    name: 'ServerHelloDone',
    section: 'RFC 5246 §7.4.5',
    type: HandshakeType.server_hello_done,
    bodyPrefixes: 'reject',
    decode: (r) => {
      M.decodeServerHelloDone(r);
      return {};
    },
    encode: (w) => M.encodeServerHelloDone(w),
    random: () => ({}),
    samples: [{}],
  }),
  makeCase({
    name: 'ClientKeyExchange',
    section: 'RFC 5246 §7.4.7',
    type: HandshakeType.client_key_exchange,
    bodyPrefixes: 'opaque',
    decode: M.decodeClientKeyExchange,
    encode: M.encodeClientKeyExchange,
    random: (rng) => ({ body: rng.bytes(rng.range(0, 300)) }),
    samples: [{ body: new Uint8Array(0) }, { body: Uint8Array.of(32, ...new Uint8Array(32)) }],
  }),
  makeCase({
    name: 'CertificateVerify',
    section: 'RFC 5246 §7.4.8',
    type: HandshakeType.certificate_verify,
    bodyPrefixes: 'reject',
    decode: M.decodeCertificateVerify,
    encode: M.encodeCertificateVerify,
    random: (rng) => ({ signatureScheme: rng.u32() & 0xffff, signature: rng.bytes(rng.range(0, 120)) }),
    samples: [
      { signatureScheme: 0x0403, signature: new Uint8Array(0) },
      { signatureScheme: 0xffff, signature: new Uint8Array(0xffff).fill(3) },
    ],
  }),
  makeCase({
    name: 'Finished',
    section: 'RFC 5246 §7.4.9',
    type: HandshakeType.finished,
    bodyPrefixes: 'reject',
    decode: M.decodeFinished,
    encode: M.encodeFinished,
    random: (rng) => ({ verifyData: rng.bytes(12) }),
    samples: [{ verifyData: new Uint8Array(12) }, { verifyData: new Uint8Array(12).fill(0xff) }],
  }),
  makeCase({
    name: 'NewSessionTicket',
    section: 'RFC 5077 §3.3',
    type: HandshakeType.new_session_ticket,
    bodyPrefixes: 'reject',
    decode: M.decodeNewSessionTicket,
    encode: M.encodeNewSessionTicket,
    random: (rng) => ({ lifetimeHint: rng.u32(), ticket: rng.bytes(rng.range(0, 200)) }),
    samples: [
      { lifetimeHint: 0, ticket: new Uint8Array(0) },
      { lifetimeHint: 0xffffffff, ticket: new Uint8Array(0xffff).fill(5) },
    ],
  }),
];
