/**
 * `npm run demo:ldap` (issue 15): M-Pin in front of an LDAP application, all on loopback.
 *
 *   OpenLDAP slapd (throw-away, three users) ← LDAP proxy (force mode) ← Example Wiki (binds with
 *   what its log-in form received) ← the user, signed in with M-Pin (three DTAs, relying party).
 *
 * First a scripted run: `milagro-ts identity token` stands in for the browser's PIN pad, the token
 * goes into the wiki's unchanged password form, the wiki's bind through the proxy succeeds; the
 * same token again, and the directory password, are refused. Then (without --once) everything
 * stays up for a browser: open the wiki, register with the PIN pad, log in.
 * Options: --port N (the wiki, default 8081; 0 = any), --once (scripted run only).
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { buildWebAssets } from '../../scripts/web-bundle.ts';
import { bytesToHex } from '../../src/codec/bytes.ts';
import { generateEnrolmentKey, signRequest } from '../../src/identity/auth.ts';
import { saveKeystore } from '../../src/identity/client/keystore.ts';
import { registerIdentity } from '../../src/identity/client/mpin-client.ts';
import { DtaService } from '../../src/identity/dta/server.ts';
import { MilagroCrypto } from '../../src/identity/milagro-crypto.ts';
import { LdapProxy } from '../../src/ldap/proxy.ts';
import { InProcessTokenVerifier } from '../../src/ldap/verifier.ts';
import { systemClock, systemRandom } from '../../src/providers.ts';
import { RelyingParty } from '../../src/web/server/relying-party.ts';
import { ExampleWiki } from './app.ts';
import { Slapd, slapdMissing, SERVICE_DN, SERVICE_PASSWORD, SUFFIX, USERS } from './slapd.ts';

const { values } = parseArgs({ options: { port: { type: 'string', default: '8081' }, once: { type: 'boolean', default: false } } });
const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  process.stderr.write('--port must be a port number\n');
  process.exit(2);
}
const missing = slapdMissing();
if (missing !== undefined) {
  process.stderr.write(`npm run demo:ldap needs OpenLDAP's slapd and ldap-utils: ${missing}\n`);
  process.exit(1);
}

const AUDIENCE = 'ldap';
const say = (s: string): void => void process.stdout.write(`${s}\n`);
const dir = await mkdtemp(join(tmpdir(), 'milagro-demo-ldap-'));
const slapd = await Slapd.start();
say(`slapd: ${slapd.url} (${USERS.map((u) => u.mail).join(', ')})`);

const crypto = new MilagroCrypto();
const key = generateEnrolmentKey(systemRandom);
const dtas: DtaService[] = [];
const dtaUrls: string[] = [];
for (let i = 0; i < 3; i++) {
  const d = await DtaService.open({ dataDir: join(dir, `dta${i + 1}`), crypto, trustedKeys: [bytesToHex(key.publicKey)] });
  dtas.push(d);
  dtaUrls.push(`http://127.0.0.1:${await d.listen(0)}`);
}
say(`DTAs: ${dtaUrls.join(' ')}`);
const verifySecret = randomBytes(24).toString('hex');
const rp = await RelyingParty.create({
  dtas: dtaUrls,
  enrolmentKey: key,
  assets: await buildWebAssets(),
  allowInsecureLoopbackCookies: true,
  tokenAudiences: [AUDIENCE],
  tokenVerifySecret: verifySecret,
  // Identity proofing (issue 13 §3): this demo site knows its users (the directory's), so it
  // registers those at once and nobody else.
  authorizeRegistration: (identity) => USERS.some((u) => u.mail === identity),
});

// The proxy runs in this process next to the relying party: in-process token verification.
const proxy = new LdapProxy({
  target: { secure: false, host: '127.0.0.1', port: slapd.port },
  verifier: new InProcessTokenVerifier(rp),
  audience: AUDIENCE,
  serviceAccount: { dn: SERVICE_DN, password: SERVICE_PASSWORD },
  identityAttribute: 'mail',
  baseDn: SUFFIX,
  mode: 'force',
  proxyAuthorization: true,
  log: (l) => say(`  proxy: ${l}`),
});
const proxyUrl = `ldap://127.0.0.1:${(await proxy.listen(0)).port}`;
const wiki = new ExampleWiki({ rp, ldapUrl: proxyUrl, audience: AUDIENCE });
const wikiUrl = await wiki.listen(port);
say(`LDAP proxy: ${proxyUrl} → ${slapd.url} (force mode: M-Pin login tokens only)`);
say(`Example Wiki: ${wikiUrl}/login (binds with its form's user name and password, through the proxy)\n`);

// ---- scripted run ----------------------------------------------------------------------
const alice = USERS[0];
if (alice === undefined) throw new Error('no demo user');
const hashId = bytesToHex(crypto.hashId(new TextEncoder().encode(alice.mail)));
const sign = (p: Parameters<typeof signRequest>[1]): ReturnType<typeof signRequest> => signRequest(key, p, { clock: systemClock, random: systemRandom });
const keystore = join(dir, 'alice-keystore.json');
await saveKeystore(
  keystore,
  await registerIdentity({ crypto, identity: alice.mail, pin: '1234', dtas: dtaUrls, clientSecretRequest: sign({ op: 'client-secret', hashId }), timePermitRequest: sign({ op: 'time-permits', hashId }) }),
  systemRandom,
);
// Registered by the administrator (enrolment key), not through the site: the relying party adopts it.
await rp.adoptRegistration(alice.mail);
say(`1. ${alice.mail} is registered with the DTAs (PIN 1234); she signs in with M-Pin for a token:`);
const bin = resolve(import.meta.dirname, '..', '..', 'bin', 'milagro-ts.js');
const token = await new Promise<string>((ok, fail) => {
  execFile(process.execPath, [bin, 'identity', 'token', '--site', wikiUrl, '--keystore', keystore, '--audience', AUDIENCE], { env: { ...process.env, MILAGRO_PIN: '1234' } }, (err, stdout, stderr) =>
    err === null ? ok(stdout.trim()) : fail(new Error(`identity token failed: ${stderr}`)),
  );
});
say(`   $ MILAGRO_PIN=1234 milagro-ts identity token --site ${wikiUrl} --keystore alice-keystore.json --audience ${AUDIENCE}`);
say(`   ${token.slice(0, 24)}…`);

async function postLogin(user: string, password: string): Promise<string> {
  const res = await fetch(`${wikiUrl}/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: wikiUrl, 'sec-fetch-site': 'same-origin' },
    body: new URLSearchParams({ user, password }).toString(),
  });
  const main = /<main>([\s\S]*)<\/main>/.exec(await res.text())?.[1] ?? '';
  const text = main.replace(/<h1>.*?<\/h1>/, '').replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').trim();
  return `HTTP ${res.status}: ${text}`;
}

say(`2. The wiki's unchanged password form receives ${alice.mail} and the token; its LDAP bind goes through the proxy:`);
say(`   ${await postLogin(alice.mail, token)}`);
say('3. The same token again (replay):');
say(`   ${await postLogin(alice.mail, token)}`);
say(`4. Alice's directory password (force mode accepts tokens only):`);
say(`   ${await postLogin(alice.mail, alice.password)}`);
say(`\nThe same proxy from the command line, verifying tokens over HTTP at the relying party:
  milagro-ts ldap-proxy --listen 127.0.0.1:1389 --target ${slapd.url} \\
    --verify ${wikiUrl}/mpin/token/verify --verify-secret-file verify-secret.txt \\
    --bind-dn "${SERVICE_DN}" --bind-password-file proxy-password.txt \\
    --identity-attribute mail --base-dn "${SUFFIX}" --mode force --proxy-authz
and any LDAP client: ldapwhoami -x -H ${proxyUrl} -D "${alice.dn}" -w "$(MILAGRO_PIN=1234 milagro-ts identity token ...)"`);

let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  await wiki.close();
  await proxy.close();
  for (const d of dtas) await d.close();
  await rp.close();
  await slapd.stop();
  await rm(dir, { recursive: true, force: true });
}

if (values.once) {
  await stop();
} else {
  say(`\nIn a browser: ${wikiUrl}/login — the password field is now a PIN pad. Register any of
  ${USERS.map((u) => u.mail).join(', ')} with a PIN, then log in: the token goes into the form and the
  wiki's LDAP bind succeeds. Ctrl-C stops everything (slapd included) and deletes ${dir}`);
  process.on('SIGINT', () => void stop().then(() => process.exit(0)));
  process.on('SIGTERM', () => void stop().then(() => process.exit(0)));
}
