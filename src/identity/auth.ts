/**
 * Authorisation of DTA issuing requests (issue 5 item 1).
 *
 * The administrator signs each request with an Ed25519 enrolment key (@noble/curves). The signed
 * bytes are a domain-separation label followed by the exact JSON text of the request; the request
 * names its operation, carries a validity window and a 16-byte nonce. A DTA accepts a request only
 * from a trusted key, inside its window, for the endpoint it names, and only once (nonce cache).
 * Unlike the original D-TA there is no shared HMAC key: DTAs hold only public keys.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { bytesToHex, concatBytes, hexToBytes } from '../codec/bytes.ts';
import type { Clock, RandomSource } from '../providers.ts';
import type { KeyValueStore } from '../store/types.ts';
import { DtaRequestError } from './errors.ts';

const SIGNING_LABEL = new TextEncoder().encode('milagro-ts dta request v1\n');

export const OPERATIONS = ['client-secret', 'time-permits', 'server-secret', 'wcc-sender', 'wcc-receiver', 'revoke'] as const;
export type Operation = (typeof OPERATIONS)[number];

/** The signed content of an issuing request. Times are Unix milliseconds. */
export interface DtaRequest {
  readonly v: 1;
  readonly op: Operation;
  /** Hex SHA-256 of the identity; absent only for server-secret. */
  readonly hashId?: string;
  /** Day range for time permits (inclusive); the DTA defaults to today..today+7. */
  readonly fromDay?: number;
  readonly toDay?: number;
  /** For wcc-sender / wcc-receiver: also issue permits for the day range. */
  readonly withPermits?: boolean;
  readonly reason?: string;
  readonly nonce: string;
  readonly notBefore: number;
  readonly expiresAt: number;
}

/** What travels in the HTTP body. `request` is kept as text so the signature covers exact bytes. */
export interface SignedRequest {
  readonly request: string;
  readonly keyId: string;
  readonly signature: string;
}

export interface RequestParams {
  readonly op: Operation;
  readonly hashId?: string;
  readonly fromDay?: number;
  readonly toDay?: number;
  readonly withPermits?: boolean;
  readonly reason?: string;
}

export interface EnrolmentKey {
  readonly secretKey: Uint8Array;
  readonly publicKey: Uint8Array;
}

export function generateEnrolmentKey(random: RandomSource): EnrolmentKey {
  const secretKey = random(32);
  return { secretKey, publicKey: ed25519.getPublicKey(secretKey) };
}

function signedBytes(request: string): Uint8Array {
  return concatBytes(SIGNING_LABEL, new TextEncoder().encode(request));
}

/** Signs one request, valid from `clock()` for `lifetimeMs` (default 10 minutes). */
export function signRequest(
  key: EnrolmentKey,
  params: RequestParams,
  opts: { readonly clock: Clock; readonly random: RandomSource; readonly lifetimeMs?: number },
): SignedRequest {
  const now = opts.clock();
  const req: DtaRequest = {
    v: 1,
    ...params,
    nonce: bytesToHex(opts.random(16)),
    notBefore: now,
    expiresAt: now + (opts.lifetimeMs ?? 10 * 60_000),
  };
  const request = JSON.stringify(req);
  return {
    request,
    keyId: bytesToHex(key.publicKey),
    signature: bytesToHex(ed25519.sign(signedBytes(request), key.secretKey)),
  };
}

export interface VerifierOptions {
  readonly trustedKeys: readonly string[];
  readonly clock: Clock;
  /** Longest accepted validity window (expiresAt − notBefore and expiresAt − now). Default 24 h. */
  readonly maxLifetimeMs?: number;
  /** Tolerated clock difference with the signer. Default 60 s. */
  readonly clockSkewMs?: number;
  /** Bound on remembered nonces; when full of unexpired nonces new requests get 503. Default 100000. */
  readonly maxNonces?: number;
  /**
   * Requests signed (notBefore) earlier than this are refused. The nonce cache lives in memory, so
   * a DTA sets this to its start time: a request captured before a restart cannot be replayed after it.
   */
  readonly signedNotBefore?: number;
  /**
   * Remember nonces in this store (keys 'nonce:…'; namespace it per DTA) instead of in memory, so
   * the replicas of one DTA refuse a request any of them has served, across restarts too. Use
   * `verifyAsync` then.
   */
  readonly store?: KeyValueStore;
}

const isHex = (s: string, bytes: number): boolean => s.length === 2 * bytes && /^[0-9a-f]+$/.test(s);

function reqError(code: 'missing_field' | 'invalid_field', message: string): DtaRequestError {
  return new DtaRequestError(400, code, message);
}

/** Checks signed requests for one DTA and remembers their nonces until they expire. */
export class RequestVerifier {
  readonly #trusted: ReadonlySet<string>;
  readonly #clock: Clock;
  readonly #maxLifetime: number;
  readonly #skew: number;
  readonly #maxNonces: number;
  readonly #floor: number;
  readonly #store: KeyValueStore | undefined;
  /** nonce hex → time after which it can be forgotten (its request can no longer be accepted). */
  readonly #nonces = new Map<string, number>();

  constructor(opts: VerifierOptions) {
    for (const k of opts.trustedKeys) {
      if (!isHex(k, 32)) throw new TypeError(`trusted enrolment key "${k}" is not 64 lowercase hex characters`);
    }
    this.#trusted = new Set(opts.trustedKeys);
    this.#clock = opts.clock;
    this.#maxLifetime = opts.maxLifetimeMs ?? 24 * 3_600_000;
    this.#skew = opts.clockSkewMs ?? 60_000;
    this.#maxNonces = opts.maxNonces ?? 100_000;
    this.#floor = opts.signedNotBefore ?? Number.NEGATIVE_INFINITY;
    this.#store = opts.store;
  }

  get rememberedNonces(): number {
    return this.#nonces.size;
  }

  /** Validates `body` as a SignedRequest for `op`; returns the request or throws DtaRequestError. */
  verify(body: unknown, op: Operation): DtaRequest {
    if (this.#store !== undefined) throw new TypeError('this RequestVerifier remembers nonces in a store: call verifyAsync');
    const { req, now } = this.#check(body, op);
    this.#remember(req.nonce, req.expiresAt + this.#skew, now);
    return req;
  }

  /** `verify` for either nonce cache (in memory or in the store); the request is used up once this resolves. */
  async verifyAsync(body: unknown, op: Operation): Promise<DtaRequest> {
    const store = this.#store;
    if (store === undefined) return this.verify(body, op);
    const { req, now } = this.#check(body, op);
    const ttl = Math.max(1, Math.ceil(req.expiresAt + this.#skew - now));
    if (!(await store.setIfAbsent(`nonce:${req.nonce}`, '1', ttl))) {
      throw new DtaRequestError(409, 'replayed', 'this request was already used (by this DTA or one of its replicas); sign a new one for each call');
    }
    return req;
  }

  /** Every check except the nonce: signature, key, operation, validity window. */
  #check(body: unknown, op: Operation): { req: DtaRequest; now: number } {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw reqError('invalid_field', 'the body must be a JSON object {"request","keyId","signature"} as written by `milagro-ts identity sign`');
    }
    const b = body as Record<string, unknown>;
    for (const f of ['request', 'keyId', 'signature'] as const) {
      if (b[f] === undefined) throw reqError('missing_field', `field "${f}" is missing; send the signed request produced by \`milagro-ts identity sign\``);
      if (typeof b[f] !== 'string') throw reqError('invalid_field', `field "${f}" must be a string`);
    }
    const request = b['request'] as string;
    const keyId = b['keyId'] as string;
    const signature = b['signature'] as string;
    if (!isHex(keyId, 32)) throw reqError('invalid_field', 'field "keyId" must be a 32-byte Ed25519 public key in lowercase hex (64 characters)');
    if (!isHex(signature, 64)) throw reqError('invalid_field', 'field "signature" must be a 64-byte Ed25519 signature in lowercase hex (128 characters)');
    if (!this.#trusted.has(keyId)) {
      throw new DtaRequestError(403, 'unknown_key', `enrolment key ${keyId} is not trusted by this DTA; add it with --trust when starting the DTA`);
    }
    let good = false;
    try {
      good = ed25519.verify(hexToBytes(signature), signedBytes(request), hexToBytes(keyId));
    } catch {
      good = false;
    }
    if (!good) throw new DtaRequestError(403, 'bad_signature', 'the signature does not match the request and key; re-sign the request unchanged');
    const req = parseRequest(request);
    if (req.op !== op) {
      throw new DtaRequestError(400, 'wrong_operation', `this request was signed for "${req.op}", not for "${op}"; send it to the matching endpoint`);
    }
    const now = this.#clock();
    if (req.expiresAt - req.notBefore > this.#maxLifetime || req.expiresAt - now > this.#maxLifetime + this.#skew) {
      throw new DtaRequestError(400, 'lifetime_too_long', `the request is valid for longer than this DTA allows (${this.#maxLifetime} ms); sign it with a shorter --valid`);
    }
    if (now + this.#skew < req.notBefore) {
      throw new DtaRequestError(403, 'not_yet_valid', 'the request is not valid yet; check the clocks of the signer and the DTA');
    }
    if (now - this.#skew >= req.expiresAt) {
      throw new DtaRequestError(403, 'expired', 'the request has expired; sign a new one');
    }
    if (req.notBefore < this.#floor) {
      throw new DtaRequestError(403, 'expired', 'the request was signed before this DTA last started, so its replay cannot be ruled out; sign a new one');
    }
    return { req, now };
  }

  #remember(nonce: string, forgetAfter: number, now: number): void {
    if (this.#nonces.has(nonce)) {
      throw new DtaRequestError(409, 'replayed', 'this request was already used; sign a new one for each call');
    }
    if (this.#nonces.size >= this.#maxNonces) {
      for (const [n, t] of this.#nonces) if (t < now) this.#nonces.delete(n);
      if (this.#nonces.size >= this.#maxNonces) {
        // Forgetting an unexpired nonce would allow a replay; refusing is the safe choice.
        throw new DtaRequestError(503, 'busy', 'too many unexpired requests are outstanding; retry later');
      }
    }
    this.#nonces.set(nonce, forgetAfter);
  }
}

function isDay(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 && v < 2 ** 31;
}

/** Parses the inner request JSON strictly: unknown fields and wrong types are refused. */
export function parseRequest(text: string): DtaRequest {
  let obj: unknown;
  try {
    obj = JSON.parse(text);
  } catch {
    throw reqError('invalid_field', 'field "request" is not valid JSON');
  }
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) throw reqError('invalid_field', 'field "request" must hold a JSON object');
  const o = obj as Record<string, unknown>;
  const allowed = new Set(['v', 'op', 'hashId', 'fromDay', 'toDay', 'withPermits', 'reason', 'nonce', 'notBefore', 'expiresAt']);
  for (const k of Object.keys(o)) if (!allowed.has(k)) throw reqError('invalid_field', `unknown request field "${k}"`);
  if (o['v'] !== 1) throw reqError('invalid_field', 'request version "v" must be 1');
  const op = o['op'];
  if (typeof op !== 'string' || !(OPERATIONS as readonly string[]).includes(op)) {
    throw reqError('invalid_field', `request "op" must be one of ${OPERATIONS.join(', ')}`);
  }
  const nonce = o['nonce'];
  if (typeof nonce !== 'string' || !isHex(nonce, 16)) throw reqError('invalid_field', 'request "nonce" must be 16 bytes of lowercase hex');
  const notBefore = o['notBefore'];
  const expiresAt = o['expiresAt'];
  if (typeof notBefore !== 'number' || !Number.isSafeInteger(notBefore)) throw reqError('invalid_field', 'request "notBefore" must be an integer (Unix ms)');
  if (typeof expiresAt !== 'number' || !Number.isSafeInteger(expiresAt) || expiresAt <= notBefore) {
    throw reqError('invalid_field', 'request "expiresAt" must be an integer (Unix ms) after notBefore');
  }
  const req: { -readonly [K in keyof DtaRequest]: DtaRequest[K] } = { v: 1, op: op as Operation, nonce, notBefore, expiresAt };
  const hashId = o['hashId'];
  if (op === 'server-secret') {
    if (hashId !== undefined) throw reqError('invalid_field', 'a server-secret request takes no "hashId"');
  } else {
    if (hashId === undefined) throw reqError('missing_field', 'request "hashId" is missing (hex SHA-256 of the identity)');
    if (typeof hashId !== 'string' || !isHex(hashId, 32)) throw reqError('invalid_field', 'request "hashId" must be 32 bytes of lowercase hex (SHA-256 of the identity)');
    req.hashId = hashId;
  }
  const fromDay = o['fromDay'];
  const toDay = o['toDay'];
  if (fromDay !== undefined) {
    if (!isDay(fromDay)) throw reqError('invalid_field', 'request "fromDay" must be a day number (days since 1970-01-01)');
    req.fromDay = fromDay;
  }
  if (toDay !== undefined) {
    if (!isDay(toDay)) throw reqError('invalid_field', 'request "toDay" must be a day number (days since 1970-01-01)');
    req.toDay = toDay;
  }
  const withPermits = o['withPermits'];
  if (withPermits !== undefined) {
    if (typeof withPermits !== 'boolean') throw reqError('invalid_field', 'request "withPermits" must be true or false');
    req.withPermits = withPermits;
  }
  const reason = o['reason'];
  if (reason !== undefined) {
    if (typeof reason !== 'string' || reason.length > 200) throw reqError('invalid_field', 'request "reason" must be a string of at most 200 characters');
    req.reason = reason;
  }
  return req;
}
