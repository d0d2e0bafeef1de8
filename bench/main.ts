/**
 * `npm run bench -- <name> [--json] [...]`: dispatches to bench/<name>.ts, which exports
 * `run<Name>Bench({ json, ... })`. Modules are imported on demand so one missing or broken
 * benchmark is reported clearly without affecting the others.
 */
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';

const benches: Readonly<Record<string, { readonly file: string; readonly fn: string; readonly what: string }>> = {
  crypto: { file: 'crypto.ts', fn: 'runCryptoBench', what: 'BNCX pairing, M-Pin and WCC operations' },
  tls: { file: 'tls.ts', fn: 'runTlsBench', what: 'full handshakes/s and bulk MB/s vs node:tls' },
  record: { file: 'record.ts', fn: 'runRecordBench', what: 'record layer vs raw AEAD on 16 KiB records' },
  identity: { file: 'identity.ts', fn: 'runIdentityBench', what: 'DTA issuing and registration' },
  milagro: { file: 'milagro.ts', fn: 'runMilagroBench', what: 'MILAGRO_CS / MILAGRO_P2P handshakes, and under a junk flood' },
  chain: { file: 'chain.ts', fn: 'runChainBench', what: 'client chains of 500 look-alike intermediates vs a legitimate handshake' },
  tunnel: { file: 'tunnel.ts', fn: 'runTunnelBench', what: 'tunnel client + server (MILAGRO_P2P) vs direct TCP and node:tls forwarders: MB/s, added latency' },
  hostile: { file: 'hostile.ts', fn: 'runHostileBench', what: 'server memory per hostile connection vs what it costs the sender' },
  cluster: { file: 'cluster.ts', fn: 'runClusterBench', what: 'N = 1, 2, 4 server processes sharing a store: CS/ECDHE handshakes/s, cross-process replay + resumption' },
  web: { file: 'web.ts', fn: 'runWebBench', what: 'M-Pin relying party: GET / latency under a lock-out attack' },
};

function usage(): string {
  return [
    'usage: npm run bench -- <name> [--json]',
    '',
    ...Object.entries(benches).map(([k, b]) => `  ${k.padEnd(9)} ${b.what}`),
  ].join('\n');
}

async function main(argv: string[]): Promise<number> {
  const name = argv.find((a) => !a.startsWith('-'));
  const flags = new Set(argv.filter((a) => a.startsWith('-')));
  if (name === undefined || flags.has('--help') || flags.has('-h')) {
    console.error(usage());
    return name === undefined && !flags.has('--help') && !flags.has('-h') ? 2 : 0;
  }
  const b = Object.hasOwn(benches, name) ? benches[name] : undefined;
  if (b === undefined) {
    console.error(`unknown benchmark "${name}"\n\n${usage()}`);
    return 2;
  }
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(resolve(import.meta.dirname, b.file)).href)) as Record<string, unknown>;
  } catch (e) {
    console.error(`benchmark "${name}" is not available: cannot load bench/${b.file} (${(e as Error).message})`);
    return 2;
  }
  const fn = mod[b.fn];
  if (typeof fn !== 'function') {
    console.error(`benchmark "${name}": bench/${b.file} does not export ${b.fn}({ json })`);
    return 2;
  }
  await (fn as (o: { json: boolean; quick: boolean; wallClock: boolean }) => Promise<unknown>)({
    json: flags.has('--json'),
    quick: flags.has('--quick'),
    wallClock: flags.has('--wall'),
  });
  return 0;
}

process.exitCode = await main(process.argv.slice(2));
