// A consumer of the installed package, under plain `node` (no TypeScript loader): a certificate
// handshake and a MILAGRO_CS handshake between createServer and connect. The Milagro keys come from
// one DTA run in-process through `milagro-ts/identity`, the way an application would get them, and
// the client loads its keystore from a file. Prints one line per check; exits non-zero on failure.
import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, createServer } from 'milagro-ts';
import {
  DtaService,
  MilagroCrypto,
  fetchServerSecret,
  generateEnrolmentKey,
  hashIdHex,
  loadKeystore,
  registerIdentity,
  saveKeystore,
  signRequest,
  systemClock,
  systemRandom,
} from 'milagro-ts/identity';

const here = new URL('./', import.meta.url);

async function listen(server) {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return server.address().port;
}

/** Client says hello; the server answers with what it knows about the peer; both close. */
async function roundTrip(server, clientOptions) {
  server.on('secureConnection', (s) => {
    s.on('error', () => undefined);
    s.once('data', (d) => s.end(`${d} | peer ${JSON.stringify(s.getPeerIdentity?.() ?? null)}`));
  });
  const port = await listen(server);
  try {
    const socket = connect({ host: '127.0.0.1', port, ...clientOptions });
    await once(socket, 'secureConnect');
    const cipher = socket.getCipher().name;
    socket.write('hello');
    const chunks = [];
    for await (const c of socket) chunks.push(c);
    return { cipher, authorized: socket.authorized, reply: Buffer.concat(chunks).toString() };
  } finally {
    server.close();
  }
}

// 1. Certificates.
const cert = await roundTrip(
  createServer({ key: await readFile(new URL('server-ec256.key', here)), cert: await readFile(new URL('server-ec256.pem', here)) }),
  { servername: 'localhost', ca: await readFile(new URL('ca-ec.pem', here)) },
);
if (!cert.authorized || !cert.reply.startsWith('hello')) throw new Error(`certificate handshake: ${JSON.stringify(cert)}`);
console.log(`certificate handshake ok: ${cert.cipher}, authorized`);

// 2. MILAGRO_CS: one DTA, enrol, register alice (keystore file), fetch the server secret.
const dir = await mkdtemp(join(tmpdir(), 'milagro-consumer-'));
const crypto = new MilagroCrypto();
const admin = generateEnrolmentKey(systemRandom);
const dta = await DtaService.open({ dataDir: join(dir, 'dta'), crypto, trustedKeys: [Buffer.from(admin.publicKey).toString('hex')] });
try {
  const dtas = [`http://127.0.0.1:${await dta.listen(0)}`];
  const sign = (params) => signRequest(admin, params, { clock: systemClock, random: systemRandom });
  const identity = 'alice@example.org';
  const hashId = hashIdHex(crypto, identity);
  const registered = await registerIdentity({
    crypto,
    identity,
    pin: '1234',
    dtas,
    clientSecretRequest: sign({ op: 'client-secret', hashId }),
    timePermitRequest: sign({ op: 'time-permits', hashId }),
  });
  await saveKeystore(join(dir, 'alice.keystore.json'), registered, systemRandom);
  const keystore = await loadKeystore(join(dir, 'alice.keystore.json'), crypto);
  const { key: serverSecret } = await fetchServerSecret({ crypto, dtas, request: sign({ op: 'server-secret' }) });
  const cs = await roundTrip(
    createServer({ milagro: { serverSecret, timePermits: true, resolveIdentity: (h) => (Buffer.from(h).toString('hex') === hashId ? identity : undefined) } }),
    { milagro: { keystore, pin: 1234 } },
  );
  if (!cs.reply.includes(`"identity":"${identity}"`)) throw new Error(`MILAGRO_CS handshake: ${JSON.stringify(cs)}`);
  console.log(`MILAGRO_CS handshake ok: ${cs.cipher}, server saw ${identity}`);
} finally {
  await dta.close();
  await rm(dir, { recursive: true, force: true });
}
