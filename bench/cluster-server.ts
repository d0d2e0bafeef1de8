/**
 * Server side of `npm run bench -- cluster` (forked by bench/cluster.ts, not run by hand): a
 * node:cluster primary with N workers on one port, each a createServer() with a MILAGRO_CS
 * identity and an ECDSA certificate, all sharing the store given in the environment (CS replay
 * cache, ticket keys, session-ID cache). Each connection answers its first data with the worker's
 * pid and closes, so the bench can tell which process served it.
 */
import cluster from 'node:cluster';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { createServer, type TLSSocket } from '../src/index.ts';
import { openStore } from '../src/store/index.ts';
import { bytesToHex, hexToBytes } from '../src/codec/bytes.ts';

export interface ClusterServerConfig {
  readonly workers: number;
  readonly port: number;
  readonly store: string;
  readonly serverSecret: string; // hex
  readonly hashId: string; // hex
  readonly identity: string;
}

const cfg = JSON.parse(process.env['MILAGRO_BENCH_CLUSTER'] ?? 'null') as ClusterServerConfig | null;
if (cfg === null) throw new Error('bench/cluster-server.ts is started by bench/cluster.ts (MILAGRO_BENCH_CLUSTER unset)');

if (cluster.isPrimary) {
  let ready = 0;
  for (let i = 0; i < cfg.workers; i++) {
    const w = cluster.fork();
    w.on('message', (m: unknown) => {
      if (m === 'ready' && ++ready === cfg.workers) process.send?.({ ready: true });
    });
  }
  cluster.on('exit', (w, code) => {
    if (code !== 0) process.stderr.write(`bench cluster worker ${String(w.process.pid)} exited with ${String(code)}\n`);
  });
  process.on('disconnect', () => {
    for (const w of Object.values(cluster.workers ?? {})) w?.kill();
    process.exit(0);
  });
} else {
  const certs = resolve(import.meta.dirname, '..', 'test', 'fixtures', 'certs');
  const store = await openStore(cfg.store);
  const server = createServer({
    key: readFileSync(resolve(certs, 'server-ec256.key')),
    cert: readFileSync(resolve(certs, 'server-ec256.pem')),
    cryptoProvider: 'node',
    store,
    milagro: {
      serverSecret: hexToBytes(cfg.serverSecret),
      timePermits: true,
      // One compute thread per process (in-process pairings) so N processes = N busy threads.
      workers: false,
      resolveIdentity: (h) => (bytesToHex(h) === cfg.hashId ? cfg.identity : undefined),
    },
  });
  server.on('secureConnection', (s: TLSSocket) => {
    s.on('error', () => undefined);
    s.once('data', () => s.end(String(process.pid)));
  });
  server.on('tlsClientError', () => undefined);
  server.listen(cfg.port, '127.0.0.1', () => process.send?.('ready'));
}
