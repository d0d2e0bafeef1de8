/**
 * The `milagroP2p` option of `connect` and `createServer` (issue 7): MILAGRO_P2P credentials
 * turned into a key-exchange provider, the suite list adjusted, and (server) a worker pool for
 * the pairing whose lifetime follows the server's. Same shape as the MILAGRO_CS `milagro` option
 * (milagro-options.ts); both may be given together.
 *
 * Server (WCC sender, key in G1 — the P2PServerKey file):
 *   createServer({ milagroP2p: { identity: 'server.miracl.com', senderKey, allowedClients? } })
 * Client (WCC receiver, key in G2 — the P2PClientKey file):
 *   connect({ port, milagroP2p: { identity: 'client@miracl.com', receiverKey, serverIdentity: 'server.miracl.com' } })
 *   (without serverIdentity the client requires the server identity to equal `servername`,
 *   which defaults to `host`.)
 * Keys are bytes or the hex text of the original key files (first line); keys issued by the
 * DTAs come from the identity layer (`fetchWccKey`: `key` and `permits`).
 * After the handshake, `socket.getPeerIdentity()` → `{ kind: 'wcc', hashId, identity }` on both
 * sides. A refused identity is a fatal access_denied alert.
 */
import { milagroP2p, type MilagroP2pEvent, type WccIdentityPolicy, type WccTimePermit } from '../kex/milagro-p2p.ts';
import { PooledP2pCompute, type MilagroP2pCompute } from '../kex/milagro/p2p-compute.ts';
import type { MilagroWorkerPool } from '../kex/milagro/pool.ts';
import { Suites, type CipherSuite } from '../suites.ts';
import { keyBytes, resolvedMilagro, suiteWithId, workerPool, wrapCredentialError, type KeyBytes, type ResolvedMilagro } from './milagro-common.ts';

/** Time permits: a list of `{ date, permit }` or a map day → permit (as `fetchWccKey` returns). */
export type P2pTimePermits = readonly { readonly date: number; readonly permit: KeyBytes }[] | ReadonlyMap<number, KeyBytes>;

interface MilagroP2pCommonOptions {
  /** Our identity (1..255 bytes), sent in clear. */
  readonly identity: string | Uint8Array;
  /** Suite number for MILAGRO_P2P; default 0xC0B2 (milagro-tls). Both peers must agree. */
  readonly suiteId?: number;
  /** Time permits (spec §6.4); off by default, as in milagro-tls. Both peers must agree. */
  readonly timePermits?: P2pTimePermits;
  /** Why a peer was refused (or accepted); never sent on the wire. */
  readonly logger?: (event: MilagroP2pEvent) => void;
  /**
   * An explicit compute object (overrides `workers`). Clients: share one `InProcessP2pCompute`
   * across connections so its caches (identity points, prepared key) survive; or a
   * `PooledP2pCompute`. Never closed by us.
   */
  readonly compute?: MilagroP2pCompute;
}

export interface MilagroP2pClientOptions extends MilagroP2pCommonOptions {
  /** [s]H2(identity), G2, 128 bytes (P2PClientKey file). */
  readonly receiverKey: KeyBytes;
  /** Required server identity (one, a list, or a callback). Default: `servername` (else `host`). */
  readonly serverIdentity?: WccIdentityPolicy;
  /** `false` (default): in-process; or a shared `MilagroWorkerPool` (never closed by us). */
  readonly workers?: false | MilagroWorkerPool;
}

export interface MilagroP2pServerOptions extends MilagroP2pCommonOptions {
  /** [s]H1(identity), G1, 65 bytes (P2PServerKey file). */
  readonly senderKey: KeyBytes;
  /** Client identities accepted (one, a list, or a callback). Default: any client with a key. */
  readonly allowedClients?: WccIdentityPolicy;
  /**
   * Where the pairing runs. Default: a pool of min(2, cores) worker threads owned by the server
   * (closed with it). A number sizes an owned pool; `false` means in-process; a
   * `MilagroWorkerPool` is shared and never closed by us.
   */
  readonly workers?: number | boolean | MilagroWorkerPool;
}

/** Key files: hex of the raw octet; the original readers stop at the first newline (§8.2). */
function bytesOf(what: string, v: KeyBytes, len: number): Uint8Array {
  return keyBytes('milagroP2p', what, v, len, true);
}

function permitsOf(p: P2pTimePermits | undefined, len: number): WccTimePermit[] | undefined {
  if (p === undefined) return undefined;
  const entries: [number, KeyBytes][] = p instanceof Map ? [...(p as ReadonlyMap<number, KeyBytes>).entries()] : (p as readonly { date: number; permit: KeyBytes }[]).map((e) => [e.date, e.permit]);
  return entries.map(([date, permit]) => ({ date, permit: bytesOf(`timePermits[${date}]`, permit, len) }));
}

function p2pSuite(opts: MilagroP2pCommonOptions): CipherSuite {
  return suiteWithId('milagroP2p', Suites.MILAGRO_P2P_WITH_AES_128_GCM_SHA256, opts.suiteId ?? 0xc0b2);
}

function computeFor(
  explicit: MilagroP2pCompute | undefined,
  workers: MilagroP2pServerOptions['workers'],
  serverDefault: boolean,
): { compute: MilagroP2pCompute | undefined; dispose: () => Promise<void> } {
  if (explicit !== undefined) return { compute: explicit, dispose: async () => undefined };
  const { pool, dispose } = workerPool('milagroP2p', workers, serverDefault);
  return { compute: pool === undefined ? undefined : new PooledP2pCompute(pool), dispose };
}

export function resolveMilagroP2pClient(opts: MilagroP2pClientOptions): ResolvedMilagro {
  return wrapCredentialError('milagroP2p', () => {
    const suite = p2pSuite(opts);
    const timePermits = permitsOf(opts.timePermits, 128);
    const { compute, dispose } = computeFor(opts.compute, opts.workers, false);
    const provider = milagroP2p({
      client: {
        identity: opts.identity,
        receiverKey: bytesOf('receiverKey', opts.receiverKey, 128),
        serverIdentity: opts.serverIdentity,
        timePermits,
      },
      ...(compute === undefined ? {} : { compute }),
      ...(opts.logger === undefined ? {} : { logger: opts.logger }),
    });
    return resolvedMilagro(suite, provider, dispose);
  });
}

export function resolveMilagroP2pServer(opts: MilagroP2pServerOptions): ResolvedMilagro {
  return wrapCredentialError('milagroP2p', () => {
    const suite = p2pSuite(opts);
    const senderKey = bytesOf('senderKey', opts.senderKey, 65);
    const timePermits = permitsOf(opts.timePermits, 65);
    // Validate the credentials before starting any worker thread.
    const build = (compute: MilagroP2pCompute | undefined) =>
      milagroP2p({
        server: { identity: opts.identity, senderKey, allowedClients: opts.allowedClients, timePermits },
        ...(compute === undefined ? {} : { compute }),
        ...(opts.logger === undefined ? {} : { logger: opts.logger }),
      });
    build(undefined);
    const { compute, dispose } = computeFor(opts.compute, opts.workers, true);
    return resolvedMilagro(suite, build(compute), dispose);
  });
}
