/**
 * `milagro-ts identity ...`: the administrator and user side of the identity layer
 * (issue 5 items 2, 3, 5). See src/identity/README.md for a walk-through.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { bytesToHex } from '../codec/bytes.ts';
import { type EnrolmentKey, generateEnrolmentKey, OPERATIONS, type Operation, type RequestParams, signRequest, type SignedRequest } from '../identity/auth.ts';
import { DtaFanOutError, normaliseDtaUrl } from '../identity/client/dta-client.ts';
import { loadKeystore, saveKeystore } from '../identity/client/keystore.ts';
import { createPass, DEFAULT_PIN_DIGITS, encodeIdentity, hashIdHex, passToJson, refreshPermits, registerIdentity } from '../identity/client/mpin-client.ts';
import { fetchServerSecret, fetchWccKey, revokeEverywhere } from '../identity/client/shares.ts';
import { dayOf } from '../identity/crypto-port.ts';
import { bundleToJson, loadEnrolmentKey, parseBundle, type RegistrationBundle, saveEnrolmentKey } from '../identity/enrolment.ts';
import { DtaCallError, IdentityInputError } from '../identity/errors.ts';
import { readHexKeyFile, writeHexKeyFile } from '../identity/hex-files.ts';
import { MilagroCrypto } from '../identity/milagro-crypto.ts';
import { MpinVerifier, type PassMessage } from '../identity/server/verifier.ts';
import { systemClock, systemRandom } from '../providers.ts';
import { CliError, parseCli, runCli } from './common.ts';

const USAGE = `usage: milagro-ts identity <subcommand> [options]

administrator:
  keygen --out admin.key                 create an Ed25519 enrolment key (+ admin.key.pub for the DTAs)
  sign [ID] --op OP --enrol-key FILE [--valid 10m] [--from-day N] [--to-day N]
       [--with-permits] [--reason TEXT] [--out FILE]
                                         sign a request; OP is register (bundle for a remote user),
                                         ${OPERATIONS.join(', ')}
  revoke ID --dta URL... --enrol-key FILE [--reason TEXT]
                                         revoke ID at every DTA (no new time permits or keys)
  server-key --dta URL... --enrol-key FILE [--out CSServerKey]
                                         assemble a MILAGRO_CS server secret from the DTAs
  p2p-key ID --role server|client --dta URL... --enrol-key FILE [--out FILE]
                                         MILAGRO_P2P key: server -> P2PServerKey (G1), client -> P2PClientKey (G2)

user:
  register ID --dta URL... --keystore FILE (--enrol-key FILE | --requests FILE) [--no-permits]
                                         fetch shares from every DTA, recombine, extract the PIN
                                         (read from stdin or MILAGRO_PIN; ${DEFAULT_PIN_DIGITS} digits)
  permits --keystore FILE (--enrol-key FILE | --request FILE) [--dta URL...]
                                         fetch time permits (today .. today+7) into the keystore
  export --keystore FILE [--out-dir DIR] write CSClientKey and today's CSTimePermit (original hex format)
  import ID --cs-client-key FILE [--cs-time-permit FILE --day N] --keystore FILE
                                         build a keystore from the original programs' key files
  pass --keystore FILE [--no-time-permit]
                                         print one-pass M-Pin values (JSON) for now; PIN from stdin
  verify --server-key CSServerKey [--no-time-permits] [PASS_FILE]
                                         check one-pass values (JSON, file or stdin); exit 0 if accepted
  hash ID                                print SHA-256(ID), the only form of ID the DTAs see
  login --access-number N --site URL --keystore FILE
                                         sign in the browser showing access number N (M-Pin web login)
  token --site URL --keystore FILE [--audience A]
                                         sign in to the site and print a one-time login token

DTAs can also be listed in MILAGRO_DTAS (comma-separated) instead of --dta.`;

const crypto = new MilagroCrypto();
const deps = { clock: systemClock, random: systemRandom };

function parseDuration(s: string): number {
  const m = /^([0-9]+)(s|m|h|d)$/.exec(s);
  if (m === null) throw new CliError(`--valid ${s}: write a duration like 30s, 10m, 1h or 1d`);
  const unit = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 's' | 'm' | 'h' | 'd'];
  return Number(m[1]) * unit;
}

function dayOption(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n <= 0) throw new CliError(`--${name} must be a day number (days since 1970-01-01; today is ${dayOf(systemClock())})`);
  return n;
}

function dtaList(values: { dta?: string[] | undefined }, fallback?: readonly string[]): string[] {
  const list = values.dta ?? process.env['MILAGRO_DTAS']?.split(',').map((s) => s.trim()).filter((s) => s !== '') ?? [...(fallback ?? [])];
  if (list.length === 0) throw new CliError('no DTAs: pass --dta URL once per authority (or set MILAGRO_DTAS)');
  try {
    return list.map(normaliseDtaUrl);
  } catch (e) {
    throw new CliError((e as Error).message);
  }
}

function oneIdentity(positionals: string[], what: string): string {
  const id = positionals[0];
  if (id === undefined || positionals.length !== 1) throw new CliError(`${what} takes exactly one identity, e.g. alice@example.com`);
  encodeIdentity(id);
  return id;
}

async function readStdinLine(prompt: string): Promise<string> {
  if (process.stdin.isTTY) process.stderr.write(prompt);
  const rl = createInterface({ input: process.stdin, terminal: false });
  try {
    for await (const line of rl) return line;
  } finally {
    rl.close();
  }
  throw new CliError('no PIN on stdin: pipe it in (echo 1234 | ...) or set MILAGRO_PIN');
}

async function readPin(): Promise<string> {
  return process.env['MILAGRO_PIN'] ?? (await readStdinLine('PIN: '));
}

async function readSigned(path: string): Promise<SignedRequest> {
  const text = await readFile(path, 'utf8').catch((e: unknown) => {
    throw new CliError(`--request ${path}: ${(e as Error).message}`);
  });
  const o = JSON.parse(text) as Record<string, unknown>;
  if (typeof o['request'] !== 'string' || typeof o['keyId'] !== 'string' || typeof o['signature'] !== 'string') {
    throw new CliError(`${path} is not a signed request (written by \`milagro-ts identity sign\`)`);
  }
  return { request: o['request'], keyId: o['keyId'], signature: o['signature'] };
}

function sign(key: EnrolmentKey, params: RequestParams, lifetimeMs?: number): SignedRequest {
  return signRequest(key, params, { ...deps, ...(lifetimeMs !== undefined ? { lifetimeMs } : {}) });
}

async function writeOut(out: string | undefined, text: string): Promise<void> {
  if (out === undefined) process.stdout.write(text);
  else {
    const { writePrivateFile } = await import('../identity/files.ts');
    await writePrivateFile(out, text, systemRandom);
    process.stderr.write(`wrote ${out}\n`);
  }
}

const common = {
  dta: { type: 'string', multiple: true },
  'enrol-key': { type: 'string' },
  keystore: { type: 'string' },
  out: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

async function keygen(argv: string[]): Promise<number> {
  const { values } = parseCli({ args: argv, options: { out: { type: 'string' } } }, USAGE);
  if (values.out === undefined) throw new CliError('keygen needs --out FILE (e.g. --out admin.key)');
  const key = generateEnrolmentKey(systemRandom);
  await saveEnrolmentKey(values.out, key, systemRandom);
  process.stderr.write(`wrote ${values.out} (secret, mode 0600) and ${values.out}.pub; start DTAs with --trust-file ${values.out}.pub\n`);
  process.stdout.write(`${bytesToHex(key.publicKey)}\n`);
  return 0;
}

async function signCmd(argv: string[]): Promise<number> {
  const { values, positionals } = parseCli(
    {
      args: argv,
      allowPositionals: true,
      options: {
        ...common,
        op: { type: 'string' },
        valid: { type: 'string' },
        'from-day': { type: 'string' },
        'to-day': { type: 'string' },
        'with-permits': { type: 'boolean' },
        reason: { type: 'string' },
      },
    },
    USAGE,
  );
  const op = values.op;
  if (op === undefined) throw new CliError(`sign needs --op (register, ${OPERATIONS.join(', ')})`);
  if (values['enrol-key'] === undefined) throw new CliError('sign needs --enrol-key FILE');
  const key = await loadEnrolmentKey(values['enrol-key']);
  const lifetime = values.valid === undefined ? undefined : parseDuration(values.valid);
  const fromDay = dayOption('from-day', values['from-day']);
  const toDay = dayOption('to-day', values['to-day']);
  const range = { ...(fromDay !== undefined ? { fromDay } : {}), ...(toDay !== undefined ? { toDay } : {}) };
  if (op === 'register') {
    const identity = oneIdentity(positionals, 'sign --op register');
    const hashId = hashIdHex(crypto, identity);
    const bundle: RegistrationBundle = {
      identity,
      clientSecret: sign(key, { op: 'client-secret', hashId }, lifetime),
      timePermits: sign(key, { op: 'time-permits', hashId, ...range }, lifetime),
    };
    await writeOut(values.out, bundleToJson(bundle));
    return 0;
  }
  if (!(OPERATIONS as readonly string[]).includes(op)) throw new CliError(`unknown --op ${op}; use register, ${OPERATIONS.join(', ')}`);
  const operation = op as Operation;
  const params: RequestParams =
    operation === 'server-secret'
      ? { op: operation }
      : {
          op: operation,
          hashId: hashIdHex(crypto, oneIdentity(positionals, `sign --op ${op}`)),
          ...range,
          ...(values['with-permits'] === true ? { withPermits: true } : {}),
          ...(values.reason !== undefined ? { reason: values.reason } : {}),
        };
  await writeOut(values.out, `${JSON.stringify(sign(key, params, lifetime), null, 2)}\n`);
  return 0;
}

async function register(argv: string[]): Promise<number> {
  const { values, positionals } = parseCli(
    { args: argv, allowPositionals: true, options: { ...common, requests: { type: 'string' }, 'no-permits': { type: 'boolean' } } },
    USAGE,
  );
  if (values.keystore === undefined) throw new CliError('register needs --keystore FILE (where the token is stored, mode 0600)');
  let identity: string;
  let bundle: RegistrationBundle;
  if (values.requests !== undefined) {
    bundle = parseBundle(await readFile(values.requests, 'utf8'), values.requests);
    identity = positionals.length === 0 ? bundle.identity : oneIdentity(positionals, 'register');
    if (identity !== bundle.identity) throw new CliError(`${values.requests} was signed for ${bundle.identity}, not ${identity}`);
  } else if (values['enrol-key'] !== undefined) {
    identity = oneIdentity(positionals, 'register');
    const key = await loadEnrolmentKey(values['enrol-key']);
    const hashId = hashIdHex(crypto, identity);
    bundle = { identity, clientSecret: sign(key, { op: 'client-secret', hashId }), timePermits: sign(key, { op: 'time-permits', hashId }) };
  } else {
    throw new CliError('register needs --enrol-key FILE (administrator) or --requests FILE (from `identity sign ID --op register`)');
  }
  const dtas = dtaList(values);
  const pin = await readPin();
  const ks = await registerIdentity({
    crypto,
    identity,
    pin,
    dtas,
    clientSecretRequest: bundle.clientSecret,
    ...(values['no-permits'] !== true && bundle.timePermits !== undefined ? { timePermitRequest: bundle.timePermits } : {}),
  });
  await saveKeystore(values.keystore, ks, systemRandom);
  const days = [...ks.permits.keys()];
  process.stderr.write(
    `registered ${identity} with ${dtas.length} DTAs; keystore ${values.keystore}` +
      (days.length > 0 ? `, time permits for days ${Math.min(...days)}..${Math.max(...days)}` : ', no time permits') +
      '\n',
  );
  return 0;
}

async function permits(argv: string[]): Promise<number> {
  const { values } = parseCli({ args: argv, options: { ...common, request: { type: 'string' } } }, USAGE);
  if (values.keystore === undefined) throw new CliError('permits needs --keystore FILE');
  const ks = await loadKeystore(values.keystore, crypto);
  let request: SignedRequest;
  if (values.request !== undefined) request = await readSigned(values.request);
  else if (values['enrol-key'] !== undefined) request = sign(await loadEnrolmentKey(values['enrol-key']), { op: 'time-permits', hashId: ks.hashId });
  else throw new CliError('permits needs --enrol-key FILE or --request FILE (from `identity sign ID --op time-permits`)');
  const next = await refreshPermits(ks, { crypto, dtas: dtaList(values, ks.dtas), request, clock: systemClock });
  await saveKeystore(values.keystore, next, systemRandom);
  process.stderr.write(`keystore ${values.keystore} now holds permits for days ${[...next.permits.keys()].join(', ')}\n`);
  return 0;
}

async function exportCmd(argv: string[]): Promise<number> {
  const { values } = parseCli({ args: argv, options: { ...common, 'out-dir': { type: 'string' } } }, USAGE);
  if (values.keystore === undefined) throw new CliError('export needs --keystore FILE');
  const ks = await loadKeystore(values.keystore, crypto);
  const dir = values['out-dir'] ?? '.';
  await writeHexKeyFile(join(dir, 'CSClientKey'), 'CSClientKey', ks.token, crypto, systemRandom);
  process.stderr.write(`wrote ${join(dir, 'CSClientKey')}\n`);
  const today = dayOf(systemClock());
  const permit = ks.permits.get(today);
  if (permit === undefined) {
    process.stderr.write(`no time permit for today (day ${today}); CSTimePermit not written. Run \`milagro-ts identity permits\` first.\n`);
    return 1;
  }
  await writeHexKeyFile(join(dir, 'CSTimePermit'), 'CSTimePermit', permit, crypto, systemRandom);
  process.stderr.write(`wrote ${join(dir, 'CSTimePermit')} (day ${today})\n`);
  return 0;
}

async function importCmd(argv: string[]): Promise<number> {
  const { values, positionals } = parseCli(
    { args: argv, allowPositionals: true, options: { ...common, 'cs-client-key': { type: 'string' }, 'cs-time-permit': { type: 'string' }, day: { type: 'string' } } },
    USAGE,
  );
  const identity = oneIdentity(positionals, 'import');
  if (values.keystore === undefined || values['cs-client-key'] === undefined) throw new CliError('import needs --cs-client-key FILE and --keystore FILE');
  const token = await readHexKeyFile(values['cs-client-key'], 'CSClientKey', crypto);
  const permitsMap = new Map<number, Uint8Array>();
  if (values['cs-time-permit'] !== undefined) {
    const day = dayOption('day', values.day);
    if (day === undefined) throw new CliError('--cs-time-permit needs --day N (the day the permit was issued for)');
    permitsMap.set(day, await readHexKeyFile(values['cs-time-permit'], 'CSTimePermit', crypto));
  }
  await saveKeystore(values.keystore, { identity, hashId: hashIdHex(crypto, identity), token, pinDigits: DEFAULT_PIN_DIGITS, permits: permitsMap, dtas: [], fingerprints: [] }, systemRandom);
  process.stderr.write(`wrote keystore ${values.keystore}\n`);
  return 0;
}

async function requestFor(values: { 'enrol-key'?: string | undefined; request?: string | undefined }, params: RequestParams): Promise<SignedRequest> {
  if (values.request !== undefined) return readSigned(values.request);
  if (values['enrol-key'] !== undefined) return sign(await loadEnrolmentKey(values['enrol-key']), params);
  throw new CliError(`needs --enrol-key FILE or --request FILE (from \`milagro-ts identity sign --op ${params.op}\`)`);
}

async function serverKey(argv: string[]): Promise<number> {
  const { values } = parseCli({ args: argv, options: { ...common, request: { type: 'string' } } }, USAGE);
  const ss = await fetchServerSecret({ crypto, dtas: dtaList(values), request: await requestFor(values, { op: 'server-secret' }) });
  const out = values.out ?? 'CSServerKey';
  await writeHexKeyFile(out, 'CSServerKey', ss.key, crypto, systemRandom);
  process.stderr.write(`wrote ${out} (server secret from ${ss.fingerprints.length} DTAs)\n`);
  return 0;
}

async function p2pKey(argv: string[]): Promise<number> {
  const { values, positionals } = parseCli({ args: argv, allowPositionals: true, options: { ...common, request: { type: 'string' }, role: { type: 'string' } } }, USAGE);
  const identity = oneIdentity(positionals, 'p2p-key');
  const role = values.role;
  if (role !== 'server' && role !== 'client') throw new CliError('p2p-key needs --role server (WCC sender, G1) or --role client (WCC receiver, G2)');
  const hashId = hashIdHex(crypto, identity);
  const op: Operation = role === 'server' ? 'wcc-sender' : 'wcc-receiver';
  const key = await fetchWccKey({ crypto, dtas: dtaList(values), hashId, role: role === 'server' ? 'sender' : 'receiver', request: await requestFor(values, { op, hashId }) });
  const kind = role === 'server' ? 'P2PServerKey' : 'P2PClientKey';
  const out = values.out ?? kind;
  await writeHexKeyFile(out, kind, key.key, crypto, systemRandom);
  process.stderr.write(`wrote ${out} for ${identity}\n`);
  return 0;
}

async function revoke(argv: string[]): Promise<number> {
  const { values, positionals } = parseCli({ args: argv, allowPositionals: true, options: { ...common, request: { type: 'string' }, reason: { type: 'string' } } }, USAGE);
  const identity = oneIdentity(positionals, 'revoke');
  const hashId = hashIdHex(crypto, identity);
  const dtas = dtaList(values);
  await revokeEverywhere({ dtas, request: await requestFor(values, { op: 'revoke', hashId, ...(values.reason !== undefined ? { reason: values.reason } : {}) }) });
  process.stderr.write(`revoked ${identity} (${hashId}) at ${dtas.length} DTAs\n`);
  return 0;
}

async function passCmd(argv: string[]): Promise<number> {
  const { values } = parseCli({ args: argv, options: { ...common, 'no-time-permit': { type: 'boolean' } } }, USAGE);
  if (values.keystore === undefined) throw new CliError('pass needs --keystore FILE');
  const ks = await loadKeystore(values.keystore, crypto);
  const pin = await readPin();
  const p = createPass({ crypto, keystore: ks, pin, ...deps, useTimePermit: values['no-time-permit'] !== true });
  process.stdout.write(`${JSON.stringify(passToJson(p))}\n`);
  return 0;
}

async function verify(argv: string[]): Promise<number> {
  const { values, positionals } = parseCli(
    { args: argv, allowPositionals: true, options: { 'server-key': { type: 'string' }, 'no-time-permits': { type: 'boolean' } } },
    USAGE,
  );
  if (values['server-key'] === undefined) throw new CliError('verify needs --server-key CSServerKey');
  const serverSecret = await readHexKeyFile(values['server-key'], 'CSServerKey', crypto);
  const src = positionals[0];
  let text: string;
  if (src === undefined || src === '-') {
    const chunks: Buffer[] = [];
    for await (const c of process.stdin) chunks.push(c as Buffer);
    text = Buffer.concat(chunks).toString('utf8');
  } else text = await readFile(src, 'utf8');
  let msg: PassMessage;
  try {
    msg = JSON.parse(text) as PassMessage;
  } catch {
    throw new CliError('the pass is not JSON (expected the output of `milagro-ts identity pass`)');
  }
  const v = new MpinVerifier({ crypto, serverSecret, clock: systemClock, requireTimePermits: values['no-time-permits'] !== true });
  const outcome = v.verify(msg);
  process.stdout.write(`${JSON.stringify(outcome)}\n`);
  return outcome.ok ? 0 : 1;
}

async function hash(argv: string[]): Promise<number> {
  const { positionals } = parseCli({ args: argv, allowPositionals: true, options: {} }, USAGE);
  process.stdout.write(`${hashIdHex(crypto, oneIdentity(positionals, 'hash'))}\n`);
  return 0;
}

const SUBCOMMANDS: Readonly<Record<string, (argv: string[]) => Promise<number>>> = {
  keygen,
  sign: signCmd,
  register,
  permits,
  export: exportCmd,
  import: importCmd,
  'server-key': serverKey,
  'p2p-key': p2pKey,
  revoke,
  pass: passCmd,
  verify,
  hash,
  login: async (argv) => (await import('./identity-login.ts')).login(argv),
  token: async (argv) => (await import('./identity-token.ts')).token(argv),
};

export async function main(argv: string[]): Promise<number> {
  return runCli(async () => {
    const [sub, ...rest] = argv;
    if (sub === undefined || sub === '--help' || sub === '-h' || sub === 'help') {
      (sub === undefined ? process.stderr : process.stdout).write(`${USAGE}\n`);
      return sub === undefined ? 2 : 0;
    }
    const run = Object.hasOwn(SUBCOMMANDS, sub) ? SUBCOMMANDS[sub] : undefined;
    if (run === undefined) throw new CliError(`unknown identity subcommand "${sub}"\n\n${USAGE}`);
    if (rest.includes('--help') || rest.includes('-h')) {
      process.stdout.write(`${USAGE}\n`);
      return 0;
    }
    try {
      return await run(rest);
    } catch (e) {
      if (e instanceof DtaFanOutError) throw new CliError(`nothing was stored: ${e.message}`, 1);
      if (e instanceof DtaCallError || e instanceof IdentityInputError) throw new CliError(e.message, 1);
      throw e;
    }
  });
}
