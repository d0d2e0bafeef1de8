/// <reference lib="dom" preserve="true" />
/**
 * Where the browser keeps its M-Pin tokens: IndexedDB (one object store, keyed by identity).
 *
 * The token is stored as it is, never encrypted under a key derived from the PIN: such a key
 * would let anyone who copies the database test all 10000 PINs offline (each wrong key gives a
 * detectably wrong result). Stored in clear, the token is useless without the PIN, and a PIN
 * can only be tried against the relying party, which counts failures and locks (spec §5.4, §5.7).
 */

export interface StoredIdentity {
  readonly identity: string;
  /**
   * The registration's M-Pin identity (the relying party's fresh name for this registration);
   * the token is for its hash. Absent in records made before mpinIds: the identity itself.
   */
  readonly mpinId?: string;
  /** token = CS − [PIN]·A (spec §5.4), 65-byte G1 point in hex. */
  readonly token: string;
  readonly registeredAt: number;
}

export interface IdentityStore {
  list(): Promise<StoredIdentity[]>;
  get(identity: string): Promise<StoredIdentity | undefined>;
  put(rec: StoredIdentity): Promise<void>;
  remove(identity: string): Promise<void>;
}

/** For tests and for pages that must not persist anything. */
export class MemoryStore implements IdentityStore {
  readonly #items = new Map<string, StoredIdentity>();
  list(): Promise<StoredIdentity[]> {
    return Promise.resolve([...this.#items.values()].sort((a, b) => a.identity.localeCompare(b.identity)));
  }
  get(identity: string): Promise<StoredIdentity | undefined> {
    return Promise.resolve(this.#items.get(identity));
  }
  put(rec: StoredIdentity): Promise<void> {
    this.#items.set(rec.identity, rec);
    return Promise.resolve();
  }
  remove(identity: string): Promise<void> {
    this.#items.delete(identity);
    return Promise.resolve();
  }
}

const STORE = 'identities';

function promised<T>(r: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error ?? new Error('IndexedDB request failed'));
  });
}

function isStored(v: unknown): v is StoredIdentity {
  if (typeof v !== 'object' || v === null) return false;
  const o = v as Record<string, unknown>;
  return typeof o['identity'] === 'string' && typeof o['token'] === 'string' && /^[0-9a-f]{130}$/.test(o['token']) && typeof o['registeredAt'] === 'number';
}

export class IndexedDbStore implements IdentityStore {
  readonly #db: Promise<IDBDatabase>;

  constructor(name = 'milagro-ts-mpin', factory: IDBFactory = indexedDB) {
    this.#db = new Promise((resolve, reject) => {
      const open = factory.open(name, 1);
      open.onupgradeneeded = () => {
        if (!open.result.objectStoreNames.contains(STORE)) open.result.createObjectStore(STORE, { keyPath: 'identity' });
      };
      open.onsuccess = () => resolve(open.result);
      open.onerror = () => reject(open.error ?? new Error('cannot open IndexedDB'));
    });
  }

  async #store(mode: IDBTransactionMode): Promise<IDBObjectStore> {
    return (await this.#db).transaction(STORE, mode).objectStore(STORE);
  }

  async list(): Promise<StoredIdentity[]> {
    const all: unknown[] = await promised((await this.#store('readonly')).getAll());
    // Anything not in our format (a damaged or foreign record) is ignored, not trusted.
    return all.filter(isStored).sort((a, b) => a.identity.localeCompare(b.identity));
  }

  async get(identity: string): Promise<StoredIdentity | undefined> {
    const v: unknown = await promised((await this.#store('readonly')).get(identity));
    return isStored(v) ? v : undefined;
  }

  async put(rec: StoredIdentity): Promise<void> {
    await promised((await this.#store('readwrite')).put(rec));
  }

  async remove(identity: string): Promise<void> {
    await promised((await this.#store('readwrite')).delete(identity));
  }
}
