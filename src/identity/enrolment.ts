/**
 * The administrator side (issue 5 item 2): enrolment key files and request bundles.
 *
 * Key file: JSON with the Ed25519 secret and public key, mode 0600, next to a `.pub` file holding
 * the public key hex (what DTAs are started with: `--trust-file admin.key.pub`).
 * Bundle: the signed requests a remote user needs to register (client secret + time permits), so
 * the administrator can sign once and hand the file over; it contains no secret.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { readFile } from 'node:fs/promises';
import { bytesToHex, hexToBytes } from '../codec/bytes.ts';
import type { RandomSource } from '../providers.ts';
import type { EnrolmentKey, SignedRequest } from './auth.ts';
import { IdentityInputError } from './errors.ts';
import { createPrivateFile, writePrivateFile } from './files.ts';

const KEY_FORMAT = 'milagro-ts-enrolment-key';
const BUNDLE_FORMAT = 'milagro-ts-registration-requests';

export async function saveEnrolmentKey(path: string, key: EnrolmentKey, random: RandomSource): Promise<void> {
  const body = { format: KEY_FORMAT, version: 1, publicKey: bytesToHex(key.publicKey), secretKey: bytesToHex(key.secretKey) };
  try {
    await createPrivateFile(path, `${JSON.stringify(body, null, 2)}\n`);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw new IdentityInputError(`${path} already exists; refusing to overwrite an enrolment key`);
    throw e;
  }
  await writePrivateFile(`${path}.pub`, `${bytesToHex(key.publicKey)}\n`, random);
}

export async function loadEnrolmentKey(path: string): Promise<EnrolmentKey> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new IdentityInputError(`cannot read enrolment key ${path} (${(e as NodeJS.ErrnoException).code ?? String(e)}); create one with \`milagro-ts identity keygen --out ${path}\``);
  }
  let obj: unknown;
  try {
    obj = JSON.parse(text);
  } catch {
    throw new IdentityInputError(`${path} is not an enrolment key file (not JSON)`);
  }
  const o = (typeof obj === 'object' && obj !== null ? obj : {}) as Record<string, unknown>;
  const pub = o['publicKey'];
  const sec = o['secretKey'];
  if (o['format'] !== KEY_FORMAT || typeof pub !== 'string' || typeof sec !== 'string' || !/^[0-9a-f]{64}$/.test(pub) || !/^[0-9a-f]{64}$/.test(sec)) {
    throw new IdentityInputError(`${path} is not a ${KEY_FORMAT} file`);
  }
  const secretKey = hexToBytes(sec);
  const publicKey = ed25519.getPublicKey(secretKey);
  if (bytesToHex(publicKey) !== pub) throw new IdentityInputError(`${path}: the public key does not match the secret key`);
  return { secretKey, publicKey };
}

/** Reads trusted public keys: one 64-hex-character key per line; `#` comments and blank lines ignored. */
export function parseTrustFile(text: string, path: string): string[] {
  const keys: string[] = [];
  for (const [i, raw] of text.split('\n').entries()) {
    const line = raw.replace(/#.*/, '').trim();
    if (line === '') continue;
    if (!/^[0-9a-fA-F]{64}$/.test(line)) throw new IdentityInputError(`${path} line ${i + 1}: expected a 64-hex-character Ed25519 public key`);
    keys.push(line.toLowerCase());
  }
  return keys;
}

export interface RegistrationBundle {
  readonly identity: string;
  readonly clientSecret: SignedRequest;
  readonly timePermits?: SignedRequest;
}

export function bundleToJson(b: RegistrationBundle): string {
  return `${JSON.stringify({ format: BUNDLE_FORMAT, version: 1, ...b }, null, 2)}\n`;
}

function isSigned(v: unknown): v is SignedRequest {
  if (typeof v !== 'object' || v === null) return false;
  const o = v as Record<string, unknown>;
  return typeof o['request'] === 'string' && typeof o['keyId'] === 'string' && typeof o['signature'] === 'string';
}

export function parseBundle(text: string, path: string): RegistrationBundle {
  let obj: unknown;
  try {
    obj = JSON.parse(text);
  } catch {
    throw new IdentityInputError(`${path} is not a registration request file (not JSON)`);
  }
  const o = (typeof obj === 'object' && obj !== null ? obj : {}) as Record<string, unknown>;
  const identity = o['identity'];
  if (o['format'] !== BUNDLE_FORMAT || typeof identity !== 'string' || !isSigned(o['clientSecret'])) {
    throw new IdentityInputError(`${path} is not a ${BUNDLE_FORMAT} file; ask the administrator for \`milagro-ts identity sign ID --op register\` output`);
  }
  const tp = o['timePermits'];
  if (tp !== undefined && !isSigned(tp)) throw new IdentityInputError(`${path}: "timePermits" is not a signed request`);
  return { identity, clientSecret: o['clientSecret'], ...(tp !== undefined ? { timePermits: tp } : {}) };
}
