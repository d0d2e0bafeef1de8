/**
 * `milagro-ts server --port N --cert FILE --key FILE [--ca FILE] [--ciphers LIST] [--www] [--workers N] [--store SPEC]`
 * (issue 3 item 8): like `openssl s_server`. Echoes application data back, or with --www answers
 * any HTTP request with a small page and closes with close_notify. Serves until stopped, logging
 * one line per handshake: the suite, or the alert sent and why.
 */
import cluster from 'node:cluster';
import type { AddressInfo } from 'node:net';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { resolveServerOptions } from '../api/config.ts';
import { createServer, type DropInfo, type Server, type ServerOptions, type TLSSocket } from '../index.ts';
import { CliError, describeTlsError, keylogSink, parseAlpnFlag, parseCli, readCaArg, readFileArg, runCli } from './common.ts';
import { STORE_FLAG_HELP, defaultStateDir, openStoreFlag, redactSpec } from './store-flag.ts';

export const serverUsage = `usage: milagro-ts server --port N --cert FILE --key FILE [options]

  --port N          port to listen on (0 picks a free one)
  --host ADDR       address to bind (default: all interfaces)
  --cert FILE       server certificate chain, PEM, leaf first
  --key FILE        private key for --cert, PEM (PKCS#8 or SEC1)
  --ca FILE         trust anchors for client certificates, PEM
  --request-cert    ask clients for a certificate; refuse those without one verifying against --ca
  --request-cert-optional   ask for a client certificate but accept clients without a valid one
  --alpn LIST       comma-separated ALPN protocols in preference order, e.g. h2,http/1.1
  --no-tickets      do not issue RFC 5077 session tickets (session IDs still resume)
  --ticket-keys HEX 48 bytes (96 hex digits) of ticket keys, the same for every server process
                    that should resume the others' tickets (like node:tls ticketKeys)
  --ciphers LIST    colon-separated suites, e.g. ECDHE-ECDSA-AES128-GCM-SHA256
  --curves LIST     ECDHE groups, e.g. X25519:P-256:P-384
  --www             answer HTTP requests with a status page instead of echoing
  --provider NAME   record-layer AEAD: noble (default) or node
  --handshake-timeout MS   abort unfinished handshakes after MS (default 120000)
  --max-connections N      refuse connections beyond N open ones (default: no limit)
  --max-handshakes-per-source N   unfinished handshakes allowed at once from one IPv4
                    address or IPv6 /64; more are closed on accept (default: no limit)
  --workers N       serve from N processes (node:cluster) sharing the port and the --store
                    (default: one per CPU core; 1 = this process only)
  ${STORE_FLAG_HELP}
                    (default sqlite:~/.local/state/milagro-ts/server-PORT.db: shared by the
                    workers and kept across restarts; memory: shares nothing)
  -h, --help`;

const parseConfig = {
  args: [] as string[],
  options: {
    port: { type: 'string' },
    host: { type: 'string' },
    cert: { type: 'string' },
    key: { type: 'string' },
    ca: { type: 'string' },
    ciphers: { type: 'string' },
    curves: { type: 'string' },
    www: { type: 'boolean', default: false },
    'request-cert': { type: 'boolean', default: false },
    'request-cert-optional': { type: 'boolean', default: false },
    alpn: { type: 'string' },
    'no-tickets': { type: 'boolean', default: false },
    'ticket-keys': { type: 'string' },
    provider: { type: 'string', default: 'noble' },
    'handshake-timeout': { type: 'string' },
    'max-connections': { type: 'string' },
    'max-handshakes-per-source': { type: 'string' },
    workers: { type: 'string' },
    store: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
  strict: true,
  allowPositionals: false,
} as const;

type ServerValues = ReturnType<typeof parseCli<typeof parseConfig>>['values'];

/** CLI flags → API options (kept separate so later flags like --alpn/--request-cert slot in). */
export function serverOptionsFromFlags(v: ServerValues): ServerOptions {
  if (v.cert === undefined || v.key === undefined) {
    throw new CliError(`--cert FILE and --key FILE are required (e.g. --cert test/fixtures/certs/server-ec256.pem --key test/fixtures/certs/server-ec256.key)\n\n${serverUsage}`);
  }
  if (v.provider !== 'noble' && v.provider !== 'node') throw new CliError(`--provider must be noble or node, not "${v.provider}"`);
  let handshakeTimeout: number | undefined;
  if (v['handshake-timeout'] !== undefined) {
    handshakeTimeout = Number(v['handshake-timeout']);
    if (!Number.isFinite(handshakeTimeout) || handshakeTimeout <= 0) throw new CliError('--handshake-timeout takes a positive number of milliseconds');
  }
  const maxConnections = positiveIntFlag('--max-connections', v['max-connections']);
  const maxHandshakesPerSource = positiveIntFlag('--max-handshakes-per-source', v['max-handshakes-per-source']);
  return {
    cert: readFileArg('--cert', v.cert, 'a PEM certificate file'),
    ...(maxConnections !== undefined ? { maxConnections } : {}),
    ...(maxHandshakesPerSource !== undefined ? { maxHandshakesPerSource } : {}),
    key: readFileArg('--key', v.key, 'a PEM private key file (PKCS#8 or SEC1)'),
    ...(v.ca !== undefined ? { ca: readCaArg(v.ca) } : {}),
    ...(v.ciphers !== undefined ? { ciphers: v.ciphers } : {}),
    ...(v.curves !== undefined ? { ecdhCurve: v.curves } : {}),
    ...(handshakeTimeout !== undefined ? { handshakeTimeout } : {}),
    cryptoProvider: v.provider,
    ...(v['request-cert'] || v['request-cert-optional'] ? { requestCert: true, rejectUnauthorized: v['request-cert'] } : {}),
    ...(v.alpn !== undefined ? { ALPNProtocols: parseAlpnFlag(v.alpn) } : {}),
    ...(v['no-tickets'] ? { sessionTickets: false } : {}),
    ...(v['ticket-keys'] !== undefined ? { ticketKeys: parseTicketKeys(v['ticket-keys']) } : {}),
  };
}

function positiveIntFlag(flag: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new CliError(`${flag} takes a positive integer, not "${v}"`);
  return n;
}

function parseTicketKeys(hex: string): Uint8Array {
  if (!/^[0-9a-fA-F]{96}$/.test(hex)) throw new CliError('--ticket-keys takes 96 hex digits (48 bytes), e.g. from `openssl rand -hex 48`');
  return Uint8Array.from(Buffer.from(hex, 'hex'));
}

function peerOf(s: TLSSocket): string {
  const a = s.remoteAddress;
  if (a === undefined) return 'unknown peer';
  if (a.startsWith('::ffff:')) return `${a.slice(7)}:${String(s.remotePort)}`;
  return a.includes(':') ? `[${a}]:${String(s.remotePort)}` : `${a}:${String(s.remotePort)}`;
}

function log(line: string): void {
  // With --workers, say which process served the connection.
  process.stdout.write(`${new Date().toISOString()} ${cluster.isWorker ? `[worker ${process.pid}] ` : ''}${line}\n`);
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c] ?? c);
}

/** --www: read one HTTP request head, answer with a status page, close with close_notify. */
function serveWww(s: TLSSocket): void {
  let head = '';
  s.setEncoding('latin1');
  s.on('data', (d: string) => {
    if (head.length > 16384) return;
    head += d;
    if (!/\r?\n\r?\n/.test(head)) return;
    const requestLine = head.split(/\r?\n/, 1)[0] ?? '';
    const c = s.getCipher();
    const body = [
      '<!doctype html><html><head><title>milagro-ts</title></head><body>',
      '<h1>milagro-ts</h1>',
      `<p>Protocol: ${s.getProtocol() ?? '?'}<br>Cipher: ${escapeHtml(c?.name ?? '?')} (${escapeHtml(c?.standardName ?? '?')})</p>`,
      `<p>Request: ${escapeHtml(requestLine)}</p>`,
      '</body></html>\n',
    ].join('\n');
    s.end(`HTTP/1.0 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  });
}

export function startServer(opts: ServerOptions, www: boolean, open: Set<TLSSocket> = new Set()): Server {
  const server = createServer(opts, (s) => {
    open.add(s);
    s.on('close', () => open.delete(s));
    const c = s.getCipher();
    const kx = s.getEphemeralKeyInfo();
    const group = kx !== null && 'name' in kx ? ` ${kx.name}` : '';
    const sni = s.servername !== false ? ` sni=${s.servername}` : '';
    const alpn = s.alpnProtocol !== false ? ` alpn=${s.alpnProtocol}` : '';
    const resumed = s.isSessionReused() ? ' resumed' : '';
    const pc = s.getPeerCertificate();
    const client = pc !== null && 'subject' in pc ? ` client-cert="${String(pc.subject.CN ?? '?')}" ${s.authorized ? 'verified' : `unverified (${`${s.authorizationError ?? '?'}: ${s.authorizationErrorMessage ?? ''}`})`}` : '';
    log(`${peerOf(s)} handshake ok: ${s.getProtocol() ?? ''} ${c?.name ?? '?'}${group}${sni}${alpn}${resumed}${client}`);
    s.on('error', (err) => log(`${peerOf(s)} connection error: ${describeTlsError(err)}`));
    if (www) serveWww(s);
    else s.pipe(s);
  });
  const keylog = keylogSink();
  if (keylog !== undefined) server.on('keylog', keylog);
  server.on('tlsClientError', (err: Error, s: TLSSocket | undefined) => {
    log(`${s !== undefined ? peerOf(s) : 'unknown peer'} handshake failed: ${describeTlsError(err)}`);
  });
  server.on('drop', (d: DropInfo) => log(`${d.remoteAddress ?? 'unknown peer'} connection refused: ${d.reason} reached`));
  return server;
}

export async function main(argv: string[]): Promise<number> {
  return runCli(async () => {
    const { values } = parseCli({ ...parseConfig, args: argv }, serverUsage);
    if (values.help) {
      process.stdout.write(`${serverUsage}\n`);
      return 0;
    }
    if (values.port === undefined) throw new CliError(`--port N is required\n\n${serverUsage}`);
    const port = Number(values.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new CliError(`--port must be 0..65535, not "${values.port}"`);
    const options = serverOptionsFromFlags(values); // flag errors surface before any fork
    const workers = positiveIntFlag('--workers', values.workers) ?? availableParallelism();
    if (workers > 1 && cluster.isPrimary) {
      // Option errors (unknown cipher, bad key) stop here, once, with their message and exit code.
      await resolveServerOptions(options).dispose?.();
      if (values.store?.startsWith('memory:') === true) log('warning: --store memory: with several workers: each worker has its own replay cache and sessions');
      return runPrimary(workers, values.www);
    }
    const { store, spec } = await openStoreFlag(values.store, () => `sqlite:${join(defaultStateDir(), `server-${port}.db`)}`, log);
    const open = new Set<TLSSocket>();
    const server = startServer({ ...options, store }, values.www, open);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      const onListening = (): void => {
        server.off('error', reject);
        const a = server.address() as AddressInfo;
        const where = `${a.address.includes(':') ? `[${a.address}]` : a.address}:${a.port}`;
        if (cluster.isWorker) process.send?.({ listening: where, store: redactSpec(spec) });
        else log(`listening on ${where} (${values.www ? 'www' : 'echo'} mode, store ${redactSpec(spec)})`);
        resolve();
      };
      if (values.host !== undefined) server.listen(port, values.host, onListening);
      else server.listen(port, onListening);
    }).catch(async (e: unknown) => {
      await store.close();
      throw new CliError(`cannot listen on port ${port}: ${(e as Error).message}`, 1);
    });
    server.on('error', (err) => log(`server error: ${(err as Error).message}`));
    await new Promise<void>((resolve) => {
      const stop = (): void => {
        if (!cluster.isWorker) log('stopping');
        // Say goodbye properly (close_notify) to the connections still open, then stop.
        for (const s of open) s.end();
        setTimeout(() => {
          for (const s of open) s.destroy();
        }, 1000).unref();
        server.close(() => resolve());
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    await store.close();
    // A cluster worker's IPC channel keeps it alive after main() returns: without this, every
    // worker sat until the primary's 5 s SIGKILL on each stop.
    if (cluster.isWorker) cluster.worker?.disconnect();
    return 0;
  });
}

/**
 * --workers N: fork N copies of this command (node:cluster shares the listening port); log one
 * "listening" line once all are up; restart a worker that dies (at most 5 deaths a minute);
 * SIGINT/SIGTERM stop them all.
 */
async function runPrimary(n: number, www: boolean): Promise<number> {
  let listening = 0;
  let stopping = false;
  let failed = 0;
  const deaths: number[] = [];
  return new Promise<number>((resolve) => {
    const up = new Set<number>();
    const fork = (): void => {
      const w = cluster.fork();
      w.on('message', (m: unknown) => {
        const msg = m as { listening?: string; store?: string };
        if (msg.listening !== undefined) up.add(w.id);
        if (msg.listening !== undefined && ++listening === n) {
          log(`listening on ${msg.listening} (${www ? 'www' : 'echo'} mode, ${n} workers, store ${msg.store ?? '?'})`);
        }
      });
    };
    cluster.on('exit', (w, code, signal) => {
      if (stopping) {
        if (Object.keys(cluster.workers ?? {}).length === 0) resolve(failed);
        return;
      }
      if (!up.has(w.id)) {
        // It never started (cannot open the store, cannot listen...): its error is on stderr.
        log(`worker ${w.process.pid ?? '?'} failed to start (${signal ?? `exit ${String(code)}`}); stopping`);
        failed = typeof code === 'number' && code !== 0 ? code : 1;
        stop();
        return;
      }
      const now = Date.now();
      deaths.push(now);
      while (deaths.length > 0 && deaths[0]! < now - 60_000) deaths.shift();
      log(`worker ${w.process.pid ?? '?'} died (${signal ?? `exit ${String(code)}`})${deaths.length > 5 ? '; too many deaths, stopping' : '; restarting it'}`);
      if (deaths.length > 5) {
        failed = 1;
        stop();
        return;
      }
      fork();
    });
    const stop = (): void => {
      if (stopping) return;
      stopping = true;
      log('stopping');
      const live = Object.values(cluster.workers ?? {});
      if (live.length === 0) resolve(failed);
      for (const w of live) w?.process.kill('SIGTERM');
      // A worker still starting may miss SIGTERM (no handler yet): do not wait for it forever.
      setTimeout(() => {
        for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGKILL');
      }, 5000).unref();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    for (let i = 0; i < n; i++) fork();
  });
}
