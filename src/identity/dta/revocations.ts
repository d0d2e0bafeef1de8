/**
 * Revoked identity hashes, persisted in `<data-dir>/revocations.json` so they survive restarts.
 * A revoked hash_id gets no new time permits (and no new keys of any kind). Writes are serialised
 * and atomic (temp file + rename); the in-memory set changes only after the file is on disk.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Clock, RandomSource } from '../../providers.ts';
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
  #writing: Promise<void> = Promise.resolve();

  private constructor(path: string, entries: Map<string, RevocationEntry>, random: RandomSource, clock: Clock) {
    this.#path = path;
    this.#entries = entries;
    this.#random = random;
    this.#clock = clock;
  }

  /** Reads the list (empty when the file does not exist yet); a corrupt file stops the DTA. */
  static async open(dataDir: string, random: RandomSource, clock: Clock): Promise<RevocationList> {
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
    return new RevocationList(path, entries, random, clock);
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

  /** Adds a revocation and persists it; resolves once it is on disk. Idempotent. */
  revoke(hashIdHex: string, reason: string): Promise<RevocationEntry> {
    const run = async (): Promise<RevocationEntry> => {
      const existing = this.#entries.get(hashIdHex);
      if (existing !== undefined) return existing;
      const entry: RevocationEntry = { hashId: hashIdHex, revokedAt: new Date(this.#clock()).toISOString(), reason };
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
