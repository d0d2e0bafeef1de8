/**
 * The LDAP proxy (issue 15 §2): sits between an application and its directory. A simple bind
 * whose password is a one-time M-Pin login token for the identity the bind DN maps to succeeds
 * without the directory ever seeing a password; the connection then works on a directory
 * connection bound as the service account (optionally asserting the user with RFC 4370
 * proxied authorization). Every other request is checked for well-formed BER and forwarded
 * byte for byte, message IDs unchanged; answers come back byte for byte.
 *
 * Per client connection the proxy keeps one directory connection, opened lazily. Requests are
 * handled strictly in order: while one needs asynchronous work (a bind, opening the directory
 * connection) the client socket is paused, so at most one socket chunk of requests waits.
 */
import { EventEmitter } from 'node:events';
import { createServer as netCreateServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { createServer as tlsCreateServer, type Server as TlsServer } from '../api/server.ts';
import type { ServerOptions } from '../api/options.ts';
import { BackendConnection, BackendError, type LdapTarget } from './backend.ts';
import { BerError, BerReader, Tag } from './ber.ts';
import {
  appendControl,
  DEFAULT_MAX_MESSAGE_SIZE,
  decodeBindRequest,
  decodeExtendedRequestName,
  encodeBindResponse,
  encodeErrorResponse,
  encodeExtendedResponse,
  encodeNoticeOfDisconnection,
  LdapFramer,
  Op,
  parseEnvelope,
  proxiedAuthorizationControl,
  PROXIED_AUTHZ_OID,
  ResultCode,
  STARTTLS_OID,
  type LdapEnvelope,
} from './messages.ts';
import { looksLikeToken, type TokenVerifier } from './verifier.ts';

/** The old (v1) proxied-authorization control, refused like the RFC 4370 one. */
const PROXIED_AUTHZ_V1_OID = '2.16.840.1.113730.3.4.12';
/** RFC 3062 password modify: would change the service account's password on a token connection. */
const PASSWORD_MODIFY_OID = '1.3.6.1.4.1.4203.1.11.1';

export type ProxyMode = 'force' | 'prefer';

export interface LdapProxyOptions {
  readonly target: LdapTarget;
  readonly verifier: TokenVerifier;
  /** The audience tokens must have been minted for (the application behind this proxy). */
  readonly audience: string;
  /** Service account: identity look-ups, and every operation after a token bind. */
  readonly serviceAccount: { readonly dn: string; readonly password: string };
  /** Attribute holding the M-Pin identity (mail, uid, userPrincipalName...). */
  readonly identityAttribute: string;
  /** Bind names must lie under this DN; names that are not DNs are looked up under it. */
  readonly baseDn?: string;
  /** force: only tokens (and anonymous binds); prefer: other simple/SASL binds go to the directory. */
  readonly mode: ProxyMode;
  /** Certificate and key for LDAPS and StartTLS, served by milagro-ts's own TLS engine. */
  readonly tls?: ServerOptions;
  /** LDAPS: TLS from the first byte (needs `tls`). Otherwise plain LDAP, with StartTLS when `tls` is set. */
  readonly implicitTls?: boolean;
  /** After a token bind, assert the user on every request with RFC 4370 proxied authorization. */
  readonly proxyAuthorization?: boolean;
  readonly maxMessageSize?: number;
  readonly maxConnections?: number;
  /** Close client connections idle this long (ms; default 5 minutes, 0 = never). */
  readonly idleTimeoutMs?: number;
  readonly backendTimeoutMs?: number;
  readonly log?: (line: string) => void;
}

export interface ProxyStats {
  tokenBinds: number;
  refusedBinds: number;
  passthroughBinds: number;
  protocolErrors: number;
}

export class LdapProxy extends EventEmitter {
  readonly options: LdapProxyOptions;
  readonly stats: ProxyStats = { tokenBinds: 0, refusedBinds: 0, passthroughBinds: 0, protocolErrors: 0 };
  readonly #net: NetServer;
  readonly #tls: TlsServer | undefined;
  readonly #open = new Set<ProxyConnection>();

  constructor(options: LdapProxyOptions) {
    super();
    if (options.implicitTls === true && options.tls === undefined) throw new TypeError('LDAPS needs a certificate and key (tls option)');
    this.options = options;
    this.#tls = options.tls === undefined ? undefined : tlsCreateServer(options.tls);
    this.#tls?.on('tlsClientError', (err: Error) => this.#log(`TLS handshake failed: ${err.message}`));
    this.#net = netCreateServer({ allowHalfOpen: false }, (raw) => this.#accept(raw));
    if (options.maxConnections !== undefined) this.#net.maxConnections = options.maxConnections;
    this.#net.on('error', (e) => this.emit('error', e));
  }

  #log(line: string): void {
    this.options.log?.(line);
  }

  #accept(raw: Socket): void {
    raw.setNoDelay(true);
    const idle = this.options.idleTimeoutMs ?? 300_000;
    if (idle > 0) raw.setTimeout(idle, () => raw.destroy());
    raw.on('error', () => raw.destroy());
    const conn = new ProxyConnection(this, raw);
    this.#open.add(conn);
    raw.once('close', () => {
      this.#open.delete(conn);
      conn.dispose();
    });
    if (this.options.implicitTls === true) conn.startTls();
    else conn.attach(raw);
  }

  /** Server side of TLS on `raw` (LDAPS or StartTLS). */
  upgrade(raw: Socket): Duplex | undefined {
    return this.#tls?.upgrade(raw);
  }

  get tlsAvailable(): boolean {
    return this.#tls !== undefined;
  }

  /** @internal */
  note(line: string): void {
    this.#log(line);
  }

  listen(port: number, host = '127.0.0.1'): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      this.#net.once('error', reject);
      this.#net.listen(port, host, () => {
        this.#net.off('error', reject);
        resolve(this.#net.address() as AddressInfo);
      });
    });
  }

  address(): AddressInfo | null {
    return this.#net.address() as AddressInfo | null;
  }

  /** Stops accepting, closes every connection (with its directory connection). */
  close(): Promise<void> {
    for (const c of this.#open) c.destroy();
    return new Promise((resolve) => this.#net.close(() => resolve()));
  }
}

function dnKey(dn: string): string {
  // Loose normalisation for the "under --base-dn" check: case and spaces around separators.
  return dn.toLowerCase().replace(/\s*([,=+])\s*/g, '$1').trim();
}

function isUnder(dn: string, base: string): boolean {
  const d = dnKey(dn);
  const b = dnKey(base);
  return d === b || d.endsWith(`,${b}`);
}

/** Whether the message carries a proxied-authorization control of its own. */
function hasProxiedAuthz(env: LdapEnvelope): boolean {
  if (env.controls === undefined) return false;
  const r = new BerReader(env.raw, env.controls.valueStart, env.controls.end);
  while (!r.done) {
    const c = r.enter(Tag.SEQUENCE, 'Control');
    const oid = c.string(Tag.OCTET_STRING, 'controlType');
    if (oid === PROXIED_AUTHZ_OID || oid === PROXIED_AUTHZ_V1_OID) return true;
  }
  return false;
}

class ProxyConnection {
  readonly #proxy: LdapProxy;
  readonly #raw: Socket;
  #client: Duplex | undefined;
  #framer: LdapFramer;
  readonly #queue: Uint8Array[] = [];
  #busy = false;
  #closed = false;
  #tlsActive = false;
  #backend: BackendConnection | undefined;
  /** The DN a token bind authenticated; requests then run as the service account. */
  #tokenUser: string | undefined;
  /** The SASL mechanism of the last bind forwarded (prefer mode), for multi-step SASL. */
  #saslMechanism: string | undefined;
  readonly #pauses = new Set<'work' | 'backend-full'>();
  readonly #onClientData = (d: Buffer): void => this.#receive(d);
  readonly #onClientGone = (): void => this.destroy();

  constructor(proxy: LdapProxy, raw: Socket) {
    this.#proxy = proxy;
    this.#raw = raw;
    this.#framer = new LdapFramer(proxy.options.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE);
  }

  get #o(): LdapProxyOptions {
    return this.#proxy.options;
  }

  attach(client: Duplex): void {
    this.#client = client;
    client.on('data', this.#onClientData);
    client.on('end', this.#onClientGone);
    client.on('close', this.#onClientGone);
    client.on('error', this.#onClientGone);
  }

  #detach(): void {
    const c = this.#client;
    if (c === undefined) return;
    c.off('data', this.#onClientData);
    c.off('end', this.#onClientGone);
    c.off('close', this.#onClientGone);
    c.off('error', this.#onClientGone);
    this.#client = undefined;
  }

  /** TLS on the raw socket: at accept time for LDAPS, after the StartTLS response otherwise. */
  startTls(): void {
    const tls = this.#proxy.upgrade(this.#raw);
    if (tls === undefined) {
      this.destroy();
      return;
    }
    this.#tlsActive = true;
    this.attach(tls);
  }

  #pause(why: 'work' | 'backend-full'): void {
    this.#pauses.add(why);
    this.#client?.pause();
  }

  #resume(why: 'work' | 'backend-full'): void {
    this.#pauses.delete(why);
    if (this.#pauses.size === 0 && !this.#closed) this.#client?.resume();
  }

  #receive(d: Buffer): void {
    if (this.#closed) return;
    try {
      for (const m of this.#framer.push(d)) this.#queue.push(m);
    } catch (e) {
      this.#protocolError(e);
      return;
    }
    this.#pump();
  }

  #pump(): void {
    while (!this.#busy && !this.#closed) {
      const raw = this.#queue.shift();
      if (raw === undefined) return;
      let work: Promise<void> | undefined;
      try {
        work = this.#handle(parseEnvelope(raw));
      } catch (e) {
        this.#protocolError(e);
        return;
      }
      if (work !== undefined) {
        this.#busy = true;
        this.#pause('work');
        work.then(
          () => {
            this.#busy = false;
            this.#resume('work');
            this.#pump();
          },
          (e: unknown) => this.#protocolError(e),
        );
      }
    }
  }

  /** Handles one request; returns a promise when it needs asynchronous work. */
  #handle(env: LdapEnvelope): Promise<void> | undefined {
    switch (env.opTag) {
      case Op.BindRequest:
        return this.#bind(env);
      case Op.UnbindRequest:
        // RFC 4511 §4.3: no response; the directory connection gets the unbind, then both close.
        this.#replaceBackend(undefined, env.raw);
        this.destroy();
        return undefined;
      case Op.ExtendedRequest:
        if (decodeExtendedRequestName(env) === STARTTLS_OID) {
          this.#startTlsRequest(env);
          return undefined;
        }
        return this.#forward(env);
      default:
        return this.#forward(env);
    }
  }

  #reply(bytes: Uint8Array): void {
    if (!this.#closed) this.#client?.write(bytes);
  }

  // ---- StartTLS (RFC 4511 §4.14, RFC 4513 §3) ---------------------------------------------

  #startTlsRequest(env: LdapEnvelope): void {
    if (!this.#proxy.tlsAvailable) {
      this.#reply(encodeExtendedResponse(env.messageId, ResultCode.protocolError, 'StartTLS is not configured on this proxy (start it with --cert and --key)', STARTTLS_OID));
      return;
    }
    if (this.#tlsActive) {
      this.#reply(encodeExtendedResponse(env.messageId, ResultCode.operationsError, 'TLS is already active on this connection', STARTTLS_OID));
      return;
    }
    // The client must wait for our answer before starting TLS; anything queued behind the
    // request is a sequencing error (and must not be read as plaintext after the switch).
    if (this.#queue.length > 0 || this.#framer.buffered > 0 || this.#tokenUser !== undefined) {
      this.#reply(encodeExtendedResponse(env.messageId, ResultCode.operationsError, 'StartTLS must be the only outstanding operation, before any bind', STARTTLS_OID));
      return;
    }
    this.#reply(encodeExtendedResponse(env.messageId, ResultCode.success, '', STARTTLS_OID));
    this.#detach();
    this.#framer = new LdapFramer(this.#o.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE);
    this.startTls();
  }

  // ---- binds -------------------------------------------------------------------------

  async #bind(env: LdapEnvelope): Promise<void> {
    const req = decodeBindRequest(env);
    // Continuing a multi-step SASL bind: same directory connection (never a service-bound one).
    if (req.auth.kind === 'sasl' && this.#o.mode === 'prefer' && this.#saslMechanism === req.auth.mechanism && this.#backend !== undefined) {
      this.#sendToBackend(env.raw);
      return;
    }
    // Any bind first drops the current authorization (RFC 4511 §4.2.1: a failed bind leaves
    // the connection anonymous), so a refused bind never leaves a service-bound connection.
    this.#tokenUser = undefined;
    this.#saslMechanism = undefined;
    this.#replaceBackend(undefined);
    if (req.version !== 3) {
      this.#refuse(env.messageId, ResultCode.protocolError, `LDAP version ${req.version} is not supported (use version 3)`);
      return;
    }
    if (req.auth.kind === 'sasl') {
      if (this.#o.mode === 'force') {
        this.#refuse(env.messageId, ResultCode.authMethodNotSupported, 'this proxy accepts simple binds with M-Pin login tokens only');
        return;
      }
      await this.#passThrough(env);
      this.#saslMechanism = req.auth.mechanism;
      return;
    }
    const password = Buffer.from(req.auth.password).toString('utf8');
    if (req.name === '' && password === '') {
      await this.#passThrough(env); // anonymous: grants nothing the directory does not grant anyone
      return;
    }
    if (password === '') {
      // RFC 4513 §5.1.2: an "unauthenticated" bind must not look like a successful login.
      this.#refuse(env.messageId, ResultCode.unwillingToPerform, 'unauthenticated bind (name without password) refused');
      return;
    }
    if (looksLikeToken(password)) {
      await this.#tokenBind(env.messageId, req.name, password);
      return;
    }
    if (this.#o.mode === 'force') {
      this.#refuse(env.messageId, ResultCode.invalidCredentials, 'this proxy accepts M-Pin login tokens only; sign in with M-Pin to get one');
      return;
    }
    await this.#passThrough(env);
  }

  #refuse(messageId: number, code: number, diagnostic: string): void {
    this.#proxy.stats.refusedBinds++;
    this.#reply(encodeBindResponse(messageId, code, diagnostic));
  }

  /** A bind the directory judges itself (prefer mode, anonymous): forwarded on a fresh connection. */
  async #passThrough(env: LdapEnvelope): Promise<void> {
    this.#proxy.stats.passthroughBinds++;
    this.#replaceBackend(await this.#openBackend(env));
    if (this.#backend === undefined) return;
    this.#sendToBackend(env.raw);
  }

  async #tokenBind(messageId: number, name: string, token: string): Promise<void> {
    const o = this.#o;
    const peer = `${this.#raw.remoteAddress ?? '?'}:${String(this.#raw.remotePort ?? '?')}`;
    // The token first: a made-up token costs the relying party one look-up and the directory nothing.
    const v = await o.verifier.verify({ token, audience: o.audience });
    if (!v.ok) {
      if (v.error === 'unavailable') {
        this.#proxy.note(`${peer} token bind for "${name}": relying party unavailable: ${v.detail ?? ''}`);
        this.#refuse(messageId, ResultCode.unavailable, 'the M-Pin relying party could not verify the token; try again later');
      } else {
        this.#proxy.note(`${peer} token bind for "${name}" refused: ${v.error}`);
        this.#refuse(messageId, ResultCode.invalidCredentials, `login token refused (${v.error})`);
      }
      return;
    }
    if (o.baseDn !== undefined && name.includes('=') && !isUnder(name, o.baseDn)) {
      this.#proxy.note(`${peer} token bind: "${name}" is not under the base DN`);
      this.#refuse(messageId, ResultCode.invalidCredentials, 'bind DN outside the directory subtree this proxy serves');
      return;
    }
    let backend: BackendConnection;
    try {
      backend = await BackendConnection.open(o.target, o.backendTimeoutMs);
    } catch (e) {
      this.#proxy.note(`${peer} ${(e as Error).message}`);
      this.#refuse(messageId, ResultCode.unavailable, 'the directory is unavailable');
      return;
    }
    let keep = false;
    try {
      const bound = await backend.bind(o.serviceAccount.dn, o.serviceAccount.password);
      if (bound.resultCode !== ResultCode.success) {
        this.#proxy.note(`service account bind as "${o.serviceAccount.dn}" failed: result ${bound.resultCode} ${bound.diagnosticMessage}`);
        this.#refuse(messageId, ResultCode.unavailable, 'the proxy cannot sign in to the directory (service account refused)');
        return;
      }
      const attr = o.identityAttribute;
      const { entries } = name.includes('=')
        ? await backend.search({ base: name, scope: 0, filter: { present: 'objectClass' }, attributes: [attr] })
        : o.baseDn !== undefined
          ? await backend.search({ base: o.baseDn, scope: 2, filter: { equals: [attr, name] }, attributes: [attr] })
          : { entries: [] };
      const entry = entries.length === 1 ? entries[0] : undefined;
      const values = entry?.attributes.get(attr.toLowerCase()) ?? [];
      const want = v.identity.toLowerCase();
      if (entry === undefined || !values.some((x) => x.toLowerCase() === want)) {
        this.#proxy.note(`${peer} token for "${v.identity}" does not match the ${attr} of "${name}"`);
        this.#refuse(messageId, ResultCode.invalidCredentials, `login token is not for this user`);
        return;
      }
      keep = true;
      this.#replaceBackend(backend);
      this.#tokenUser = entry.dn;
      this.#proxy.stats.tokenBinds++;
      this.#proxy.note(`${peer} token bind ok: "${entry.dn}" as ${v.identity}`);
      this.#reply(encodeBindResponse(messageId, ResultCode.success));
    } catch (e) {
      if (!(e instanceof BackendError || e instanceof BerError)) throw e;
      this.#proxy.note(`${peer} identity look-up failed: ${e.message}`);
      this.#refuse(messageId, ResultCode.unavailable, 'the directory is unavailable');
    } finally {
      if (!keep) backend.close();
    }
  }

  // ---- forwarding -------------------------------------------------------------------------

  async #openBackend(env: LdapEnvelope): Promise<BackendConnection | undefined> {
    try {
      return await BackendConnection.open(this.#o.target, this.#o.backendTimeoutMs);
    } catch (e) {
      this.#proxy.note((e as Error).message);
      const r = encodeErrorResponse(env, ResultCode.unavailable, 'the directory is unavailable');
      if (r !== undefined) this.#reply(r);
      return undefined;
    }
  }

  /** Makes `b` this connection's directory connection: its answers now flow to the client. */
  #replaceBackend(b: BackendConnection | undefined, unbind?: Uint8Array): void {
    const old = this.#backend;
    this.#backend = undefined;
    // Its listeners check `this.#backend` and go quiet; close() sends the unbind.
    old?.close(unbind);
    if (b === undefined || this.#closed) {
      b?.close();
      return;
    }
    const rest = b.release();
    this.#backend = b;
    if (rest.length > 0) this.#reply(rest);
    const s = b.socket;
    s.on('data', (d: Buffer) => {
      if (this.#backend !== b || this.#closed || this.#client === undefined) return;
      if (!this.#client.write(d)) {
        s.pause();
        this.#client.once('drain', () => s.resume());
      }
    });
    s.on('drain', () => this.#resume('backend-full'));
    s.on('error', () => undefined);
    s.on('close', () => {
      if (this.#backend !== b || this.#closed) return;
      this.#disconnect(ResultCode.unavailable, 'the directory closed the connection');
    });
  }

  #forward(env: LdapEnvelope): Promise<void> | undefined {
    if (this.#tokenUser !== undefined) {
      // The directory connection runs as the service account: the client must not borrow its
      // rights to act as someone else, nor change its password.
      if (hasProxiedAuthz(env) || (env.opTag === Op.ExtendedRequest && decodeExtendedRequestName(env) === PASSWORD_MODIFY_OID)) {
        const r = encodeErrorResponse(env, ResultCode.unwillingToPerform, 'not allowed on a connection signed in with an M-Pin token');
        if (r !== undefined) this.#reply(r);
        return undefined;
      }
    }
    const bytes =
      this.#tokenUser !== undefined && this.#o.proxyAuthorization === true && env.opTag !== Op.AbandonRequest
        ? appendControl(env, proxiedAuthorizationControl(this.#tokenUser))
        : env.raw;
    if (this.#backend !== undefined) {
      this.#sendToBackend(bytes);
      return undefined;
    }
    return this.#openBackend(env).then((b) => {
      if (b === undefined) return;
      this.#replaceBackend(b);
      if (this.#backend !== undefined) this.#sendToBackend(bytes);
    });
  }

  #sendToBackend(bytes: Uint8Array): void {
    const b = this.#backend;
    if (b === undefined) return;
    if (!b.socket.write(bytes)) this.#pause('backend-full');
  }

  // ---- errors and teardown ------------------------------------------------------------

  #protocolError(e: unknown): void {
    if (!(e instanceof BerError)) {
      this.#fatal(e);
      return;
    }
    this.#proxy.stats.protocolErrors++;
    this.#proxy.note(`${this.#raw.remoteAddress ?? '?'}:${String(this.#raw.remotePort ?? '?')} protocol error, disconnecting: ${e.message}`);
    this.#disconnect(ResultCode.protocolError, `malformed LDAP message: ${e.message}`);
  }

  #fatal(e: unknown): void {
    this.#proxy.note(`internal error, disconnecting: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    this.#disconnect(ResultCode.other, 'internal proxy error');
  }

  /** Notice of disconnection (RFC 4511 §4.4.1), then close. */
  #disconnect(code: number, diagnostic: string): void {
    if (this.#closed) return;
    const c = this.#client;
    if (c !== undefined && !c.destroyed && c.writable) {
      c.end(encodeNoticeOfDisconnection(code, diagnostic));
      this.#closed = true;
      this.#queue.length = 0;
      this.#replaceBackend(undefined);
      setTimeout(() => this.destroy(), 1000).unref();
      return;
    }
    this.destroy();
  }

  destroy(): void {
    this.#closed = true;
    this.#queue.length = 0;
    this.#replaceBackend(undefined);
    this.#client?.destroy();
    this.#raw.destroy();
  }

  dispose(): void {
    this.destroy();
  }
}
