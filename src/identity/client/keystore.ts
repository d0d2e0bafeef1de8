/**
 * The M-Pin client keystore: identity, token and time permits in one JSON file, mode 0600.
 *
 * The token is stored in clear on purpose. It is the client secret with [PIN]·A removed (spec §5.4);
 * encrypting it under a key derived from the PIN would let anyone who copies the file test PINs
 * offline (decrypt, check the result is a valid point / matches a padding check) and recover the
 * PIN in at most 10000 tries. Stored as-is, the token alone is useless: a PIN guess can only be
 * checked by running the protocol against a server, which counts failures and locks out.
 */
import { readFile } from 'node:fs/promises';
import { bytesToHex, hexToBytes } from '../../codec/bytes.ts';
import type { RandomSource } from '../../providers.ts';
import { G1_BYTES, type IdentityCrypto } from '../crypto-port.ts';
import { IdentityInputError } from '../errors.ts';
import { writePrivateFile } from '../files.ts';

const FORMAT = 'milagro-ts-keystore';

export interface Keystore {
  readonly identity: string;
  /** Hex SHA-256 of the identity. */
  readonly hashId: string;
  readonly token: Uint8Array;
  readonly pinDigits: number;
  /** Recombined M-Pin time permits by day number. */
  readonly permits: ReadonlyMap<number, Uint8Array>;
  /** DTAs the key came from, and their share fingerprints. */
  readonly dtas: readonly string[];
  readonly fingerprints: readonly string[];
}

export function keystoreToJson(ks: Keystore): string {
  const permits: Record<string, string> = {};
  for (const [d, p] of [...ks.permits].sort((a, b) => a[0] - b[0])) permits[String(d)] = bytesToHex(p);
  return `${JSON.stringify(
    {
      format: FORMAT,
      version: 1,
      identity: ks.identity,
      hashId: ks.hashId,
      token: bytesToHex(ks.token),
      pinDigits: ks.pinDigits,
      permits,
      dtas: ks.dtas,
      fingerprints: ks.fingerprints,
    },
    null,
    2,
  )}\n`;
}

export async function saveKeystore(path: string, ks: Keystore, random: RandomSource): Promise<void> {
  await writePrivateFile(path, keystoreToJson(ks), random);
}

function bad(path: string, what: string): IdentityInputError {
  return new IdentityInputError(`keystore ${path} is not usable: ${what}. Register again with \`milagro-ts identity register\`.`);
}

export function parseKeystore(text: string, crypto: IdentityCrypto, path = 'keystore'): Keystore {
  let obj: unknown;
  try {
    obj = JSON.parse(text);
  } catch {
    throw bad(path, 'not valid JSON');
  }
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) throw bad(path, 'not a JSON object');
  const o = obj as Record<string, unknown>;
  if (o['format'] !== FORMAT || o['version'] !== 1) throw bad(path, `not a ${FORMAT} version 1 file`);
  const identity = o['identity'];
  const hashId = o['hashId'];
  const token = o['token'];
  const pinDigits = o['pinDigits'];
  if (typeof identity !== 'string' || identity.length === 0) throw bad(path, '"identity" missing');
  if (typeof hashId !== 'string' || !/^[0-9a-f]{64}$/.test(hashId)) throw bad(path, '"hashId" missing or not hex');
  if (bytesToHex(crypto.hashId(new TextEncoder().encode(identity))) !== hashId) throw bad(path, '"hashId" does not match "identity"');
  if (typeof token !== 'string' || token.length !== 2 * G1_BYTES || !/^[0-9a-f]+$/.test(token)) throw bad(path, '"token" is not a 65-byte hex point');
  const tokenBytes = hexToBytes(token);
  try {
    crypto.checkG1(tokenBytes);
  } catch (e) {
    throw bad(path, `"token" is not a valid G1 point (${(e as Error).message})`);
  }
  if (typeof pinDigits !== 'number' || !Number.isSafeInteger(pinDigits)) throw bad(path, '"pinDigits" missing');
  const permits = new Map<number, Uint8Array>();
  const p = o['permits'];
  if (typeof p !== 'object' || p === null || Array.isArray(p)) throw bad(path, '"permits" must be an object');
  for (const [k, v] of Object.entries(p as Record<string, unknown>)) {
    const day = Number(k);
    if (!Number.isSafeInteger(day) || day <= 0 || typeof v !== 'string' || !/^[0-9a-f]{130}$/.test(v)) throw bad(path, `permit for "${k}" is malformed`);
    const b = hexToBytes(v);
    try {
      crypto.checkG1(b);
    } catch {
      throw bad(path, `permit for day ${k} is not a valid G1 point`);
    }
    permits.set(day, b);
  }
  const strings = (name: string): string[] => {
    const v = o[name];
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw bad(path, `"${name}" must be a list of strings`);
    return v as string[];
  };
  return { identity, hashId, token: tokenBytes, pinDigits, permits, dtas: strings('dtas'), fingerprints: strings('fingerprints') };
}

export async function loadKeystore(path: string, crypto: IdentityCrypto): Promise<Keystore> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new IdentityInputError(`cannot read keystore ${path} (${(e as NodeJS.ErrnoException).code ?? String(e)}); pass --keystore FILE written by \`milagro-ts identity register\``);
  }
  return parseKeystore(text, crypto, path);
}
