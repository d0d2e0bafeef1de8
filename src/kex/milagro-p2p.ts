/**
 * MILAGRO_P2P (milagro.md §6, §7.5–§7.7): Wang / Chow–Choo identity-based key agreement between
 * two identities issued by the same authorities. The TLS server is the WCC sender (identity IdA,
 * key [s]H1(IdA) in G1), the TLS client the receiver (IdB, [s]H2(IdB) in G2). No certificates,
 * no ClientHello extension, unsigned ServerKeyExchange ⟨IdA, PaG1⟩, ClientKeyExchange
 * ⟨IdB, PgG1, PbG2⟩ (p2p-wire.ts), premaster = BE16(16) ‖ K (§7.6).
 *
 * Order of the random draws matches milagro-tls so recorded sessions replay byte for byte: the
 * server draws x when it writes ServerKeyExchange; the client draws w then y when it writes
 * ClientKeyExchange (§7.5).
 *
 * Identity policy (§10 item 18 — the original accepted whatever identity the peer claimed):
 *  - the client requires the server's identity to be the expected one: `serverIdentity`, or by
 *    default the connection's `servername`; with neither, the handshake fails (fail closed);
 *  - the server may restrict client identities (`allowedClients`: a list or a callback);
 *  - an unexpected identity is refused with a fatal **access_denied** alert (RFC 5246 §7.2.2:
 *    "access control was applied, the sender decided not to proceed"). There is no certificate,
 *    so bad_certificate would mislead; the check happens before any pairing is computed.
 * Claimed identities are only *proved* by key confirmation: the engine reports `peerIdentity`
 * only after the peer's Finished verified (§7.7).
 *
 * Time permits (§6.4) are an option on both sides, off by default because milagro-tls never
 * enables them; both peers must use permits for the same day (nothing on the wire says which).
 *
 * The pairing runs wherever `compute` says: in-process by default, or in the Milagro worker pool
 * (`PooledP2pCompute`) on servers.
 */
import { AccessDeniedError, HandshakeFailureError, IllegalParameterError } from '../alerts.ts';
import { bytesToHex, equalBytes } from '../codec/bytes.ts';
import { decodeG1, decodeG2, encodeScalar, randomScalar } from '../crypto/bncx/index.ts';
import { dayOf } from '../crypto/mpin.ts';
import { hashId } from '../crypto/wcc.ts';
import type {
  ClientKexContext,
  ClientKexResult,
  ClientKeyExchangeSession,
  KexFlow,
  KeyExchangeProvider,
  MaybePromise,
  PeerIdentity,
  ServerKexContext,
  ServerKeyExchangeSession,
} from './key-exchange.ts';
import { InProcessP2pCompute, type MilagroP2pCompute } from './milagro/p2p-compute.ts';
import { andThen, guardPoints, isOverloaded, milagroFlow, overloadedError, premasterOf } from './milagro/common.ts';
import type { JobOptions } from './milagro/fair-queue.ts';
import {
  checkIdentityLength,
  decodeP2pClientKeyExchange,
  decodeP2pServerKeyExchange,
  encodeP2pClientKeyExchange,
  encodeP2pServerKeyExchange,
} from './milagro/p2p-wire.ts';

export { InProcessP2pCompute, PooledP2pCompute, type MilagroP2pCompute } from './milagro/p2p-compute.ts';

/** An identity as configured: UTF-8 text or raw bytes (1…255 bytes on the wire). */
export type WccIdentityInput = string | Uint8Array;

/** A peer's claimed identity, as handed to policy callbacks. */
export interface WccClaimedIdentity {
  readonly bytes: Uint8Array;
  /** The identity as UTF-8 text, when it is valid UTF-8. */
  readonly text: string | undefined;
  /** SHA-256 of the identity (what the DTAs key their shares on). */
  readonly hashId: Uint8Array;
}

/** Accepted peer identities: one, a list, or a callback. */
export type WccIdentityPolicy = WccIdentityInput | readonly WccIdentityInput[] | ((peer: WccClaimedIdentity) => boolean);

/** A time permit for one day (§6.4): the sender's in G1 (65 bytes), the receiver's in G2 (128). */
export interface WccTimePermit {
  /** Days since 1970-01-01 UTC. */
  readonly date: number;
  readonly permit: Uint8Array;
}

/** What a MILAGRO_P2P server (WCC sender) holds. */
export interface MilagroP2pServerCredentials {
  /** IdA, sent in clear in ServerKeyExchange. */
  readonly identity: WccIdentityInput;
  /** [s]H1(IdA), 65-byte G1 point (P2PServerKey). */
  readonly senderKey: Uint8Array;
  /** Client identities accepted; default: any identity holding a key from our authorities. */
  readonly allowedClients?: WccIdentityPolicy | undefined;
  /** Time permits (G1) by day; the one for today (injected clock) is used. Default: permits off. */
  readonly timePermits?: readonly WccTimePermit[] | undefined;
}

/** What a MILAGRO_P2P client (WCC receiver) holds. */
export interface MilagroP2pClientCredentials {
  /** IdB, sent in clear in ClientKeyExchange. */
  readonly identity: WccIdentityInput;
  /** [s]H2(IdB), 128-byte G2 point (P2PClientKey). */
  readonly receiverKey: Uint8Array;
  /**
   * The server identity we require. Default: the connection's `servername`. With neither, every
   * handshake fails; pass a callback returning true to accept any server (the original's behaviour).
   */
  readonly serverIdentity?: WccIdentityPolicy | undefined;
  /** Time permits (G2) by day; the one for today (injected clock) is used. Default: permits off. */
  readonly timePermits?: readonly WccTimePermit[] | undefined;
}

/** Why a handshake was refused or accepted; for logs only, never on the wire. */
export type MilagroP2pEvent =
  | { readonly kind: 'accepted'; readonly role: 'client' | 'server'; readonly peer: string }
  | {
      readonly kind: 'rejected';
      readonly role: 'client' | 'server';
      readonly reason:
        | 'malformed'
        | 'unexpected-identity'
        | 'invalid-point'
        | 'no-time-permit'
        | 'no-expected-identity'
        /** The worker pool refused the job (queue or per-source limit): internal_error, retry later. */
        | 'overloaded'
        /** The computation failed for another reason (a worker crashed, the pool closed). */
        | 'internal-error';
      readonly message: string;
      readonly peer?: string;
    };

export interface MilagroP2pOptions {
  readonly client?: MilagroP2pClientCredentials | undefined;
  readonly server?: MilagroP2pServerCredentials | undefined;
  /** Where the WCC arithmetic runs; default in-process (synchronous). */
  readonly compute?: MilagroP2pCompute | undefined;
  readonly logger?: ((event: MilagroP2pEvent) => void) | undefined;
}

/** §7.2: no Certificate, unsigned ServerKeyExchange, no CertificateRequest. */
export const milagroP2pFlow: KexFlow = milagroFlow;

const utf8 = new TextEncoder();

export function identityBytes(id: WccIdentityInput): Uint8Array {
  return typeof id === 'string' ? utf8.encode(id) : id.slice();
}

function textOf(b: Uint8Array): string | undefined {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(b);
  } catch {
    return undefined;
  }
}

/** For logs: the text when printable, else hex. */
function describe(b: Uint8Array): string {
  const t = textOf(b);
  return t !== undefined && !/[\u0000-\u001f\u007f]/.test(t) ? JSON.stringify(t) : `0x${bytesToHex(b)}`;
}

function claimed(bytes: Uint8Array): WccClaimedIdentity {
  return Object.freeze({ bytes, text: textOf(bytes), hashId: hashId(bytes) });
}

/** A policy compiled once per provider: a predicate over claimed identities. */
type Matcher = (peer: WccClaimedIdentity) => boolean;

function compilePolicy(policy: WccIdentityPolicy, who: string): Matcher {
  if (typeof policy === 'function') {
    return (peer) => {
      try {
        return policy(peer) === true;
      } catch {
        return false; // A throwing policy refuses (fail closed).
      }
    };
  }
  const list = (typeof policy === 'string' || policy instanceof Uint8Array ? [policy] : [...policy]).map((p) =>
    checkIdentityLength(identityBytes(p), who),
  );
  if (list.length === 0) throw new RangeError(`milagro_p2p: the ${who} identity list is empty`);
  return (peer) => list.some((id) => id.length === peer.bytes.length && equalBytes(id, peer.bytes));
}

function checkPermits(permits: readonly WccTimePermit[] | undefined, decode: (b: Uint8Array) => unknown, who: string): void {
  if (permits === undefined) return;
  const days = new Set<number>();
  for (const p of permits) {
    if (!Number.isInteger(p.date) || p.date <= 0 || p.date > 0x7fffffff) throw new RangeError(`milagro_p2p: ${who} time permit date must be a day number > 0`);
    if (days.has(p.date)) throw new RangeError(`milagro_p2p: two ${who} time permits for day ${p.date}`);
    days.add(p.date);
    decode(p.permit);
  }
}

/** Date 0 and no permit with permits off; else today's (injected clock) permit, or `undefined` if there is none. */
function permitFor(permits: readonly WccTimePermit[] | undefined, nowMs: number): { date: number; permit: Uint8Array | undefined } | undefined {
  if (permits === undefined) return { date: 0, permit: undefined };
  const today = dayOf(nowMs);
  const p = permits.find((e) => e.date === today);
  return p === undefined ? undefined : { date: p.date, permit: p.permit };
}

/** Run `f`, turning point-decoding failures (sync or async, in-process or from a worker) into illegal_parameter. */
function guard<T>(what: string, onInvalid: (e: Error) => void, f: () => MaybePromise<T>): MaybePromise<T> {
  return guardPoints('milagro_p2p', what, f, onInvalid);
}

function peerIdentityOf(peer: WccClaimedIdentity): PeerIdentity {
  return Object.freeze({ kind: 'wcc' as const, hashId: peer.hashId, ...(peer.text === undefined ? {} : { identity: peer.text }) });
}

class P2pClientSession implements ClientKeyExchangeSession {
  readonly #ctx: ClientKexContext;
  readonly #p: MilagroP2pProvider;
  readonly #creds: MilagroP2pClientCredentials;
  #server: { readonly identity: Uint8Array; readonly PaG1: Uint8Array } | undefined;
  #peer: WccClaimedIdentity | undefined;
  #identity: PeerIdentity | undefined;

  constructor(ctx: ClientKexContext, p: MilagroP2pProvider, creds: MilagroP2pClientCredentials) {
    this.#ctx = ctx;
    this.#p = p;
    this.#creds = creds;
  }

  /** Set once our key is computed; the engine reports it only after the server's Finished. */
  get peerIdentity(): PeerIdentity | undefined {
    return this.#identity;
  }

  processServerKeyExchange(body: Uint8Array): void {
    const p = this.#p;
    let v: ReturnType<typeof decodeP2pServerKeyExchange>;
    try {
      v = decodeP2pServerKeyExchange(body);
    } catch (e) {
      p.log({ kind: 'rejected', role: 'client', reason: 'malformed', message: (e as Error).message });
      throw e;
    }
    const peer = claimed(v.identity);
    const name = describe(v.identity);
    const matcher = p.serverMatcher ?? (this.#ctx.servername === undefined || this.#ctx.servername.length === 0 ? undefined : compilePolicy(this.#ctx.servername, 'server'));
    if (matcher === undefined) {
      const message = 'no expected server identity: set serverIdentity (or servername)';
      p.log({ kind: 'rejected', role: 'client', reason: 'no-expected-identity', message, peer: name });
      throw new AccessDeniedError(`milagro_p2p: ${message}`);
    }
    if (!matcher(peer)) {
      const message = `server identity ${name} is not the expected one`;
      p.log({ kind: 'rejected', role: 'client', reason: 'unexpected-identity', message, peer: name });
      throw new AccessDeniedError(`milagro_p2p: ${message}`);
    }
    guard('PaG1', (e) => p.log({ kind: 'rejected', role: 'client', reason: 'invalid-point', message: e.message, peer: name }), () => decodeG1(v.PaG1));
    this.#server = v;
    this.#peer = peer;
  }

  clientKeyExchange(): MaybePromise<ClientKexResult> {
    const server = this.#server;
    const peer = this.#peer;
    if (server === undefined || peer === undefined) throw new HandshakeFailureError('milagro_p2p: ClientKeyExchange before ServerKeyExchange');
    const p = this.#p;
    const c = this.#creds;
    const permit = permitFor(c.timePermits, this.#ctx.clock());
    if (permit === undefined) {
      const message = `no receiver time permit for day ${dayOf(this.#ctx.clock())}`;
      p.log({ kind: 'rejected', role: 'client', reason: 'no-time-permit', message });
      throw new HandshakeFailureError(`milagro_p2p: ${message}`);
    }
    // §7.5: w first, then y.
    const w = encodeScalar(randomScalar(this.#ctx.random));
    const y = encodeScalar(randomScalar(this.#ctx.random));
    const idB = p.clientIdentity;
    const name = describe(server.identity);
    const out = guard(
      'PaG1',
      (e) => p.log({ kind: 'rejected', role: 'client', reason: 'invalid-point', message: e.message, peer: name }),
      () =>
        p.compute.receiverKeyExchange({
          date: permit.date,
          idA: server.identity,
          idB,
          w,
          y,
          PaG1: server.PaG1,
          receiverKey: c.receiverKey,
          receiverPermit: permit.permit,
        }),
    );
    return andThen(out, ({ PgG1, PbG2, key }) => {
      this.#identity = peerIdentityOf(peer);
      p.log({ kind: 'accepted', role: 'client', peer: name });
      return { body: encodeP2pClientKeyExchange({ identity: idB, PgG1, PbG2 }), premaster: premasterOf(key) };
    });
  }
}

class P2pServerSession implements ServerKeyExchangeSession {
  readonly #ctx: ServerKexContext;
  readonly #p: MilagroP2pProvider;
  readonly #creds: MilagroP2pServerCredentials | undefined;
  #permit: { date: number; permit: Uint8Array | undefined } | undefined;
  #x: Uint8Array | undefined;
  #PaG1: Uint8Array | undefined;
  #identity: PeerIdentity | undefined;
  readonly #job: JobOptions;

  constructor(ctx: ServerKexContext, p: MilagroP2pProvider) {
    this.#ctx = ctx;
    this.#p = p;
    this.#creds = p.options.server;
    // Worker-pool jobs of this connection queue under its remote address (fair scheduling).
    this.#job = { source: ctx.peerAddress };
  }

  /** Overload and internal failures of a computation, logged with their own reasons (point errors are logged by `guard`). */
  #failed(e: unknown, peer: string | undefined): never {
    if (isOverloaded(e)) {
      this.#p.log({ kind: 'rejected', role: 'server', reason: 'overloaded', message: e.message, ...(peer === undefined ? {} : { peer }) });
      throw overloadedError('milagro_p2p', e);
    }
    if (!(e instanceof IllegalParameterError)) {
      this.#p.log({ kind: 'rejected', role: 'server', reason: 'internal-error', message: e instanceof Error ? e.message : String(e), ...(peer === undefined ? {} : { peer }) });
    }
    throw e;
  }

  #settle<T>(v: MaybePromise<T>, peer: string | undefined): MaybePromise<T> {
    return v instanceof Promise ? v.catch((e: unknown) => this.#failed(e, peer)) : v;
  }

  /** Set once the client's key exchange is processed; the engine reports it only after its Finished. */
  get peerIdentity(): PeerIdentity | undefined {
    return this.#identity;
  }

  acceptClient(): boolean {
    const creds = this.#creds;
    if (creds === undefined) return false;
    const permit = permitFor(creds.timePermits, this.#ctx.clock());
    if (permit === undefined) {
      // Decline: the server may still serve the client with another suite.
      this.#p.log({ kind: 'rejected', role: 'server', reason: 'no-time-permit', message: `no sender time permit for day ${dayOf(this.#ctx.clock())}` });
      return false;
    }
    this.#permit = permit;
    return true;
  }

  serverKeyExchange(): MaybePromise<Uint8Array> {
    const permit = this.#permit;
    if (permit === undefined) throw new HandshakeFailureError('milagro_p2p: ServerKeyExchange before the client was accepted');
    const p = this.#p;
    // §7.5: x is drawn when ServerKeyExchange is written.
    const x = encodeScalar(randomScalar(this.#ctx.random));
    this.#x = x;
    let PaG1: MaybePromise<Uint8Array>;
    try {
      PaG1 = this.#settle(p.compute.senderEphemeral({ hashIdA: p.serverHashId, date: permit.date, x }, this.#job), undefined);
    } catch (e) {
      return this.#failed(e, undefined);
    }
    return andThen(PaG1, (PaG1) => {
      this.#PaG1 = PaG1;
      return encodeP2pServerKeyExchange({ identity: p.serverIdentity, PaG1 });
    });
  }

  processClientKeyExchange(body: Uint8Array): MaybePromise<Uint8Array> {
    const creds = this.#creds;
    const permit = this.#permit;
    const x = this.#x;
    const PaG1 = this.#PaG1;
    if (creds === undefined || permit === undefined || x === undefined || PaG1 === undefined) {
      throw new HandshakeFailureError('milagro_p2p: ClientKeyExchange out of order');
    }
    const p = this.#p;
    let v: ReturnType<typeof decodeP2pClientKeyExchange>;
    try {
      v = decodeP2pClientKeyExchange(body);
    } catch (e) {
      p.log({ kind: 'rejected', role: 'server', reason: 'malformed', message: (e as Error).message });
      throw e;
    }
    const peer = claimed(v.identity);
    const name = describe(v.identity);
    // Policy before any pairing: an unwanted client costs a hash, not a handshake's CPU.
    if (p.clientMatcher !== undefined && !p.clientMatcher(peer)) {
      const message = `client identity ${name} is not allowed`;
      p.log({ kind: 'rejected', role: 'server', reason: 'unexpected-identity', message, peer: name });
      throw new AccessDeniedError(`milagro_p2p: ${message}`);
    }
    let key: MaybePromise<Uint8Array>;
    try {
      key = guard(
        'PgG1 or PbG2',
        (e) => p.log({ kind: 'rejected', role: 'server', reason: 'invalid-point', message: e.message, peer: name }),
        () =>
          p.compute.senderKey(
            {
              date: permit.date,
              x,
              PaG1,
              PgG1: v.PgG1,
              PbG2: v.PbG2,
              senderKey: creds.senderKey,
              senderPermit: permit.permit,
              idA: p.serverIdentity,
              idB: v.identity,
            },
            this.#job,
          ),
      );
    } catch (e) {
      return this.#failed(e, name);
    }
    return andThen(this.#settle(key, name), (k) => {
      this.#identity = peerIdentityOf(peer);
      p.log({ kind: 'accepted', role: 'server', peer: name });
      return premasterOf(k);
    });
  }
}

/** The provider: credentials, identity policies, compute backend; sessions are created per connection. */
export class MilagroP2pProvider implements KeyExchangeProvider {
  readonly name = 'MILAGRO_P2P' as const;
  readonly flow = milagroP2pFlow;
  readonly options: MilagroP2pOptions;
  readonly compute: MilagroP2pCompute;
  /** IdA and SHA-256(IdA) (server role); empty without server credentials. */
  readonly serverIdentity: Uint8Array;
  readonly serverHashId: Uint8Array;
  /** IdB (client role); empty without client credentials. */
  readonly clientIdentity: Uint8Array;
  /** Client role: the configured server-identity policy (undefined: use servername). */
  readonly serverMatcher: Matcher | undefined;
  /** Server role: the configured client-identity policy (undefined: any client). */
  readonly clientMatcher: Matcher | undefined;

  constructor(options: MilagroP2pOptions) {
    const { client, server } = options;
    if (client === undefined && server === undefined) throw new TypeError('milagroP2p: give client or server credentials');
    if (server !== undefined) {
      this.serverIdentity = checkIdentityLength(identityBytes(server.identity), 'server');
      if (server.senderKey.length !== 65) throw new RangeError('milagro_p2p: the sender key must be a 65-byte G1 point');
      decodeG1(server.senderKey);
      checkPermits(server.timePermits, decodeG1, 'sender');
      this.clientMatcher = server.allowedClients === undefined ? undefined : compilePolicy(server.allowedClients, 'client');
    } else {
      this.serverIdentity = new Uint8Array(0);
      this.clientMatcher = undefined;
    }
    if (client !== undefined) {
      this.clientIdentity = checkIdentityLength(identityBytes(client.identity), 'client');
      if (client.receiverKey.length !== 128) throw new RangeError('milagro_p2p: the receiver key must be a 128-byte G2 point');
      decodeG2(client.receiverKey); // §10 item 9: loaded G2 keys get the subgroup check too
      checkPermits(client.timePermits, decodeG2, 'receiver');
      this.serverMatcher = client.serverIdentity === undefined ? undefined : compilePolicy(client.serverIdentity, 'server');
    } else {
      this.clientIdentity = new Uint8Array(0);
      this.serverMatcher = undefined;
    }
    this.serverHashId = server === undefined ? new Uint8Array(0) : hashId(this.serverIdentity);
    this.options = options;
    this.compute = options.compute ?? new InProcessP2pCompute();
  }

  log(event: MilagroP2pEvent): void {
    try {
      this.options.logger?.(event);
    } catch {
      // A throwing logger must not change the handshake outcome.
    }
  }

  client(ctx: ClientKexContext): ClientKeyExchangeSession {
    const creds = this.options.client;
    // §10 item 6: never offer the suite without credentials (the API registers us only with them).
    if (creds === undefined) throw new HandshakeFailureError('milagro_p2p: no client credentials configured');
    return new P2pClientSession(ctx, this, creds);
  }

  server(ctx: ServerKexContext): ServerKeyExchangeSession {
    return new P2pServerSession(ctx, this);
  }
}

/** A MILAGRO_P2P key exchange to register with `KexRegistry.withProvider`. */
export function milagroP2p(options: MilagroP2pOptions): MilagroP2pProvider {
  return new MilagroP2pProvider(options);
}
