/**
 * Turns node:tls-style options into sans-I/O engine configurations. All option validation
 * happens here, synchronously, so a mistake surfaces as a clear exception at `connect` /
 * `createServer` time rather than as a failed handshake later.
 */
import type { AeadProvider } from '../crypto/aead/provider.ts';
import { createNobleCryptoProvider, isCryptoProvider, nobleCryptoProvider, type CryptoProvider } from '../crypto/provider.ts';
import { createNodeCryptoProvider } from '../crypto/provider-node.ts';
import type { ClientEngineConfig, CommonEngineConfig, ServerEngineConfig } from '../handshake/config.ts';
import { NamedGroup } from '../handshake/messages/types.ts';
import { defaultKexRegistry, type KexRegistry } from '../kex/registry.ts';
import { systemClock, systemRandom } from '../providers.ts';
import { allSuites, parseCipherList, type CipherSuite } from '../suites.ts';
import { SignatureCache, checkServerIdentity as x509CheckServerIdentity, loadCertificates, loadPrivateKey, toPeerCertificate } from '../x509/index.ts';
import type { Certificate, PrivateKey } from '../x509/types.ts';
import { SessionStore, type ExternalSessionCache } from '../handshake/session/store.ts';
import { sessionFromBytes } from '../handshake/client.ts';
import { decodeAlpn } from '../handshake/messages/extensions/alpn.ts';
import type { CommonTlsOptions, ConnectionOptions, CryptoProviderOption, PemInputs, ServerOptions } from './options.ts';
import { resolveMilagroClient, resolveMilagroServer, type ResolvedMilagro } from './milagro-options.ts';
import { defaultTrustAnchors } from './node-parity.ts';
import { resolveMilagroP2pClient, resolveMilagroP2pServer } from './milagro-p2p-options.ts';

/** Error thrown for invalid options; `code` mirrors node's style so callers can branch on it. */
export class TlsOptionError extends TypeError {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.code = code;
    this.name = 'TlsOptionError';
  }
}

export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 120_000;

/** node:tls / OpenSSL group names and our own → wire numbers (RFC 8422 §5.1.1, RFC 7748). */
const groupAliases: ReadonlyMap<string, NamedGroup> = new Map([
  ['x25519', NamedGroup.x25519],
  ['p-256', NamedGroup.secp256r1],
  ['prime256v1', NamedGroup.secp256r1],
  ['secp256r1', NamedGroup.secp256r1],
  ['p-384', NamedGroup.secp384r1],
  ['secp384r1', NamedGroup.secp384r1],
]);

export const DEFAULT_GROUPS: readonly NamedGroup[] = Object.freeze([NamedGroup.x25519, NamedGroup.secp256r1, NamedGroup.secp384r1]);

export function parseGroupList(list: string): NamedGroup[] {
  if (list.trim().toLowerCase() === 'auto') return [...DEFAULT_GROUPS];
  const out: NamedGroup[] = [];
  for (const raw of list.split(/[:,\s]+/).filter((x) => x.length > 0)) {
    const g = groupAliases.get(raw.toLowerCase());
    if (g === undefined) {
      throw new TlsOptionError('ERR_TLS_UNKNOWN_GROUP', `unknown ECDH group "${raw}"; known: X25519, P-256, P-384`);
    }
    if (!out.includes(g)) out.push(g);
  }
  if (out.length === 0) throw new TlsOptionError('ERR_TLS_UNKNOWN_GROUP', 'ecdhCurve lists no group');
  return out;
}

function checkVersion(name: 'minVersion' | 'maxVersion', value: string | undefined): void {
  if (value === undefined || value === 'TLSv1.2') return;
  if (value === 'TLSv1.3' || value === 'TLSv1.1' || value === 'TLSv1') {
    throw new TlsOptionError(
      'ERR_TLS_PROTOCOL_VERSION_UNSUPPORTED',
      `${name}: ${value} is not supported; milagro-ts implements TLS 1.2 only (use 'TLSv1.2' or omit the option)`,
    );
  }
  throw new TlsOptionError('ERR_TLS_INVALID_PROTOCOL_VERSION', `${name}: "${value}" is not a TLS version name; use 'TLSv1.2'`);
}

/**
 * 'noble' (default): pure TypeScript. 'node': node:crypto for AEAD, ECDH and signatures. Either
 * way a fresh instance (its own key caches) per server / secure context / client connection.
 * A bare AeadProvider keeps (stateless) noble for ECDH and signatures.
 */
export function resolveCryptoProvider(p: CryptoProviderOption | undefined): CryptoProvider {
  if (p === undefined || p === 'noble') return createNobleCryptoProvider();
  if (p === 'node') return createNodeCryptoProvider();
  if (isCryptoProvider(p)) return p;
  if (typeof p === 'object' && p !== null && typeof (p as Partial<AeadProvider>).create === 'function') {
    return Object.freeze({ ...nobleCryptoProvider, name: `noble+${p.name}`, aead: p });
  }
  throw new TlsOptionError('ERR_INVALID_ARG_VALUE', `cryptoProvider must be 'noble', 'node', a CryptoProvider or an AeadProvider`);
}

function resolveKex(k: CommonTlsOptions['kex'], provider: CryptoProvider): KexRegistry {
  const defaults = defaultKexRegistry({ ecdh: provider.ecdh, signatures: provider.signatures });
  if (k === undefined) return defaults;
  return typeof k === 'function' ? k(defaults) : k;
}

function loadList(what: string, input: PemInputs): Certificate[] {
  const list = typeof input === 'string' || input instanceof Uint8Array ? [input] : [...input];
  try {
    return loadCertificates(list);
  } catch (e) {
    throw new TlsOptionError('ERR_TLS_BAD_CERTIFICATE_OPTION', `${what}: cannot load certificate(s): ${(e as Error).message}`);
  }
}

/** Resolved options shared by both roles; computed once per server or per client connection. */
/** ALPNProtocols: names, or node's wire form (length-prefixed names). */
export function parseAlpnOption(v: CommonTlsOptions['ALPNProtocols']): string[] | undefined {
  if (v === undefined) return undefined;
  let names: string[];
  if (v instanceof Uint8Array) {
    const wire = new Uint8Array(2 + v.length);
    wire[0] = v.length >> 8;
    wire[1] = v.length & 0xff;
    wire.set(v, 2);
    try {
      names = decodeAlpn(wire).map((b) => new TextDecoder('utf-8', { fatal: true }).decode(b));
    } catch {
      throw new TlsOptionError('ERR_INVALID_ARG_VALUE', 'ALPNProtocols: malformed wire-format buffer');
    }
  } else {
    names = [...v];
  }
  for (const n of names) {
    if (typeof n !== 'string' || n.length === 0 || Buffer.byteLength(n) > 255) {
      throw new TlsOptionError('ERR_INVALID_ARG_VALUE', `ALPNProtocols: "${String(n)}" is not a protocol name of 1..255 bytes`);
    }
  }
  return names.length === 0 ? undefined : names;
}

export interface ResolvedCommon {
  readonly engine: CommonEngineConfig;
  readonly handshakeTimeout: number;
}

function resolveCommon(opts: CommonTlsOptions, milagros: readonly ResolvedMilagro[] = [], shared?: CryptoProvider): ResolvedCommon {
  checkVersion('minVersion', opts.minVersion);
  checkVersion('maxVersion', opts.maxVersion);
  // Milagro credentials (milagro-options.ts, milagro-p2p-options.ts) add their key exchange and
  // put their suite first (the first given ends up most preferred).
  const provider = opts.cryptoProvider === undefined && shared !== undefined ? shared : resolveCryptoProvider(opts.cryptoProvider);
  const kex = milagros.reduce((k, m) => m.extendKex(k), resolveKex(opts.kex, provider));
  let suites: readonly CipherSuite[];
  if (opts.ciphers !== undefined) {
    try {
      suites = parseCipherList(opts.ciphers, milagros.reduce((l, m) => m.adjustSuites(l, false), allSuites));
    } catch (e) {
      throw new TlsOptionError('ERR_TLS_INVALID_CIPHERS', (e as Error).message);
    }
  } else {
    suites = milagros.reduceRight((l, m) => m.adjustSuites(l, true), allSuites);
  }
  // Only suites whose key exchange is available can be offered.
  suites = suites.filter((s) => kex.supports(s));
  if (suites.length === 0) {
    throw new TlsOptionError(
      'ERR_TLS_INVALID_CIPHERS',
      `no usable cipher suite${opts.ciphers !== undefined ? ` in "${opts.ciphers}"` : ''}; available key exchanges: ${kex.names.join(', ')}`,
    );
  }
  const alpn = parseAlpnOption(opts.ALPNProtocols);
  const timeout = opts.handshakeTimeout ?? DEFAULT_HANDSHAKE_TIMEOUT_MS;
  if (!Number.isFinite(timeout) || timeout <= 0) {
    throw new TlsOptionError('ERR_INVALID_ARG_VALUE', `handshakeTimeout must be a positive number of milliseconds, got ${String(timeout)}`);
  }
  return {
    engine: {
      suites,
      groups: opts.ecdhCurve !== undefined ? parseGroupList(opts.ecdhCurve) : DEFAULT_GROUPS,
      random: opts.random ?? systemRandom,
      clock: opts.clock ?? systemClock,
      aeadProvider: provider.aead,
      signatures: provider.signatures,
      kex,
      ...(alpn === undefined ? {} : { alpnProtocols: alpn }),
    },
    handshakeTimeout: timeout,
  };
}

/** Resolve the Milagro options in order (CS, then P2P); if one fails, release what the others own. */
function resolveMilagros(...makers: readonly ((() => ResolvedMilagro) | undefined)[]): ResolvedMilagro[] {
  const out: ResolvedMilagro[] = [];
  try {
    for (const make of makers) if (make !== undefined) out.push(make());
  } catch (e) {
    for (const m of out) void m.dispose();
    throw e;
  }
  return out;
}

export interface ResolvedServer {
  readonly engine: ServerEngineConfig;
  readonly handshakeTimeout: number;
  /** Session-ID cache and ticket keys of this server (setTicketKeys/getTicketKeys). */
  readonly sessionStore: SessionStore;
  /** Release what the options own (the Milagro worker pool); called when the server closes. */
  readonly dispose?: () => Promise<void>;
}

/** Smallest `maxHandshakeBuffer`: two full records. Below the default, large ClientHellos (up to 128 KiB) and client Certificates (256 KiB) no longer fit. */
const MIN_HANDSHAKE_BUFFER = 2 * (16384 + 256 + 5);

function checkHandshakeBuffer(n: number): number {
  if (!Number.isInteger(n) || n < MIN_HANDSHAKE_BUFFER) {
    throw new TlsOptionError('ERR_INVALID_ARG_VALUE', `maxHandshakeBuffer must be an integer >= ${MIN_HANDSHAKE_BUFFER} bytes, got ${String(n)}`);
  }
  return n;
}

export function resolveServerOptions(opts: ServerOptions, external?: ExternalSessionCache): ResolvedServer {
  const { milagro: cs, milagroP2p: p2p } = opts;
  const milagros = resolveMilagros(
    cs === undefined ? undefined : () => resolveMilagroServer(cs, opts.store),
    p2p === undefined ? undefined : () => resolveMilagroP2pServer(p2p),
  );
  const dispose = async (): Promise<void> => {
    await Promise.all(milagros.map((m) => m.dispose()));
  };
  let common: ResolvedCommon;
  try {
    common = resolveCommon(opts, milagros);
  } catch (e) {
    void dispose();
    throw e;
  }
  let certificateChain: Certificate[] | undefined;
  let privateKey: PrivateKey | undefined;
  if (opts.cert !== undefined) certificateChain = loadList('cert', opts.cert);
  if (opts.key !== undefined) {
    try {
      privateKey = loadPrivateKey(opts.key);
    } catch (e) {
      throw new TlsOptionError('ERR_TLS_BAD_KEY_OPTION', `key: cannot load private key: ${(e as Error).message}`);
    }
  }
  if ((certificateChain === undefined) !== (privateKey === undefined)) {
    throw new TlsOptionError('ERR_TLS_CERT_KEY_MISMATCH', 'cert and key must be given together');
  }
  if (certificateChain !== undefined && privateKey !== undefined) checkKeyMatchesCert(certificateChain, privateKey);
  const needsCert = common.engine.suites.some((s) => s.kex === 'ECDHE_ECDSA' || s.kex === 'ECDHE_RSA');
  const onlyCertSuites = common.engine.suites.every((s) => s.kex === 'ECDHE_ECDSA' || s.kex === 'ECDHE_RSA');
  if (certificateChain === undefined && needsCert && onlyCertSuites) {
    throw new TlsOptionError('ERR_TLS_MISSING_CERT', 'a server needs `cert` and `key` for the ECDHE suites');
  }
  const base: ServerEngineConfig =
    certificateChain !== undefined && privateKey !== undefined
      ? { ...common.engine, certificateChain, privateKey }
      : // Without a certificate only the certificate-less (Milagro) suites can be served.
        { ...common.engine, suites: common.engine.suites.filter((s) => s.kex !== 'ECDHE_ECDSA' && s.kex !== 'ECDHE_RSA') };
  const ca = opts.ca !== undefined ? loadList('ca', opts.ca) : [];
  let sessionStore: SessionStore;
  try {
    sessionStore = new SessionStore({
      random: common.engine.random,
      clock: common.engine.clock,
      aead: common.engine.aeadProvider,
      ...(opts.sessionTimeout === undefined ? {} : { sessionTimeout: opts.sessionTimeout }),
      ...(opts.ticketKeys === undefined ? {} : { ticketKeys: opts.ticketKeys }),
      ...(opts.sessionTickets === undefined ? {} : { tickets: opts.sessionTickets }),
      ...(opts.sessionCacheSize === undefined ? {} : { cacheSize: opts.sessionCacheSize }),
      ...(opts.store === undefined ? {} : { shared: opts.store }),
      ...(external === undefined ? {} : { external }),
    });
  } catch (e) {
    throw new TlsOptionError('ERR_INVALID_ARG_VALUE', (e as Error).message);
  }
  const engine: ServerEngineConfig = {
    ...base,
    ca,
    sessionStore,
    // Client certificates (requestCert) from returning clients: each chain link verified once.
    certificateCache: new SignatureCache(),
    ...(opts.requestCert === true ? { requestCert: true, rejectUnauthorized: opts.rejectUnauthorized ?? true } : {}),
    ...(opts.maxHandshakeBuffer === undefined ? {} : { maxHandshakeBuffer: checkHandshakeBuffer(opts.maxHandshakeBuffer) }),
  };
  return { engine, handshakeTimeout: common.handshakeTimeout, sessionStore, ...(milagros.length === 0 ? {} : { dispose }) };
}

export interface ResolvedClient {
  readonly engine: ClientEngineConfig;
  readonly handshakeTimeout: number;
  /** Name the certificate is checked against (servername, else host). */
  readonly verifyName: string | undefined;
}

export function resolveClientOptions(opts: ConnectionOptions): ResolvedClient {
  const { milagro: cs, milagroP2p: p2p } = opts;
  const milagros = resolveMilagros(
    cs === undefined ? undefined : () => resolveMilagroClient(cs, opts.clock ?? systemClock),
    p2p === undefined ? undefined : () => resolveMilagroP2pClient(p2p),
  );
  const ctx = opts.secureContext;
  const common = resolveCommon(opts, milagros, ctx?.provider);
  // node:tls semantics: without `ca` (here or in the secure context) the bundled Mozilla roots are
  // trusted. Milagro-only clients verify no certificate and skip loading them.
  const certificateSuites = common.engine.suites.some((s) => s.kex === 'ECDHE_ECDSA' || s.kex === 'ECDHE_RSA');
  const ca =
    opts.ca !== undefined ? loadList('ca', opts.ca) : ctx?.ca !== undefined ? [...ctx.ca] : certificateSuites ? [...defaultTrustAnchors()] : [];
  const clientAuth = resolveClientCertificate(opts);
  const session = opts.session === undefined ? undefined : sessionFromBytes(opts.session);
  if (opts.maxFragmentLength !== undefined && ![512, 1024, 2048, 4096].includes(opts.maxFragmentLength)) {
    throw new TlsOptionError('ERR_INVALID_ARG_VALUE', 'maxFragmentLength must be 512, 1024, 2048 or 4096');
  }
  if (opts.recordSizeLimit !== undefined && (!Number.isInteger(opts.recordSizeLimit) || opts.recordSizeLimit < 64 || opts.recordSizeLimit > 16384)) {
    throw new TlsOptionError('ERR_INVALID_ARG_VALUE', 'recordSizeLimit must be an integer in 64..16384');
  }
  const host = opts.host ?? 'localhost';
  // The engine leaves IP literals out of SNI (RFC 6066 §3) but still checks the name.
  const sni = opts.servername ?? host;
  const verifyName = opts.servername ?? host;
  const custom = opts.checkServerIdentity;
  const userCheck = custom === undefined ? x509CheckServerIdentity : (host: string, cert: Certificate) => custom(host, toPeerCertificate(cert));
  const engine: ClientEngineConfig = {
    ...common.engine,
    ca,
    rejectUnauthorized: opts.rejectUnauthorized ?? true,
    // The engine passes its servername (possibly absent for IP hosts); always check the name the
    // user connected to, like node:tls does.
    checkServerIdentity: (_host: string, cert: Certificate) => userCheck(verifyName, cert),
    ...(sni.length > 0 ? { servername: sni } : {}),
    // A secure context's cache outlives this connection (reconnects skip known chain links).
    ...(ctx === undefined ? {} : { certificateCache: ctx.certificateCache }),
    ...clientAuth,
    // An unusable session buffer is ignored (full handshake), as node:tls does.
    ...(session === undefined ? {} : { session }),
    ...(opts.maxFragmentLength === undefined ? {} : { maxFragmentLength: opts.maxFragmentLength }),
    ...(opts.recordSizeLimit === undefined ? {} : { recordSizeLimit: opts.recordSizeLimit }),
  };
  return { engine, handshakeTimeout: common.handshakeTimeout, verifyName };
}

/** Client certificate and key (mutual TLS), loaded and checked like the server's. */
function resolveClientCertificate(opts: ConnectionOptions): { certificateChain?: Certificate[]; privateKey?: PrivateKey } {
  if (opts.cert === undefined && opts.key === undefined) return {};
  if (opts.cert === undefined || opts.key === undefined) throw new TlsOptionError('ERR_TLS_CERT_KEY_MISMATCH', 'cert and key must be given together');
  const certificateChain = loadList('cert', opts.cert);
  let privateKey: PrivateKey;
  try {
    privateKey = loadPrivateKey(opts.key);
  } catch (e) {
    throw new TlsOptionError('ERR_TLS_BAD_KEY_OPTION', `key: cannot load private key: ${(e as Error).message}`);
  }
  checkKeyMatchesCert(certificateChain, privateKey);
  return { certificateChain, privateKey };
}

/**
 * The leaf certificate must carry the public half of `key` (node:tls refuses at context creation
 * with "key values mismatch"); otherwise every handshake would fail later with decrypt_error.
 */
function checkKeyMatchesCert(chain: readonly Certificate[], key: PrivateKey): void {
  const leaf = chain[0];
  if (leaf === undefined) throw new TlsOptionError('ERR_TLS_BAD_CERTIFICATE_OPTION', 'cert: no certificate in it');
  const pub = leaf.publicKey;
  const kp = key.publicKey;
  const same =
    pub.type === 'ec' && kp.type === 'ec'
      ? pub.curve === kp.curve && pub.point.length === kp.point.length && pub.point.every((b, i) => b === kp.point[i])
      : pub.type === 'rsa' && kp.type === 'rsa' && pub.n === kp.n && pub.e === kp.e;
  if (!same) {
    throw new TlsOptionError('ERR_TLS_CERT_KEY_MISMATCH', 'key values mismatch: `key` is not the private key of the first certificate in `cert`');
  }
}
