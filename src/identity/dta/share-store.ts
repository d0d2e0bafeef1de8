/**
 * The DTA's master-secret share on disk (spec §5.1, §5.2).
 *
 * Stored as JSON in `<data-dir>/master-share.json`, mode 0600, either in clear or encrypted under
 * a passphrase (scrypt from @noble/hashes, AES-256-GCM from @noble/ciphers). The file also holds a
 * commitment (SHA-256 of [s]Q) checked on every load, so a damaged file is detected instead of
 * silently producing wrong shares. A missing file means "first start": a new share is generated. An
 * unreadable or corrupt file is a hard error — generating a fresh share would revoke every key this
 * DTA has ever issued.
 */
import { gcm } from '@noble/ciphers/aes.js';
import { scryptAsync } from '@noble/hashes/scrypt.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { mkdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { bytesToHex, equalBytes, hexToBytes } from '../../codec/bytes.ts';
import type { Clock, RandomSource } from '../../providers.ts';
import type { IdentityCrypto } from '../crypto-port.ts';
import { ShareFileError } from '../errors.ts';
import { createPrivateFile } from '../files.ts';

export const SHARE_FILE_NAME = 'master-share.json';
const FORMAT = 'milagro-ts-dta-share';

/** scrypt cost; the defaults take ~0.5 s and 64 MiB once per start. */
export interface ScryptParams {
  readonly N: number;
  readonly r: number;
  readonly p: number;
}
export const DEFAULT_SCRYPT: ScryptParams = { N: 1 << 16, r: 8, p: 1 };
// A hostile or damaged file must not make the loader allocate gigabytes.
const MAX_SCRYPT_N = 1 << 20;

export interface LoadedShare {
  readonly share: Uint8Array;
  /** [s]Q: public to the servers it is issued to; its hash identifies the share. */
  readonly commitment: Uint8Array;
  /** Hex SHA-256 of the commitment, shown by /v1/status. */
  readonly fingerprint: string;
  readonly created: boolean;
  readonly encrypted: boolean;
}

export interface ShareStoreOptions {
  readonly dataDir: string;
  readonly crypto: IdentityCrypto;
  readonly random: RandomSource;
  readonly clock: Clock;
  /** When given, a new share is encrypted and an existing one must be encrypted. */
  readonly passphrase?: string | undefined;
  readonly scrypt?: ScryptParams;
}

function fingerprintOf(commitment: Uint8Array): string {
  return bytesToHex(sha256(commitment));
}

function aadFor(commitmentHash: string): Uint8Array {
  return new TextEncoder().encode(`${FORMAT} v1 ${commitmentHash}`);
}

async function deriveKey(passphrase: string, salt: Uint8Array, params: ScryptParams): Promise<Uint8Array> {
  return scryptAsync(new TextEncoder().encode(passphrase), salt, { ...params, dkLen: 32, maxmem: 2 ** 31 });
}

/** Loads the share, or creates one on first start. Throws ShareFileError when the file is unusable. */
export async function loadOrCreateShare(opts: ShareStoreOptions): Promise<LoadedShare> {
  const path = join(opts.dataDir, SHARE_FILE_NAME);
  await mkdir(opts.dataDir, { recursive: true, mode: 0o700 });
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return createShare(path, opts);
    throw new ShareFileError(
      `cannot read the master-share file ${path} (${code ?? String(e)}). Fix its permissions or restore it from backup; ` +
        'the DTA will not generate a new share over an existing one, because that would invalidate every key it issued.',
    );
  }
  const st = await stat(path);
  if ((st.mode & 0o077) !== 0) {
    throw new ShareFileError(
      `the master-share file ${path} is readable by other users (mode ${(st.mode & 0o777).toString(8)}). Run: chmod 600 ${path}`,
    );
  }
  return parseShareFile(path, text, opts);
}

/**
 * Writes a given share (e.g. restored from an offline backup, or fixed test vectors) into an empty
 * data directory. Refuses to overwrite an existing share file.
 */
export async function importShare(opts: ShareStoreOptions & { readonly share: Uint8Array }): Promise<LoadedShare> {
  opts.crypto.checkMasterShare(opts.share);
  await mkdir(opts.dataDir, { recursive: true, mode: 0o700 });
  const path = join(opts.dataDir, SHARE_FILE_NAME);
  try {
    return await createShare(path, opts, opts.share.slice());
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw new ShareFileError(`${path} already exists; refusing to replace a master share`);
    throw e;
  }
}

async function createShare(path: string, opts: ShareStoreOptions, given?: Uint8Array): Promise<LoadedShare> {
  const share = given ?? opts.crypto.generateMasterShare(opts.random);
  const commitment = opts.crypto.serverSecretShare(share);
  const commitmentHash = fingerprintOf(commitment);
  const createdAt = new Date(opts.clock()).toISOString();
  let body: Record<string, unknown>;
  if (opts.passphrase !== undefined) {
    const params = opts.scrypt ?? DEFAULT_SCRYPT;
    const salt = opts.random(16);
    const nonce = opts.random(12);
    const key = await deriveKey(opts.passphrase, salt, params);
    const ciphertext = gcm(key, nonce, aadFor(commitmentHash)).encrypt(share);
    key.fill(0);
    body = {
      format: FORMAT,
      version: 1,
      createdAt,
      commitmentSha256: commitmentHash,
      protection: 'scrypt-aes-256-gcm',
      kdf: { name: 'scrypt', N: params.N, r: params.r, p: params.p, salt: bytesToHex(salt) },
      nonce: bytesToHex(nonce),
      ciphertext: bytesToHex(ciphertext),
    };
  } else {
    body = { format: FORMAT, version: 1, createdAt, commitmentSha256: commitmentHash, protection: 'none', share: bytesToHex(share) };
  }
  await createPrivateFile(path, `${JSON.stringify(body, null, 2)}\n`);
  return { share, commitment, fingerprint: commitmentHash, created: true, encrypted: opts.passphrase !== undefined };
}

function corrupt(path: string, what: string): ShareFileError {
  return new ShareFileError(
    `the master-share file ${path} is corrupt (${what}). Restore it from backup; ` +
      'deleting it would make the DTA generate a new share and invalidate every key it issued.',
  );
}

function field(obj: Record<string, unknown>, name: string, path: string): string {
  const v = obj[name];
  if (typeof v !== 'string') throw corrupt(path, `field "${name}" missing or not a string`);
  return v;
}

function hexField(obj: Record<string, unknown>, name: string, path: string, len?: number): Uint8Array {
  const s = field(obj, name, path);
  if (!/^[0-9a-f]*$/.test(s) || s.length % 2 !== 0) throw corrupt(path, `field "${name}" is not lowercase hex`);
  const b = hexToBytes(s);
  if (len !== undefined && b.length !== len) throw corrupt(path, `field "${name}" must be ${len} bytes`);
  return b;
}

function intField(obj: Record<string, unknown>, name: string, path: string, max: number): number {
  const v = obj[name];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1 || v > max) throw corrupt(path, `field "${name}" out of range`);
  return v;
}

async function parseShareFile(path: string, text: string, opts: ShareStoreOptions): Promise<LoadedShare> {
  let obj: unknown;
  try {
    obj = JSON.parse(text);
  } catch {
    throw corrupt(path, 'not valid JSON');
  }
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) throw corrupt(path, 'not a JSON object');
  const o = obj as Record<string, unknown>;
  if (o['format'] !== FORMAT || o['version'] !== 1) throw corrupt(path, `not a ${FORMAT} version 1 file`);
  const commitmentHash = field(o, 'commitmentSha256', path);
  const protection = field(o, 'protection', path);
  let share: Uint8Array;
  if (protection === 'none') {
    if (opts.passphrase !== undefined) {
      throw new ShareFileError(
        `a passphrase was given but the master-share file ${path} is not encrypted. Start without the passphrase ` +
          '(unset MILAGRO_DTA_PASSPHRASE / drop --passphrase-file).',
      );
    }
    share = hexField(o, 'share', path, 32);
  } else if (protection === 'scrypt-aes-256-gcm') {
    if (opts.passphrase === undefined) {
      throw new ShareFileError(
        `the master-share file ${path} is encrypted; give its passphrase (environment variable MILAGRO_DTA_PASSPHRASE or --passphrase-file FILE).`,
      );
    }
    const kdf = o['kdf'];
    if (typeof kdf !== 'object' || kdf === null || Array.isArray(kdf)) throw corrupt(path, 'field "kdf" missing');
    const k = kdf as Record<string, unknown>;
    if (k['name'] !== 'scrypt') throw corrupt(path, 'unknown KDF');
    const N = intField(k, 'N', path, MAX_SCRYPT_N);
    if ((N & (N - 1)) !== 0 || N < 2) throw corrupt(path, 'scrypt N must be a power of two');
    const params: ScryptParams = { N, r: intField(k, 'r', path, 32), p: intField(k, 'p', path, 16) };
    const salt = hexField(k, 'salt', path);
    const nonce = hexField(o, 'nonce', path, 12);
    const ciphertext = hexField(o, 'ciphertext', path, 48);
    const key = await deriveKey(opts.passphrase, salt, params);
    try {
      share = gcm(key, nonce, aadFor(commitmentHash)).decrypt(ciphertext);
    } catch {
      throw new ShareFileError(
        `cannot decrypt the master-share file ${path}: wrong passphrase, or the file was modified.`,
      );
    } finally {
      key.fill(0);
    }
  } else {
    throw corrupt(path, `unknown protection "${protection}"`);
  }
  try {
    opts.crypto.checkMasterShare(share);
  } catch (e) {
    throw corrupt(path, `invalid share: ${(e as Error).message}`);
  }
  const commitment = opts.crypto.serverSecretShare(share);
  const fingerprint = fingerprintOf(commitment);
  if (!equalBytes(new TextEncoder().encode(fingerprint), new TextEncoder().encode(commitmentHash))) {
    throw corrupt(path, 'the share does not match its recorded commitment');
  }
  return { share, commitment, fingerprint, created: false, encrypted: protection !== 'none' };
}
