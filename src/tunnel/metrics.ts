/**
 * Prometheus metrics of one tunnel, in a registry of its own (no process-global state, so
 * several tunnels in one process, e.g. tests, never mix their counts). prom-client is the
 * maintained reference client for Node (text exposition format, histograms with correct
 * cumulative buckets and `_sum`/`_count`, label validation); writing the format by hand would
 * duplicate it for no gain.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

export class TunnelMetrics {
  readonly registry = new Registry();
  readonly handshakes: Counter<'result' | 'reason'>;
  readonly connections: Counter<'reason'>;
  readonly active: Gauge;
  readonly bytes: Counter<'direction'>;
  readonly handshakeSeconds: Histogram;
  readonly reloads: Counter<'result'>;
  readonly credentialsLoaded: Gauge;

  constructor(side: 'server' | 'client') {
    this.registry.setDefaultLabels({ side });
    const registers = [this.registry];
    this.handshakes = new Counter({
      name: 'milagro_tunnel_handshakes_total',
      help: 'TLS handshakes by result (ok, failed) and reason (suite kind when ok; alert, timeout, reset... when failed)',
      labelNames: ['result', 'reason'],
      registers,
    });
    this.connections = new Counter({
      name: 'milagro_tunnel_connections_closed_total',
      help: 'Connections ended, by close reason',
      labelNames: ['reason'],
      registers,
    });
    this.active = new Gauge({ name: 'milagro_tunnel_active_connections', help: 'Connections open now (handshaking or forwarding)', registers });
    this.bytes = new Counter({
      name: 'milagro_tunnel_bytes_total',
      help: 'Application bytes forwarded: in = from the accepting side to the target, out = back',
      labelNames: ['direction'],
      registers,
    });
    this.handshakeSeconds = new Histogram({
      name: 'milagro_tunnel_handshake_seconds',
      help: 'TLS handshake latency (connection accepted or dialled to handshake complete)',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.reloads = new Counter({ name: 'milagro_tunnel_reloads_total', help: 'Credential reloads (SIGHUP, DTA refresh) by result', labelNames: ['result'], registers });
    this.credentialsLoaded = new Gauge({ name: 'milagro_tunnel_credentials_loaded_timestamp_seconds', help: 'When the credentials in use were loaded', registers });
    // Zero series exist from the start, so dashboards and rate() see them before the first event.
    this.bytes.inc({ direction: 'in' }, 0);
    this.bytes.inc({ direction: 'out' }, 0);
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
