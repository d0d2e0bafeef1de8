/**
 * `milagro-ts client HOST:PORT [--servername NAME] [--ca FILE] [--ciphers LIST] [--insecure]`
 * (issue 3 item 8): like `openssl s_client`. stdin goes to the server, server data to stdout,
 * the handshake summary and closing status to stderr. End of stdin sends close_notify; the
 * client then keeps reading until the server closes.
 */
import { connect, type ConnectionOptions, type TLSSocket } from '../index.ts';
import { CliError, describeTlsError, keylogSink, parseCli, readFileArg, runCli } from './common.ts';

export const clientUsage = `usage: milagro-ts client HOST:PORT [options]

  --servername NAME  SNI and the name to verify (default: HOST; IP addresses are verified but not sent as SNI)
  --ca FILE          trust anchors, PEM (without it nothing verifies: use --insecure to go on anyway)
  --ciphers LIST     colon-separated suites, e.g. ECDHE-ECDSA-CHACHA20-POLY1305
  --curves LIST      ECDHE groups, e.g. X25519:P-256
  --insecure         continue even if the server certificate does not verify
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
    ...(v.ca !== undefined ? { ca: readFileArg('--ca', v.ca, 'a PEM file of CA certificates') } : {}),
    ...(v.ciphers !== undefined ? { ciphers: v.ciphers } : {}),
    ...(v.curves !== undefined ? { ecdhCurve: v.curves } : {}),
    rejectUnauthorized: !v.insecure,
    cryptoProvider: v.provider,
  };
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
  ];
  const cert = s.getPeerCertificate();
  if (cert !== null && 'subject' in cert) {
    const pc = cert as unknown as { subject?: Record<string, unknown>; issuer?: Record<string, unknown>; valid_to?: string; subjectaltname?: string };
    lines.push(`server certificate: ${nameOf(pc.subject)}; issuer: ${nameOf(pc.issuer)}; expires ${pc.valid_to ?? '?'}${pc.subjectaltname !== undefined ? `; ${pc.subjectaltname}` : ''}`);
  }
  lines.push(
    s.authorized
      ? 'verification: ok'
      : `verification: FAILED (${describeTlsError(s.authorizationError)}), continuing because of --insecure`,
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
    if (values.ca === undefined && !values.insecure) {
      throw new CliError('no --ca given: the server certificate cannot be verified; pass --ca FILE (PEM) or --insecure');
    }
    const opts = clientOptionsFromFlags(values, host, port);
    const target = `${host.includes(':') ? `[${host}]` : host}:${port}`;
    const say = (t: string): void => {
      if (!values.quiet) process.stderr.write(`${t}\n`);
    };
    let sent = 0;
    let received = 0;
    return await new Promise<number>((resolve) => {
      let failed = false;
      const s = connect(opts, () => {
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
