/**
 * The real IdentityCrypto: a thin adapter over the BNCX core (src/crypto/bncx, src/crypto/mpin.ts).
 * No curve arithmetic here, only calls (M-Pin issuing spec §5.2, WCC issuing spec §6.1, §6.4).
 */
import { decodeG1, decodeG2, decodeSecretScalar, encodeG1, encodeG2 } from '../crypto/bncx/index.ts';
import * as mpin from '../crypto/mpin.ts';
import * as wcc from '../crypto/wcc.ts';
import type { RandomSource } from '../providers.ts';
import type { ClientPassInput, ClientPassValues, IdentityCrypto, ServerVerifyInput, ServerVerifyResult } from './crypto-port.ts';

function checkDay(day: number): number {
  if (!Number.isSafeInteger(day) || day <= 0 || day > 0x7fffffff) throw new RangeError('a time permit needs a day number > 0');
  return day;
}

function checkHid(hid: Uint8Array): Uint8Array {
  if (hid.length !== 32) throw new RangeError('hashed identity must be 32 bytes');
  return hid;
}

function sum<P extends { add(o: P): P }>(parts: readonly Uint8Array[], decode: (b: Uint8Array) => P, encode: (p: P) => Uint8Array): Uint8Array {
  const [first, ...rest] = parts;
  if (first === undefined) throw new RangeError('nothing to recombine');
  let acc = decode(first);
  for (const p of rest) acc = acc.add(decode(p));
  // encode() refuses the point at infinity (spec §2.6): shares that cancel out are an error.
  return encode(acc);
}

/**
 * Implements IdentityCrypto. Holds one cache: server secrets decoded and line-precomputed once per
 * byte array given (WeakMap, so it never outlives the caller's key).
 */
export class MilagroCrypto implements IdentityCrypto {
  readonly #serverSecrets = new WeakMap<Uint8Array, mpin.ServerSecret>();

  #serverSecret(bytes: Uint8Array): mpin.ServerSecret {
    let s = this.#serverSecrets.get(bytes);
    if (s === undefined) {
      s = mpin.ServerSecret.fromBytes(bytes);
      this.#serverSecrets.set(bytes, s);
    }
    return s;
  }

  generateMasterShare(random: RandomSource): Uint8Array {
    return mpin.masterSecretShare(random);
  }
  checkMasterShare(share: Uint8Array): void {
    decodeSecretScalar(share);
  }
  serverSecretShare(share: Uint8Array): Uint8Array {
    return mpin.serverSecretShare(share);
  }
  clientSecretShare(share: Uint8Array, hashId: Uint8Array): Uint8Array {
    return mpin.clientSecretShare(share, hashId);
  }
  timePermitShare(share: Uint8Array, hashId: Uint8Array, day: number): Uint8Array {
    return mpin.timePermitShare(share, hashId, checkDay(day));
  }
  wccSenderShare(share: Uint8Array, hashId: Uint8Array): Uint8Array {
    return wcc.senderKeyShare(share, checkHid(hashId));
  }
  wccReceiverShare(share: Uint8Array, hashId: Uint8Array): Uint8Array {
    return wcc.receiverKeyShare(share, checkHid(hashId));
  }
  wccSenderPermitShare(share: Uint8Array, hashId: Uint8Array, day: number): Uint8Array {
    return wcc.senderPermitShare(share, checkHid(hashId), checkDay(day));
  }
  wccReceiverPermitShare(share: Uint8Array, hashId: Uint8Array, day: number): Uint8Array {
    return wcc.receiverPermitShare(share, checkHid(hashId), checkDay(day));
  }
  recombineG1(parts: readonly Uint8Array[]): Uint8Array {
    return sum(parts, decodeG1, encodeG1);
  }
  recombineG2(parts: readonly Uint8Array[]): Uint8Array {
    return sum(parts, decodeG2, encodeG2);
  }
  checkG1(point: Uint8Array): void {
    decodeG1(point);
  }
  checkG2(point: Uint8Array): void {
    decodeG2(point);
  }
  hashId(identity: Uint8Array): Uint8Array {
    return mpin.hashId(identity);
  }
  extractPin(identity: Uint8Array, pin: number, clientSecret: Uint8Array): Uint8Array {
    return mpin.extractPin(identity, pin, clientSecret);
  }
  clientPass(input: ClientPassInput): ClientPassValues {
    const out = mpin.clientPass({
      identity: input.identity,
      pin: input.pin,
      token: input.token,
      timePermit: input.timePermit === undefined ? undefined : { permit: input.timePermit.permit, date: checkDay(input.timePermit.day) },
      rng: input.random,
      timeValue: input.timeValue,
    });
    return { hashId: out.hashId, u: out.U, ut: out.UT, v: out.V, y: out.y, timeValue: out.timeValue, day: input.timePermit?.day ?? 0 };
  }
  serverVerify(input: ServerVerifyInput): ServerVerifyResult {
    const point = input.day > 0 ? input.ut : input.u;
    if (point === undefined) throw new RangeError(input.day > 0 ? 'UT is required with time permits' : 'U is required');
    const r = mpin.serverVerify({
      serverSecret: this.#serverSecret(input.serverSecret),
      hashId: input.hashId,
      point,
      V: input.v,
      date: input.day,
      timeValue: input.timeValue,
      U: input.u,
    });
    if (r.ok) return { ok: true };
    return { ok: false, pinError: r.E !== undefined && r.F !== undefined ? mpin.pinError(r.E, r.F) : undefined };
  }
}
