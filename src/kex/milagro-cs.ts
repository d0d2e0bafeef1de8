/**
 * MILAGRO_CS (milagro.md §5, §7.3–§7.7): certificate-less client authentication with M-Pin
 * inside the ClientHello, then an M-Pin "Full" key agreement carried in unsigned
 * ServerKeyExchange (W) and ClientKeyExchange (R); premaster = BE16(16) ‖ K (§7.6).
 *
 * Client: the one-pass M-Pin proof (§5.5) is computed when the ClientHello is written, with
 * t = the injected clock in seconds, and sent in extension 37 (§7.3). The pairing precomputation
 * g₁, g₂ (§4.4) is cached per token inside the compute object of this provider instance.
 *
 * Server: before a suite is chosen (`acceptClient`) the extension is parsed with a bounded reader
 * (§10 items 1–3), the time value must be within ±5 s (configurable), a (HID, t, V) replay cache
 * refuses a repeated proof (§10 item 13), and the pairing check (§5.6) decides. A failure is a
 * fatal alert — access_denied for a credential or time problem, decode_error / illegal_parameter
 * for malformed input — where the original closed silently (§7.3); the reason goes to the
 * optional logger. Without the extension this key exchange declines, so a client that offered
 * only MILAGRO_CS gets handshake_failure. A server that has no MILAGRO_CS credentials never
 * registers this provider, so extension 37 is then just an unknown extension (§10 item 6).
 * The client counts as authenticated only after its Finished is verified: the engine reads
 * `peerIdentity` only then (§7.7).
 *
 * The pairings can run in a worker pool (`compute`); by default they run in-process.
 */
import { AccessDeniedError, HandshakeFailureError, IllegalParameterError } from '../alerts.ts';
import { bytesToHex } from '../codec/bytes.ts';
import { randomScalar, encodeScalar, decodeG1 } from '../crypto/bncx/index.ts';
import { dayOf, MAX_PIN } from '../crypto/mpin.ts';
import type { Extension, ClientHello } from '../handshake/messages/types.ts';
import { findExtension } from '../handshake/messages/extensions/index.ts';
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
import {
  MILAGRO_CS_EXTENSION,
  decodeCsExtension,
  decodeCsKeyExchange,
  encodeCsExtension,
  encodeCsKeyExchange,
  type CsHelloValues,
} from './milagro/cs-wire.ts';
import { InProcessCsCompute, type MilagroCsCompute } from './milagro/cs-compute.ts';
import { andThen, guardPoints, isOverloaded, milagroFlow, overloadedError, premasterOf } from './milagro/common.ts';
import type { JobOptions } from './milagro/fair-queue.ts';

export { MILAGRO_CS_EXTENSION };

/** What a MILAGRO_CS client holds (§5.1). */
export interface MilagroCsClientCredentials {
  /** The identity (UTF-8 string or raw bytes); only SHA-256 of it is sent. */
  readonly identity: string | Uint8Array;
  /** token = client secret − [PIN]·A (65-byte G1 point, §5.4). */
  readonly token: Uint8Array;
  /** 0…9999. */
  readonly pin: number;
  /** Time permit for `date` (65-byte G1 point). Absent: time permits off (the U slot carries U). */
  readonly timePermit?: Uint8Array | undefined;
  /** Day number of the permit (days since 1970-01-01 UTC); default: today by the injected clock. */
  readonly date?: number | undefined;
}

/** What a MILAGRO_CS server holds (§5.1). */
export interface MilagroCsServerCredentials {
  /** Server secret [s]Q (128-byte G2 point). */
  readonly serverSecret: Uint8Array;
  /** Whether clients must use time permits (milagro-tls default: yes). Not negotiated (§7.3). */
  readonly timePermits: boolean;
  /** Accepted |t − server time| in seconds (§7.3 step 2). Default 5. */
  readonly timeWindowSeconds?: number | undefined;
  /**
   * Within this many seconds of UTC midnight, also accept the neighbouring day's time permit
   * (spec §10 item 14: client and server read their day at different moments). Default 0 (off,
   * as the original). Costs one more pairing check for a failing client in that window.
   */
  readonly permitGraceSeconds?: number | undefined;
  /** Entries in the (HID, t, V) replay cache (§10 item 13). Default 4096. */
  readonly replayCacheSize?: number | undefined;
  /** On a failed check, search the PIN error (§5.7). Only possible with time permits off. Default false. */
  readonly detectPinError?: boolean | undefined;
  /**
   * Map an identity hash to a name the application knows (e.g. from a registry). When given, the
   * server knows its users: a hash it does not resolve is refused (access_denied, logged
   * `unknown-identity`) before any pairing is computed (issue 11 §3), unless
   * `allowUnknownIdentities` is true.
   */
  readonly resolveIdentity?: ((hashId: Uint8Array) => string | undefined) | undefined;
  /** With `resolveIdentity`: still verify (and accept) identities it does not resolve. Default false. */
  readonly allowUnknownIdentities?: boolean | undefined;
  /**
   * Policy (spec §10 item 18): return false to refuse this identity (access_denied), e.g. a
   * locked-out or revoked one. Asked with the *claimed* identity after the cheap checks and
   * before the pairing, so a refused identity costs no pairing; the proof is checked after it.
   * Count failures from the logger's 'rejected' events to implement a lockout.
   */
  readonly authorize?: ((identity: PeerIdentity) => boolean | Promise<boolean>) | undefined;
  /**
   * Replay cache for (HID, t, V) (spec §10 item 13); default a bounded in-memory `ReplayCache`
   * of `replayCacheSize` entries. Asynchronous implementations (a store shared by several
   * processes) fit: `add` may return a Promise.
   */
  readonly replayCache?: CsReplayCache | undefined;
}

/** Why a server refused (or accepted) a client; for logs only, never on the wire. */
export type MilagroCsEvent =
  | { readonly kind: 'accepted'; readonly hashId: string; readonly timeValue: number }
  | {
      readonly kind: 'rejected';
      readonly reason:
        | 'no-extension'
        | 'malformed'
        | 'stale'
        | 'replayed'
        | 'unknown-identity'
        | 'not-authorized'
        | 'invalid-point'
        | 'bad-credentials'
        /** The worker pool refused the job (queue or per-source limit): internal_error, retry later. */
        | 'overloaded'
        /** The computation failed for another reason (a worker crashed, the pool closed). */
        | 'internal-error';
      readonly message: string;
      readonly hashId?: string;
      /** entered − registered PIN when found (§5.7). */
      readonly pinError?: number;
    };

export interface MilagroCsOptions {
  readonly client?: MilagroCsClientCredentials | undefined;
  readonly server?: MilagroCsServerCredentials | undefined;
  /** ClientHello extension number; default 37 (milagro-tls). */
  readonly extensionType?: number | undefined;
  /** Where the pairings run; default in-process (synchronous). */
  readonly compute?: MilagroCsCompute | undefined;
  readonly logger?: ((event: MilagroCsEvent) => void) | undefined;
}

/** §7.2: no Certificate, unsigned ServerKeyExchange, no CertificateRequest. */
export const milagroCsFlow: KexFlow = milagroFlow;

const DEFAULT_WINDOW_SECONDS = 5;
const DEFAULT_REPLAY_CACHE = 4096;

const guard = <T>(what: string, f: () => MaybePromise<T>): MaybePromise<T> => guardPoints('milagro_cs', what, f);

/** Where seen MILAGRO_CS proofs are remembered (issue 11 §3; a shared store may implement it). */
export interface CsReplayCache {
  /**
   * Record the proof (HID, t, V) atomically; false when it was already presented. `nowSeconds`
   * and `window` bound how long it must be remembered (|t − now| ≤ window).
   */
  add(values: CsHelloValues, nowSeconds: number, window: number): boolean | Promise<boolean>;
}

/** Bounded (HID, t, V) cache; entries leave when they fall out of the time window. Per provider. */
export class ReplayCache implements CsReplayCache {
  readonly #max: number;
  readonly #seen = new Map<string, number>();
  constructor(max: number) {
    this.#max = max;
  }
  /** Record the proof; false when it was already presented. */
  add(v: CsHelloValues, nowSeconds: number, window: number): boolean {
    for (const [k, t] of this.#seen) {
      if (Math.abs(t - nowSeconds) > window) this.#seen.delete(k);
    }
    const key = `${bytesToHex(v.hashId)}:${v.timeValue}:${bytesToHex(v.V)}`;
    if (this.#seen.has(key)) return false;
    if (this.#seen.size >= this.#max) {
      const oldest = this.#seen.keys().next();
      if (oldest.done !== true) this.#seen.delete(oldest.value);
    }
    this.#seen.set(key, v.timeValue);
    return true;
  }
}

function checkClientCredentials(c: MilagroCsClientCredentials): void {
  if (!Number.isInteger(c.pin) || c.pin < 0 || c.pin > MAX_PIN) throw new RangeError(`milagro_cs: PIN must be an integer in 0..${MAX_PIN}`);
  decodeG1(c.token);
  if (c.timePermit !== undefined) decodeG1(c.timePermit);
  if (c.date !== undefined && (!Number.isInteger(c.date) || c.date <= 0)) throw new RangeError('milagro_cs: date must be a day number > 0');
}

class CsClientSession implements ClientKeyExchangeSession {
  readonly #ctx: ClientKexContext;
  readonly #creds: MilagroCsClientCredentials;
  readonly #ext: number;
  readonly #compute: MilagroCsCompute;
  #sent: { readonly hashId: Uint8Array; readonly point: Uint8Array; readonly V: Uint8Array; readonly y: Uint8Array; readonly x: Uint8Array } | undefined;
  #W: Uint8Array | undefined;

  constructor(ctx: ClientKexContext, creds: MilagroCsClientCredentials, ext: number, compute: MilagroCsCompute) {
    this.#ctx = ctx;
    this.#creds = creds;
    this.#ext = ext;
    this.#compute = compute;
  }

  helloExtensions(): MaybePromise<readonly Extension[]> {
    const c = this.#creds;
    const now = this.#ctx.clock();
    // §7.3: t = current Unix time when the hello is written; d = the permit's day.
    const timeValue = Math.floor(now / 1000);
    const x = encodeScalar(randomScalar(this.#ctx.random));
    const identity = typeof c.identity === 'string' ? new TextEncoder().encode(c.identity) : c.identity;
    const timePermit = c.timePermit === undefined ? undefined : { permit: c.timePermit, date: c.date ?? dayOf(now) };
    return andThen(this.#compute.clientHello({ identity, pin: c.pin, token: c.token, timePermit, x, timeValue }), (out) => {
      this.#sent = { hashId: out.hashId, point: out.point, V: out.V, y: out.y, x };
      return [{ type: this.#ext, data: encodeCsExtension({ hashId: out.hashId, point: out.point, V: out.V, timeValue }) }];
    });
  }

  processServerKeyExchange(body: Uint8Array): void {
    const W = decodeCsKeyExchange(body, 'server_key_exchange');
    guard('W', () => decodeG1(W));
    this.#W = W;
  }

  clientKeyExchange(): MaybePromise<ClientKexResult> {
    const sent = this.#sent;
    const W = this.#W;
    if (sent === undefined || W === undefined) throw new HandshakeFailureError('milagro_cs: ClientKeyExchange before the hello values and W');
    const c = this.#creds;
    const r = encodeScalar(randomScalar(this.#ctx.random));
    const result = guard('W', () =>
      this.#compute.clientKeyExchange({
        token: c.token,
        hashId: sent.hashId,
        pin: c.pin,
        x: sent.x,
        y: sent.y,
        V: sent.V,
        UT: c.timePermit === undefined ? undefined : sent.point,
        W,
        r,
      }),
    );
    return andThen(result, ({ R, key }) => ({ body: encodeCsKeyExchange(R), premaster: premasterOf(key) }));
  }
}

interface Accepted {
  readonly values: CsHelloValues;
  readonly y: Uint8Array;
  readonly date: number;
}

type Verdict = { readonly ok: boolean; readonly y: Uint8Array; readonly pinError?: number | undefined };

class CsServerSession implements ServerKeyExchangeSession {
  readonly #ctx: ServerKexContext;
  readonly #provider: MilagroCsProvider;
  readonly #creds: MilagroCsServerCredentials | undefined;
  readonly #job: JobOptions;
  #accepted: Accepted | undefined;
  #w: Uint8Array | undefined;
  #W: Uint8Array | undefined;
  #keyPoint: MaybePromise<Uint8Array> | undefined;
  #identity: PeerIdentity | undefined;

  constructor(ctx: ServerKexContext, provider: MilagroCsProvider) {
    this.#ctx = ctx;
    this.#provider = provider;
    this.#creds = provider.options.server;
    // Worker-pool jobs of this connection queue under its remote address (fair scheduling).
    this.#job = { source: ctx.peerAddress };
  }

  /** Set once the M-Pin proof verified; the engine reports it only after the client's Finished. */
  get peerIdentity(): PeerIdentity | undefined {
    return this.#identity;
  }

  /** Log and rethrow a failed computation with the reason operators need (overload is not an attack). */
  #failed(e: unknown, hashId: string): never {
    const p = this.#provider;
    if (isOverloaded(e)) {
      p.log({ kind: 'rejected', reason: 'overloaded', message: e.message, hashId });
      throw overloadedError('milagro_cs', e);
    }
    if (e instanceof IllegalParameterError) {
      p.log({ kind: 'rejected', reason: 'invalid-point', message: e.message, hashId });
      throw e;
    }
    p.log({ kind: 'rejected', reason: 'internal-error', message: e instanceof Error ? e.message : String(e), hashId });
    throw e;
  }

  /** Run a computation that may fail synchronously or asynchronously through `#failed`. */
  #compute<T>(what: string, hashId: string, f: () => MaybePromise<T>): MaybePromise<T> {
    try {
      const v = guard(what, f);
      return v instanceof Promise ? v.catch((e: unknown) => this.#failed(e, hashId)) : v;
    } catch (e) {
      return this.#failed(e, hashId);
    }
  }

  /**
   * Issue 11 §3: every check that costs no pairing comes first, in this order — framing and
   * lengths, time window, replay cache, unknown identity (when the server knows its users),
   * authorize (revocation, lockout) — so a junk ClientHello is refused before it reaches the
   * worker pool. Then one pairing job (pools: verify, W and [w]·UT together).
   */
  acceptClient(hello: ClientHello): MaybePromise<boolean> {
    const creds = this.#creds;
    if (creds === undefined) return false;
    const p = this.#provider;
    const ext = findExtension(hello.extensions, p.extensionType);
    if (ext === undefined) {
      // §10 item 6: pick 0xC0B1 only with a verified extension. Declining lets the server try
      // its other suites; with none left the handshake fails with handshake_failure.
      p.log({ kind: 'rejected', reason: 'no-extension', message: 'client offered MILAGRO_CS without the extension' });
      return false;
    }
    let values: CsHelloValues;
    try {
      values = decodeCsExtension(ext.data);
    } catch (e) {
      p.log({ kind: 'rejected', reason: 'malformed', message: (e as Error).message });
      throw e;
    }
    const hashId = bytesToHex(values.hashId);
    const now = this.#ctx.clock();
    const nowSeconds = Math.floor(now / 1000);
    const window = creds.timeWindowSeconds ?? DEFAULT_WINDOW_SECONDS;
    // §7.3 step 2 / §10 item 14: compared as plain integers, not as wrapping 32-bit values.
    if (Math.abs(values.timeValue - nowSeconds) > window) {
      const message = `time value ${values.timeValue} is ${values.timeValue - nowSeconds} s from the server clock (window ±${window} s)`;
      p.log({ kind: 'rejected', reason: 'stale', message, hashId });
      throw new AccessDeniedError(`milagro_cs: ${message}`);
    }
    return andThen(p.replay.add(values, nowSeconds, window), (fresh) => {
      if (!fresh) {
        p.log({ kind: 'rejected', reason: 'replayed', message: 'this (HID, t, V) was already presented', hashId });
        throw new AccessDeniedError('milagro_cs: replayed ClientHello proof');
      }
      const name = creds.resolveIdentity?.(values.hashId);
      if (creds.resolveIdentity !== undefined && name === undefined && creds.allowUnknownIdentities !== true) {
        p.log({ kind: 'rejected', reason: 'unknown-identity', message: 'identity hash not known to this server (resolveIdentity)', hashId });
        throw new AccessDeniedError('milagro_cs: unknown identity');
      }
      const identity: PeerIdentity = Object.freeze({ kind: 'mpin' as const, hashId: values.hashId, ...(name === undefined ? {} : { identity: name }) });
      return andThen(creds.authorize?.(identity) ?? true, (allowed) => {
        if (!allowed) {
          p.log({ kind: 'rejected', reason: 'not-authorized', message: 'identity refused by the authorize policy', hashId });
          throw new AccessDeniedError('milagro_cs: identity not authorized');
        }
        return this.#verify(creds, values, identity, nowSeconds, now);
      });
    });
  }

  #verify(creds: MilagroCsServerCredentials, values: CsHelloValues, identity: PeerIdentity, nowSeconds: number, now: number): MaybePromise<boolean> {
    const p = this.#provider;
    const hashId = bytesToHex(values.hashId);
    const today = creds.timePermits ? dayOf(now) : 0;
    // §10 item 14: near UTC midnight a client may still (or already) use the neighbouring day's
    // permit; within `permitGraceSeconds` a failed check is retried with that day (one more pairing).
    const grace = creds.timePermits ? (creds.permitGraceSeconds ?? 0) : 0;
    const intoDay = nowSeconds - today * 86_400;
    const neighbour = grace <= 0 ? undefined : intoDay < grace ? today - 1 : 86_400 - intoDay <= grace ? today + 1 : undefined;
    const accept = (res: Verdict, date: number): true => {
      // The key agreement follows the day that verified (W = [w]·HTID of that day, §5.8).
      this.#accepted = { values, y: res.y, date };
      this.#identity = identity;
      p.log({ kind: 'accepted', hashId, timeValue: values.timeValue });
      return true;
    };
    const reject = (res: Verdict): never => {
      const pe = res.pinError;
      const message = pe === undefined ? 'M-Pin check failed (wrong PIN, token, permit or server secret)' : `M-Pin check failed: wrong PIN (off by ${pe})`;
      p.log({ kind: 'rejected', reason: 'bad-credentials', message, hashId, ...(pe === undefined ? {} : { pinError: pe }) });
      throw new AccessDeniedError(`milagro_cs: ${message}`);
    };
    const input = {
      serverSecret: creds.serverSecret,
      hashId: values.hashId,
      point: values.point,
      V: values.V,
      timeValue: values.timeValue,
      detectPinError: creds.detectPinError === true,
    };
    const compute = p.compute;
    if (compute.serverHello !== undefined) {
      // One job for the whole step: w is drawn now, W and [w]·UT come back with the verdict.
      const w = encodeScalar(randomScalar(this.#ctx.random));
      const dates = neighbour === undefined ? [today] : [today, neighbour];
      const serverHello = compute.serverHello.bind(compute);
      return andThen(
        this.#compute('U/UT or V', hashId, () => serverHello({ ...input, dates, w }, this.#job)),
        (res) => {
          if (!res.ok || res.W === undefined || res.keyPoint === undefined) return reject(res);
          this.#w = w;
          this.#W = res.W;
          this.#keyPoint = res.keyPoint;
          return accept(res, res.date);
        },
      );
    }
    const verify = (date: number): MaybePromise<Verdict> => this.#compute('U/UT or V', hashId, () => compute.serverVerify({ ...input, date }, this.#job));
    return andThen(verify(today), (res) => {
      if (res.ok) return accept(res, today);
      if (neighbour === undefined) return reject(res);
      return andThen(verify(neighbour), (again) => (again.ok ? accept(again, neighbour) : reject(res)));
    });
  }

  serverKeyExchange(): MaybePromise<Uint8Array> {
    const a = this.#accepted;
    if (a === undefined) throw new HandshakeFailureError('milagro_cs: ServerKeyExchange without a verified client');
    if (this.#W !== undefined) return encodeCsKeyExchange(this.#W); // computed with the verdict
    const w = encodeScalar(randomScalar(this.#ctx.random));
    this.#w = w;
    const compute = this.#provider.compute;
    const hashId = bytesToHex(a.values.hashId);
    return andThen(this.#compute('W', hashId, () => compute.serverEphemeral({ hashId: a.values.hashId, date: a.date, w }, this.#job)), (W) => {
      this.#W = W;
      // Overlap [w]·UT with the client's own work (asynchronous backends only); a failure
      // surfaces when ClientKeyExchange is processed.
      const kp = compute.serverKeyPoint?.({ point: a.values.point, w }, this.#job);
      if (kp !== undefined) {
        kp.catch(() => undefined);
        this.#keyPoint = kp;
      }
      return encodeCsKeyExchange(W);
    });
  }

  processClientKeyExchange(body: Uint8Array): MaybePromise<Uint8Array> {
    const a = this.#accepted;
    const creds = this.#creds;
    const w = this.#w;
    const W = this.#W;
    if (a === undefined || creds === undefined || w === undefined || W === undefined) {
      throw new HandshakeFailureError('milagro_cs: ClientKeyExchange out of order');
    }
    const R = decodeCsKeyExchange(body, 'client_key_exchange');
    const key = this.#compute('R', bytesToHex(a.values.hashId), () =>
      andThen(this.#keyPoint, (keyPoint) =>
        this.#provider.compute.serverKey(
          {
            serverSecret: creds.serverSecret,
            hashId: a.values.hashId,
            point: a.values.point,
            UT: a.date > 0 ? a.values.point : undefined,
            y: a.y,
            V: a.values.V,
            W,
            w,
            R,
            keyPoint,
          },
          this.#job,
        ),
      ),
    );
    return andThen(key, premasterOf);
  }
}

/** The provider: credentials, compute backend, replay cache; sessions are created per connection. */
export class MilagroCsProvider implements KeyExchangeProvider {
  readonly name = 'MILAGRO_CS' as const;
  readonly flow = milagroCsFlow;
  readonly options: MilagroCsOptions;
  readonly extensionType: number;
  readonly compute: MilagroCsCompute;
  readonly replay: CsReplayCache;

  constructor(options: MilagroCsOptions) {
    if (options.client === undefined && options.server === undefined) throw new TypeError('milagroCs: give client or server credentials');
    if (options.client !== undefined) checkClientCredentials(options.client);
    if (options.server !== undefined) {
      const s = options.server;
      if (s.serverSecret.length !== 128) throw new RangeError('milagro_cs: server secret must be a 128-byte G2 point');
      const w = s.timeWindowSeconds ?? DEFAULT_WINDOW_SECONDS;
      if (!Number.isFinite(w) || w < 0) throw new RangeError('milagro_cs: timeWindowSeconds must be ≥ 0');
    }
    const ext = options.extensionType ?? MILAGRO_CS_EXTENSION;
    if (!Number.isInteger(ext) || ext < 0 || ext > 0xffff) throw new RangeError('milagro_cs: extensionType must be a u16');
    this.options = options;
    this.extensionType = ext;
    this.compute = options.compute ?? new InProcessCsCompute();
    this.replay = options.server?.replayCache ?? new ReplayCache(options.server?.replayCacheSize ?? DEFAULT_REPLAY_CACHE);
  }

  log(event: MilagroCsEvent): void {
    try {
      this.options.logger?.(event);
    } catch {
      // A throwing logger must not change the handshake outcome.
    }
  }

  client(ctx: ClientKexContext): ClientKeyExchangeSession {
    const creds = this.options.client;
    // §10 item 6: never offer the suite without credentials (the API registers us only with them).
    if (creds === undefined) throw new HandshakeFailureError('milagro_cs: no client credentials configured');
    return new CsClientSession(ctx, creds, this.extensionType, this.compute);
  }

  server(ctx: ServerKexContext): ServerKeyExchangeSession {
    return new CsServerSession(ctx, this);
  }
}

/** A MILAGRO_CS key exchange to register with `KexRegistry.withProvider`. */
export function milagroCs(options: MilagroCsOptions): MilagroCsProvider {
  return new MilagroCsProvider(options);
}
