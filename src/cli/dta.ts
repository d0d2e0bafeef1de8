/**
 * `milagro-ts dta ...`: run a Distributed Trust Authority (src/identity/dta) or query one.
 *
 *   milagro-ts dta serve --data-dir DIR --port N --trust-file admin.key.pub
 *   milagro-ts dta status http://127.0.0.1:8101
 */
import { callDta } from '../identity/client/dta-client.ts';
import { DtaService } from '../identity/dta/server.ts';
import { parseTrustFile } from '../identity/enrolment.ts';
import { DtaCallError, IdentityInputError, ShareFileError } from '../identity/errors.ts';
import { MilagroCrypto } from '../identity/milagro-crypto.ts';
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { CliError, parseCli, readFileArg, runCli } from './common.ts';
import { openStoreFlag, redactSpec } from './store-flag.ts';

const USAGE = `usage:
  milagro-ts dta serve --data-dir DIR [--port 8101] [--host 127.0.0.1]
                       (--trust PUBKEY_HEX | --trust-file FILE)... [--passphrase-file FILE]
                       [--tls-cert FILE --tls-key FILE] [--max-permit-days 7] [--max-body-bytes 16384] [--quiet]
                       [--store sqlite:DIR/state.db | redis://HOST:PORT/DB]
  milagro-ts dta status URL

serve   Start a DTA. On first start it creates its master-secret share in DIR (mode 0600);
        later starts reuse it, and refuse to start if it is unreadable or corrupt.
        Issuing requests must be signed by a trusted enrolment key (see
        \`milagro-ts identity keygen\`). The share is encrypted when a passphrase is given
        (--passphrase-file, or the environment variable MILAGRO_DTA_PASSPHRASE).
        Shares travel in the responses: outside loopback, serve HTTPS with --tls-cert/--tls-key
        (PEM) or put the DTA behind a TLS proxy.
        --store: where the request-nonce replay cache and the revocations live; replicas of
        one DTA (copies of the same share) given the same redis:// store refuse each other's
        used requests and see each other's revocations. Default: sqlite:DIR/state.db.
status  Print a DTA's version, share fingerprint and start time.`;

function intOption(name: string, v: string | undefined, dflt: number, min: number, max: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < min || n > max) throw new CliError(`--${name} must be an integer in ${min}..${max}`);
  return n;
}

async function serve(argv: string[]): Promise<number> {
  const { values } = parseCli(
    {
      args: argv,
      options: {
        'data-dir': { type: 'string' },
        port: { type: 'string' },
        host: { type: 'string' },
        trust: { type: 'string', multiple: true },
        'trust-file': { type: 'string', multiple: true },
        'passphrase-file': { type: 'string' },
        'max-permit-days': { type: 'string' },
        'max-body-bytes': { type: 'string' },
        'tls-cert': { type: 'string' },
        'tls-key': { type: 'string' },
        quiet: { type: 'boolean' },
        store: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      allowPositionals: false,
    },
    USAGE,
  );
  if (values.help === true) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const dataDir = values['data-dir'];
  if (dataDir === undefined) throw new CliError(`--data-dir DIR is required (where the share and revocation list live)\n\n${USAGE}`);
  const trusted: string[] = [];
  for (const t of values.trust ?? []) {
    if (!/^[0-9a-fA-F]{64}$/.test(t)) throw new CliError(`--trust ${t}: expected a 64-hex-character Ed25519 public key (the .pub file of \`milagro-ts identity keygen\`)`);
    trusted.push(t.toLowerCase());
  }
  for (const f of values['trust-file'] ?? []) {
    try {
      trusted.push(...parseTrustFile(readFileArg('--trust-file', f, 'a file with one enrolment public key per line').toString('utf8'), f));
    } catch (e) {
      if (e instanceof IdentityInputError) throw new CliError(e.message);
      throw e;
    }
  }
  if (trusted.length === 0) throw new CliError('no trusted enrolment key: pass --trust-file admin.key.pub (create it with `milagro-ts identity keygen --out admin.key`)');
  let passphrase: string | undefined = process.env['MILAGRO_DTA_PASSPHRASE'];
  const pf = values['passphrase-file'];
  if (pf !== undefined) passphrase = readFileArg('--passphrase-file', pf, 'a file holding the share passphrase').toString('utf8').replace(/\r?\n$/, '');
  if (passphrase === '') throw new CliError('the share passphrase is empty');
  const port = intOption('port', values.port, 8101, 0, 65535);
  const certFile = values['tls-cert'];
  const keyFile = values['tls-key'];
  if ((certFile === undefined) !== (keyFile === undefined)) throw new CliError('--tls-cert and --tls-key go together (PEM certificate chain and its private key)');
  const tls =
    certFile !== undefined && keyFile !== undefined
      ? { cert: readFileArg('--tls-cert', certFile, 'a PEM certificate chain'), key: readFileArg('--tls-key', keyFile, 'the PEM private key of --tls-cert') }
      : undefined;
  const quiet = values.quiet === true;
  // The default store lives in the data folder, which may not exist yet on a first start.
  if (values.store === undefined) mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const { store, spec } = await openStoreFlag(values.store, () => `sqlite:${join(dataDir, 'state.db')}`, (l) => process.stderr.write(`dta: ${l}\n`));
  let service: DtaService;
  try {
    service = await DtaService.open({
      dataDir,
      crypto: new MilagroCrypto(),
      trustedKeys: [...new Set(trusted)],
      passphrase,
      maxPermitDaysAhead: intOption('max-permit-days', values['max-permit-days'], 7, 0, 366),
      maxBodyBytes: intOption('max-body-bytes', values['max-body-bytes'], 16 * 1024, 1024, 1 << 20),
      ...(tls !== undefined ? { tls } : {}),
      ...(quiet ? {} : { log: (line: string) => process.stderr.write(`dta: ${line}\n`) }),
      store,
    });
  } catch (e) {
    await store.close();
    if (e instanceof ShareFileError) throw new CliError(e.message, 1);
    throw e;
  }
  const host = values.host ?? '127.0.0.1';
  const bound = await service.listen(port, host).catch((e: unknown) => {
    throw new CliError(`cannot listen on ${host}:${port} (${(e as Error).message})`, 1);
  });
  process.stderr.write(
    `dta: ${service.shareCreated ? 'created a new' : 'loaded its'} master share (fingerprint ${service.fingerprint}); ` +
      `listening on ${service.scheme}://${host}:${bound} with ${trusted.length} trusted enrolment key(s); store ${redactSpec(spec)}\n`,
  );
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      void service
        .close()
        .then(() => store.close())
        .then(resolve);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  return 0;
}

async function status(argv: string[]): Promise<number> {
  const { values, positionals } = parseCli({ args: argv, options: { help: { type: 'boolean', short: 'h', default: false } }, allowPositionals: true }, USAGE);
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const url = positionals[0];
  if (url === undefined || positionals.length !== 1) throw new CliError(`dta status takes one URL\n\n${USAGE}`);
  try {
    const st = await callDta(url, '/v1/status', undefined);
    process.stdout.write(`${JSON.stringify(st, null, 2)}\n`);
    return 0;
  } catch (e) {
    if (e instanceof DtaCallError) throw new CliError(e.message, 1);
    throw e;
  }
}

export async function main(argv: string[]): Promise<number> {
  return runCli(async () => {
    const [sub, ...rest] = argv;
    switch (sub) {
      case 'serve':
        return serve(rest);
      case 'status':
        return status(rest);
      case undefined:
      case '--help':
      case '-h':
      case 'help':
        (sub === undefined ? process.stderr : process.stdout).write(`${USAGE}\n`);
        return sub === undefined ? 2 : 0;
      default:
        throw new CliError(`unknown dta subcommand "${sub}"\n\n${USAGE}`);
    }
  });
}

