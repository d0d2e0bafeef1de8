/**
 * The server side of `npm run bench -- hostile`, in its own process so its RSS is its own: a
 * MILAGRO_CS server (pairings in its worker pool) written like the README, `(s) => s.pipe(s)`.
 * argv[2]: the server secret (hex). stdout: {"port":N} once listening; then, for every line on
 * stdin, {"rss":bytes,"peakRss":bytes,"baseRss":bytes,"bytesRead":n,"connections":n,"refused":n};
 * the line "reset" first collects garbage and restarts the baseline, peak and counters (after the
 * warm-up has started the worker pool).
 */
import { createInterface } from 'node:readline';
import type { Socket } from 'node:net';
import { createServer } from '../src/index.ts';

const server = createServer({ milagro: { serverSecret: process.argv[2] ?? '', timePermits: true } }, (s) => s.pipe(s));
let bytesRead = 0;
let connections = 0;
let refused = 0;
server.on('connection', (raw: Socket) => {
  connections++;
  raw.on('close', () => (bytesRead += raw.bytesRead));
});
server.on('tlsClientError', () => refused++);

// Sample RSS often enough to see a short peak.
let baseRss = process.memoryUsage().rss;
let peakRss = baseRss;
setInterval(() => {
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
}, 5).unref();

server.listen(0, '127.0.0.1', () => {
  const a = server.address();
  process.stdout.write(`${JSON.stringify({ port: typeof a === 'object' && a !== null ? a.port : -1 })}\n`);
});
createInterface({ input: process.stdin }).on('line', (line) => {
  if (line === 'reset') {
    global.gc?.();
    baseRss = process.memoryUsage().rss;
    peakRss = baseRss;
    bytesRead = 0;
    connections = 0;
    refused = 0;
  }
  const rss = process.memoryUsage().rss;
  peakRss = Math.max(peakRss, rss);
  process.stdout.write(`${JSON.stringify({ rss, peakRss, baseRss, bytesRead, connections, refused })}\n`);
});
process.stdin.on('end', () => {
  server.close();
  process.exit(0);
});
