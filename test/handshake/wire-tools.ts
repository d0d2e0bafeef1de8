/** Byte-level tools for handshake tests: split/forge records and handshake messages. */
import { concatBytes, hexToBytes } from '../../src/codec/bytes.ts';
import { PeerAlertError, TlsError } from '../../src/alerts.ts';
import { keyBlock } from '../../src/crypto/prf.ts';
import { nobleAeadProvider } from '../../src/crypto/aead/noble.ts';
import { aeadProtection } from '../../src/record/protection.ts';
import { ContentType } from '../../src/record/content-type.ts';
import { suiteById } from '../../src/suites.ts';
import type { Side, Wire } from './helpers.ts';

export interface RawRecord {
  readonly type: number;
  readonly version: number;
  readonly data: Uint8Array;
}

export function parseRecords(bytes: Uint8Array): RawRecord[] {
  const out: RawRecord[] = [];
  let at = 0;
  while (at + 5 <= bytes.length) {
    const len = ((bytes[at + 3] as number) << 8) | (bytes[at + 4] as number);
    out.push({ type: bytes[at] as number, version: ((bytes[at + 1] as number) << 8) | (bytes[at + 2] as number), data: bytes.slice(at + 5, at + 5 + len) });
    at += 5 + len;
  }
  if (at !== bytes.length) throw new Error('trailing bytes in record stream');
  return out;
}

export function record(type: number, data: Uint8Array, version = 0x0303): Uint8Array {
  return concatBytes(new Uint8Array([type, version >> 8, version & 0xff, data.length >> 8, data.length & 0xff]), data);
}

export function handshakeMsg(type: number, body: Uint8Array): Uint8Array {
  return concatBytes(new Uint8Array([type, body.length >> 16, (body.length >> 8) & 0xff, body.length & 0xff]), body);
}

export interface RawHandshake {
  readonly type: number;
  readonly body: Uint8Array;
  readonly raw: Uint8Array;
}

/** Split a plaintext handshake record's data into messages. */
export function splitHandshake(data: Uint8Array): RawHandshake[] {
  const out: RawHandshake[] = [];
  let at = 0;
  while (at < data.length) {
    const len = ((data[at + 1] as number) << 16) | ((data[at + 2] as number) << 8) | (data[at + 3] as number);
    out.push({ type: data[at] as number, body: data.slice(at + 4, at + 4 + len), raw: data.slice(at, at + 4 + len) });
    at += 4 + len;
  }
  return out;
}

/** The alert a side sent last (level, description), if any plaintext/encrypted alert record is visible by type. */
export function lastAlertRecord(side: Side): RawRecord | undefined {
  const recs = parseRecords(concatBytes(...side.sent));
  return recs.filter((r) => r.type === ContentType.alert).at(-1);
}

/** The alert code a failed side raised (TlsError) — and what its peer saw. */
export function alertOf(side: Side): number | undefined {
  const e = side.errors[0];
  if (e instanceof PeerAlertError) return e.alert;
  if (e instanceof TlsError) return e.alert;
  return undefined;
}

/**
 * Forge an encrypted record as `from` would send it next, using the master secret from the
 * key log and the randoms/suite seen on the wire (to inject messages after ChangeCipherSpec).
 */
export function forgeEncrypted(w: Wire, from: 'client' | 'server', type: number, plaintext: Uint8Array, seqOverride?: bigint): Uint8Array {
  const line = w.client.keylog[0];
  if (line === undefined) throw new Error('no keylog');
  const [, cr, ms] = line.split(' ');
  const first = parseRecords(concatBytes(...w.server.sent))[0];
  if (first === undefined) throw new Error('server sent nothing');
  const sh = splitHandshake(first.data)[0];
  if (sh === undefined) throw new Error('no ServerHello');
  const serverRandom = sh.body.slice(2, 34);
  const sidLen = sh.body[34] as number;
  const suiteId = ((sh.body[35 + sidLen] as number) << 8) | (sh.body[36 + sidLen] as number);
  const suite = suiteById(suiteId);
  if (suite === undefined) throw new Error('unknown suite');
  const side = from === 'client' ? w.client : w.server;
  const sent = parseRecords(concatBytes(...side.sent));
  const ccs = sent.findIndex((r) => r.type === ContentType.change_cipher_spec);
  if (ccs < 0) throw new Error('no CCS sent yet');
  const seq = seqOverride ?? BigInt(sent.length - ccs - 1);
  const keys = keyBlock(suite, hexToBytes(ms ?? ''), hexToBytes(cr ?? ''), serverRandom);
  const prot =
    from === 'client'
      ? aeadProtection(suite.aead, keys.clientWriteKey, keys.clientWriteIv, nobleAeadProvider)
      : aeadProtection(suite.aead, keys.serverWriteKey, keys.serverWriteIv, nobleAeadProvider);
  return record(type, prot.protect(type as ContentType, 0x0303, plaintext, seq));
}
