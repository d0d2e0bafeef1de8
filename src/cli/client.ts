/**
 * `milagro-ts client HOST:PORT [--servername NAME] [--ca FILE] [--ciphers LIST] [--insecure]`
 * (issue 3 item 8): like `openssl s_client`. stdin goes to the server, server data to stdout,
 * the handshake summary and closing status to stderr. End of stdin sends close_notify; the
 * client then keeps reading until the server closes.
 */
import { connect, type ConnectionOptions, type TLSSocket } from '../index.ts';
import { CliError, describeTlsError, keylogSink, parseAlpnFlag, parseCli, parsePositiveInt, readCaArg, readFileArg, runCli } from './common.ts';

export const clientUsage = `usage: milagro-ts client HOST:PORT [options]

  --servername NAME  SNI and the name to verify (default: HOST; IP addresses are verified but not sent as SNI)
  --ca FILE          trust anchors, PEM (default: node's bundled Mozilla roots, as node:tls)
  --ciphers LIST     colon-separated suites, e.g. ECDHE-ECDSA-CHACHA20-POLY1305
  --curves LIST      ECDHE groups, e.g. X25519:P-256
  --insecure         continue even if the server certificate does not verify
  --cert FILE        client certificate chain, PEM (sent when the server asks for one)
  --key FILE         private key for --cert, PEM
  --alpn LIST        comma-separated ALPN protocols to offer, e.g. h2,http/1.1
  --reconnect N      connect, close, and reconnect N times resuming the session, reporting for
                     each connection whether it was resumed (stdin goes to the last one)
  --max-fragment N   ask for max_fragment_length N (512, 1024, 2048, 4096)
  --handshake-timeout MS  give up when the handshake has not completed after MS ms (default 120000)
  --provider NAME    record-layer AEAD: noble (default) or node
  --quiet            no handshake summary on stderr
  -h, --help`;

const parseConfig = {
  args: [] as string[],
  options: {
    servername: { type: 'string' },
    ca: { type: 'string' },
    ciphers: { type: 'string' },
    curves: { type: 'string' },
    insecure: { type: 'boolean', default: false },
    cert: { type: 'string' },
    key: { type: 'string' },
    alpn: { type: 'string' },
    reconnect: { type: 'string' },
    'max-fragment': { type: 'string' },
    'handshake-timeout': { type: 'string' },
    provider: { type: 'string', default: 'noble' },
    quiet: { type: 'boolean', short: 'q', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
  strict: true,
  allowPositionals: true,
} as const;

type ClientValues = ReturnType<typeof parseCli<typeof parseConfig>>['values'];

/** "host:port", "[v6]:port" → parts. */
export function parseHostPort(arg: string): { host: string; port: number } {
  const m = arg.match(/^\[([^\]]+)\]:(\d+)$/) ?? arg.match(/^([^:]+):(\d+)$/);
  const port = m !== null ? Number(m[2]) : NaN;
  if (m === null || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new CliError(`expected HOST:PORT (e.g. localhost:4433 or [::1]:4433), got "${arg}"\n\n${clientUsage}`);
  }
  return { host: m[1] ?? '', port };
}

/** CLI flags → API options (kept separate so later flags like --alpn/--cert slot in). */
export function clientOptionsFromFlags(v: ClientValues, host: string, port: number): ConnectionOptions {
  if (v.provider !== 'noble' && v.provider !== 'node') throw new CliError(`--provider must be noble or node, not "${v.provider}"`);
  return {
    host,
    port,
    ...(v.servername !== undefined ? { servername: v.servername } : {}),
    ...(v.ca !== undefined ? { ca: readCaArg(v.ca) } : {}),
    ...(v['handshake-timeout'] !== undefined ? { handshakeTimeout: parsePositiveInt('--handshake-timeout', v['handshake-timeout']) } : {}),
    ...(v.ciphers !== undefined ? { ciphers: v.ciphers } : {}),
    ...(v.curves !== undefined ? { ecdhCurve: v.curves } : {}),
    rejectUnauthorized: !v.insecure,
    cryptoProvider: v.provider,
    ...(v.cert !== undefined ? { cert: readFileArg('--cert', v.cert, 'a PEM certificate file') } : {}),
    ...(v.key !== undefined ? { key: readFileArg('--key', v.key, 'a PEM private key file') } : {}),
    ...(v.alpn !== undefined ? { ALPNProtocols: parseAlpnFlag(v.alpn) } : {}),
    ...(v['max-fragment'] !== undefined ? { maxFragmentLength: parseMfl(v['max-fragment']) } : {}),
  };
}

function parseMfl(v: string): 512 | 1024 | 2048 | 4096 {
  switch (v) {
    case '512':
      return 512;
    case '1024':
      return 1024;
    case '2048':
      return 2048;
    case '4096':
      return 4096;
    default:
      throw new CliError(`--max-fragment must be 512, 1024, 2048 or 4096, not "${v}"`);
  }
}

/** --reconnect N: a non-negative integer. */
export function parseReconnect(v: string | undefined): number {
  if (v === undefined) return 0;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 1000) throw new CliError(`--reconnect takes an integer 0..1000, not "${v}"`);
  return n;
}

function nameOf(dn: Record<string, unknown> | undefined): string {
  if (dn === undefined) return '?';
  return Object.entries(dn)
    .map(([k, val]) => `${k}=${Array.isArray(val) ? val.join('+') : String(val)}`)
    .join(', ');
}

function summary(s: TLSSocket, target: string): string {
  const c = s.getCipher();
  const kx = s.getEphemeralKeyInfo();
  const lines = [
    `connected to ${target}`,
    `protocol ${s.getProtocol() ?? '?'}, cipher ${c?.name ?? '?'} (${c?.standardName ?? '?'})${kx !== null && 'name' in kx ? `, group ${kx.name}` : ''}`,
    `session ${s.isSessionReused() ? 'resumed' : 'new'}${s.alpnProtocol !== false ? `, ALPN ${s.alpnProtocol}` : ''}`,
  ];
  const cert = s.getPeerCertificate();
  if (cert !== null && 'subject' in cert) {
    const pc = cert as unknown as { subject?: Record<string, unknown>; issuer?: Record<string, unknown>; valid_to?: string; subjectaltname?: string };
    lines.push(`server certificate: ${nameOf(pc.subject)}; issuer: ${nameOf(pc.issuer)}; expires ${pc.valid_to ?? '?'}${pc.subjectaltname !== undefined ? `; ${pc.subjectaltname}` : ''}`);
  }
  lines.push(
    s.authorized
      ? 'verification: ok'
      : `verification: FAILED (${`${s.authorizationError ?? '?'}: ${s.authorizationErrorMessage ?? ''}`}), continuing because of --insecure`,
  );
  return lines.map((l) => `* ${l}`).join('\n');
}

export async function main(argv: string[]): Promise<number> {
  return runCli(async () => {
    const { values, positionals } = parseCli({ ...parseConfig, args: argv }, clientUsage);
    if (values.help) {
      process.stdout.write(`${clientUsage}\n`);
      return 0;
    }
    if (positionals.length !== 1) throw new CliError(`expected exactly one HOST:PORT\n\n${clientUsage}`);
    const { host, port } = parseHostPort(positionals[0] ?? '');
    const opts = clientOptionsFromFlags(values, host, port);
    const reconnects = parseReconnect(values.reconnect);
    const target = `${host.includes(':') ? `[${host}]` : host}:${port}`;
    const say = (t: string): void => {
      if (!values.quiet) process.stderr.write(`${t}\n`);
    };
    // --reconnect: short connections first (handshake, close_notify), each resuming the last
    // session; the interactive connection below resumes too. One line each on stderr.
    let session: Buffer | undefined;
    for (let i = 0; i < reconnects; i++) {
      const r = await probe({ ...opts, ...(session === undefined ? {} : { session }) });
      if (r.error !== undefined) {
        process.stderr.write(`milagro-ts client: connection ${i + 1} failed: ${describeTlsError(r.error)}\n`);
        return 1;
      }
      process.stderr.write(`* connection ${i + 1}: ${r.reused ? 'resumed' : 'new session'} (${r.cipher})\n`);
      session = r.session ?? session;
    }
    const finalOpts: ConnectionOptions = session === undefined ? opts : { ...opts, session };
    let sent = 0;
    let received = 0;
    return await new Promise<number>((resolve) => {
      let failed = false;
      const s = connect(finalOpts, () => {
        if (reconnects > 0) process.stderr.write(`* connection ${reconnects + 1}: ${s.isSessionReused() ? 'resumed' : 'new session'} (${s.getCipher()?.name ?? '?'})\n`);
        say(summary(s, target));
        process.stdin.on('data', (d: Buffer) => {
          sent += d.length;
        });
        process.stdin.pipe(s);
      });
      const keylog = keylogSink();
      if (keylog !== undefined) s.on('keylog', keylog);
      s.on('data', (d: Buffer) => {
        received += d.length;
      });
      s.pipe(process.stdout, { end: false });
      s.on('error', (err) => {
        failed = true;
        process.stderr.write(`milagro-ts client: ${s.getProtocol() === null ? 'handshake failed' : 'connection error'}: ${describeTlsError(err)}\n`);
      });
      s.on('close', () => {
        process.stdin.unpipe(s);
        process.stdin.pause();
        say(`* closed: ${sent} bytes sent, ${received} bytes received`);
        resolve(failed ? 1 : 0);
      });
    });
  });
}

/** One short connection: handshake, remember the session, close with close_notify. */
async function probe(opts: ConnectionOptions): Promise<{ reused: boolean; cipher: string; session: Buffer | undefined; error?: Error }> {
  return await new Promise((resolve) => {
    let session: Buffer | undefined;
    let reused = false;
    let cipher = '?';
    let error: Error | undefined;
    const s = connect(opts, () => {
      reused = s.isSessionReused();
      cipher = s.getCipher()?.name ?? '?';
      session = s.getSession() ?? session;
      s.end();
    });
    const keylog = keylogSink();
    if (keylog !== undefined) s.on('keylog', keylog);
    s.on('session', (b: Buffer) => {
      session = b;
    });
    s.on('error', (e) => {
      error = e;
    });
    s.resume();
    s.on('close', () => resolve({ reused, cipher, session, ...(error === undefined ? {} : { error }) }));
  });
}
