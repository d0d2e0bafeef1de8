/**
 * The pairing operations the identity layer needs, as one small interface over bytes.
 *
 * The DTA service, the M-Pin client and the verifier are written against this port, not against
 * the BNCX modules directly: the service code stays testable with a fast stand-in, and the real
 * implementation (`milagroCrypto` in ./milagro-crypto.ts) is a thin adapter over src/crypto.
 * Encodings are those of spec §2: G1 65 bytes `04‖x‖y`, G2 128 bytes, scalars 32 bytes.
 */
import type { RandomSource } from '../providers.ts';

export const G1_BYTES = 65;
export const G2_BYTES = 128;
export const SHARE_BYTES = 32;
export const HASH_ID_BYTES = 32;
/** AMCL's MAXPIN: the proof uses PIN mod 10000 and the key PIN mod 2^14 (spec §5.8), so PINs must stay below 10000. */
export const MAX_PIN_EXCLUSIVE = 10000;

/** Values a client sends in the one-pass protocol (spec §5.5). */
export interface ClientPassValues {
  /** SHA-256 of the identity: the only identity information the server receives. */
  readonly hashId: Uint8Array;
  /** [x]A; always produced so the server can run PIN-error detection (spec §5.7). */
  readonly u: Uint8Array;
  /** [x](A + T_d), only when a time permit was used. */
  readonly ut: Uint8Array | undefined;
  readonly v: Uint8Array;
  /** The challenge y = hashN(t, UT or U) mod r (spec §3.6), for diagnostics. */
  readonly y: Uint8Array;
  /** Unix seconds hashed into y. */
  readonly timeValue: number;
  /** Day of the time permit used, 0 if none. */
  readonly day: number;
}

export interface ClientPassInput {
  readonly identity: Uint8Array;
  readonly pin: number;
  readonly token: Uint8Array;
  /** Omit for the no-time-permit mode. */
  readonly timePermit?: { readonly day: number; readonly permit: Uint8Array };
  readonly timeValue: number;
  readonly random: RandomSource;
}

export interface ServerVerifyInput {
  readonly hashId: Uint8Array;
  readonly u: Uint8Array | undefined;
  readonly ut: Uint8Array | undefined;
  readonly v: Uint8Array;
  readonly timeValue: number;
  /** The server's own day when time permits are required, 0 otherwise. */
  readonly day: number;
  readonly serverSecret: Uint8Array;
}

export type ServerVerifyResult =
  | { readonly ok: true }
  /** pinError: entered − registered PIN when the search (|δ| < 10000) found it, else undefined. */
  | { readonly ok: false; readonly pinError: number | undefined };

export interface IdentityCrypto {
  /** A master-secret share, uniform in [1, r−1] (spec §5.2, §10 item 12). */
  generateMasterShare(random: RandomSource): Uint8Array;
  /** Throws if a loaded share is not 32 bytes in [1, r−1]. */
  checkMasterShare(share: Uint8Array): void;
  /** [s]Q, 128 bytes (spec §5.2). Also the DTA's public commitment for its fingerprint. */
  serverSecretShare(share: Uint8Array): Uint8Array;
  /** [s]·map1(HID) (spec §5.2): the DTA is given the hash, never the identity. */
  clientSecretShare(share: Uint8Array, hashId: Uint8Array): Uint8Array;
  /** [s]·map1(hashN(day, HID)) (spec §5.2, §3.5). */
  timePermitShare(share: Uint8Array, hashId: Uint8Array, day: number): Uint8Array;
  /** WCC sender key share [s]·H1(ID) in G1 (spec §6.1). */
  wccSenderShare(share: Uint8Array, hashId: Uint8Array): Uint8Array;
  /** WCC receiver key share [s]·H2(ID) in G2 (spec §6.1). */
  wccReceiverShare(share: Uint8Array, hashId: Uint8Array): Uint8Array;
  /** WCC G1 time-permit share [s]·map1(hashN(day, HID)) (spec §6.4). */
  wccSenderPermitShare(share: Uint8Array, hashId: Uint8Array, day: number): Uint8Array;
  /** WCC G2 time-permit share [s]·map2(hashN(day, HID)) (spec §6.4). */
  wccReceiverPermitShare(share: Uint8Array, hashId: Uint8Array, day: number): Uint8Array;
  /** Sum of share points (RECOMBINE_G1 / RECOMBINE_G2); every input is validated. */
  recombineG1(parts: readonly Uint8Array[]): Uint8Array;
  recombineG2(parts: readonly Uint8Array[]): Uint8Array;
  /** Strict decoders of spec §2.6; throw on anything else. */
  checkG1(point: Uint8Array): void;
  checkG2(point: Uint8Array): void;
  hashId(identity: Uint8Array): Uint8Array;
  /** token = CS − [PIN]·map1(SHA(ID)) with the raw identity (spec §5.4). */
  extractPin(identity: Uint8Array, pin: number, clientSecret: Uint8Array): Uint8Array;
  clientPass(input: ClientPassInput): ClientPassValues;
  /** MPIN_SERVER with PIN-error detection on failure (spec §5.6, §5.7). */
  serverVerify(input: ServerVerifyInput): ServerVerifyResult;
}

/** Day number (days since 1970-01-01 UTC) of a millisecond timestamp (spec §3.5). */
export function dayOf(ms: number): number {
  return Math.floor(ms / 86_400_000);
}
