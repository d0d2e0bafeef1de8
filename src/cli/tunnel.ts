/**
 * `milagro-ts tunnel server|client ...` (issue 14): the command-line face of src/tunnel. Flags
 * are turned into TunnelServerOptions / TunnelClientOptions; SIGHUP reloads keys and permits,
 * SIGTERM/SIGINT drain and exit. All logic lives in src/tunnel; this file only parses.
 */
import { loadEnrolmentKey } from '../identity/enrolment.ts';
import { normaliseDtaUrl } from '../identity/client/dta-client.ts';
import {
  createTunnelClient,
  createTunnelServer,
  parseEndpoint,
  startStatusServer,
  TUNNEL_DEFAULTS,
  type DtaRefresh,
  type Endpoint,
  type LogFormat,
  type P2pKey,
  type TunnelClientCredentials,
  type TunnelLogRecord,
  type TunnelServerCredentials,
} from '../tunnel/index.ts';
import { formatRecord } from '../tunnel/log.ts';
import { CliError, parseCli, runCli } from './common.ts';

export const tunnelUsage = `usage: milagro-ts tunnel server --listen HOST:PORT --target HOST:PORT|unix:PATH [mode] [options]
       milagro-ts tunnel client --listen HOST:PORT|unix:PATH --target HOST:PORT [mode] [options]

A tunnel server terminates TLS and forwards the plaintext to --target; a tunnel client accepts
plaintext on --listen and carries it over TLS to a tunnel server at --target.

mode MILAGRO_P2P (identities, no certificates):
  --identity NAME          our identity
  --key FILE               P2PServerKey (server) / P2PClientKey (client), from \`milagro-ts identity p2p-key\`
  --allow-identity NAME    server: a client identity to let through (repeatable, at least one)
  --server-identity NAME   client: the server's identity
  --dtas URL,URL,...       instead of --key: fetch the key and daily time permits from these DTAs
                           (also MILAGRO_DTAS); needs --enrol-key; refreshed every --refresh-interval
  --enrol-key FILE         enrolment key the DTAs trust, signs the refresh requests
  --permit-days N          permits fetched for today and the next N-1 days (default 2)
  --refresh-interval DUR   how often keys and permits are refetched (default 6h)

mode MILAGRO_CS (M-Pin):
  server: --server-key FILE  CSServerKey (\`milagro-ts identity server-key\`); --allow-identity NAME (repeatable; default any)
  client: --keystore FILE    from \`milagro-ts identity register\`; --pin-file FILE or --pin-env VAR;
          --dtas/--enrol-key to refresh the keystore's time permits (in memory)
  --no-time-permits        both sides: the milagro-tls mode without time permits

mode certificates:
  server: --cert FILE --key FILE [--ca FILE (require client certificates)] [--allow-cn CN] [--allow-san SAN] (repeatable)
  client: --ca FILE [--servername NAME] [--cert FILE --key FILE (client certificate)]

options:
  --max-connections N      open connections at most (default ${TUNNEL_DEFAULTS.maxConnections}); more are closed at once
  --handshake-timeout DUR  default ${TUNNEL_DEFAULTS.handshakeTimeoutMs / 1000}s
  --idle-timeout DUR       close after no data either way (default ${TUNNEL_DEFAULTS.idleTimeoutMs / 3_600_000}h; 0 = never)
  --connect-timeout DUR    dialling the target (default ${TUNNEL_DEFAULTS.connectTimeoutMs / 1000}s)
  --drain-timeout DUR      on SIGTERM, how long open connections may finish (default ${TUNNEL_DEFAULTS.drainTimeoutMs / 1000}s)
  --log-format text|json   one line per connection on stdout (default text)
  --status HOST:PORT       HTTP /healthz and /metrics (Prometheus)
  --provider noble|node    record-layer arithmetic (default noble)
  --workers N              server: worker threads for the Milagro pairings (default min(2, cores); 0 = in-process)
  -h, --help

DUR is a number of milliseconds or a duration like 500ms, 30s, 10m, 6h.
Signals: SIGHUP reloads keys, certificates and permits (open connections keep theirs);
SIGTERM/SIGINT stop accepting, drain, exit.`;

const parseConfig = {
  args: [] as string[],
  allowPositionals: true,
  strict: true,
  options: {
    listen: { type: 'string' },
    target: { type: 'string' },
    identity: { type: 'string' },
    key: { type: 'string' },
    'allow-identity': { type: 'string', multiple: true },
    'server-identity': { type: 'string' },
    dtas: { type: 'string' },
    'enrol-key': { type: 'string' },
    'permit-days': { type: 'string' },
    'refresh-interval': { type: 'string' },
    'server-key': { type: 'string' },
    keystore: { type: 'string' },
    'pin-file': { type: 'string' },
    'pin-env': { type: 'string' },
    'no-time-permits': { type: 'boolean', default: false },
    cert: { type: 'string' },
    ca: { type: 'string' },
    'allow-cn': { type: 'string', multiple: true },
    'allow-san': { type: 'string', multiple: true },
    servername: { type: 'string' },
    'max-connections': { type: 'string' },
    'handshake-timeout': { type: 'string' },
    'idle-timeout': { type: 'string' },
    'connect-timeout': { type: 'string' },
    'drain-timeout': { type: 'string' },
    'log-format': { type: 'string', default: 'text' },
    status: { type: 'string' },
    provider: { type: 'string', default: 'noble' },
    workers: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
} as const;

type Values = ReturnType<typeof parseCli<typeof parseConfig>>['values'];

/** "500ms", "30s", "10m", "6h", "1d" or a plain number of milliseconds. */
export function parseDuration(flag: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const m = /^([0-9]+(?:\.[0-9]+)?)(ms|s|m|h|d)?$/.exec(v.trim());
  if (m === null) throw new CliError(`${flag} takes milliseconds or a duration like 500ms, 30s, 10m, 6h, not "${v}"`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[(m[2] ?? 'ms') as 'ms' | 's' | 'm' | 'h' | 'd'];
  return Math.round(Number(m[1]) * unit);
}

function positiveInt(flag: string, v: string | undefined, allowZero = false): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < (allowZero ? 0 : 1)) throw new CliError(`${flag} takes a ${allowZero ? 'non-negative' : 'positive'} integer, not "${v}"`);
  return n;
}

function endpoint(flag: string, v: string | undefined, allowUnix: boolean): Endpoint {
  if (v === undefined) throw new CliError(`${flag} is required\n\n${tunnelUsage}`);
  try {
    return parseEndpoint(v, flag, allowUnix);
  } catch (e) {
    throw new CliError((e as Error).message);
  }
}

async function dtaRefresh(v: Values): Promise<DtaRefresh | undefined> {
  const list = v.dtas ?? process.env['MILAGRO_DTAS'];
  if (list === undefined || list.trim() === '') {
    if (v['enrol-key'] !== undefined) throw new CliError('--enrol-key is only used with --dtas URL,URL,... (or MILAGRO_DTAS)');
    return undefined;
  }
  if (v['enrol-key'] === undefined) throw new CliError('--dtas needs --enrol-key FILE: the enrolment key the DTAs trust signs each refresh request');
  let urls: string[];
  try {
    urls = list.split(',').map((s) => s.trim()).filter((s) => s !== '').map(normaliseDtaUrl);
  } catch (e) {
    throw new CliError(`--dtas: ${(e as Error).message}`);
  }
  const days = positiveInt('--permit-days', v['permit-days']);
  return { urls, enrolmentKey: await loadEnrolmentKey(v['enrol-key']), ...(days !== undefined ? { days } : {}) };
}

async function p2pKey(v: Values, dtas: DtaRefresh | undefined, kind: string): Promise<P2pKey> {
  if (dtas !== undefined) {
    if (v.key !== undefined) throw new CliError('give either --key FILE or --dtas (the key is then fetched from the DTAs), not both');
    return { dtas };
  }
  if (v.key === undefined) throw new CliError(`MILAGRO_P2P needs --key FILE (${kind}) or --dtas URL,... with --enrol-key FILE`);
  return { key: { file: v.key } };
}

type Mode = 'p2p' | 'cs' | 'cert';

function modeOf(v: Values, side: 'server' | 'client'): Mode {
  const modes: Mode[] = [];
  if (v.identity !== undefined) modes.push('p2p');
  if ((side === 'server' && v['server-key'] !== undefined) || (side === 'client' && v.keystore !== undefined)) modes.push('cs');
  if (v.cert !== undefined || v.ca !== undefined) modes.push('cert');
  if (modes.length === 1 && modes[0] !== undefined) return modes[0];
  if (modes.length === 0) {
    throw new CliError(
      `choose a mode: --identity NAME (MILAGRO_P2P), ${side === 'server' ? '--server-key FILE' : '--keystore FILE'} (MILAGRO_CS) or ${side === 'server' ? '--cert/--key' : '--ca'} (certificates)\n\n${tunnelUsage}`,
    );
  }
  throw new CliError(`flags of several modes given (${modes.join(', ')}); a tunnel uses one`);
}

async function serverCredentials(v: Values): Promise<TunnelServerCredentials> {
  const mode = modeOf(v, 'server');
  const dtas = await dtaRefresh(v);
  const allow = v['allow-identity'] ?? [];
  if (mode === 'p2p') {
    if (allow.length === 0) throw new CliError('a MILAGRO_P2P tunnel server needs --allow-identity NAME (once per client identity to let through)');
    return { mode, identity: v.identity ?? '', key: await p2pKey(v, dtas, 'P2PServerKey'), allowIdentities: allow };
  }
  if (mode === 'cs') {
    if (dtas !== undefined) throw new CliError('--dtas is not used by a MILAGRO_CS server (its server key does not expire); refresh permits on the clients');
    return { mode, serverKey: { file: v['server-key'] ?? '' }, timePermits: !v['no-time-permits'], allowIdentities: allow };
  }
  if (v.cert === undefined || v.key === undefined) throw new CliError('certificate mode needs --cert FILE and --key FILE');
  if (allow.length > 0) throw new CliError('--allow-identity is for the Milagro modes; with certificates use --allow-cn / --allow-san');
  return {
    mode,
    cert: { file: v.cert },
    key: { file: v.key },
    ...(v.ca !== undefined ? { ca: { file: v.ca } } : {}),
    allowCn: v['allow-cn'] ?? [],
    allowSan: v['allow-san'] ?? [],
  };
}

async function clientCredentials(v: Values): Promise<TunnelClientCredentials> {
  const mode = modeOf(v, 'client');
  const dtas = await dtaRefresh(v);
  if (v['allow-identity'] !== undefined || v['allow-cn'] !== undefined || v['allow-san'] !== undefined) {
    throw new CliError('--allow-identity/--allow-cn/--allow-san are server flags; a client names its server with --server-identity or --servername');
  }
  if (mode === 'p2p') {
    if (v['server-identity'] === undefined) throw new CliError("a MILAGRO_P2P tunnel client needs --server-identity NAME (the tunnel server's identity)");
    return { mode, identity: v.identity ?? '', key: await p2pKey(v, dtas, 'P2PClientKey'), serverIdentity: v['server-identity'] };
  }
  if (mode === 'cs') {
    const pin = v['pin-file'] !== undefined ? { file: v['pin-file'] } : v['pin-env'] !== undefined ? { env: v['pin-env'] } : undefined;
    if (pin === undefined) throw new CliError('a MILAGRO_CS tunnel client needs --pin-file FILE or --pin-env VAR (the PIN is never a flag: flags show up in ps)');
    return { mode, keystore: { file: v.keystore ?? '' }, pin, ...(dtas !== undefined ? { dtas } : {}), timePermits: !v['no-time-permits'] };
  }
  if (v.ca === undefined) throw new CliError('certificate mode needs --ca FILE (the CA that signed the server certificate)');
  if ((v.cert === undefined) !== (v.key === undefined)) throw new CliError('a client certificate needs both --cert FILE and --key FILE');
  return {
    mode,
    ca: { file: v.ca },
    ...(v.servername !== undefined ? { servername: v.servername } : {}),
    ...(v.cert !== undefined && v.key !== undefined ? { cert: { file: v.cert }, key: { file: v.key } } : {}),
  };
}

export async function main(argv: string[]): Promise<number> {
  return runCli(async () => {
    const { values: v, positionals } = parseCli({ ...parseConfig, args: argv }, tunnelUsage);
    if (v.help) {
      process.stdout.write(`${tunnelUsage}\n`);
      return 0;
    }
    const side = positionals[0];
    if ((side !== 'server' && side !== 'client') || positionals.length !== 1) throw new CliError(`say \`tunnel server\` or \`tunnel client\`\n\n${tunnelUsage}`);
    const format = v['log-format'];
    if (format !== 'text' && format !== 'json') throw new CliError(`--log-format must be text or json, not "${format}"`);
    const provider = v.provider;
    if (provider !== 'noble' && provider !== 'node') throw new CliError(`--provider must be noble or node, not "${provider}"`);
    const cryptoProvider: 'noble' | 'node' = provider;
    const log = (r: TunnelLogRecord): void => void process.stdout.write(`${formatRecord(r, format as LogFormat)}\n`);
    const opt = <K extends string>(k: K, n: number | undefined): { [P in K]?: number } => (n === undefined ? {} : ({ [k]: n } as { [P in K]?: number }));
    const common = {
      ...opt('maxConnections', positiveInt('--max-connections', v['max-connections'])),
      ...opt('handshakeTimeoutMs', parseDuration('--handshake-timeout', v['handshake-timeout'])),
      ...opt('idleTimeoutMs', parseDuration('--idle-timeout', v['idle-timeout'])),
      ...opt('connectTimeoutMs', parseDuration('--connect-timeout', v['connect-timeout'])),
      ...opt('drainTimeoutMs', parseDuration('--drain-timeout', v['drain-timeout'])),
      cryptoProvider,
      log,
    };
    const usesDtas = (v.dtas ?? process.env['MILAGRO_DTAS'] ?? '').trim() !== '';
    const refreshIntervalMs = usesDtas ? (parseDuration('--refresh-interval', v['refresh-interval']) ?? 6 * 3_600_000) : undefined;
    const status = v.status === undefined ? undefined : endpoint('--status', v.status, false);
    const workers = positiveInt('--workers', v.workers, true);

    let tunnel;
    try {
      tunnel =
        side === 'server'
          ? await createTunnelServer({
              ...common,
              listen: endpoint('--listen', v.listen, false),
              target: endpoint('--target', v.target, true),
              credentials: await serverCredentials(v),
              ...(refreshIntervalMs !== undefined ? { refreshIntervalMs } : {}),
              ...(workers !== undefined ? { workers } : {}),
            })
          : await createTunnelClient({
              ...common,
              listen: endpoint('--listen', v.listen, true),
              target: endpoint('--target', v.target, false) as { host: string; port: number },
              credentials: await clientCredentials(v),
              ...(refreshIntervalMs !== undefined ? { refreshIntervalMs } : {}),
            });
    } catch (e) {
      if (e instanceof CliError) throw e;
      throw new CliError(`cannot start the tunnel ${side}: ${(e as Error).message}`, 1);
    }
    const t = tunnel;
    const statusServer = status === undefined ? undefined : await startStatusServer(t, status);
    if (statusServer !== undefined) {
      const a = statusServer.address;
      log({ type: 'event', time: new Date().toISOString(), side, event: 'status_listening', detail: typeof a === 'string' ? a : `http://${a.address}:${a.port}/metrics` });
    }
    process.on('SIGHUP', () => void t.reload().catch(() => undefined)); // the outcome is logged
    await new Promise<void>((resolve) => {
      const stop = (): void => {
        process.off('SIGTERM', stop);
        process.off('SIGINT', stop);
        void t.close().then(() => resolve());
      };
      process.on('SIGTERM', stop);
      process.on('SIGINT', stop);
    });
    await new Promise<void>((r) => (statusServer === undefined ? r() : statusServer.server.close(() => r())));
    statusServer?.server.closeAllConnections();
    return 0;
  });
}
