/**
 * `npm run demo:web` (issue 8 item 6): three DTAs and the sample site on loopback, then prints
 * the site's URL. Data (DTA shares, a demo keystore for the out-of-band sign-in) lives in a
 * temporary directory removed on exit. Options: --port N (site port, default 8080; 0 = any);
 * --store SPEC (the relying party's state: 'sqlite:PATH', 'redis://HOST:PORT/DB' or 'memory:';
 * default a SQLite file in the temporary directory).
 *
 * Identity proofing: registering sends an activation link, which the demo writes to the outbox
 * page (/outbox) instead of e-mailing it.
 *
 * Plain HTTP on loopback only: session cookies are sent without Secure there, which the relying
 * party allows only for loopback peers (allowInsecureLoopbackCookies). Never expose this demo.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { bytesToHex } from '../../src/codec/bytes.ts';
import { generateEnrolmentKey, signRequest } from '../../src/identity/auth.ts';
import { saveKeystore } from '../../src/identity/client/keystore.ts';
import { registerIdentity } from '../../src/identity/client/mpin-client.ts';
import { DtaService } from '../../src/identity/dta/server.ts';
import { MilagroCrypto } from '../../src/identity/milagro-crypto.ts';
import { systemClock, systemRandom } from '../../src/providers.ts';
import { type KeyValueStore, openStore, STORE_SPEC_HELP } from '../../src/store/index.ts';
import { buildWebAssets } from '../../scripts/web-bundle.ts';
import { RelyingParty } from '../../src/web/server/relying-party.ts';
import { DemoOutbox } from './outbox.ts';
import { DemoSite } from './site.ts';

const { values } = parseArgs({ options: { port: { type: 'string', default: '8080' }, store: { type: 'string' } } });
const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  process.stderr.write('--port must be a port number\n');
  process.exit(2);
}

const crypto = new MilagroCrypto();
const dir = await mkdtemp(join(tmpdir(), 'milagro-demo-web-'));
const key = generateEnrolmentKey(systemRandom);
const dtas: DtaService[] = [];
const urls: string[] = [];
for (let i = 0; i < 3; i++) {
  const d = await DtaService.open({ dataDir: join(dir, `dta${i + 1}`), crypto, trustedKeys: [bytesToHex(key.publicKey)] });
  dtas.push(d);
  urls.push(`http://127.0.0.1:${await d.listen(0)}`);
}
const storeSpec = values.store ?? `sqlite:${join(dir, 'rp.db')}`;
let store: KeyValueStore;
try {
  store = await openStore(storeSpec);
} catch (e) {
  if (values.store !== undefined) {
    process.stderr.write(`--store ${values.store}: ${(e as Error).message} (expected ${STORE_SPEC_HELP})\n`);
    process.exit(2);
  }
  // The default only: an optional SQLite dependency may be missing; say so and keep going.
  process.stderr.write(`rp: ${(e as Error).message}; keeping the demo's state in memory\n`);
  store = await openStore('memory:');
}
const outbox = new DemoOutbox();
const rp = await RelyingParty.create({
  dtas: urls,
  enrolmentKey: key,
  assets: await buildWebAssets(),
  allowInsecureLoopbackCookies: true,
  store,
  verification: outbox,
  log: (line) => process.stderr.write(`rp: ${line}\n`),
});
const site = new DemoSite({ rp, outbox, passwords: new Map([['demo', 'demo-password']]) });
const url = await site.listen(port);

// A keystore for the "phone" of the out-of-band sign-in, registered straight with the DTAs.
const phone = 'phone@example.org';
const hashId = bytesToHex(crypto.hashId(new TextEncoder().encode(phone)));
const sign = (p: Parameters<typeof signRequest>[1]): ReturnType<typeof signRequest> => signRequest(key, p, { clock: systemClock, random: systemRandom });
const keystore = join(dir, 'phone-keystore.json');
await saveKeystore(
  keystore,
  await registerIdentity({ crypto, identity: phone, pin: '1234', dtas: urls, clientSecretRequest: sign({ op: 'client-secret', hashId }), timePermitRequest: sign({ op: 'time-permits', hashId }) }),
  systemRandom,
);
// Registered by the administrator (enrolment key) rather than through the site: adopt it.
await rp.adoptRegistration(phone);

process.stdout.write(`M-Pin web demo: ${url}/
  ${url}/signin  sign in with the PIN pad (register this browser first: the activation
                 link appears on ${url}/outbox, the demo's stand-in for e-mail)
  ${url}/login   a plain password form; the override script turns it into a PIN pad
                 (${url}/login?plain without it: user "demo", password "demo-password")
DTAs: ${urls.join(' ')}
Out-of-band sign-in: click "Use another device" on ${url}/signin, then
  echo 1234 | npx milagro-ts identity login --site ${url} --keystore ${keystore} --access-number N
Ctrl-C stops everything and deletes ${dir}
`);

let stopping = false;
const stop = async (): Promise<void> => {
  if (stopping) return;
  stopping = true;
  await site.close();
  await rp.close();
  await store.close();
  for (const d of dtas) await d.close();
  await rm(dir, { recursive: true, force: true });
  process.exit(0);
};
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
