/** The sans-I/O TLS 1.2 engine and its configuration (engine-contract.md). */
export { TlsEngine, type EngineEvents, type EngineState, type HandshakeInfo, type PeerIdentity } from './engine.ts';
export {
  clientConfig,
  serverConfig,
  defaultGroups,
  defaultSuites,
  type ClientEngineConfig,
  type CommonEngineConfig,
  type ServerEngineConfig,
} from './config.ts';
export { KexRegistry, defaultKexRegistry } from '../kex/registry.ts';
export type { KeyExchangeProvider, KexFlow } from '../kex/key-exchange.ts';
