/**
 * `--status HOST:PORT`: GET /healthz (JSON state; 503 while draining) and GET /metrics
 * (Prometheus text format). Nothing else: no request bodies are read, other paths are 404 and
 * other methods 405, so the endpoint costs nothing to poke at. Bind it to loopback or a
 * management network; it reveals identities in use and traffic volumes.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Endpoint } from './endpoint.ts';
import type { TunnelMetrics } from './metrics.ts';
import type { TunnelStatus } from './server.ts';

export interface StatusSource {
  readonly metrics: TunnelMetrics;
  status(): TunnelStatus;
}

export async function startStatusServer(source: StatusSource, at: Endpoint): Promise<{ server: Server; address: AddressInfo | string }> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?', 1)[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (path === '/healthz' || path === '/') {
      const s = source.status();
      res.writeHead(s.state === 'serving' ? 200 : 503, { 'content-type': 'application/json' }).end(`${JSON.stringify(s)}\n`);
      return;
    }
    if (path === '/metrics') {
      source.metrics.text().then(
        (text) => res.writeHead(200, { 'content-type': source.metrics.contentType }).end(text),
        (e: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics failed: ${(e as Error).message}\n`),
      );
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('try /healthz or /metrics\n');
  });
  server.headersTimeout = 5_000;
  server.requestTimeout = 10_000;
  server.maxConnections = 64;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    if ('path' in at) server.listen(at.path, () => resolve());
    else server.listen(at.port, at.host, () => resolve());
  });
  return { server, address: server.address() ?? '-' };
}
