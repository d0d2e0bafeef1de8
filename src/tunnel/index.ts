/** Identity-based TLS tunnels (issue 14): see README.md in this folder. */
export { createTunnelServer, TunnelServer, type TunnelServerOptions, type TunnelStatus } from './server.ts';
export { createTunnelClient, TunnelClient, type TunnelClientOptions } from './client.ts';
export type { TunnelCommonOptions } from './common.ts';
export { DEFAULTS as TUNNEL_DEFAULTS } from './common.ts';
export type { TunnelServerCredentials, TunnelClientCredentials, DtaRefresh, P2pKey, PinSource, Source } from './credentials.ts';
export { CredentialError } from './credentials.ts';
export { parseEndpoint, formatEndpoint, EndpointError, type Endpoint } from './endpoint.ts';
export { formatRecord, type ConnectionRecord, type TunnelEvent, type TunnelLogRecord, type LogFormat } from './log.ts';
export { TunnelMetrics } from './metrics.ts';
export { startStatusServer } from './status.ts';
export { CLOSE_REASONS, type CloseReason } from './reasons.ts';
