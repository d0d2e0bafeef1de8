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
import { dayOf } from '../crypto/mpin.ts';
import { milagroCs, type MilagroCsEvent } from '../kex/milagro-cs.ts';
import { MilagroWorkerPool, PooledCsCompute } from '../kex/milagro/pool.ts';
import type { MilagroCsCompute } from '../kex/milagro/cs-compute.ts';
import type { PeerIdentity } from '../kex/key-exchange.ts';
import type { Clock } from '../providers.ts';
import type { KeyValueStore } from '../store/types.ts';
import { namespaced } from '../store/index.ts';
import { StoreReplayCache } from '../kex/milagro/replay-store.ts';
import { Suites, type CipherSuite } from '../suites.ts';
import { decodeG2 } from '../crypto/bncx/index.ts';
import { TlsOptionError } from './config.ts';
import { keyBytes, resolvedMilagro, suiteWithId, workerPool, wrapCredentialError, type KeyBytes, type ResolvedMilagro } from './milagro-common.ts';

export type { KeyBytes, ResolvedMilagro };

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
  /**
   * Name for an identity hash, shown by getPeerIdentity().identity. When given, the server knows
   * its users: a hash it does not resolve is refused (access_denied, logged `unknown-identity`)
   * before any pairing is computed, unless `allowUnknownIdentities` is true.
   */
  readonly resolveIdentity?: (hashId: Uint8Array) => string | undefined;
  /** With `resolveIdentity`: still verify (and accept) hashes it does not resolve. Default false. */
  readonly allowUnknownIdentities?: boolean;
  /** Why a client was refused (or accepted); never sent on the wire. */
  readonly logger?: (event: MilagroCsEvent) => void;
  /** Entries of the in-process (HID, t, V) replay cache; default 4096. Unused with a `store`. */
  readonly replayCacheSize?: number;
  /**
   * Shared store for the replay cache (default: the server's `store` option, else in-process), so
   * a proof accepted by one process of the deployment is refused by all the others.
   */
  readonly store?: KeyValueStore;
  /**
   * Refuse an identity (lockout, revocation): return false → access_denied. Asked with the claimed
   * identity before the pairing check, so a refused identity costs no pairing.
   */
  readonly authorize?: (identity: PeerIdentity) => boolean | Promise<boolean>;
}

function csSuite(opts: MilagroCommonOptions): CipherSuite {
  return suiteWithId('milagro', Suites.MILAGRO_CS_WITH_AES_128_GCM_SHA256, opts.suiteId ?? 0xc0b1);
}

function computeFor(opts: MilagroCommonOptions, serverDefault: boolean): { compute: MilagroCsCompute | undefined; dispose: () => Promise<void> } {
  if (opts.compute !== undefined) return { compute: opts.compute, dispose: async () => undefined };
  const { pool, owned, dispose } = workerPool('milagro', opts.workers, serverDefault);
  if (pool === undefined) return { compute: undefined, dispose };
  // Owned server pool: start the workers now so the first client does not pay for loading them.
  if (owned) pool.warmup().catch(() => undefined);
  return { compute: new PooledCsCompute(pool), dispose };
}

export function resolveMilagroClient(opts: MilagroClientOptions, clock: Clock): ResolvedMilagro {
  return wrapCredentialError('milagro', () => {
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
        token: keyBytes('milagro', 'token', opts.token, 65),
        pin: opts.pin,
        ...(opts.timePermit === undefined ? {} : { timePermit: keyBytes('milagro', 'timePermit', opts.timePermit, 65) }),
        ...(opts.date === undefined ? {} : { date: opts.date }),
      };
    }
    const { compute, dispose } = computeFor(opts, false);
    const provider = milagroCs({
      client,
      ...(opts.extensionType === undefined ? {} : { extensionType: opts.extensionType }),
      ...(compute === undefined ? {} : { compute }),
    });
    return resolvedMilagro(csSuite(opts), provider, dispose);
  });
}

export function resolveMilagroServer(opts: MilagroServerOptions, serverStore?: KeyValueStore): ResolvedMilagro {
  return wrapCredentialError('milagro', () => {
    const serverSecret = keyBytes('milagro', 'serverSecret', opts.serverSecret, 128);
    decodeG2(serverSecret); // on the twist and in G2 (spec §10 item 9), before any client arrives
    if (typeof opts.timePermits !== 'boolean') throw new TlsOptionError('ERR_INVALID_ARG_VALUE', 'milagro.timePermits must be true or false');
    const suite = csSuite(opts);
    const store = opts.store ?? serverStore;
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
          allowUnknownIdentities: opts.allowUnknownIdentities,
          replayCacheSize: opts.replayCacheSize,
          authorize: opts.authorize,
          ...(store === undefined ? {} : { replayCache: new StoreReplayCache(namespaced(store, 'cs-replay:')) }),
        },
        ...(opts.extensionType === undefined ? {} : { extensionType: opts.extensionType }),
        ...(compute === undefined ? {} : { compute }),
        ...(opts.logger === undefined ? {} : { logger: opts.logger }),
      });
      return resolvedMilagro(suite, provider, dispose);
    } catch (e) {
      void dispose();
      throw e;
    }
  });
}
