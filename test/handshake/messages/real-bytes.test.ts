/**
 * Real handshake bytes: milagro-tls (mbedTLS fork) transcripts and an OpenSSL 3.0 s_client
 * ClientHello (test/vectors/README.md). Decoding then re-encoding must give the same bytes.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { bytesToHex, hexToBytes } from '../../../src/codec/bytes.ts';
import { ByteReader } from '../../../src/codec/reader.ts';
import * as M from '../../../src/handshake/messages/index.ts';
import { encodeWith } from './helpers.ts';

interface VectorMessage {
  readonly msg_type: number;
  readonly msg_type_name: string;
  readonly hex: string;
}
interface VectorRecord {
  readonly direction: string;
  readonly content_type: number;
  readonly encrypted: boolean;
  readonly record_hex: string;
  readonly handshake_messages?: readonly VectorMessage[];
}
interface Transcript {
  readonly name: string;
  readonly records: readonly VectorRecord[];
}

const vectors = new URL('../../vectors/', import.meta.url);
const transcripts = (JSON.parse(readFileSync(new URL('tls-transcripts.json', vectors), 'utf8')) as { transcripts: Transcript[] })
  .transcripts;

/** Re-encodes a decoded body with the codec for its type; undefined for types not covered here. */
function reencode(type: number, body: Uint8Array): Uint8Array | undefined {
  const r = new ByteReader(body);
  switch (type) {
    case M.HandshakeType.client_hello:
      return encodeWith((w) => M.encodeClientHello(w, M.decodeClientHello(r)));
    case M.HandshakeType.server_hello:
      return encodeWith((w) => M.encodeServerHello(w, M.decodeServerHello(r)));
    case M.HandshakeType.server_key_exchange:
      return encodeWith((w) => M.encodeServerKeyExchange(w, M.decodeServerKeyExchange(r)));
    case M.HandshakeType.client_key_exchange:
      return encodeWith((w) => M.encodeClientKeyExchange(w, M.decodeClientKeyExchange(r)));
    case M.HandshakeType.server_hello_done:
      M.decodeServerHelloDone(r);
      return encodeWith((w) => M.encodeServerHelloDone(w));
    default:
      return undefined;
  }
}

describe('milagro-tls transcripts (RFC 5246 §7.4 messages from mbedTLS)', () => {
  it('has transcripts with plaintext handshake messages', () => {
    expect(transcripts.length).toBeGreaterThan(0);
  });

  for (const t of transcripts) {
    it(`${t.name}: ClientHello/ServerHello/SKE/CKE/ServerHelloDone re-encode byte for byte`, () => {
      let checked = 0;
      for (const rec of t.records) {
        for (const m of rec.handshake_messages ?? []) {
          const msg = M.decodeHandshake(hexToBytes(m.hex));
          expect(msg.type).toBe(m.msg_type);
          const out = reencode(msg.type, msg.body);
          if (out === undefined) continue;
          expect(bytesToHex(M.encodeHandshake(msg.type, out))).toBe(m.hex);
          checked++;
        }
      }
      const covered = new Set<number>([1, 2, 12, 14, 16]);
      const expected = t.records.flatMap((r) => r.handshake_messages ?? []).filter((m) => covered.has(m.msg_type)).length;
      expect(checked).toBe(expected);
      expect(checked).toBeGreaterThan(0);
    });

    it(`${t.name}: the reassembler recovers the same messages from the plaintext records`, () => {
      for (const dir of ['client_to_server', 'server_to_client']) {
        const r = new M.HandshakeReassembler();
        const got: string[] = [];
        const want: string[] = [];
        for (const rec of t.records) {
          if (rec.direction !== dir || rec.content_type !== 22 || rec.encrypted) continue;
          r.push(hexToBytes(rec.record_hex).subarray(5));
          for (let m = r.next(); m !== undefined; m = r.next()) got.push(bytesToHex(m.raw));
          want.push(...(rec.handshake_messages ?? []).map((m) => m.hex));
        }
        expect(r.hasPartial).toBe(false);
        expect(got).toEqual(want);
      }
    });
  }

  it('carries the MILAGRO_CS ClientHello extension raw, and a P2P hello has no extensions block', () => {
    const hello = (name: string): M.ClientHello => {
      const t = transcripts.find((x) => x.name === name);
      const hex = t?.records[0]?.handshake_messages?.[0]?.hex ?? '';
      return M.decodeClientHello(new ByteReader(M.decodeHandshake(hexToBytes(hex)).body));
    };
    const cs = hello('cs_default');
    expect(cs.cipherSuites).toEqual([0xc0b1, 0x00ff]);
    expect(M.findExtension(cs.extensions, M.ExtensionType.milagro_cs_default)?.data.length).toBe(0xac);
    const p2p = hello('p2p_default');
    expect(p2p.extensions).toEqual([]);
    expect(p2p.cipherSuites).toContain(0xc0b2);
  });
});

describe('OpenSSL 3.0 s_client ClientHello (RFC 5246 §7.4.1.2 with RFC 6066/8422/7627 extensions)', () => {
  const record = hexToBytes(readFileSync(new URL('openssl-client-hello.hex', vectors), 'utf8').trim());
  const r = new M.HandshakeReassembler();
  r.push(record.subarray(5));
  const msg = r.next();

  it('is one whole handshake record holding one ClientHello', () => {
    expect(record[0]).toBe(22);
    expect(msg?.type).toBe(M.HandshakeType.client_hello);
    expect(msg?.raw).toEqual(record.subarray(5));
    expect(r.hasPartial).toBe(false);
  });

  it('decodes and re-encodes byte for byte', () => {
    const body = msg?.body ?? new Uint8Array(0);
    expect(bytesToHex(reencode(M.HandshakeType.client_hello, body) ?? new Uint8Array(0))).toBe(bytesToHex(body));
  });

  it('has the extensions we negotiate, each decodable by its typed codec', () => {
    const ch = M.decodeClientHello(new ByteReader(msg?.body ?? new Uint8Array(0)));
    expect(ch.version).toBe(0x0303);
    expect(ch.cipherSuites).toEqual([0xc02b, 0xc02c, 0xcca9, 0x00ff]);
    expect(ch.compressionMethods).toEqual([0]);
    const data = (type: number): Uint8Array => {
      const e = M.findExtension(ch.extensions, type);
      expect(e).toBeDefined();
      return e?.data ?? new Uint8Array(0);
    };
    expect(M.decodeServerName(data(M.ExtensionType.server_name))).toBe('localhost');
    expect(M.decodeEcPointFormats(data(M.ExtensionType.ec_point_formats))).toContain(0);
    expect(M.decodeSupportedGroups(data(M.ExtensionType.supported_groups))).toEqual(expect.arrayContaining([29, 23, 24]));
    expect(M.decodeExtendedMasterSecret(data(M.ExtensionType.extended_master_secret))).toBe(true);
    expect(M.decodeSignatureAlgorithms(data(M.ExtensionType.signature_algorithms))).toEqual(
      expect.arrayContaining([0x0403, 0x0503]),
    );
    expect(M.decodeSessionTicket(data(M.ExtensionType.session_ticket))).toEqual(new Uint8Array(0));
    // encrypt_then_mac (22) is unknown to us and carried raw.
    expect(M.findExtension(ch.extensions, 22)?.data).toEqual(new Uint8Array(0));
  });
});
