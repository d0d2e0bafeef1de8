/**
 * Tunnel credentials in the three modes (MILAGRO_P2P, MILAGRO_CS, certificates), turned into
 * `createServer` / `connect` options. Everything is (re)read on each `load()`: key files,
 * keystores, certificates, and — when DTAs are configured — a fresh key with time permits for
 * today and the next days, signed with the enrolment key. A load that fails throws and the tunnel
 * keeps the credentials it has (so a DTA outage or a revoked identity never drops a working
 * configuration; the permits it already holds run out on their own).
 */
import { readFile } from 'node:fs/promises';
import { dayOf } from '../crypto/mpin.ts';
import type { ConnectionOptions, ServerOptions } from '../api/options.ts';
import type { KeyBytes } from '../api/milagro-common.ts';
import { signRequest, type EnrolmentKey } from '../identity/auth.ts';
import { parseKeystore, type Keystore } from '../identity/client/keystore.ts';
import { hashIdHex, parsePin, refreshPermits } from '../identity/client/mpin-client.ts';
import { fetchWccKey } from '../identity/client/shares.ts';
import { MilagroCrypto } from '../identity/milagro-crypto.ts';
import type { MilagroCsCompute } from '../kex/milagro/cs-compute.ts';
import type { MilagroP2pCompute } from '../kex/milagro/p2p-compute.ts';
import type { MilagroWorkerPool } from '../kex/milagro/pool.ts';
import type { Clock, RandomSource } from '../providers.ts';

/** A value given directly, or a file read on every load (so SIGHUP picks up a replaced file). */
export type Source<T> = T | { readonly file: string };

/** Where fresh keys and time permits come from, and who signs the requests. */
export interface DtaRefresh {
  readonly urls: readonly string[];
  /** An enrolment key the DTAs trust (`milagro-ts identity keygen`); it signs each refresh. */
  readonly enrolmentKey: EnrolmentKey;
  /** Permits fetched for today and the following days; default 2 (today and tomorrow). */
  readonly days?: number;
}

export type P2pKey = { readonly key: Source<KeyBytes> } | { readonly dtas: DtaRefresh };

export type TunnelServerCredentials =
  | {
      readonly mode: 'p2p';
      readonly identity: string;
      /** P2PServerKey (WCC sender key, G1), or DTAs to fetch it and its time permits from. */
      readonly key: P2pKey;
      /** Client identities let through; anyone else gets access_denied before any pairing. */
      readonly allowIdentities: readonly string[];
    }
  | {
      readonly mode: 'cs';
      /** CSServerKey (server secret, G2). */
      readonly serverKey: Source<KeyBytes>;
      /** Require clients' time permits (default true, as the milagro-tls build). */
      readonly timePermits?: boolean;
      /** Client identities let through (checked on the authenticated identity hash); empty = any registered client. */
      readonly allowIdentities?: readonly string[];
    }
  | {
      readonly mode: 'cert';
      readonly cert: Source<string | Uint8Array>;
      readonly key: Source<string | Uint8Array>;
      /** Trust anchors for client certificates: when given, clients must present one (mTLS). */
      readonly ca?: Source<string | Uint8Array>;
      /** With `ca`: accepted subject CNs and subjectAltNames (e.g. "DNS:app.internal"); empty = any verified client. */
      readonly allowCn?: readonly string[];
      readonly allowSan?: readonly string[];
    };

/** The PIN (4 digits), a file holding it (first line), or an environment variable. */
export type PinSource = string | { readonly file: string } | { readonly env: string };

export type TunnelClientCredentials =
  | {
      readonly mode: 'p2p';
      readonly identity: string;
      /** P2PClientKey (WCC receiver key, G2), or DTAs to fetch it and its time permits from. */
      readonly key: P2pKey;
      /** The server identity required (the TLS server's MILAGRO_P2P identity). */
      readonly serverIdentity: string;
    }
  | {
      readonly mode: 'cs';
      /** Keystore from `milagro-ts identity register` (token and time permits). */
      readonly keystore: Source<string>;
      readonly pin: PinSource;
      /** Refresh the keystore's time permits from the DTAs (in memory; the file is not rewritten). */
      readonly dtas?: DtaRefresh;
      /** Use the keystore's time permit for today (default true; false for servers without permits). */
      readonly timePermits?: boolean;
    }
  | {
      readonly mode: 'cert';
      readonly ca: Source<string | Uint8Array>;
      /** The name the server certificate must carry (SNI too); default the target host. */
      readonly servername?: string;
      /** Client certificate for mTLS. */
      readonly cert?: Source<string | Uint8Array>;
      readonly key?: Source<string | Uint8Array>;
    };

/** Shared, long-lived helpers the loaders plug into the options (never rebuilt on reload). */
export interface CredentialDeps {
  readonly clock: Clock;
  readonly random: RandomSource;
  /** Server side: the pool the pairings run in (owned by the tunnel). */
  readonly pool?: MilagroWorkerPool;
}

export class CredentialError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CredentialError';
  }
}

/** Key files are hex text (the original format); certificates may be PEM or DER. */
async function read(src: Source<KeyBytes>, what: string): Promise<KeyBytes> {
  if (typeof src === 'string' || src instanceof Uint8Array) return src;
  try {
    return await readFile(src.file, 'utf8');
  } catch (e) {
    throw new CredentialError(`cannot read ${what} ${src.file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

async function readBinary(src: Source<string | Uint8Array>, what: string): Promise<string | Uint8Array> {
  if (typeof src === 'string' || src instanceof Uint8Array) return src;
  try {
    return new Uint8Array(await readFile(src.file));
  } catch (e) {
    throw new CredentialError(`cannot read ${what} ${src.file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/**
 * A WCC key with time permits from the DTAs. Permits from earlier loads for days still ahead are
 * kept, so one failed refresh (DTA down, identity revoked) leaves the remaining permits in use.
 */
class WccFromDtas {
  #permits = new Map<number, Uint8Array>();
  #key: Uint8Array | undefined;
  constructor(
    private readonly crypto: MilagroCrypto,
    private readonly role: 'sender' | 'receiver',
    private readonly identity: string,
    private readonly dtas: DtaRefresh,
    private readonly deps: CredentialDeps,
  ) {}

  async load(): Promise<{ key: Uint8Array; permits: Map<number, Uint8Array> }> {
    const hashId = hashIdHex(this.crypto, this.identity);
    const today = dayOf(this.deps.clock());
    const days = Math.max(1, this.dtas.days ?? 2);
    const request = signRequest(
      this.dtas.enrolmentKey,
      { op: this.role === 'sender' ? 'wcc-sender' : 'wcc-receiver', hashId, withPermits: true, fromDay: today, toDay: today + days - 1 },
      { clock: this.deps.clock, random: this.deps.random },
    );
    const fresh = await fetchWccKey({ crypto: this.crypto, dtas: this.dtas.urls, role: this.role, hashId, request }).catch((e: unknown) => {
      throw new CredentialError(`refreshing the ${this.role} key of ${this.identity} from ${this.dtas.urls.length} DTAs failed: ${(e as Error).message}`, { cause: e });
    });
    const permits = new Map<number, Uint8Array>();
    for (const [d, p] of this.#permits) if (d >= today - 1) permits.set(d, p);
    for (const [d, p] of fresh.permits) permits.set(d, p);
    this.#permits = permits;
    this.#key = fresh.key;
    return { key: this.#key, permits: new Map(permits) };
  }
}

/** The permit days a loaded configuration holds (for logs and the status page). */
export interface LoadedCredentials<T> {
  readonly options: T;
  readonly summary: string;
  /** Close the connection after the handshake when this returns a reason (certificate allow-lists). */
  readonly authorize?: (peer: PeerInfo) => string | undefined;
}

export interface PeerInfo {
  readonly identity?: string;
  readonly cn?: string;
  readonly san?: readonly string[];
}

function daysSummary(permits: ReadonlyMap<number, unknown>): string {
  const days = [...permits.keys()].sort((a, b) => a - b);
  return days.length === 0 ? 'no time permits' : `time permits for days ${days.join(',')}`;
}

export function serverCredentialLoader(c: TunnelServerCredentials, deps: CredentialDeps): () => Promise<LoadedCredentials<ServerOptions>> {
  const crypto = new MilagroCrypto();
  const workers = deps.pool ?? false;
  switch (c.mode) {
    case 'p2p': {
      if (c.allowIdentities.length === 0) throw new CredentialError('a MILAGRO_P2P tunnel server needs at least one allowed client identity');
      const dtas = 'dtas' in c.key ? new WccFromDtas(crypto, 'sender', c.identity, c.key.dtas, deps) : undefined;
      const keySource = 'key' in c.key ? c.key.key : undefined;
      return async () => {
        const { key, permits } = dtas !== undefined ? await dtas.load() : { key: await read(keySource as Source<KeyBytes>, 'P2P server key'), permits: undefined };
        return {
          options: {
            milagroP2p: { identity: c.identity, senderKey: key, allowedClients: [...c.allowIdentities], workers, ...(permits !== undefined ? { timePermits: permits } : {}) },
            clock: deps.clock,
            random: deps.random,
          },
          summary: `MILAGRO_P2P as ${c.identity}, allowing ${c.allowIdentities.join(', ')}${permits !== undefined ? `, ${daysSummary(permits)}` : ''}`,
        };
      };
    }
    case 'cs': {
      const allowed = new Map((c.allowIdentities ?? []).map((id) => [hashIdHex(crypto, id), id]));
      return async () => ({
        options: {
          milagro: {
            serverSecret: await read(c.serverKey, 'CS server key'),
            timePermits: c.timePermits ?? true,
            workers,
            resolveIdentity: (h) => allowed.get(Buffer.from(h).toString('hex')),
            ...(allowed.size > 0 ? { authorize: (p) => allowed.has(Buffer.from(p.hashId).toString('hex')) } : {}),
          },
          clock: deps.clock,
          random: deps.random,
        },
        summary: `MILAGRO_CS${c.timePermits === false ? ' without time permits' : ''}, allowing ${allowed.size > 0 ? [...allowed.values()].join(', ') : 'any registered client'}`,
      });
    }
    case 'cert': {
      const allowCn = new Set(c.allowCn ?? []);
      const allowSan = new Set(c.allowSan ?? []);
      if ((allowCn.size > 0 || allowSan.size > 0) && c.ca === undefined) throw new CredentialError('--allow-cn/--allow-san need --ca (client certificates are only requested with a CA)');
      const restrict = allowCn.size > 0 || allowSan.size > 0;
      return async () => {
        const ca = c.ca === undefined ? undefined : await readBinary(c.ca, 'CA file');
        return {
          options: {
            cert: await readBinary(c.cert, 'certificate'),
            key: await readBinary(c.key, 'private key'),
            ...(ca !== undefined ? { ca, requestCert: true, rejectUnauthorized: true } : {}),
            clock: deps.clock,
            random: deps.random,
          },
          summary: `certificates${ca !== undefined ? ', client certificates required' : ''}${restrict ? `, allowing CN ${[...allowCn].join(',') || '-'} SAN ${[...allowSan].join(',') || '-'}` : ''}`,
          ...(restrict
            ? {
                authorize: (p: PeerInfo) =>
                  (p.cn !== undefined && allowCn.has(p.cn)) || (p.san ?? []).some((s) => allowSan.has(s)) ? undefined : `client certificate CN=${p.cn ?? '-'} SAN=${(p.san ?? []).join(',') || '-'} is not allowed`,
              }
            : {}),
        };
      };
    }
  }
}

export interface ClientComputes {
  readonly p2p?: MilagroP2pCompute;
  readonly cs?: MilagroCsCompute;
}

async function readPin(pin: PinSource): Promise<string> {
  if (typeof pin === 'string') return pin;
  if ('env' in pin) {
    const v = process.env[pin.env];
    if (v === undefined) throw new CredentialError(`the PIN variable ${pin.env} is not set`);
    return v;
  }
  try {
    return (await readFile(pin.file, 'utf8')).split('\n', 1)[0] ?? '';
  } catch (e) {
    throw new CredentialError(`cannot read the PIN file ${pin.file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

type ClientTls = Omit<ConnectionOptions, 'host' | 'port' | 'socket'>;

export function clientCredentialLoader(c: TunnelClientCredentials, deps: CredentialDeps, computes: ClientComputes): () => Promise<LoadedCredentials<ClientTls>> {
  const crypto = new MilagroCrypto();
  switch (c.mode) {
    case 'p2p': {
      const dtas = 'dtas' in c.key ? new WccFromDtas(crypto, 'receiver', c.identity, c.key.dtas, deps) : undefined;
      const keySource = 'key' in c.key ? c.key.key : undefined;
      return async () => {
        const { key, permits } = dtas !== undefined ? await dtas.load() : { key: await read(keySource as Source<KeyBytes>, 'P2P client key'), permits: undefined };
        return {
          options: {
            milagroP2p: {
              identity: c.identity,
              receiverKey: key,
              serverIdentity: c.serverIdentity,
              ...(permits !== undefined ? { timePermits: permits } : {}),
              ...(computes.p2p !== undefined ? { compute: computes.p2p } : {}),
            },
            clock: deps.clock,
            random: deps.random,
          },
          summary: `MILAGRO_P2P as ${c.identity} to ${c.serverIdentity}${permits !== undefined ? `, ${daysSummary(permits)}` : ''}`,
        };
      };
    }
    case 'cs': {
      let held: Keystore | undefined;
      return async () => {
        const text = await read(c.keystore, 'keystore');
        let ks: Keystore;
        try {
          ks = parseKeystore(typeof text === 'string' ? text : Buffer.from(text).toString('utf8'), crypto, typeof c.keystore === 'object' ? c.keystore.file : 'keystore');
        } catch (e) {
          throw new CredentialError((e as Error).message);
        }
        // Permits fetched earlier survive a reload of the (older) file.
        if (held !== undefined && held.hashId === ks.hashId) ks = { ...ks, permits: new Map([...ks.permits, ...held.permits]) };
        if (c.dtas !== undefined) {
          const today = dayOf(deps.clock());
          const request = signRequest(c.dtas.enrolmentKey, { op: 'time-permits', hashId: ks.hashId, fromDay: today, toDay: today + Math.max(1, c.dtas.days ?? 2) - 1 }, deps);
          ks = await refreshPermits(ks, { crypto, dtas: c.dtas.urls, request, clock: deps.clock }).catch((e: unknown) => {
            throw new CredentialError(`refreshing the time permits of ${ks.identity} failed: ${(e as Error).message}`, { cause: e });
          });
        }
        held = ks;
        let pin: number;
        try {
          pin = parsePin(await readPin(c.pin), ks.pinDigits);
        } catch (e) {
          throw new CredentialError(`PIN: ${(e as Error).message}`);
        }
        return {
          options: {
            milagro: { keystore: ks, pin, ...(c.timePermits === false ? { timePermits: false } : {}), ...(computes.cs !== undefined ? { compute: computes.cs } : {}) },
            clock: deps.clock,
            random: deps.random,
          },
          summary: `MILAGRO_CS as ${ks.identity}, ${daysSummary(ks.permits)}`,
        };
      };
    }
    case 'cert':
      return async () => {
        const cert = c.cert === undefined ? undefined : await readBinary(c.cert, 'certificate');
        const key = c.key === undefined ? undefined : await readBinary(c.key, 'private key');
        return {
          options: {
            ca: await readBinary(c.ca, 'CA file'),
            ...(c.servername !== undefined ? { servername: c.servername } : {}),
            ...(cert !== undefined ? { cert } : {}),
            ...(key !== undefined ? { key } : {}),
            clock: deps.clock,
            random: deps.random,
          },
          summary: `certificates${cert !== undefined ? ' with a client certificate' : ''}`,
        };
      };
  }
}
