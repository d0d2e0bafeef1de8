/**
 * The M-Pin client (issue 5 item 3; spec §5.4, §5.5): registration across N DTAs, PIN extraction,
 * time-permit refresh and the one-pass authentication values.
 */
import { bytesToHex } from '../../codec/bytes.ts';
import type { Clock, RandomSource } from '../../providers.ts';
import type { SignedRequest } from '../auth.ts';
import { type ClientPassValues, dayOf, type IdentityCrypto, MAX_PIN_EXCLUSIVE } from '../crypto-port.ts';
import { IdentityInputError } from '../errors.ts';
import type { DtaCallOptions } from './dta-client.ts';
import type { Keystore } from './keystore.ts';
import { fetchClientSecret, fetchTimePermits } from './shares.ts';

/**
 * PIN length. The proof adds [PIN mod 10000]·A and the TLS key uses PIN mod 2^14 (spec §5.8), so a
 * PIN that interoperates with the original programs is a number below 10000: 4 digits. Longer PINs
 * would silently collapse modulo 10000 in the original client; we refuse them instead.
 */
export const DEFAULT_PIN_DIGITS = 4;
export const SUPPORTED_PIN_DIGITS: readonly number[] = [4];

/** Parses a PIN of exactly `digits` decimal digits; leading zeros are part of the PIN string only. */
export function parsePin(pin: string, digits = DEFAULT_PIN_DIGITS): number {
  if (!SUPPORTED_PIN_DIGITS.includes(digits)) {
    throw new IdentityInputError(
      `PINs of ${digits} digits are not supported: M-Pin as deployed by AMCL/milagro-tls reduces the PIN mod 10000 (spec §5.8), so only ${SUPPORTED_PIN_DIGITS.join(', ')}-digit PINs interoperate`,
    );
  }
  const trimmed = pin.trim();
  if (!new RegExp(`^[0-9]{${digits}}$`).test(trimmed)) throw new IdentityInputError(`the PIN must be exactly ${digits} digits`);
  const value = Number(trimmed);
  if (value >= MAX_PIN_EXCLUSIVE) throw new IdentityInputError('the PIN must be below 10000');
  return value;
}

export function encodeIdentity(identity: string): Uint8Array {
  const b = new TextEncoder().encode(identity);
  if (b.length === 0 || b.length > 1024) throw new IdentityInputError('the identity must be 1 to 1024 bytes of UTF-8');
  return b;
}

export function hashIdHex(crypto: IdentityCrypto, identity: string): string {
  return bytesToHex(crypto.hashId(encodeIdentity(identity)));
}

export interface RegisterOptions extends DtaCallOptions {
  readonly crypto: IdentityCrypto;
  readonly identity: string;
  readonly pin: string;
  readonly pinDigits?: number;
  readonly dtas: readonly string[];
  /** Signed `client-secret` request for this identity's hash. */
  readonly clientSecretRequest: SignedRequest;
  /** Signed `time-permits` request; omit to register without permits. */
  readonly timePermitRequest?: SignedRequest;
}

/**
 * Fetches the client-secret shares (and permits) from every DTA in parallel, recombines them and
 * extracts the PIN. Returns the keystore content; the caller saves it. Any DTA failure throws a
 * DtaFanOutError naming the DTA, before anything could be stored.
 */
export async function registerIdentity(opts: RegisterOptions): Promise<Keystore> {
  const digits = opts.pinDigits ?? DEFAULT_PIN_DIGITS;
  const pin = parsePin(opts.pin, digits);
  const identityBytes = encodeIdentity(opts.identity);
  const hashId = bytesToHex(opts.crypto.hashId(identityBytes));
  const common = { ...opts, crypto: opts.crypto, dtas: opts.dtas, hashId };
  const [secret, permits] = await Promise.all([
    fetchClientSecret({ ...common, request: opts.clientSecretRequest }),
    opts.timePermitRequest === undefined
      ? Promise.resolve(new Map<number, Uint8Array>())
      : fetchTimePermits({ ...common, request: opts.timePermitRequest }),
  ]);
  const token = opts.crypto.extractPin(identityBytes, pin, secret.key);
  secret.key.fill(0);
  return { identity: opts.identity, hashId, token, pinDigits: digits, permits, dtas: [...opts.dtas], fingerprints: secret.fingerprints };
}

/** Adds freshly issued permits to a keystore (dropping permits older than yesterday). */
export async function refreshPermits(
  ks: Keystore,
  opts: DtaCallOptions & { readonly crypto: IdentityCrypto; readonly dtas?: readonly string[]; readonly request: SignedRequest; readonly clock: Clock },
): Promise<Keystore> {
  const fresh = await fetchTimePermits({ ...opts, dtas: opts.dtas ?? ks.dtas, hashId: ks.hashId });
  const today = dayOf(opts.clock());
  const permits = new Map<number, Uint8Array>();
  for (const [d, p] of ks.permits) if (d >= today - 1) permits.set(d, p);
  for (const [d, p] of fresh) permits.set(d, p);
  return { ...ks, permits };
}

export interface PassOptions {
  readonly crypto: IdentityCrypto;
  readonly keystore: Keystore;
  readonly pin: string;
  readonly clock: Clock;
  readonly random: RandomSource;
  /** Use today's time permit (default true); false gives the no-permit mode. */
  readonly useTimePermit?: boolean;
}

/** One-pass M-Pin values for now (spec §5.5). Needs today's permit unless useTimePermit is false. */
export function createPass(opts: PassOptions): ClientPassValues {
  const ks = opts.keystore;
  const pin = parsePin(opts.pin, ks.pinDigits);
  const now = opts.clock();
  const timeValue = Math.floor(now / 1000);
  const identity = encodeIdentity(ks.identity);
  if (opts.useTimePermit === false) {
    return opts.crypto.clientPass({ identity, pin, token: ks.token, timeValue, random: opts.random });
  }
  const day = dayOf(now);
  const permit = ks.permits.get(day);
  if (permit === undefined) {
    throw new IdentityInputError(`no time permit for today (day ${day}) in the keystore; fetch new ones with \`milagro-ts identity permits\``);
  }
  return opts.crypto.clientPass({ identity, pin, token: ks.token, timePermit: { day, permit }, timeValue, random: opts.random });
}

/** JSON form of the pass values, as exchanged by `identity pass` / `identity verify`. */
export function passToJson(p: ClientPassValues): Record<string, string | number> {
  return {
    hashId: bytesToHex(p.hashId),
    u: bytesToHex(p.u),
    ...(p.ut !== undefined ? { ut: bytesToHex(p.ut) } : {}),
    v: bytesToHex(p.v),
    timeValue: p.timeValue,
    day: p.day,
  };
}
