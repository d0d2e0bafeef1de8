/**
 * Revoked identity hashes, persisted in `<data-dir>/revocations.json` so they survive restarts.
 * A revoked hash_id gets no new time permits (and no new keys of any kind). Writes are serialised
 * and atomic (temp file + rename); the in-memory set changes only after the file is on disk.
 *
 * With a shared store (replicas of one DTA), a revocation is also a durable store record
 * ('revoked:<hashId>', first writer wins) plus a durable counter, and `lookup` consults the store,
 * so a revocation made at one replica holds at every other at once. The file's entries are
 * copied into the store at start, so adding a store never un-revokes anyone. Revocations are
 * never undone, so a positive answer is cached here for good.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Clock, RandomSource } from '../../providers.ts';
import type { KeyValueStore } from '../../store/types.ts';
import { ShareFileError } from '../errors.ts';
import { writePrivateFile } from '../files.ts';

export const REVOCATIONS_FILE_NAME = 'revocations.json';
const FORMAT = 'milagro-ts-dta-revocations';

export interface RevocationEntry {
  readonly hashId: string;
  readonly revokedAt: string;
  readonly reason: string;
}

export class RevocationList {
  readonly #path: string;
  readonly #entries: Map<string, RevocationEntry>;
  readonly #random: RandomSource;
  readonly #clock: Clock;
  readonly #store: KeyValueStore | undefined;
  #writing: Promise<void> = Promise.resolve();

  private constructor(path: string, entries: Map<string, RevocationEntry>, random: RandomSource, clock: Clock, store: KeyValueStore | undefined) {
    this.#path = path;
    this.#entries = entries;
    this.#random = random;
    this.#clock = clock;
    this.#store = store;
  }

  /**
   * Reads the list (empty when the file does not exist yet); a corrupt file stops the DTA. With
   * `store` (namespaced for this DTA), the file's entries are copied into it.
   */
  static async open(dataDir: string, random: RandomSource, clock: Clock, store?: KeyValueStore): Promise<RevocationList> {
    const path = join(dataDir, REVOCATIONS_FILE_NAME);
    const entries = new Map<string, RevocationEntry>();
    let text: string | undefined;
    try {
      text = await readFile(path, 'utf8');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT') throw new ShareFileError(`cannot read the revocation list ${path} (${code ?? String(e)}); fix its permissions.`);
    }
    if (text !== undefined) {
      const bad = (what: string): ShareFileError =>
        new ShareFileError(`the revocation list ${path} is corrupt (${what}); restore it from backup. Starting without it would un-revoke identities.`);
      let obj: unknown;
      try {
        obj = JSON.parse(text);
      } catch {
        throw bad('not valid JSON');
      }
      if (typeof obj !== 'object' || obj === null) throw bad('not an object');
      const o = obj as Record<string, unknown>;
      if (o['format'] !== FORMAT || o['version'] !== 1 || !Array.isArray(o['revoked'])) throw bad(`not a ${FORMAT} v1 file`);
      for (const item of o['revoked'] as unknown[]) {
        if (typeof item !== 'object' || item === null) throw bad('entry is not an object');
        const e = item as Record<string, unknown>;
        const hashId = e['hashId'];
        const revokedAt = e['revokedAt'];
        const reason = e['reason'];
        if (typeof hashId !== 'string' || !/^[0-9a-f]{64}$/.test(hashId)) throw bad('entry with an invalid hashId');
        if (typeof revokedAt !== 'string' || typeof reason !== 'string') throw bad('entry without revokedAt/reason');
        entries.set(hashId, { hashId, revokedAt, reason });
      }
    }
    const list = new RevocationList(path, entries, random, clock, store);
    for (const e of entries.values()) await list.#record(e);
    return list;
  }

  /** Writes `entry` to the store unless it is there already; returns the stored entry. */
  async #record(entry: RevocationEntry): Promise<RevocationEntry> {
    const store = this.#store;
    if (store === undefined) return entry;
    if (await store.setIfAbsent(`revoked:${entry.hashId}`, JSON.stringify(entry))) {
      await store.increment('revoked-count');
      return entry;
    }
    return (await this.#fromStore(entry.hashId)) ?? entry;
  }

  async #fromStore(hashIdHex: string): Promise<RevocationEntry | undefined> {
    const text = await this.#store?.get(`revoked:${hashIdHex}`);
    if (text === undefined) return undefined;
    try {
      const e = JSON.parse(text) as Partial<RevocationEntry>;
      return { hashId: hashIdHex, revokedAt: String(e.revokedAt ?? ''), reason: String(e.reason ?? '') };
    } catch {
      // Still revoked: the key exists. Fail closed with what we know.
      return { hashId: hashIdHex, revokedAt: 'unknown', reason: '' };
    }
  }

  /** The revocation of `hashIdHex`, here or (with a store) at any replica; undefined when none. */
  async lookup(hashIdHex: string): Promise<RevocationEntry | undefined> {
    const local = this.#entries.get(hashIdHex);
    if (local !== undefined || this.#store === undefined) return local;
    const shared = await this.#fromStore(hashIdHex);
    if (shared !== undefined) this.#entries.set(hashIdHex, shared);
    return shared;
  }

  /** Revoked identities: all replicas' with a store, else this list's. */
  async count(): Promise<number> {
    if (this.#store === undefined) return this.#entries.size;
    const n = await this.#store.get('revoked-count');
    return n === undefined ? 0 : Number(n);
  }

  isRevoked(hashIdHex: string): boolean {
    return this.#entries.has(hashIdHex);
  }

  get size(): number {
    return this.#entries.size;
  }

  get(hashIdHex: string): RevocationEntry | undefined {
    return this.#entries.get(hashIdHex);
  }

  /** Adds a revocation and persists it (store first, then file); resolves once it is durable. Idempotent. */
  revoke(hashIdHex: string, reason: string): Promise<RevocationEntry> {
    const run = async (): Promise<RevocationEntry> => {
      const existing = this.#entries.get(hashIdHex);
      if (existing !== undefined) return existing;
      // With a store, the first replica to revoke wins: everyone reports the same revokedAt.
      const entry = await this.#record({ hashId: hashIdHex, revokedAt: new Date(this.#clock()).toISOString(), reason });
      const next = new Map(this.#entries);
      next.set(hashIdHex, entry);
      const body = { format: FORMAT, version: 1, revoked: [...next.values()] };
      await writePrivateFile(this.#path, `${JSON.stringify(body, null, 2)}\n`, this.#random);
      this.#entries.set(hashIdHex, entry);
      return entry;
    };
    const result = this.#writing.then(run, run);
    this.#writing = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }
}
