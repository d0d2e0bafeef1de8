/**
 * Live interop with the original milagro-tls demo programs (issue 6 item 5), run by
 * `npm run interop` (or alone: `npx tsx interop/milagro-tls.ts`).
 *
 * Runs only when MILAGRO_TLS_PROGRAMS names a folder holding `tls_client`, `tls_server`, `TA_cs`
 * and `TA_p2p` built from milagro-tls; otherwise prints that it skipped. The programs read and
 * write hex key files in their working directory (CSClientKey, CSTimePermit, CSServerKey,
 * P2PClientKey, P2PServerKey), use the identities client@miracl.com / server.miracl.com, take
 * `key=value` arguments, and the server loops until killed (spec §8.2).
 *
 * MILAGRO_CS cases, each both ways (our client ↔ their server, their client ↔ our server):
 *  - keys made by TA_cs (read from its working directory);
 *  - keys issued by three of our DTAs (PIN 0, today's permit), exported in their file format.
 * Application data is exchanged and checked both ways (the demo lines of spec §8.2).
 *
 * MILAGRO_P2P cases (issue 7 item 6), each both ways, with
 * `force_ciphersuite=TLS-MILAGRO-P2P-WITH-AES-128-GCM-SHA256` on their programs:
 *  - keys made by TA_p2p (P2PServerKey for server.miracl.com, P2PClientKey for client@miracl.com);
 *  - keys issued by three of our DTAs (WCC sender/receiver shares), exported in their file format.
 * Our side checks the identity it authenticated (server.miracl.com / client@miracl.com).
 */
import { once } from 'node:events';
import { access, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { constants } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { connect, createServer, type ConnectionOptions, type ServerOptions, type TLSSocket } from '../src/index.ts';
import { bytesToHex } from '../src/codec/bytes.ts';
import { generateEnrolmentKey, signRequest } from '../src/identity/auth.ts';
import { registerIdentity } from '../src/identity/client/mpin-client.ts';
import { fetchServerSecret, fetchWccKey } from '../src/identity/client/shares.ts';
import { dayOf } from '../src/identity/crypto-port.ts';
import { DtaService } from '../src/identity/dta/server.ts';
import { readHexKeyFile, writeHexKeyFile } from '../src/identity/hex-files.ts';
import { MilagroCrypto } from '../src/identity/milagro-crypto.ts';
import { systemClock, systemRandom } from '../src/providers.ts';
import { freePort, PeerProcess, sleep } from './process.ts';

const random = systemRandom;
const clock = systemClock;

export const PROGRAMS = ['tls_client', 'tls_server', 'TA_cs', 'TA_p2p'] as const;
/** What the demo programs send (spec §8.2; the recorded plaintexts of test/vectors/tls-transcripts.json). */
export const CLIENT_LINE = "   CLIENT: Hi, I'm client@miracl.com can you hear me???\r\n\r\n";
export const SERVER_LINE = '\n   SERVER: Hi Client, yes very well!!!\n\n';
export const CLIENT_IDENTITY = 'client@miracl.com';
const CS_CIPHER = 'MILAGRO-CS-AES128-GCM-SHA256';

export interface MilagroTlsOutcome {
  readonly name: string;
  readonly ok: boolean;
  readonly ms: number;
  readonly problems: readonly string[];
}

export interface MilagroTlsReport {
  readonly skipped: boolean;
  readonly outcomes: readonly MilagroTlsOutcome[];
}

/** Key material for one case, as files in a folder the original programs can use as their cwd. */
export interface KeyFolder {
  readonly label: string;
  readonly dir: string;
}

interface Env {
  readonly programs: string;
  readonly timeoutMs: number;
  readonly crypto: MilagroCrypto;
  tempDir(prefix: string): Promise<string>;
}

/** One interop case: returns the problems found (empty = pass). */
interface InteropCase {
  readonly name: string;
  run(env: Env): Promise<string[]>;
}

async function programsFolder(): Promise<string | undefined> {
  const dir = process.env['MILAGRO_TLS_PROGRAMS'];
  if (dir === undefined || dir.length === 0) return undefined;
  for (const p of PROGRAMS) {
    try {
      await access(join(dir, p), constants.X_OK);
    } catch {
      throw new Error(`MILAGRO_TLS_PROGRAMS=${dir}: ${p} is missing or not executable (need ${PROGRAMS.join(', ')})`);
    }
  }
  return resolve(dir);
}

/** Resolves once something accepts TCP connections on the port (their server prints nothing we rely on). */
async function waitForPort(port: number, timeoutMs: number, proc: PeerProcess): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc.exit !== undefined) throw new Error(`their server exited (code ${String(proc.exit.code)}):\n${proc.transcript()}`);
    const ok = await new Promise<boolean>((res) => {
      const s = netConnect({ port, host: '127.0.0.1' });
      s.once('connect', () => {
        s.destroy();
        res(true);
      });
      s.once('error', () => res(false));
    });
    if (ok) return;
    await sleep(100);
  }
  throw new Error(`their server did not listen on ${port} within ${timeoutMs} ms`);
}

async function readKeys(env: Env, dir: string): Promise<{ token: Uint8Array; timePermit: Uint8Array; serverSecret: Uint8Array }> {
  return {
    token: await readHexKeyFile(join(dir, 'CSClientKey'), 'CSClientKey', env.crypto),
    timePermit: await readHexKeyFile(join(dir, 'CSTimePermit'), 'CSTimePermit', env.crypto),
    serverSecret: await readHexKeyFile(join(dir, 'CSServerKey'), 'CSServerKey', env.crypto),
  };
}

/** Keys by their trust authority: run TA_cs or TA_p2p in a fresh folder; it writes the key files there. */
async function runTa(env: Env, program: 'TA_cs' | 'TA_p2p', folder: string): Promise<KeyFolder> {
  const dir = await env.tempDir(folder);
  const ta = new PeerProcess(join(env.programs, program), [], dir);
  ta.endInput();
  const exit = await ta.waitExit(env.timeoutMs);
  if (exit.code !== 0) throw new Error(`${program} failed (code ${String(exit.code)}):\n${ta.transcript()}`);
  return { label: `keys by ${program}`, dir };
}

const taKeys = (env: Env): Promise<KeyFolder> => runTa(env, 'TA_cs', 'ta-cs');

type Sign = (params: Parameters<typeof signRequest>[1]) => ReturnType<typeof signRequest>;

/** Three of our DTAs on loopback trusting a fresh enrolment key, for the duration of `f`. */
async function withDtas<T>(env: Env, prefix: string, f: (urls: readonly string[], sign: Sign) => Promise<T>): Promise<T> {
  const enrolment = generateEnrolmentKey(random);
  const sign: Sign = (params) => signRequest(enrolment, params, { clock, random });
  const dtas: DtaService[] = [];
  try {
    const urls: string[] = [];
    for (let i = 0; i < 3; i++) {
      const dataDir = await env.tempDir(`${prefix}${i}`);
      const dta = await DtaService.open({ dataDir, crypto: env.crypto, trustedKeys: [bytesToHex(enrolment.publicKey)], clock, random });
      dtas.push(dta);
      urls.push(`http://127.0.0.1:${await dta.listen(0)}`);
    }
    return await f(urls, sign);
  } finally {
    await Promise.all(dtas.map((d) => d.close()));
  }
}

/** Keys by three of our DTAs (PIN 0 so the token equals the client secret, as their default build expects). */
function dtaKeys(env: Env): Promise<KeyFolder> {
  return withDtas(env, 'dta', async (urls, sign) => {
    const hashId = bytesToHex(env.crypto.hashId(new TextEncoder().encode(CLIENT_IDENTITY)));
    const server = await fetchServerSecret({ crypto: env.crypto, dtas: urls, request: sign({ op: 'server-secret' }) });
    const ks = await registerIdentity({
      crypto: env.crypto,
      identity: CLIENT_IDENTITY,
      pin: '0000',
      dtas: urls,
      clientSecretRequest: sign({ op: 'client-secret', hashId }),
      timePermitRequest: sign({ op: 'time-permits', hashId }),
    });
    const permit = ks.permits.get(dayOf(clock()));
    if (permit === undefined) throw new Error('our DTAs issued no permit for today');
    const dir = await env.tempDir('dta-keys');
    await writeHexKeyFile(join(dir, 'CSServerKey'), 'CSServerKey', server.key, env.crypto, random);
    await writeHexKeyFile(join(dir, 'CSClientKey'), 'CSClientKey', ks.token, env.crypto, random);
    await writeHexKeyFile(join(dir, 'CSTimePermit'), 'CSTimePermit', permit, env.crypto, random);
    return { label: 'keys by our DTAs', dir };
  });
}

/**
 * Our client against their tls_server (started with `serverArgs`, killed afterwards): send the
 * CLIENT line once secure, expect the SERVER line and `suite`; `check` adds what else the case
 * requires of the connection once nothing else went wrong.
 */
async function ourClientTheirs(
  env: Env,
  keys: KeyFolder,
  serverArgs: readonly string[],
  options: ConnectionOptions,
  suite: string,
  check: (socket: TLSSocket) => string | undefined = () => undefined,
): Promise<string[]> {
  const problems: string[] = [];
  const port = await freePort();
  const server = new PeerProcess(join(env.programs, 'tls_server'), [`server_port=${port}`, ...serverArgs], keys.dir);
  try {
    await waitForPort(port, env.timeoutMs, server);
    const socket = connect({ ...options, port, host: '127.0.0.1' });
    let checked: string | undefined;
    const reply = await new Promise<string>((res, rej) => {
      const chunks: Buffer[] = [];
      const timer = setTimeout(() => rej(new Error(`no reply within ${env.timeoutMs} ms`)), env.timeoutMs);
      socket.once('secureConnect', () => {
        checked = check(socket);
        socket.write(CLIENT_LINE);
      });
      socket.on('data', (d: Buffer) => {
        chunks.push(d);
        if (Buffer.concat(chunks).toString().includes(SERVER_LINE)) {
          clearTimeout(timer);
          socket.end();
          res(Buffer.concat(chunks).toString());
        }
      });
      socket.once('error', (e) => {
        clearTimeout(timer);
        rej(e);
      });
      socket.once('close', () => {
        clearTimeout(timer);
        res(Buffer.concat(chunks).toString());
      });
    }).catch((e: unknown) => {
      problems.push(`our client: ${(e as Error).message}`);
      return '';
    });
    if (problems.length === 0 && reply !== SERVER_LINE) problems.push(`our client got ${JSON.stringify(reply)}, expected ${JSON.stringify(SERVER_LINE)}`);
    if (problems.length === 0 && socket.getCipher()?.standardName !== suite) problems.push(`negotiated ${socket.getCipher()?.name ?? 'nothing'}`);
    if (problems.length === 0 && checked !== undefined) problems.push(checked);
  } catch (e) {
    problems.push((e as Error).message);
  } finally {
    server.kill(); // the demo server loops until killed
    await server.exited;
  }
  if (problems.length > 0) problems.push(`their server said:\n${server.transcript()}`);
  return problems;
}

/**
 * Their tls_client (with `clientArgs`) against our server: it must finish, we must receive the
 * CLIENT line and answer with the SERVER line, and our server must have authenticated `expected`
 * (read by `identityOf`, described as `expectedText` in the problem).
 */
async function theirClientOurs(
  env: Env,
  keys: KeyFolder,
  options: ServerOptions,
  clientArgs: readonly string[],
  identityOf: (s: TLSSocket) => string | undefined,
  expected: string,
  expectedText: string,
): Promise<string[]> {
  const problems: string[] = [];
  const seen: { identity?: string | undefined; got: string } = { got: '' };
  const server = createServer(options, (s: TLSSocket) => {
    seen.identity = identityOf(s);
    s.on('error', () => undefined);
    s.on('data', (d: Buffer) => {
      seen.got += d.toString();
      if (seen.got.includes(CLIENT_LINE)) s.end(SERVER_LINE);
    });
  });
  const errors: string[] = [];
  server.on('tlsClientError', (e: Error) => errors.push(e.message));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  const client = new PeerProcess(join(env.programs, 'tls_client'), ['server_addr=127.0.0.1', `server_port=${port}`, ...clientArgs], keys.dir);
  client.endInput();
  try {
    const exit = await client.waitExit(env.timeoutMs);
    if (exit.timedOut) problems.push(`their client did not finish within ${env.timeoutMs} ms`);
    else if (exit.code !== 0) problems.push(`their client exited with code ${String(exit.code)}`);
    if (!seen.got.includes(CLIENT_LINE)) problems.push(`our server got ${JSON.stringify(seen.got)}, expected the CLIENT line`);
    if (seen.identity !== expected) problems.push(`our server authenticated ${seen.identity ?? 'nobody'}, expected ${expectedText}`);
    if (!client.stdout.includes('SERVER: Hi Client')) problems.push('their client did not print our reply');
    for (const e of errors) problems.push(`our server: ${e}`);
  } finally {
    await new Promise<void>((r) => server.close(() => r()));
  }
  if (problems.length > 0) problems.push(`their client said:\n${client.transcript()}`);
  return problems;
}

/** Our client ↔ their tls_server. */
async function ourClientTheirServer(env: Env, keys: KeyFolder): Promise<string[]> {
  const k = await readKeys(env, keys.dir);
  const milagro = { identity: CLIENT_IDENTITY, token: k.token, pin: 0, timePermit: k.timePermit };
  return ourClientTheirs(env, keys, [], { ciphers: CS_CIPHER, milagro }, 'TLS_MILAGRO_CS_WITH_AES_128_GCM_SHA256');
}

/** Their tls_client ↔ our server. */
async function theirClientOurServer(env: Env, keys: KeyFolder): Promise<string[]> {
  const k = await readKeys(env, keys.dir);
  const expectedHash = bytesToHex(env.crypto.hashId(new TextEncoder().encode(CLIENT_IDENTITY)));
  const options = { ciphers: CS_CIPHER, milagro: { serverSecret: k.serverSecret, timePermits: true, workers: 1 } };
  return theirClientOurs(env, keys, options, [], (s) => s.getPeerIdentity()?.hashId, expectedHash, `SHA-256("${CLIENT_IDENTITY}")`);
}

function csCases(source: 'ta' | 'dta'): InteropCase[] {
  const make = source === 'ta' ? taKeys : dtaKeys;
  // One key folder per source, made on first use and shared by both directions.
  let keys: Promise<KeyFolder> | undefined;
  const get = (env: Env): Promise<KeyFolder> => (keys ??= make(env));
  const label = source === 'ta' ? 'keys by TA_cs' : 'keys by our DTAs';
  return [
    { name: `MILAGRO_CS, ${label}: milagro-ts client ↔ tls_server`, run: async (env) => ourClientTheirServer(env, await get(env)) },
    { name: `MILAGRO_CS, ${label}: tls_client ↔ milagro-ts server`, run: async (env) => theirClientOurServer(env, await get(env)) },
  ];
}

const P2P_CIPHER = 'MILAGRO-P2P-AES128-GCM-SHA256';
/** What their programs take to select MILAGRO_P2P (spec §8.2). */
const P2P_FORCE = 'force_ciphersuite=TLS-MILAGRO-P2P-WITH-AES-128-GCM-SHA256';
export const SERVER_IDENTITY = 'server.miracl.com';

/** Keys by their trust authority: TA_p2p writes P2PServerKey and P2PClientKey. */
const taP2pKeys = (env: Env): Promise<KeyFolder> => runTa(env, 'TA_p2p', 'ta-p2p');

/** WCC sender key for server.miracl.com and receiver key for client@miracl.com from three of our DTAs. */
function dtaP2pKeys(env: Env): Promise<KeyFolder> {
  return withDtas(env, 'p2p-dta', async (urls, sign) => {
    const idHash = (id: string): string => bytesToHex(env.crypto.hashId(new TextEncoder().encode(id)));
    const sender = await fetchWccKey({ crypto: env.crypto, dtas: urls, role: 'sender', hashId: idHash(SERVER_IDENTITY), request: sign({ op: 'wcc-sender', hashId: idHash(SERVER_IDENTITY) }) });
    const receiver = await fetchWccKey({ crypto: env.crypto, dtas: urls, role: 'receiver', hashId: idHash(CLIENT_IDENTITY), request: sign({ op: 'wcc-receiver', hashId: idHash(CLIENT_IDENTITY) }) });
    const dir = await env.tempDir('p2p-dta-keys');
    await writeHexKeyFile(join(dir, 'P2PServerKey'), 'P2PServerKey', sender.key, env.crypto, random);
    await writeHexKeyFile(join(dir, 'P2PClientKey'), 'P2PClientKey', receiver.key, env.crypto, random);
    return { label: 'keys by our DTAs', dir };
  });
}

/** Our client ↔ their tls_server, MILAGRO_P2P: the client requires the identity server.miracl.com. */
async function p2pOurClientTheirServer(env: Env, keys: KeyFolder): Promise<string[]> {
  const receiverKey = await readHexKeyFile(join(keys.dir, 'P2PClientKey'), 'P2PClientKey', env.crypto);
  const options = { ciphers: P2P_CIPHER, milagroP2p: { identity: CLIENT_IDENTITY, receiverKey, serverIdentity: SERVER_IDENTITY } };
  return ourClientTheirs(env, keys, [P2P_FORCE], options, 'TLS_MILAGRO_P2P_WITH_AES_128_GCM_SHA256', (socket) => {
    const peer = socket.getPeerIdentity()?.identity;
    return peer === SERVER_IDENTITY ? undefined : `our client authenticated ${peer ?? 'nobody'}, expected ${SERVER_IDENTITY}`;
  });
}

/** Their tls_client ↔ our server, MILAGRO_P2P: our server accepts client@miracl.com only. */
async function p2pTheirClientOurServer(env: Env, keys: KeyFolder): Promise<string[]> {
  const senderKey = await readHexKeyFile(join(keys.dir, 'P2PServerKey'), 'P2PServerKey', env.crypto);
  const options = { ciphers: P2P_CIPHER, milagroP2p: { identity: SERVER_IDENTITY, senderKey, allowedClients: [CLIENT_IDENTITY], workers: 1 } };
  return theirClientOurs(env, keys, options, [P2P_FORCE], (s) => s.getPeerIdentity()?.identity, CLIENT_IDENTITY, CLIENT_IDENTITY);
}

/**
 * MILAGRO_P2P (issue 7 item 6): keys by TA_p2p and by our DTAs, both ways, with
 * `force_ciphersuite=TLS-MILAGRO-P2P-WITH-AES-128-GCM-SHA256` on their programs; server identity
 * server.miracl.com, client client@miracl.com; each side checks the identity it authenticated.
 */
function p2pCases(source: 'ta' | 'dta'): InteropCase[] {
  const make = source === 'ta' ? taP2pKeys : dtaP2pKeys;
  let keys: Promise<KeyFolder> | undefined;
  const get = (env: Env): Promise<KeyFolder> => (keys ??= make(env));
  const label = source === 'ta' ? 'keys by TA_p2p' : 'keys by our DTAs';
  return [
    { name: `MILAGRO_P2P, ${label}: milagro-ts client ↔ tls_server`, run: async (env) => p2pOurClientTheirServer(env, await get(env)) },
    { name: `MILAGRO_P2P, ${label}: tls_client ↔ milagro-ts server`, run: async (env) => p2pTheirClientOurServer(env, await get(env)) },
  ];
}

export const caseFactories: readonly (() => InteropCase[])[] = [() => csCases('ta'), () => csCases('dta'), () => p2pCases('ta'), () => p2pCases('dta')];

export async function runMilagroTls(opts: { readonly verbose?: boolean; readonly timeoutMs?: number } = {}): Promise<MilagroTlsReport> {
  const programs = await programsFolder();
  if (programs === undefined) {
    console.log(`milagro-tls: skipped (set MILAGRO_TLS_PROGRAMS=/path/to/folder with ${PROGRAMS.join(', ')} built from milagro-tls)`);
    return { skipped: true, outcomes: [] };
  }
  const base = await mkdtemp(join(tmpdir(), 'milagro-tls-interop-'));
  let n = 0;
  const env: Env = {
    programs,
    timeoutMs: opts.timeoutMs ?? 20_000,
    crypto: new MilagroCrypto(),
    async tempDir(prefix) {
      const d = join(base, `${prefix}-${n++}`);
      await mkdir(d);
      return d;
    },
  };
  const outcomes: MilagroTlsOutcome[] = [];
  try {
    console.log(`milagro-tls: programs from ${programs}`);
    for (const c of caseFactories.flatMap((f) => f())) {
      const t0 = performance.now();
      let problems: string[];
      try {
        problems = await c.run(env);
      } catch (e) {
        problems = [`harness: ${(e as Error).message}`];
      }
      const o = { name: c.name, ok: problems.length === 0, ms: performance.now() - t0, problems };
      outcomes.push(o);
      console.log(`  ${o.ok ? 'ok  ' : 'FAIL'} ${o.name} (${o.ms.toFixed(0)} ms)`);
      if (!o.ok || opts.verbose === true) for (const p of o.problems) console.log(`       ${p.replace(/\n/g, '\n       ')}`);
    }
  } finally {
    await rm(base, { recursive: true, force: true });
  }
  const failed = outcomes.filter((o) => !o.ok).length;
  console.log(`milagro-tls: ${outcomes.length - failed} passed, ${failed} failed`);
  return { skipped: false, outcomes };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const r = await runMilagroTls({ verbose: process.argv.includes('--verbose') });
  process.exit(r.outcomes.some((o) => !o.ok) ? 1 : 0);
}
