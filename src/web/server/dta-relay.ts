/**
 * The relying party's side of issuing (issue 8 item 1): it holds an enrolment key trusted by the
 * DTAs, signs one request per browser call and relays it to every DTA. The shares go back to the
 * browser unmodified, which validates and adds them itself (spec §5.1: the holder recombines).
 * The server secret [s]Q = Σ[s_i]Q is fetched and assembled once at start-up.
 */
import { bytesToHex, hexToBytes } from '../../codec/bytes.ts';
import type { Clock, RandomSource } from '../../providers.ts';
import { type EnrolmentKey, signRequest } from '../../identity/auth.ts';
import type { IdentityCrypto } from '../../identity/crypto-port.ts';
import { callDta, type DtaCallOptions, DtaFanOutError, fanOut } from '../../identity/client/dta-client.ts';
import { fetchServerSecret, revokeEverywhere } from '../../identity/client/shares.ts';
import { DtaCallError } from '../../identity/errors.ts';
import { isHex, type ShareFromDta } from '../protocol.ts';

export interface DtaRelayOptions extends DtaCallOptions {
  readonly dtas: readonly string[];
  readonly enrolmentKey: EnrolmentKey;
  readonly crypto: IdentityCrypto;
  readonly clock: Clock;
  readonly random: RandomSource;
}

/** Why a relay failed, reduced to what the browser may learn. */
export type RelayFailure = { readonly kind: 'revoked' } | { readonly kind: 'unavailable'; readonly detail: string };

export class RelayError extends Error {
  override readonly name = 'RelayError';
  constructor(
    readonly failure: RelayFailure,
    message: string,
  ) {
    super(message);
  }
}

function toRelayError(e: unknown): RelayError {
  if (e instanceof DtaFanOutError) {
    if (e.failures.some((f) => f.code === 'revoked')) return new RelayError({ kind: 'revoked' }, e.message);
    return new RelayError({ kind: 'unavailable', detail: e.message }, e.message);
  }
  const msg = e instanceof Error ? e.message : String(e);
  return new RelayError({ kind: 'unavailable', detail: msg }, msg);
}

export class DtaRelay {
  readonly #opts: DtaRelayOptions;
  constructor(opts: DtaRelayOptions) {
    this.#opts = opts;
  }

  #sign(params: Parameters<typeof signRequest>[1]): ReturnType<typeof signRequest> {
    return signRequest(this.#opts.enrolmentKey, params, { clock: this.#opts.clock, random: this.#opts.random, lifetimeMs: 60_000 });
  }

  #g1(obj: Record<string, unknown>, field: string, dta: string): string {
    const v = obj[field];
    if (!isHex(v, 65)) throw new DtaCallError(dta, `answer field "${field}" is not a 65-byte point in lowercase hex`);
    try {
      this.#opts.crypto.checkG1(hexToBytes(v));
    } catch {
      throw new DtaCallError(dta, `answer field "${field}" is not a valid G1 point`);
    }
    return v;
  }

  static #fingerprint(obj: Record<string, unknown>, dta: string): string {
    const f = obj['dta'];
    if (!isHex(f, 32)) throw new DtaCallError(dta, 'answer has no valid "dta" fingerprint');
    return f;
  }

  static #distinct(shares: readonly ShareFromDta[]): void {
    if (new Set(shares.map((s) => s.fingerprint)).size !== shares.length) {
      throw new DtaFanOutError([new DtaCallError('(relay)', 'two configured DTAs hold the same share; list each DTA once')]);
    }
  }

  /** Client-secret shares [s_i]·map1(HID) from every DTA (spec §5.2). */
  async clientSecretShares(hashId: Uint8Array): Promise<ShareFromDta[]> {
    const hex = bytesToHex(hashId);
    const request = this.#sign({ op: 'client-secret', hashId: hex });
    try {
      const shares = await fanOut(this.#opts.dtas, async (dta) => {
        const obj = await callDta(dta, '/v1/client-secret', request, this.#opts);
        if (obj['hashId'] !== hex) throw new DtaCallError(dta, 'answered for a different identity hash');
        return { fingerprint: DtaRelay.#fingerprint(obj, dta), share: this.#g1(obj, 'clientSecretShare', dta) };
      });
      DtaRelay.#distinct(shares);
      return shares;
    } catch (e) {
      throw toRelayError(e);
    }
  }

  /** Time-permit shares [s_i]·T_day for one day (spec §5.2); a revoked identity gets none. */
  async timePermitShares(hashId: Uint8Array, day: number): Promise<ShareFromDta[]> {
    const hex = bytesToHex(hashId);
    const request = this.#sign({ op: 'time-permits', hashId: hex, fromDay: day, toDay: day });
    try {
      const shares = await fanOut(this.#opts.dtas, async (dta) => {
        const obj = await callDta(dta, '/v1/time-permits', request, this.#opts);
        if (obj['hashId'] !== hex) throw new DtaCallError(dta, 'answered for a different identity hash');
        const list = obj['permits'];
        if (!Array.isArray(list) || list.length !== 1) throw new DtaCallError(dta, `expected exactly one permit (day ${day})`);
        const item: unknown = list[0];
        if (typeof item !== 'object' || item === null || (item as Record<string, unknown>)['day'] !== day) {
          throw new DtaCallError(dta, `issued a permit for another day than ${day}`);
        }
        return { fingerprint: DtaRelay.#fingerprint(obj, dta), share: this.#g1(item as Record<string, unknown>, 'share', dta) };
      });
      DtaRelay.#distinct(shares);
      return shares;
    } catch (e) {
      throw toRelayError(e);
    }
  }

  /**
   * Revokes an identity hash at every DTA (no more time permits or keys for it): used when an
   * identity re-registers, so the replaced registration's token stops working everywhere.
   */
  async revoke(hashId: Uint8Array, reason: string): Promise<void> {
    try {
      await revokeEverywhere({ ...this.#opts, request: this.#sign({ op: 'revoke', hashId: bytesToHex(hashId), reason }) });
    } catch (e) {
      throw toRelayError(e);
    }
  }

  /** The assembled server secret Σ[s_i]Q (spec §5.1). */
  async serverSecret(): Promise<Uint8Array> {
    const r = await fetchServerSecret({ ...this.#opts, request: this.#sign({ op: 'server-secret' }) });
    return r.key;
  }
}
