/**
 * milagro-ts: TLS 1.2 in TypeScript with a node:tls-shaped API.
 *
 *   import { connect, createServer } from 'milagro-ts';
 */
export { connect } from './api/connect.ts';
export { createServer, Server, type DropInfo } from './api/server.ts';
export { TLSSocket, TlsSocketError, type CipherInfo, type EphemeralKeyInfo } from './api/tls-socket.ts';
export { TlsOptionError, DEFAULT_HANDSHAKE_TIMEOUT_MS, parseGroupList } from './api/config.ts';
export { rootCertificates, getCiphers, checkServerIdentity, DEFAULT_MIN_VERSION, DEFAULT_MAX_VERSION } from './api/node-parity.ts';
export type { ConnectionOptions, ServerOptions, CommonTlsOptions, PemInput, PemInputs, TlsVersionName } from './api/options.ts';
export type { HandshakeInfo } from './handshake/engine.ts';
export { Suites, allSuites, suiteById, suiteByName, parseCipherList, type CipherSuite } from './suites.ts';
export { AlertDescription, alertName, TlsError, PeerAlertError } from './alerts.ts';
export { KexRegistry, defaultKexRegistry } from './kex/registry.ts';
export { nobleAeadProvider } from './crypto/aead/noble.ts';
export { nodeAeadProvider } from './crypto/aead/node.ts';
export type { AeadProvider } from './crypto/aead/provider.ts';
export { nobleCryptoProvider, createNobleCryptoProvider, type CryptoProvider } from './crypto/provider.ts';
export { createNodeCryptoProvider } from './crypto/provider-node.ts';
export { createSecureContext, SecureContext, type SecureContextOptions } from './api/secure-context.ts';
export type { SignatureBackend } from './x509/signature.ts';
export type { CryptoProviderOption } from './api/options.ts';
export type { Certificate, PrivateKey } from './x509/index.ts';
export type { PeerCertificate } from './x509/index.ts';
export { milagroCs, MilagroCsProvider, MILAGRO_CS_EXTENSION, type MilagroCsOptions, type MilagroCsClientCredentials, type MilagroCsServerCredentials, type MilagroCsEvent } from './kex/milagro-cs.ts';
export { MilagroWorkerPool, PooledCsCompute, WorkerPoolBusyError, WorkerPoolClosedError, type WorkerPoolOptions } from './kex/milagro/pool.ts';
export type { MilagroClientOptions, MilagroServerOptions, MilagroKeystore, KeyBytes } from './api/milagro-options.ts';
export type { PeerIdentity } from './kex/key-exchange.ts';
export { InProcessCsCompute, type MilagroCsCompute } from './kex/milagro/cs-compute.ts';
export {
  milagroP2p,
  MilagroP2pProvider,
  InProcessP2pCompute,
  PooledP2pCompute,
  type MilagroP2pCompute,
  type MilagroP2pOptions,
  type MilagroP2pClientCredentials,
  type MilagroP2pServerCredentials,
  type MilagroP2pEvent,
  type WccIdentityPolicy,
  type WccClaimedIdentity,
  type WccTimePermit,
} from './kex/milagro-p2p.ts';
export type { MilagroP2pClientOptions, MilagroP2pServerOptions, P2pTimePermits } from './api/milagro-p2p-options.ts';
export { openStore, namespaced, MemoryStore, SqliteStore, RedisStore, type RedisClientLike, StoreError, StoreDependencyError, STORE_SPEC_HELP, type KeyValueStore, type OpenStoreOptions, type MemoryStoreOptions } from './store/index.ts';
