/**
 * Collecting and recombining shares from N DTAs (spec §5.1: the holder adds the shares, the master
 * secret is never assembled). Each DTA's answer is validated (field types, lengths, hex, point
 * checks of spec §2.6); a DTA that answers garbage is named in the error and nothing is returned.
 */
import { hexToBytes } from '../../codec/bytes.ts';
import type { SignedRequest } from '../auth.ts';
import { G1_BYTES, G2_BYTES, type IdentityCrypto } from '../crypto-port.ts';
import { DtaCallError } from '../errors.ts';
import { callDta, type DtaCallOptions, DtaFanOutError, fanOut } from './dta-client.ts';

export interface ShareFetchOptions extends DtaCallOptions {
  readonly crypto: IdentityCrypto;
  readonly dtas: readonly string[];
  readonly request: SignedRequest;
}

type Group = 'g1' | 'g2';

function pointField(obj: Record<string, unknown>, name: string, group: Group, crypto: IdentityCrypto, dta: string): Uint8Array {
  const v = obj[name];
  const len = group === 'g1' ? G1_BYTES : G2_BYTES;
  if (typeof v !== 'string' || v.length !== 2 * len || !/^[0-9a-f]+$/.test(v)) {
    throw new DtaCallError(dta, `answer field "${name}" is not a ${len}-byte point in lowercase hex`);
  }
  const b = hexToBytes(v);
  try {
    if (group === 'g1') crypto.checkG1(b);
    else crypto.checkG2(b);
  } catch (e) {
    throw new DtaCallError(dta, `answer field "${name}" is not a valid ${group.toUpperCase()} point (${(e as Error).message})`);
  }
  return b;
}

function checkHashId(obj: Record<string, unknown>, expected: string | undefined, dta: string): void {
  if (expected !== undefined && obj['hashId'] !== expected) throw new DtaCallError(dta, 'answered for a different identity hash');
}

function fingerprintOf(obj: Record<string, unknown>, dta: string): string {
  const f = obj['dta'];
  if (typeof f !== 'string' || !/^[0-9a-f]{64}$/.test(f)) throw new DtaCallError(dta, 'answer has no valid "dta" fingerprint');
  return f;
}

function permitsField(obj: Record<string, unknown>, group: Group, crypto: IdentityCrypto, dta: string): Map<number, Uint8Array> {
  const list = obj['permits'];
  if (!Array.isArray(list)) throw new DtaCallError(dta, 'answer has no "permits" list');
  const out = new Map<number, Uint8Array>();
  for (const item of list as unknown[]) {
    if (typeof item !== 'object' || item === null) throw new DtaCallError(dta, 'a permit entry is not an object');
    const e = item as Record<string, unknown>;
    const day = e['day'];
    if (typeof day !== 'number' || !Number.isSafeInteger(day) || day <= 0 || out.has(day)) throw new DtaCallError(dta, 'a permit entry has a bad or repeated "day"');
    out.set(day, pointField(e, 'share', group, crypto, dta));
  }
  return out;
}

/** Distinct shares are required: the same DTA reached under two URLs would be counted twice. */
function requireDistinct(answers: readonly { readonly dta: string; readonly fingerprint: string }[]): void {
  const seen = new Map<string, string>();
  for (const a of answers) {
    const other = seen.get(a.fingerprint);
    if (other !== undefined) {
      throw new DtaFanOutError([new DtaCallError(a.dta, `holds the same share as ${other} (fingerprint ${a.fingerprint.slice(0, 16)}…); list each DTA once`)]);
    }
    seen.set(a.fingerprint, a.dta);
  }
}

function recombinePermits(
  answers: readonly { readonly dta: string; readonly permits: Map<number, Uint8Array> }[],
  group: Group,
  crypto: IdentityCrypto,
): Map<number, Uint8Array> {
  const first = answers[0];
  if (first === undefined) return new Map();
  const days = [...first.permits.keys()].sort((a, b) => a - b);
  for (const a of answers) {
    if (a.permits.size !== days.length || days.some((d) => !a.permits.has(d))) {
      throw new DtaFanOutError([new DtaCallError(a.dta, `issued permits for other days than ${first.dta}; retry with an explicit day range`)]);
    }
  }
  const out = new Map<number, Uint8Array>();
  for (const d of days) {
    const parts = answers.map((a) => a.permits.get(d)).filter((p): p is Uint8Array => p !== undefined);
    out.set(d, group === 'g1' ? crypto.recombineG1(parts) : crypto.recombineG2(parts));
  }
  return out;
}

export interface RecombinedKey {
  readonly key: Uint8Array;
  /** Fingerprints of the DTAs whose shares were added, in the order of `dtas`. */
  readonly fingerprints: readonly string[];
}

/** M-Pin client secret: the sum of [s_i]·map1(HID) over all DTAs. */
export async function fetchClientSecret(opts: ShareFetchOptions & { readonly hashId: string }): Promise<RecombinedKey> {
  const answers = await fanOut(opts.dtas, async (dta) => {
    const obj = await callDta(dta, '/v1/client-secret', opts.request, opts);
    checkHashId(obj, opts.hashId, dta);
    return { dta, fingerprint: fingerprintOf(obj, dta), share: pointField(obj, 'clientSecretShare', 'g1', opts.crypto, dta) };
  });
  requireDistinct(answers);
  return { key: opts.crypto.recombineG1(answers.map((a) => a.share)), fingerprints: answers.map((a) => a.fingerprint) };
}

/** Time permits per day: the sum of [s_i]·T_d over all DTAs. */
export async function fetchTimePermits(opts: ShareFetchOptions & { readonly hashId: string }): Promise<Map<number, Uint8Array>> {
  const answers = await fanOut(opts.dtas, async (dta) => {
    const obj = await callDta(dta, '/v1/time-permits', opts.request, opts);
    checkHashId(obj, opts.hashId, dta);
    return { dta, fingerprint: fingerprintOf(obj, dta), permits: permitsField(obj, 'g1', opts.crypto, dta) };
  });
  requireDistinct(answers);
  return recombinePermits(answers, 'g1', opts.crypto);
}

/** A TLS server's MILAGRO_CS server secret [s]Q = Σ[s_i]Q. */
export async function fetchServerSecret(opts: ShareFetchOptions): Promise<RecombinedKey> {
  const answers = await fanOut(opts.dtas, async (dta) => {
    const obj = await callDta(dta, '/v1/server-secret', opts.request, opts);
    return { dta, fingerprint: fingerprintOf(obj, dta), share: pointField(obj, 'serverSecretShare', 'g2', opts.crypto, dta) };
  });
  requireDistinct(answers);
  return { key: opts.crypto.recombineG2(answers.map((a) => a.share)), fingerprints: answers.map((a) => a.fingerprint) };
}

export interface WccKey extends RecombinedKey {
  readonly permits: Map<number, Uint8Array>;
}

/** WCC sender key (G1, the MILAGRO_P2P TLS server) or receiver key (G2, the TLS client), spec §6.1. */
export async function fetchWccKey(opts: ShareFetchOptions & { readonly hashId: string; readonly role: 'sender' | 'receiver' }): Promise<WccKey> {
  const group: Group = opts.role === 'sender' ? 'g1' : 'g2';
  const path = opts.role === 'sender' ? '/v1/wcc/sender-key' : '/v1/wcc/receiver-key';
  const field = opts.role === 'sender' ? 'senderKeyShare' : 'receiverKeyShare';
  const answers = await fanOut(opts.dtas, async (dta) => {
    const obj = await callDta(dta, path, opts.request, opts);
    checkHashId(obj, opts.hashId, dta);
    return {
      dta,
      fingerprint: fingerprintOf(obj, dta),
      share: pointField(obj, field, group, opts.crypto, dta),
      permits: obj['permits'] === undefined ? new Map<number, Uint8Array>() : permitsField(obj, group, opts.crypto, dta),
    };
  });
  requireDistinct(answers);
  const parts = answers.map((a) => a.share);
  return {
    key: group === 'g1' ? opts.crypto.recombineG1(parts) : opts.crypto.recombineG2(parts),
    fingerprints: answers.map((a) => a.fingerprint),
    permits: recombinePermits(answers, group, opts.crypto),
  };
}

/** Revokes an identity at every DTA; resolves with the DTAs' fingerprints. */
export async function revokeEverywhere(opts: Omit<ShareFetchOptions, 'crypto'>): Promise<readonly string[]> {
  return fanOut(opts.dtas, async (dta) => {
    const obj = await callDta(dta, '/v1/revocations', opts.request, opts);
    if (obj['revoked'] !== true) throw new DtaCallError(dta, 'did not confirm the revocation');
    return fingerprintOf(obj, dta);
  });
}
