/**
 * The `milagro` option of `connect` and `createServer` (issue 6 item 2): MILAGRO_CS credentials
 * turned into a key-exchange provider, the suite list adjusted, and (server) a worker pool for
 * the pairings whose lifetime follows the server's.
 *
 * Client:
 *   connect({ port, milagro: { identity, token, pin, timePermit?, date? } })
 *   connect({ port, milagro: { keystore, pin } })   // keystore from the identity layer
 * Server:
 *   createServer({ milagro: { serverSecret, timePermits: true } })
 *   socket.getPeerIdentity() → { kind: 'mpin', hashId: '<hex>', identity? } after the handshake
 *
 * With Milagro credentials and no `ciphers`, the Milagro suite is offered/preferred first, then
 * the ECDHE suites (a server keeps ECDHE only if it also has `cert`/`key`).
 */
import { hexToBytes } from '../codec/bytes.ts';
import { dayOf } from '../crypto/mpin.ts';
import type { KexRegistry } from '../kex/registry.ts';
import { milagroCs, type MilagroCsEvent } from '../kex/milagro-cs.ts';
import { MilagroWorkerPool, PooledCsCompute } from '../kex/milagro/pool.ts';
import type { MilagroCsCompute } from '../kex/milagro/cs-compute.ts';
import type { PeerIdentity } from '../kex/key-exchange.ts';
import type { Clock } from '../providers.ts';
import { Suites, withSuiteId, type CipherSuite } from '../suites.ts';
import { decodeG2 } from '../crypto/bncx/index.ts';
import { TlsOptionError } from './config.ts';

/** Bytes or lowercase/uppercase hex (the format of the original key files). */
export type KeyBytes = Uint8Array | string;

/** The part of an identity-layer keystore the client needs (structural: `Keystore` fits). */
export interface MilagroKeystore {
  readonly identity: string;
  readonly token: Uint8Array;
  /** Time permits by day number. */
  readonly permits: ReadonlyMap<number, Uint8Array>;
}

interface MilagroCommonOptions {
  /** ClientHello extension number; default 37 (milagro-tls). Both peers must agree. */
  readonly extensionType?: number;
  /** Suite number for MILAGRO_CS; default 0xC0B1 (milagro-tls). Both peers must agree. */
  readonly suiteId?: number;
  /**
   * Where the pairings run. Server default: a pool of min(2, cores) worker threads owned by the
   * server (closed with it). Client default: in-process. A number sizes an owned pool; `false`
   * means in-process; a `MilagroWorkerPool` is shared and never closed by us.
   */
  readonly workers?: number | boolean | MilagroWorkerPool;
  /**
   * An explicit compute object (overrides `workers`). Clients: share one `InProcessCsCompute`
   * across connect() calls to keep the pairing precomputation per token (spec §4.4) warm.
   */
  readonly compute?: MilagroCsCompute;
}

export type MilagroClientOptions = MilagroCommonOptions &
  (
    | {
        readonly identity: string;
        /** token = client secret with the PIN removed (G1, 65 bytes; CSClientKey file). */
        readonly token: KeyBytes;
        readonly pin: number;
        /** Today's time permit (CSTimePermit file). Omit when the server runs without permits. */
        readonly timePermit?: KeyBytes;
        /** Day number of the permit; default today (UTC) by the clock. */
        readonly date?: number;
      }
    | {
        readonly keystore: MilagroKeystore;
        readonly pin: number;
        /** Use the keystore's permit for today (default: yes if it has one). */
        readonly timePermits?: boolean;
      }
  );

export interface MilagroServerOptions extends MilagroCommonOptions {
  /** Server secret [s]Q (G2, 128 bytes; CSServerKey file). */
  readonly serverSecret: KeyBytes;
  /** Require time permits (milagro-tls default build: yes). Not negotiated: clients must match. */
  readonly timePermits: boolean;
  /** Accepted clock difference in seconds; default 5. */
  readonly timeWindowSeconds?: number;
  /** Near UTC midnight, also accept the neighbouring day's permit (seconds; default 0 = off). */
  readonly permitGraceSeconds?: number;
  /** Find the PIN error of a failed login (only without time permits, spec §5.7); default false. */
  readonly detectPinError?: boolean;
  /** Name for an authenticated identity hash, shown by getPeerIdentity().identity. */
  readonly resolveIdentity?: (hashId: Uint8Array) => string | undefined;
  /** Why a client was refused (or accepted); never sent on the wire. */
  readonly logger?: (event: MilagroCsEvent) => void;
  /** Entries of the (HID, t, V) replay cache; default 4096. */
  readonly replayCacheSize?: number;
  /** Refuse an identity despite a valid proof (lockout, revocation): return false → access_denied. */
  readonly authorize?: (identity: PeerIdentity) => boolean | Promise<boolean>;
}

function bytesOf(what: string, v: KeyBytes, len: number): Uint8Array {
  let b: Uint8Array;
  if (typeof v === 'string') {
    const s = v.trim();
    if (!/^(?:[0-9a-fA-F]{2})*$/.test(s)) throw new TlsOptionError('ERR_INVALID_ARG_VALUE', `milagro.${what} is not a hex string`);
    b = hexToBytes(s.toLowerCase());
  } else {
    b = v;
  }
  if (b.length !== len) throw new TlsOptionError('ERR_INVALID_ARG_VALUE', `milagro.${what} must be ${len} bytes, got ${b.length}`);
  return b;
}

function csSuite(opts: MilagroCommonOptions): CipherSuite {
  try {
    return withSuiteId(Suites.MILAGRO_CS_WITH_AES_128_GCM_SHA256, opts.suiteId ?? 0xc0b1);
  } catch (e) {
    throw new TlsOptionError('ERR_INVALID_ARG_VALUE', `milagro.suiteId: ${(e as Error).message}`);
  }
}

/** A resolved `milagro` option: how to extend the registry and the suite list, and what to dispose. */
export interface ResolvedMilagro {
  extendKex(kex: KexRegistry): KexRegistry;
  /** Replace the table's MILAGRO_CS entry by ours (suite id) and move it first when `preferred`. */
  adjustSuites(suites: readonly CipherSuite[], preferred: boolean): CipherSuite[];
  /** The suite table names are looked up in (so `ciphers` can name MILAGRO-CS-AES128-GCM-SHA256). */
  readonly suite: CipherSuite;
  /** Close what we own (the worker pool). */
  dispose(): Promise<void>;
}

function computeFor(opts: MilagroCommonOptions, serverDefault: boolean): { compute: MilagroCsCompute | undefined; dispose: () => Promise<void> } {
  if (opts.compute !== undefined) return { compute: opts.compute, dispose: async () => undefined };
  const workers = opts.workers;
  if (workers instanceof MilagroWorkerPool) return { compute: new PooledCsCompute(workers), dispose: async () => undefined };
  if (!serverDefault && workers !== undefined && workers !== false) {
    // A client connection has no close hook for a pool of its own: share one explicitly.
    throw new TlsOptionError('ERR_INVALID_ARG_VALUE', 'milagro.workers on a client must be a MilagroWorkerPool (shared, closed by you) or false');
  }
  const size = workers === undefined ? (serverDefault ? undefined : 0) : workers === true ? undefined : workers === false ? 0 : workers;
  if (size === 0) return { compute: undefined, dispose: async () => undefined };
  let pool: MilagroWorkerPool;
  try {
    pool = new MilagroWorkerPool(size === undefined ? {} : { size });
  } catch (e) {
    throw new TlsOptionError('ERR_INVALID_ARG_VALUE', `milagro.workers: ${(e as Error).message}`);
  }
  // Owned server pool: start the workers now so the first client does not pay for loading them.
  pool.warmup().catch(() => undefined);
  return { compute: new PooledCsCompute(pool), dispose: () => pool.close() };
}

function resolved(suite: CipherSuite, provider: ReturnType<typeof milagroCs>, dispose: () => Promise<void>): ResolvedMilagro {
  return {
    suite,
    extendKex: (kex) => kex.withProvider(provider),
    adjustSuites(suites, preferred) {
      const list = suites.map((s) => (s.kex === 'MILAGRO_CS' ? suite : s));
      if (!preferred) return list;
      return [...list.filter((s) => s.kex === 'MILAGRO_CS'), ...list.filter((s) => s.kex !== 'MILAGRO_CS')];
    },
    dispose,
  };
}

function wrapCredentialError<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof TlsOptionError) throw e;
    throw new TlsOptionError('ERR_INVALID_ARG_VALUE', `milagro: ${(e as Error).message}`);
  }
}

export function resolveMilagroClient(opts: MilagroClientOptions, clock: Clock): ResolvedMilagro {
  return wrapCredentialError(() => {
    let client: Parameters<typeof milagroCs>[0]['client'];
    if ('keystore' in opts) {
      const today = dayOf(clock());
      const permit = opts.timePermits === false ? undefined : opts.keystore.permits.get(today);
      if (opts.timePermits === true && permit === undefined) {
        throw new TlsOptionError('ERR_INVALID_ARG_VALUE', `milagro.keystore has no time permit for today (day ${today}); fetch one first`);
      }
      client = { identity: opts.keystore.identity, token: opts.keystore.token, pin: opts.pin, ...(permit === undefined ? {} : { timePermit: permit, date: today }) };
    } else {
      client = {
        identity: opts.identity,
        token: bytesOf('token', opts.token, 65),
        pin: opts.pin,
        ...(opts.timePermit === undefined ? {} : { timePermit: bytesOf('timePermit', opts.timePermit, 65) }),
        ...(opts.date === undefined ? {} : { date: opts.date }),
      };
    }
    const { compute, dispose } = computeFor(opts, false);
    const provider = milagroCs({
      client,
      ...(opts.extensionType === undefined ? {} : { extensionType: opts.extensionType }),
      ...(compute === undefined ? {} : { compute }),
    });
    return resolved(csSuite(opts), provider, dispose);
  });
}

export function resolveMilagroServer(opts: MilagroServerOptions): ResolvedMilagro {
  return wrapCredentialError(() => {
    const serverSecret = bytesOf('serverSecret', opts.serverSecret, 128);
    decodeG2(serverSecret); // on the twist and in G2 (spec §10 item 9), before any client arrives
    if (typeof opts.timePermits !== 'boolean') throw new TlsOptionError('ERR_INVALID_ARG_VALUE', 'milagro.timePermits must be true or false');
    const suite = csSuite(opts);
    const { compute, dispose } = computeFor(opts, true);
    try {
      const provider = milagroCs({
        server: {
          serverSecret,
          timePermits: opts.timePermits,
          timeWindowSeconds: opts.timeWindowSeconds,
          permitGraceSeconds: opts.permitGraceSeconds,
          detectPinError: opts.detectPinError,
          resolveIdentity: opts.resolveIdentity,
          replayCacheSize: opts.replayCacheSize,
          authorize: opts.authorize,
        },
        ...(opts.extensionType === undefined ? {} : { extensionType: opts.extensionType }),
        ...(compute === undefined ? {} : { compute }),
        ...(opts.logger === undefined ? {} : { logger: opts.logger }),
      });
      return resolved(suite, provider, dispose);
    } catch (e) {
      void dispose();
      throw e;
    }
  });
}
