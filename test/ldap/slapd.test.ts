/**
 * Issue 15 §3: the LDAP proxy proven with real software. A throw-away OpenLDAP slapd with three
 * users; tokens from the relying party; the proxy in front of slapd, driven by OpenLDAP's own
 * ldapwhoami/ldapsearch and by an npm LDAP client (ldapts):
 *  - force mode (in-process proxy, in-process verification, plain LDAP + StartTLS, proxied
 *    authorization): fresh token ok, replay refused, directory password refused, a token for
 *    someone else refused, search results identical to the directory's own;
 *  - prefer mode (the `milagro-ts ldap-proxy` command, HTTP verification, LDAPS): token ok,
 *    directory password passed through, same from ldapts;
 *  - abuse: malformed BER, oversized lengths, depth bombs, TLS on the plain port → notice of
 *    disconnection, proxy keeps serving; a token user cannot borrow the service account's rights.
 * Skipped (loudly) without slapd and ldap-utils.
 */
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type Socket } from 'node:net';
import { Client, InvalidCredentialsError } from 'ldapts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_DN, ADMIN_PASSWORD, PEOPLE, run, SERVICE_DN, SERVICE_PASSWORD, Slapd, slapdMissing, SUFFIX, USERS } from '../../demo/ldap/slapd.ts';
import { berInteger, berTlv } from '../../src/ldap/ber.ts';
import { decodeLdapResult, encodeBindRequest, LdapFramer, NOTICE_OF_DISCONNECTION_OID, Op, parseEnvelope, ResultCode } from '../../src/ldap/messages.ts';
import { LdapProxy } from '../../src/ldap/proxy.ts';
import { HttpTokenVerifier, InProcessTokenVerifier } from '../../src/ldap/verifier.ts';
import { MpinWebClient } from '../../src/web/browser/client.ts';
import { MemoryStore } from '../../src/web/browser/store.ts';
import { spawnCli } from '../helpers/cli.ts';
import { jarFetch, WebFixture } from '../web/helpers.ts';

const missing = slapdMissing();
if (missing !== undefined) {
  process.stderr.write(`\n*** SKIPPING the LDAP proxy tests against OpenLDAP: ${missing} ***\n\n`);
  // .ci/run installs both: in CI their absence is a failure, not a skip.
  if (process.env['CI'] !== undefined && process.env['CI'] !== '' && process.env['CI'] !== 'false') {
    it('slapd and ldap-utils are installed (CI)', () => {
      throw new Error(`the LDAP proxy end-to-end test cannot run: ${missing}`);
    });
  }
}

const certs = new URL('../fixtures/certs/', import.meta.url).pathname;
const CA = `${certs}ca-ec.pem`;
const TLS_ENV = { LDAPTLS_CACERT: CA };
const SECRET = 'ldap-proxy-test-verify-secret';
const AUDIENCE = 'ldap';
const [alice, bob] = USERS as [(typeof USERS)[0], (typeof USERS)[0]];

let slapd: Slapd;
let fx: WebFixture;
let verifyUrl: string;
const clients = new Map<string, MpinWebClient>();
let force: LdapProxy;
let forceUrl: string;
const proxyLog: string[] = [];

/** A fresh token from the relying party: an M-Pin sign-in (PIN 1234) asking for the LDAP audience. */
async function mintToken(user: { mail: string }): Promise<string> {
  let c = clients.get(user.mail);
  if (c === undefined) {
    c = new MpinWebClient({ store: new MemoryStore(), baseUrl: fx.url, fetch: jarFetch(), clock: fx.clock.read });
    await c.register(user.mail, '1234');
    clients.set(user.mail, c);
  }
  const r = await c.authenticate(user.mail, '1234', { purpose: 'token', audience: AUDIENCE });
  if (r.kind !== 'ok') throw new Error(`M-Pin sign-in failed: ${r.kind}`);
  return r.token;
}

beforeAll(async () => {
  if (missing !== undefined) return;
  slapd = await Slapd.start({ tls: { certFile: `${certs}server-ec256.pem`, keyFile: `${certs}server-ec256.key` } });
  // The real relying party with three local DTAs, its token endpoint enabled.
  // The fixture's clock stands still, so its rate limiters never refill: room for this file's sign-ins.
  const roomy = { burst: 500, perMinute: 500 };
  fx = await WebFixture.start({ rp: { tokenVerifySecret: SECRET, tokenAudiences: [AUDIENCE], rateLimits: { perAddress: roomy, perIdentity: roomy } } });
  verifyUrl = `${fx.url}/mpin/token/verify`;
  force = new LdapProxy({
    target: { secure: false, host: '127.0.0.1', port: slapd.port },
    verifier: new InProcessTokenVerifier(fx.rp),
    audience: AUDIENCE,
    serviceAccount: { dn: SERVICE_DN, password: SERVICE_PASSWORD },
    identityAttribute: 'mail',
    baseDn: SUFFIX,
    mode: 'force',
    proxyAuthorization: true,
    tls: { cert: readFileSync(`${certs}server-ec256.pem`), key: readFileSync(`${certs}server-ec256.key`) },
    log: (l) => proxyLog.push(l),
  });
  forceUrl = `ldap://127.0.0.1:${(await force.listen(0)).port}`;
});

afterAll(async () => {
  if (missing !== undefined) return;
  await force?.close();
  await fx?.close();
  await slapd?.stop();
});

const whoami = (url: string, dn: string, password: string, extra: readonly string[] = [], env: NodeJS.ProcessEnv = {}): ReturnType<typeof run> =>
  run('/usr/bin/ldapwhoami', ['-x', '-H', url, '-D', dn, '-w', password, ...extra], env);

const search = (url: string, bind: readonly string[], env: NodeJS.ProcessEnv = {}): ReturnType<typeof run> =>
  run('/usr/bin/ldapsearch', ['-x', '-LLL', '-H', url, ...bind, '-b', SUFFIX, '-s', 'sub', '(objectClass=*)', '*'], env);

describe.skipIf(missing !== undefined)('ldap-proxy in front of OpenLDAP slapd', () => {
  describe('force mode: tokens only (in-process verification, proxied authorization)', () => {
    it('ldapwhoami with a fresh token succeeds as the user; the same token replayed fails', async () => {
      const token = await mintToken(alice);
      const ok = await whoami(forceUrl, alice.dn, token);
      expect(ok).toMatchObject({ code: 0, stdout: `dn:${alice.dn}\n` });
      const replay = await whoami(forceUrl, alice.dn, token);
      expect(replay.code).toBe(ResultCode.invalidCredentials);
      expect(replay.stderr).toMatch(/Invalid credentials \(49\)[\s\S]*replayed/);
    });

    it("the user's directory password is refused (while slapd itself would accept it)", async () => {
      expect((await whoami(slapd.url, alice.dn, alice.password)).code).toBe(0);
      const r = await whoami(forceUrl, alice.dn, alice.password);
      expect(r.code).toBe(ResultCode.invalidCredentials);
      expect(r.stderr).toMatch(/M-Pin login tokens only/);
    });

    it("a token minted for bob does not open alice's DN (and is burnt)", async () => {
      const token = await mintToken(bob);
      expect((await whoami(forceUrl, alice.dn, token)).code).toBe(ResultCode.invalidCredentials);
      expect((await whoami(forceUrl, bob.dn, token)).code).toBe(ResultCode.invalidCredentials);
    });

    it('ldapsearch through the proxy returns the same entries as slapd directly', async () => {
      const direct = await search(slapd.url, ['-D', alice.dn, '-w', alice.password]);
      const proxied = await search(forceUrl, ['-D', alice.dn, '-w', await mintToken(alice)]);
      expect(direct.code).toBe(0);
      expect(proxied.code).toBe(0);
      expect(direct.stdout).toMatch(/^dn: uid=carol,ou=people/m);
      expect(proxied.stdout).toBe(direct.stdout);
      // Anonymous binds pass through in force mode too: they grant what slapd grants anyone.
      const anonDirect = await search(slapd.url, []);
      expect(anonDirect.stdout).toMatch(/^dn: uid=alice/m);
      expect((await search(forceUrl, [])).stdout).toBe(anonDirect.stdout);
    });

    it('StartTLS (ldapwhoami -ZZ) upgrades to milagro-ts TLS before the token bind', async () => {
      const r = await whoami(forceUrl, alice.dn, await mintToken(alice), ['-ZZ'], TLS_ENV);
      expect(r).toMatchObject({ code: 0, stdout: `dn:${alice.dn}\n` });
    });

    it('a bind name that is not a DN is looked up under the base DN', async () => {
      const r = await whoami(forceUrl, alice.mail, await mintToken(alice));
      expect(r).toMatchObject({ code: 0, stdout: `dn:${alice.dn}\n` });
    });

    it("a token user cannot assert someone else with the service account's proxy rights", async () => {
      const r = await whoami(forceUrl, alice.dn, await mintToken(alice), ['-e', `!authzid=dn:${bob.dn}`]);
      expect(r.stdout + r.stderr).toMatch(/unwilling to perform \(53\)/i);
      expect(r.stdout).not.toContain(bob.dn);
    });

    it('unauthenticated binds (DN, empty password) are refused', async () => {
      const r = await whoami(forceUrl, alice.dn, '');
      expect(r.code).toBe(ResultCode.unwillingToPerform);
    });
  });

  describe('prefer mode over LDAPS, verified over HTTP by the relying party', () => {
    it('the milagro-ts ldap-proxy command: fresh token ok, replay refused, directory password passed through, same search results', async () => {
      const dir = await mkdtemp(join(tmpdir(), 'milagro-ldap-cli-'));
      try {
        await writeFile(join(dir, 'verify-secret'), `${SECRET}\n`);
        await writeFile(join(dir, 'bind-password'), `${SERVICE_PASSWORD}\n`);
        // prettier-ignore
        const cli = spawnCli([
          'ldap-proxy',
          '--listen', 'ldaps://127.0.0.1:0',
          '--cert', `${certs}server-ec256.pem`,
          '--key', `${certs}server-ec256.key`,
          '--target', slapd.url,
          '--verify', verifyUrl,
          '--verify-secret-file', join(dir, 'verify-secret'),
          '--bind-dn', SERVICE_DN,
          '--bind-password-file', join(dir, 'bind-password'),
          '--identity-attribute', 'mail',
          '--mode', 'prefer',
          '--proxy-authz',
        ]);
        const url = `ldaps://127.0.0.1:${(await cli.waitFor(/listening on ldaps:\/\/127\.0\.0\.1:(\d+)/))[1] ?? ''}`;
        const token = await mintToken(alice);
        expect(await whoami(url, alice.dn, token, [], TLS_ENV)).toMatchObject({ code: 0, stdout: `dn:${alice.dn}\n` });
        expect((await whoami(url, alice.dn, token, [], TLS_ENV)).code).toBe(ResultCode.invalidCredentials);
        expect(await whoami(url, alice.dn, alice.password, [], TLS_ENV)).toMatchObject({ code: 0, stdout: `dn:${alice.dn}\n` });
        expect((await whoami(url, alice.dn, 'wrong-password', [], TLS_ENV)).code).toBe(ResultCode.invalidCredentials);
        // LDAPTLS_REQCERT=never (no CA configured) works the same.
        expect((await whoami(url, bob.dn, bob.password, [], { LDAPTLS_REQCERT: 'never' })).code).toBe(0);
        const direct = await search(slapd.url, ['-D', bob.dn, '-w', bob.password]);
        expect(direct.stdout).toMatch(/^dn: uid=bob,ou=people/m);
        expect((await search(url, ['-D', bob.dn, '-w', await mintToken(bob)], TLS_ENV)).stdout).toBe(direct.stdout);
        expect(cli.stdout).toMatch(/token bind ok: "uid=alice,ou=people,dc=example,dc=org" as alice@example.org/);
        expect(cli.stdout).toMatch(/refused: replayed/);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });

    let ldapsUrl: string;
    let prefer: LdapProxy | undefined;
    beforeAll(async () => {
      // In process this time, without proxied authorization: the directory sees the service account.
      prefer = new LdapProxy({
        target: { secure: false, host: '127.0.0.1', port: slapd.port },
        verifier: new HttpTokenVerifier({ url: verifyUrl, secret: SECRET }),
        audience: AUDIENCE,
        serviceAccount: { dn: SERVICE_DN, password: SERVICE_PASSWORD },
        identityAttribute: 'mail',
        mode: 'prefer',
        implicitTls: true,
        tls: { cert: readFileSync(`${certs}server-ec256.pem`), key: readFileSync(`${certs}server-ec256.key`) },
      });
      ldapsUrl = `ldaps://127.0.0.1:${(await prefer.listen(0)).port}`;
    });
    afterAll(async () => {
      await prefer?.close();
    });

    it('ldapts from Node: token bind, search equal to the direct one, replay refused', async () => {
      const tlsOptions = { ca: [readFileSync(CA)] };
      const viaProxy = new Client({ url: ldapsUrl, tlsOptions });
      const direct = new Client({ url: slapd.url });
      try {
        const token = await mintToken(bob);
        await viaProxy.bind(bob.dn, token);
        await direct.bind(bob.dn, bob.password);
        const opts = { scope: 'sub' as const, filter: '(objectClass=inetOrgPerson)', attributes: ['uid', 'mail', 'cn'] };
        const a = await viaProxy.search(PEOPLE, opts);
        const b = await direct.search(PEOPLE, opts);
        expect(a.searchEntries.length).toBe(USERS.length);
        expect(a.searchEntries).toEqual(b.searchEntries);
        expect(await viaProxy.exop('1.3.6.1.4.1.4203.1.11.3')).toMatchObject({ value: `dn:${SERVICE_DN}` });
        await viaProxy.unbind();
        const again = new Client({ url: ldapsUrl, tlsOptions });
        await expect(again.bind(bob.dn, token)).rejects.toBeInstanceOf(InvalidCredentialsError);
        await again.unbind();
      } finally {
        await viaProxy.unbind().catch(() => undefined);
        await direct.unbind();
      }
    });
  });

  describe('ldaps:// target: the directory side over milagro-ts TLS', () => {
    const viaLdaps = async (ca: string): Promise<{ proxy: LdapProxy; url: string }> => {
      const proxy = new LdapProxy({
        target: { secure: true, host: '127.0.0.1', port: slapd.tlsPort ?? 0, tls: { ca: readFileSync(ca) } },
        verifier: new InProcessTokenVerifier(fx.rp),
        audience: AUDIENCE,
        serviceAccount: { dn: SERVICE_DN, password: SERVICE_PASSWORD },
        identityAttribute: 'mail',
        mode: 'prefer',
        proxyAuthorization: true,
      });
      return { proxy, url: `ldap://127.0.0.1:${(await proxy.listen(0)).port}` };
    };

    it('token and password binds reach slapd over LDAPS', async () => {
      const { proxy, url } = await viaLdaps(CA);
      try {
        expect(await whoami(url, alice.dn, await mintToken(alice))).toMatchObject({ code: 0, stdout: `dn:${alice.dn}\n` });
        expect(await whoami(url, bob.dn, bob.password)).toMatchObject({ code: 0, stdout: `dn:${bob.dn}\n` });
      } finally {
        await proxy.close();
      }
    });

    it("a directory certificate that does not verify: 'unavailable', never a bind in the clear", async () => {
      const { proxy, url } = await viaLdaps(`${certs}ca-rsa.pem`);
      try {
        const r = await whoami(url, alice.dn, await mintToken(alice));
        expect(r.code).toBe(ResultCode.unavailable);
        expect(r.stderr).toMatch(/directory is unavailable/);
      } finally {
        await proxy.close();
      }
    });
  });

  describe('abuse: the proxy answers bad input with a notice of disconnection and keeps serving', () => {
    async function sendRaw(bytes: Uint8Array): Promise<{ notice: ReturnType<typeof decodeLdapResult> | undefined; closed: boolean }> {
      const port = Number(new URL(forceUrl).port);
      const s: Socket = connect({ host: '127.0.0.1', port });
      await once(s, 'connect');
      const framer = new LdapFramer();
      let notice: ReturnType<typeof decodeLdapResult> | undefined;
      s.on('data', (d: Buffer) => {
        for (const m of framer.push(d)) {
          const env = parseEnvelope(m);
          if (env.messageId === 0 && env.opTag === Op.ExtendedResponse && Buffer.from(m).includes(Buffer.from(NOTICE_OF_DISCONNECTION_OID))) notice = decodeLdapResult(env);
        }
      });
      s.write(bytes);
      const closed = await Promise.race([once(s, 'close').then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 3000))]);
      s.destroy();
      return { notice, closed };
    }

    it.each([
      ['garbage', Uint8Array.from(Buffer.from('GET / HTTP/1.1\r\n\r\n'))],
      ['a TLS ClientHello on the plain port', Uint8Array.from([0x16, 0x03, 0x01, 0x00, 0x05, 1, 2, 3, 4, 5])],
      ['a 2 GiB length', Uint8Array.from([0x30, 0x84, 0x7f, 0xff, 0xff, 0xff, 0x02, 0x01])],
      ['an indefinite length', Uint8Array.from([0x30, 0x80, 0x02, 0x01, 0x01, 0x00, 0x00])],
      ['an inner length past its parent', Uint8Array.from([0x30, 0x06, 0x02, 0x01, 0x01, 0x60, 0x05, 0x02])],
      ['a nesting bomb', (() => {
        let v: Uint8Array = Uint8Array.of(0x05, 0x00);
        for (let i = 0; i < 200; i++) v = berTlv(0xa0, v);
        return berTlv(0x30, berInteger(1), berTlv(Op.SearchRequest, v));
      })()],
      ['a bind with a truncated body', berTlv(0x30, berInteger(1), berTlv(Op.BindRequest, berInteger(3)))],
    ])('%s', async (_name, bytes) => {
      const before = force.stats.protocolErrors;
      const r = await sendRaw(bytes);
      expect(r.closed).toBe(true);
      expect(r.notice?.resultCode).toBe(ResultCode.protocolError);
      expect(force.stats.protocolErrors).toBe(before + 1);
      // Still serving (an anonymous bind: no sign-in needed to prove it).
      expect(await run('/usr/bin/ldapwhoami', ['-x', '-H', forceUrl])).toMatchObject({ code: 0, stdout: 'anonymous\n' });
    });

    it('a failed bind after a token bind leaves the connection anonymous, not the service account', async () => {
      const c = new Client({ url: forceUrl });
      try {
        await c.bind(alice.dn, await mintToken(alice));
        expect(await c.exop('1.3.6.1.4.1.4203.1.11.3')).toMatchObject({ value: `dn:${alice.dn}` });
        await expect(c.bind(alice.dn, 'not-a-token')).rejects.toBeInstanceOf(InvalidCredentialsError);
        const who = await c.exop('1.3.6.1.4.1.4203.1.11.3');
        expect(who.value ?? '').toBe('');
      } finally {
        await c.unbind().catch(() => undefined);
      }
    });

    it('the service account password is never accepted from clients in force mode', async () => {
      expect((await whoami(forceUrl, SERVICE_DN, SERVICE_PASSWORD)).code).toBe(ResultCode.invalidCredentials);
      expect((await whoami(forceUrl, ADMIN_DN, ADMIN_PASSWORD)).code).toBe(ResultCode.invalidCredentials);
    });

    it('pipelined requests behind a bind are answered in order with their own message IDs', async () => {
      const port = Number(new URL(forceUrl).port);
      const s = connect({ host: '127.0.0.1', port });
      await once(s, 'connect');
      const framer = new LdapFramer();
      const seen: Array<[number, number]> = [];
      s.on('data', (d: Buffer) => {
        for (const m of framer.push(d)) {
          const e = parseEnvelope(m);
          seen.push([e.messageId, decodeLdapResult(e).resultCode]);
        }
      });
      const token = await mintToken(alice);
      // Two binds glued in one write: the first with a token, the second its replay.
      s.write(Buffer.concat([encodeBindRequest(41, alice.dn, token), encodeBindRequest(42, alice.dn, token)]));
      const t0 = Date.now();
      while (seen.length < 2 && Date.now() - t0 < 5000) await new Promise((r) => setTimeout(r, 20));
      s.destroy();
      expect(seen).toEqual([
        [41, ResultCode.success],
        [42, ResultCode.invalidCredentials],
      ]);
    });
  });
});
