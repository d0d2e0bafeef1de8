/**
 * `npm run demo`: certificate-less TLS with M-Pin (MILAGRO_CS), end to end on loopback.
 *
 *  1. three distributed trust authorities (DTAs) start with temporary data folders;
 *  2. a TLS server is enrolled: it collects its server-secret shares and adds them up;
 *  3. a client identity is registered with a PIN: it collects its client-secret and time-permit
 *     shares, adds them up and removes the PIN (only the "token" is stored);
 *  4. a MILAGRO_CS handshake between our client and server over real sockets, a message each way,
 *     and the identity the server authenticated;
 *  5. a wrong PIN is refused. With time permits only UT is sent, so the server cannot tell a wrong
 *     PIN from any other bad credential (spec §5.7); a second server, without time permits and
 *     with PIN-error detection on, shows how far off the PIN was;
 *  6. MILAGRO_P2P: two devices get WCC keys from the same DTAs (sender key in G1 for the TLS
 *     server, receiver key in G2 for the client) and authenticate each other by identity alone;
 *     a client the server does not allow is refused.
 * Everything is cleaned up at the end.
 */
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import {
  InProcessCsCompute,
  InProcessP2pCompute,
  PeerAlertError,
  alertName,
  connect,
  createServer,
  type MilagroClientOptions,
  type MilagroCsEvent,
  type MilagroServerOptions,
  type Server,
  type TLSSocket,
} from '../src/index.ts';
import { bytesToHex } from '../src/codec/bytes.ts';
import { generateEnrolmentKey, signRequest } from '../src/identity/auth.ts';
import { registerIdentity } from '../src/identity/client/mpin-client.ts';
import { fetchServerSecret, fetchWccKey } from '../src/identity/client/shares.ts';
import { DtaService } from '../src/identity/dta/server.ts';
import { MilagroCrypto } from '../src/identity/milagro-crypto.ts';
import { systemClock, systemRandom } from '../src/providers.ts';

const IDENTITY = 'alice@example.org';
const PIN = '2468';
const WRONG_PIN = '2471';

const bold = (s: string): string => (process.stdout.isTTY ? `\x1b[1m${s}\x1b[0m` : s);
const green = (s: string): string => (process.stdout.isTTY ? `\x1b[32m${s}\x1b[0m` : s);
const red = (s: string): string => (process.stdout.isTTY ? `\x1b[31m${s}\x1b[0m` : s);
const step = (n: number, s: string): void => console.log(`\n${bold(`${n}. ${s}`)}`);
const info = (s: string): void => console.log(`   ${s}`);
const ms = (t0: number): string => `${(performance.now() - t0).toFixed(0)} ms`;
const short = (hex: string): string => `${hex.slice(0, 16)}…`;
/** The client's pairing precomputation (per token) survives across connections in here. */
const clientCache = new InProcessCsCompute();

async function startTlsServer(opts: MilagroServerOptions, log: MilagroCsEvent[]): Promise<{ server: Server; port: number }> {
  const server = createServer({ milagro: { ...opts, logger: (e) => log.push(e) } });
  server.on('secureConnection', (s: TLSSocket) => {
    s.on('error', () => undefined);
    s.once('data', (d: Buffer) => {
      const who = s.getPeerIdentity();
      s.end(`Hello ${who?.identity ?? 'stranger'}, you said "${d.toString()}"`);
    });
  });
  server.on('tlsClientError', () => undefined); // reasons arrive through the logger
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, port: (server.address() as AddressInfo).port };
}

async function login(port: number, milagro: MilagroClientOptions): Promise<{ reply?: string; error?: Error; ms: number }> {
  const t0 = performance.now();
  const socket = connect({ port, host: '127.0.0.1', milagro: { ...milagro, compute: clientCache } });
  try {
    await Promise.race([once(socket, 'secureConnect'), once(socket, 'error').then(([e]) => Promise.reject(e as Error))]);
  } catch (e) {
    socket.destroy();
    return { error: e as Error, ms: performance.now() - t0 };
  }
  const handshake = performance.now() - t0;
  socket.write('hi, it is me');
  const chunks: Buffer[] = [];
  for await (const c of socket) chunks.push(c as Buffer);
  return { reply: Buffer.concat(chunks).toString(), ms: handshake };
}

function refusal(e: Error | undefined): string {
  return e instanceof PeerAlertError ? `server sent the alert ${alertName(e.alert)}` : String(e);
}

const P2P_SERVER = 'sensor-17.plant.example';
const P2P_CLIENT = 'controller@plant.example';

/** Step 6: MILAGRO_P2P between two identities issued by the DTAs (spec §6, §7.5). */
async function p2pDemo(
  crypto: MilagroCrypto,
  urls: readonly string[],
  sign: (params: Parameters<typeof signRequest>[1]) => ReturnType<typeof signRequest>,
  servers: Server[],
): Promise<void> {
  step(6, `MILAGRO_P2P: "${P2P_SERVER}" (TLS server) and "${P2P_CLIENT}" (TLS client) authenticate each other`);
  let t0 = performance.now();
  const idHash = (id: string): string => bytesToHex(crypto.hashId(new TextEncoder().encode(id)));
  const sender = await fetchWccKey({ crypto, dtas: urls, role: 'sender', hashId: idHash(P2P_SERVER), request: sign({ op: 'wcc-sender', hashId: idHash(P2P_SERVER) }) });
  const receiver = await fetchWccKey({ crypto, dtas: urls, role: 'receiver', hashId: idHash(P2P_CLIENT), request: sign({ op: 'wcc-receiver', hashId: idHash(P2P_CLIENT) }) });
  info(`sender key for the server (G1, ${short(bytesToHex(sender.key))}) and receiver key for the client (G2, ${short(bytesToHex(receiver.key))}), each the sum of 3 DTA shares  ${ms(t0)}`);

  const server = createServer({
    milagroP2p: {
      identity: P2P_SERVER,
      senderKey: sender.key,
      allowedClients: [P2P_CLIENT], // the original accepted any identity (spec §10 item 18)
    },
  });
  servers.push(server);
  server.on('secureConnection', (s: TLSSocket) => {
    s.on('error', () => undefined);
    s.once('data', (d: Buffer) => s.end(`${P2P_SERVER} here; I know you are ${s.getPeerIdentity()?.identity ?? '?'} (you said "${d.toString()}")`));
  });
  server.on('tlsClientError', () => undefined);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  info(`server listening on 127.0.0.1:${port}, accepting only ${P2P_CLIENT}`);

  const clientCompute = new InProcessP2pCompute(); // keeps the client's identity points and prepared key warm
  const dial = async (identity: string): Promise<{ reply?: string; peer?: string; error?: Error; ms: number }> => {
    t0 = performance.now();
    // The client requires the server's identity too (default: the servername).
    const socket = connect({ port, host: '127.0.0.1', servername: P2P_SERVER, milagroP2p: { identity, receiverKey: receiver.key, compute: clientCompute } });
    try {
      await Promise.race([once(socket, 'secureConnect'), once(socket, 'error').then(([e]) => Promise.reject(e as Error))]);
    } catch (e) {
      socket.destroy();
      return { error: e as Error, ms: performance.now() - t0 };
    }
    const handshake = performance.now() - t0;
    const peer = socket.getPeerIdentity()?.identity;
    socket.write('status?');
    const chunks: Buffer[] = [];
    for await (const c of socket) chunks.push(c as Buffer);
    return { reply: Buffer.concat(chunks).toString(), ...(peer === undefined ? {} : { peer }), ms: handshake };
  };
  const ok = await dial(P2P_CLIENT);
  if (ok.reply === undefined) throw new Error(`P2P handshake failed: ${refusal(ok.error)}`);
  info(green(`✔ handshake complete in ${ok.ms.toFixed(0)} ms (cold: worker threads start, tables for the fixed keys are built), suite TLS_MILAGRO_P2P_WITH_AES_128_GCM_SHA256, no certificates`));
  info(`client authenticated the server as: ${ok.peer ?? '?'}`);
  info(`server replied: ${ok.reply}`);
  // The compute layer builds multiplication tables for a fixed key on its second use, so the
  // second handshake still pays for them; the third shows the steady state.
  const second = await dial(P2P_CLIENT);
  const warm = await dial(P2P_CLIENT);
  info(`a second handshake (building tables for the fixed keys): ${second.ms.toFixed(0)} ms; a third (warm): ${warm.ms.toFixed(0)} ms`);
  const stranger = await dial('intruder@plant.example');
  info(red(`✘ a client claiming "intruder@plant.example" is refused: ${refusal(stranger.error)}`));
}

async function main(): Promise<void> {
  console.log(bold('milagro-ts demo: TLS without certificates, the client proves who it is with M-Pin'));
  const crypto = new MilagroCrypto();
  const random = systemRandom;
  const clock = systemClock;
  const base = await mkdtemp(join(tmpdir(), 'milagro-ts-demo-'));
  const dtas: DtaService[] = [];
  const servers: Server[] = [];
  try {
    step(1, 'Three trust authorities (DTAs) on loopback');
    const enrolment = generateEnrolmentKey(random);
    const sign = (params: Parameters<typeof signRequest>[1]) => signRequest(enrolment, params, { clock, random });
    const urls: string[] = [];
    for (let i = 1; i <= 3; i++) {
      const dataDir = join(base, `dta${i}`);
      const { mkdir } = await import('node:fs/promises');
      await mkdir(dataDir);
      const t0 = performance.now();
      const dta = await DtaService.open({ dataDir, crypto, trustedKeys: [bytesToHex(enrolment.publicKey)], clock, random });
      const port = await dta.listen(0);
      dtas.push(dta);
      urls.push(`http://127.0.0.1:${port}`);
      info(`DTA ${i}: http://127.0.0.1:${port}  share fingerprint ${short(dta.fingerprint)}  (${ms(t0)})`);
    }
    info('Each holds its own master-secret share; the master secret is never assembled anywhere.');

    step(2, 'Enrol the TLS server');
    let t0 = performance.now();
    const serverSecret = await fetchServerSecret({ crypto, dtas: urls, request: sign({ op: 'server-secret' }) });
    info(`server secret = sum of 3 shares (128-byte G2 point ${short(bytesToHex(serverSecret.key))})  ${ms(t0)}`);

    step(3, `Register the client "${IDENTITY}" with PIN ${PIN}`);
    t0 = performance.now();
    const hashId = bytesToHex(crypto.hashId(new TextEncoder().encode(IDENTITY)));
    const keystore = await registerIdentity({
      crypto,
      identity: IDENTITY,
      pin: PIN,
      dtas: urls,
      clientSecretRequest: sign({ op: 'client-secret', hashId }),
      timePermitRequest: sign({ op: 'time-permits', hashId }),
    });
    info(`token (client secret minus the PIN) and ${keystore.permits.size} daily time permits stored  ${ms(t0)}`);
    info(`identity hash sent on the wire: ${short(hashId)} — the name itself never is`);

    step(4, 'MILAGRO_CS handshake, our client ↔ our server (time permits required)');
    const directory = new Map([[hashId, IDENTITY]]);
    const log: MilagroCsEvent[] = [];
    const tls = await startTlsServer(
      { serverSecret: serverSecret.key, timePermits: true, resolveIdentity: (h) => directory.get(bytesToHex(h)) },
      log,
    );
    servers.push(tls.server);
    info(`server listening on 127.0.0.1:${tls.port} (pairings in a worker pool)`);
    const ok = await login(tls.port, { keystore, pin: Number(PIN) });
    if (ok.reply === undefined) throw new Error(`login failed: ${refusal(ok.error)}`);
    const accepted = log.find((e) => e.kind === 'accepted');
    info(green(`✔ handshake complete in ${ok.ms.toFixed(0)} ms (cold start: worker threads loading, JIT), suite TLS_MILAGRO_CS_WITH_AES_128_GCM_SHA256`));
    info(`server authenticated: ${IDENTITY} (hash ${short(accepted?.hashId ?? '?')}), no certificate, no password database`);
    info(`server replied: ${ok.reply}`);
    const warm = await login(tls.port, { keystore, pin: Number(PIN) });
    info(`a second login (warm caches): ${warm.ms.toFixed(0)} ms`);

    step(5, `A wrong PIN (${WRONG_PIN}) is refused`);
    log.length = 0;
    const bad = await login(tls.port, { keystore, pin: Number(WRONG_PIN) });
    info(red(`✘ ${refusal(bad.error)}`));
    const why = log.find((e) => e.kind === 'rejected');
    info(`server log: ${why?.kind === 'rejected' ? why.message : '?'}`);
    info('With time permits the client sends only UT, so the server cannot tell how far off the PIN was (spec §5.7).');

    const log2: MilagroCsEvent[] = [];
    const noPermits = await startTlsServer(
      { serverSecret: serverSecret.key, timePermits: false, detectPinError: true, resolveIdentity: (h) => directory.get(bytesToHex(h)) },
      log2,
    );
    servers.push(noPermits.server);
    info(`A second server without time permits and with PIN-error detection (127.0.0.1:${noPermits.port}):`);
    const bad2 = await login(noPermits.port, { keystore, pin: Number(WRONG_PIN), timePermits: false });
    const why2 = log2.find((e) => e.kind === 'rejected');
    info(red(`✘ ${refusal(bad2.error)}`));
    if (why2?.kind === 'rejected' && why2.pinError !== undefined) {
      info(`server log: wrong PIN, entered − registered = ${why2.pinError} (a real server would count this towards a lockout)`);
    } else {
      info(`server log: ${why2?.kind === 'rejected' ? why2.message : '?'}`);
    }
    const good2 = await login(noPermits.port, { keystore, pin: Number(PIN), timePermits: false });
    info(good2.reply !== undefined ? green(`✔ the right PIN still works there (${good2.ms.toFixed(0)} ms)`) : red(`unexpected: ${refusal(good2.error)}`));

    await p2pDemo(crypto, urls, sign, servers);
  } finally {
    step(7, 'Cleaning up');
    await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
    await Promise.all(dtas.map((d) => d.close()));
    await rm(base, { recursive: true, force: true });
    info(`servers and DTAs stopped, ${base} removed`);
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(red(`demo failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`));
    process.exit(1);
  },
);
