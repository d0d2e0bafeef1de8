/**
 * The MILAGRO_CS (HID, t, V) replay cache kept in a shared store (spec §10 item 13), so a proof
 * presented to one server process is refused by every other process of the deployment.
 *
 * One `setIfAbsent` per accepted-time ClientHello, before the pairing: a replayed proof costs the
 * server one store round-trip and no pairing. The entry lives as long as the proof could still
 * pass the time check (t + window − now) plus a margin for clock differences between servers.
 * Keys are SHA-256 of (HID ‖ t ‖ V): fixed size whatever the peer sends.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, concatBytes } from '../../codec/bytes.ts';
import type { KeyValueStore } from '../../store/types.ts';
import type { CsReplayCache } from '../milagro-cs.ts';
import type { CsHelloValues } from './cs-wire.ts';

/** Default allowance for clock differences between the servers sharing the store. */
export const DEFAULT_REPLAY_SKEW_MS = 5_000;

export class StoreReplayCache implements CsReplayCache {
  readonly #store: KeyValueStore;
  readonly #skewMs: number;

  /** `store` should be namespaced for this deployment's CS replay entries (e.g. 'cs-replay:'). */
  constructor(store: KeyValueStore, skewMs = DEFAULT_REPLAY_SKEW_MS) {
    if (!Number.isSafeInteger(skewMs) || skewMs < 0) throw new RangeError('replay skew must be a non-negative integer of milliseconds');
    this.#store = store;
    this.#skewMs = skewMs;
  }

  add(v: CsHelloValues, nowSeconds: number, window: number): Promise<boolean> {
    const t = new Uint8Array(4);
    new DataView(t.buffer).setUint32(0, v.timeValue >>> 0);
    const key = bytesToHex(sha256(concatBytes(v.hashId, t, v.V)));
    // Accepted while |t − now| ≤ window, so until now = t + window (whole seconds, inclusive).
    const ttlMs = Math.max(1000, (v.timeValue + window + 1 - nowSeconds) * 1000) + this.#skewMs;
    return this.#store.setIfAbsent(key, '1', ttlMs);
  }
}
