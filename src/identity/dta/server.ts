/**
 * The Distributed Trust Authority service (issue 5 item 1; spec §5.1–§5.2, §6.1, §6.4).
 *
 * One DTA holds one master-secret share s_i and issues, for authorised requests, the share points
 * [s_i]·map1(HID), [s_i]Q, [s_i]·T_d and the WCC G1/G2 keys; the holder adds the shares of all DTAs.
 * HTTP/1.1 with JSON bodies on versioned paths (node:http, no framework). Every failure is answered
 * with a 4xx/5xx JSON body `{ "error": { "code", "message" } }`; nothing a client sends can stop the
 * process. Shares travel in the response body: deploy DTAs behind TLS (see README).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { bytesToHex, hexToBytes } from '../../codec/bytes.ts';
import { type Clock, type RandomSource, systemClock, systemRandom } from '../../providers.ts';
import { type DtaRequest, type Operation, RequestVerifier } from '../auth.ts';
import { dayOf, type IdentityCrypto } from '../crypto-port.ts';
import { DtaRequestError } from '../errors.ts';
import { BodyTooLargeError, readBody } from '../http-body.ts';
import { RevocationList } from './revocations.ts';
import { loadOrCreateShare, type LoadedShare, type ScryptParams } from './share-store.ts';
import { namespaced } from '../../store/index.ts';
import type { KeyValueStore } from '../../store/types.ts';

export const DTA_VERSION = '0.1.0';
export const API_VERSION = 1;

export interface DtaOptions {
  readonly dataDir: string;
  readonly crypto: IdentityCrypto;
  /** Hex Ed25519 public keys allowed to sign issuing requests. */
  readonly trustedKeys: readonly string[];
  readonly clock?: Clock;
  readonly random?: RandomSource;
  readonly passphrase?: string | undefined;
  readonly scrypt?: ScryptParams;
  /** Largest accepted request body. Default 16 KiB. */
  readonly maxBodyBytes?: number;
  /** Time permits are issued at most this many days after today. Default 7 (issue 5: today + next 7). */
  readonly maxPermitDaysAhead?: number;
  readonly maxRequestLifetimeMs?: number;
  readonly clockSkewMs?: number;
  readonly maxNonces?: number;
  /** One line per request (method, path, status, error code); never secrets. */
  readonly log?: (line: string) => void;
  /**
   * Serve HTTPS with this PEM certificate chain and key, so shares never cross the network in
   * clear (node:https; clients need the CA, e.g. NODE_EXTRA_CA_CERTS for a private one).
   */
  readonly tls?: { readonly cert: string | Uint8Array; readonly key: string | Uint8Array };
  /**
   * State shared by the replicas of this DTA (same share): the request-nonce replay cache and the
   * revocations (see src/store). Keys are namespaced by the share's fingerprint. Use a durable
   * store (sqlite:, redis://): then a request served before a restart stays refused after it.
   * Default: nonces in memory (requests signed before the start are refused) and the revocation
   * file only.
   */
  readonly store?: KeyValueStore;
}

const ROUTES: Readonly<Record<string, Operation>> = {
  '/v1/client-secret': 'client-secret',
  '/v1/time-permits': 'time-permits',
  '/v1/server-secret': 'server-secret',
  '/v1/wcc/sender-key': 'wcc-sender',
  '/v1/wcc/receiver-key': 'wcc-receiver',
  '/v1/revocations': 'revoke',
};

/** Replicas of one DTA share keys; DTAs with different shares on one store do not. */
const dtaNamespace = (store: KeyValueStore, fingerprint: string): KeyValueStore => namespaced(store, `dta:${fingerprint.slice(0, 32)}:`);

const pem = (v: string | Uint8Array): string => (typeof v === 'string' ? v : new TextDecoder().decode(v));

export interface DtaStatus {
  readonly service: 'milagro-ts-dta';
  readonly version: string;
  readonly apiVersion: number;
  /** SHA-256 of [s]Q (hex): identifies the share without revealing it. */
  readonly fingerprint: string;
  readonly startedAt: string;
  readonly revokedIdentities: number;
}

export class DtaService {
  readonly #opts: DtaOptions;
  readonly #share: LoadedShare;
  readonly #revocations: RevocationList;
  readonly #verifier: RequestVerifier;
  readonly #clock: Clock;
  readonly #startedAt: string;
  readonly #server: Server;
  readonly #maxBody: number;
  readonly #maxAhead: number;

  private constructor(opts: DtaOptions, share: LoadedShare, revocations: RevocationList) {
    this.#opts = opts;
    this.#share = share;
    this.#revocations = revocations;
    this.#clock = opts.clock ?? systemClock;
    this.#startedAt = new Date(this.#clock()).toISOString();
    this.#maxBody = opts.maxBodyBytes ?? 16 * 1024;
    this.#maxAhead = opts.maxPermitDaysAhead ?? 7;
    const skew = opts.clockSkewMs ?? 60_000;
    this.#verifier = new RequestVerifier({
      trustedKeys: opts.trustedKeys,
      clock: this.#clock,
      // Replay protection across restarts: a shared store remembers nonces; an in-memory cache
      // cannot, so then requests signed before this start are refused (see RequestVerifier).
      ...(opts.store !== undefined ? { store: dtaNamespace(opts.store, share.fingerprint) } : { signedNotBefore: this.#clock() - skew }),
      ...(opts.maxRequestLifetimeMs !== undefined ? { maxLifetimeMs: opts.maxRequestLifetimeMs } : {}),
      ...(opts.clockSkewMs !== undefined ? { clockSkewMs: opts.clockSkewMs } : {}),
      ...(opts.maxNonces !== undefined ? { maxNonces: opts.maxNonces } : {}),
    });
    const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
      this.#handle(req, res).catch((e: unknown) => this.#internal(res, e));
    };
    this.#server = opts.tls === undefined ? createServer(onRequest) : createHttpsServer({ cert: pem(opts.tls.cert), key: pem(opts.tls.key), minVersion: 'TLSv1.2' }, onRequest);
    this.#server.headersTimeout = 10_000;
    this.#server.requestTimeout = 30_000;
    this.#server.on('clientError', (_err, socket) => {
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
      else socket.destroy();
    });
  }

  /**
   * Loads (or on first start creates) the share and the revocation list. Throws ShareFileError
   * when either file is unusable: the DTA refuses to start rather than issue from a new share.
   */
  static async open(opts: DtaOptions): Promise<DtaService> {
    if (opts.trustedKeys.length === 0) {
      throw new TypeError('no trusted enrolment keys: start the DTA with --trust <public key hex> (see `milagro-ts identity keygen`)');
    }
    const random = opts.random ?? systemRandom;
    const clock = opts.clock ?? systemClock;
    const share = await loadOrCreateShare({
      dataDir: opts.dataDir,
      crypto: opts.crypto,
      random,
      clock,
      passphrase: opts.passphrase,
      ...(opts.scrypt !== undefined ? { scrypt: opts.scrypt } : {}),
    });
    const revocations = await RevocationList.open(opts.dataDir, random, clock, opts.store === undefined ? undefined : dtaNamespace(opts.store, share.fingerprint));
    return new DtaService(opts, share, revocations);
  }

  /** 'https' when started with `tls`, else 'http'. */
  get scheme(): 'http' | 'https' {
    return this.#opts.tls === undefined ? 'http' : 'https';
  }

  get fingerprint(): string {
    return this.#share.fingerprint;
  }

  get shareCreated(): boolean {
    return this.#share.created;
  }

  async status(): Promise<DtaStatus> {
    return {
      service: 'milagro-ts-dta',
      version: DTA_VERSION,
      apiVersion: API_VERSION,
      fingerprint: this.#share.fingerprint,
      startedAt: this.#startedAt,
      revokedIdentities: await this.#revocations.count(),
    };
  }

  /** Starts listening; resolves with the bound port (pass 0 for an ephemeral one). */
  listen(port: number, host = '127.0.0.1'): Promise<number> {
    return new Promise((resolve, reject) => {
      const onError = (e: Error): void => reject(e);
      this.#server.once('error', onError);
      this.#server.listen(port, host, () => {
        this.#server.off('error', onError);
        resolve((this.#server.address() as AddressInfo).port);
      });
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
  }

  #send(res: ServerResponse, status: number, body: unknown, close = false): void {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const text = JSON.stringify(body);
    res.writeHead(status, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(text),
      'cache-control': 'no-store',
      ...(close ? { connection: 'close' } : {}),
    });
    res.end(text);
  }

  #fail(res: ServerResponse, req: IncomingMessage, e: DtaRequestError, close = false): void {
    this.#opts.log?.(`${req.method ?? '?'} ${req.url ?? '?'} ${e.status} ${e.code}`);
    this.#send(res, e.status, { error: { code: e.code, message: e.message } }, close);
  }

  #internal(res: ServerResponse, e: unknown): void {
    this.#opts.log?.(`internal error: ${e instanceof Error ? e.message : String(e)}`);
    try {
      this.#send(res, 500, { error: { code: 'internal', message: 'internal error; see the DTA log' } }, true);
    } catch {
      res.destroy();
    }
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = req.url ?? '/';
    const path = url.split('?', 1)[0] ?? '/';
    if (path === '/v1/status') {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.setHeader('allow', 'GET, HEAD');
        this.#fail(res, req, new DtaRequestError(405, 'method_not_allowed', 'use GET for /v1/status'));
        return;
      }
      req.resume();
      this.#send(res, 200, await this.status());
      this.#opts.log?.(`${req.method} ${path} 200`);
      return;
    }
    const op = Object.hasOwn(ROUTES, path) ? ROUTES[path] : undefined;
    if (op === undefined) {
      req.resume();
      this.#fail(res, req, new DtaRequestError(404, 'not_found', `no endpoint ${path}; see GET /v1/status and the README for the API`));
      return;
    }
    if (req.method !== 'POST') {
      req.resume();
      res.setHeader('allow', 'POST');
      this.#fail(res, req, new DtaRequestError(405, 'method_not_allowed', `use POST for ${path}`));
      return;
    }
    const ctype = (req.headers['content-type'] ?? '').split(';', 1)[0]?.trim().toLowerCase();
    if (ctype !== 'application/json') {
      req.resume();
      this.#fail(res, req, new DtaRequestError(415, 'unsupported_media_type', 'send the signed request as Content-Type: application/json'));
      return;
    }
    let body: unknown;
    try {
      body = await this.#readJson(req);
    } catch (e) {
      if (e instanceof DtaRequestError) {
        // After an oversize body the connection is closed instead of reading the rest.
        this.#fail(res, req, e, e.code === 'body_too_large');
        if (e.code === 'body_too_large') res.once('finish', () => req.socket.destroy());
        return;
      }
      throw e;
    }
    try {
      const request = await this.#verifier.verifyAsync(body, op);
      const result = await this.#execute(request);
      this.#send(res, 200, result);
      this.#opts.log?.(`POST ${path} 200${request.hashId !== undefined ? ` hashId=${request.hashId.slice(0, 16)}…` : ''}`);
    } catch (e) {
      if (e instanceof DtaRequestError) this.#fail(res, req, e);
      else throw e;
    }
  }

  async #readJson(req: IncomingMessage): Promise<unknown> {
    let body: Uint8Array;
    try {
      body = await readBody(req, this.#maxBody);
    } catch (e) {
      if (e instanceof BodyTooLargeError) throw new DtaRequestError(413, 'body_too_large', e.message);
      throw e;
    }
    const text = Buffer.from(body.buffer, body.byteOffset, body.length).toString('utf8');
    if (text.length === 0) throw new DtaRequestError(400, 'bad_json', 'the body is empty; send the signed request JSON');
    try {
      return JSON.parse(text);
    } catch {
      throw new DtaRequestError(400, 'bad_json', 'the body is not valid JSON');
    }
  }

  #requireHashId(req: DtaRequest): { hex: string; bytes: Uint8Array } {
    const hex = req.hashId;
    if (hex === undefined) throw new DtaRequestError(400, 'missing_field', 'request "hashId" is missing');
    return { hex, bytes: hexToBytes(hex) };
  }

  async #notRevoked(hashIdHex: string): Promise<void> {
    const r = await this.#revocations.lookup(hashIdHex);
    if (r !== undefined) {
      throw new DtaRequestError(403, 'revoked', `identity ${hashIdHex} was revoked at ${r.revokedAt}; this DTA issues nothing for it`);
    }
  }

  /** Day range for permits: default today..today+maxAhead, never beyond today+maxAhead. */
  #days(req: DtaRequest): number[] {
    const today = dayOf(this.#clock());
    const from = req.fromDay ?? today;
    const to = req.toDay ?? today + this.#maxAhead;
    if (from < today - 1) throw new DtaRequestError(400, 'invalid_field', `"fromDay" ${from} is in the past (today is day ${today}); request permits from today`);
    if (to > today + this.#maxAhead) {
      throw new DtaRequestError(400, 'invalid_field', `"toDay" ${to} is too far ahead: this DTA issues permits up to day ${today + this.#maxAhead} (today + ${this.#maxAhead})`);
    }
    if (to < from) throw new DtaRequestError(400, 'invalid_field', `"toDay" ${to} is before "fromDay" ${from}`);
    const days: number[] = [];
    for (let d = from; d <= to; d++) days.push(d);
    return days;
  }

  async #execute(req: DtaRequest): Promise<Record<string, unknown>> {
    const c = this.#opts.crypto;
    const s = this.#share.share;
    const dta = this.#share.fingerprint;
    switch (req.op) {
      case 'server-secret':
        return { dta, serverSecretShare: bytesToHex(c.serverSecretShare(s)) };
      case 'client-secret': {
        const h = this.#requireHashId(req);
        await this.#notRevoked(h.hex);
        return { dta, hashId: h.hex, clientSecretShare: bytesToHex(c.clientSecretShare(s, h.bytes)) };
      }
      case 'time-permits': {
        const h = this.#requireHashId(req);
        await this.#notRevoked(h.hex);
        const permits = this.#days(req).map((day) => ({ day, share: bytesToHex(c.timePermitShare(s, h.bytes, day)) }));
        return { dta, hashId: h.hex, permits };
      }
      case 'wcc-sender': {
        const h = this.#requireHashId(req);
        await this.#notRevoked(h.hex);
        const out: Record<string, unknown> = { dta, hashId: h.hex, senderKeyShare: bytesToHex(c.wccSenderShare(s, h.bytes)) };
        if (req.withPermits === true) {
          out['permits'] = this.#days(req).map((day) => ({ day, share: bytesToHex(c.wccSenderPermitShare(s, h.bytes, day)) }));
        }
        return out;
      }
      case 'wcc-receiver': {
        const h = this.#requireHashId(req);
        await this.#notRevoked(h.hex);
        const out: Record<string, unknown> = { dta, hashId: h.hex, receiverKeyShare: bytesToHex(c.wccReceiverShare(s, h.bytes)) };
        if (req.withPermits === true) {
          out['permits'] = this.#days(req).map((day) => ({ day, share: bytesToHex(c.wccReceiverPermitShare(s, h.bytes, day)) }));
        }
        return out;
      }
      case 'revoke': {
        const h = this.#requireHashId(req);
        const entry = await this.#revocations.revoke(h.hex, req.reason ?? '');
        return { dta, hashId: h.hex, revoked: true, revokedAt: entry.revokedAt };
      }
      default: {
        const never: never = req.op;
        throw new DtaRequestError(404, 'not_found', `unknown operation ${String(never)}`);
      }
    }
  }
}
