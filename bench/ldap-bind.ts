/**
 * LDAP proxy rows of `npm run bench -- identity` (issue 15): a simple bind against a throw-away
 * OpenLDAP slapd directly (directory password) versus through the proxy (one-time login token
 * verified in process, service-account bind, identity look-up). Each sample is what an
 * application does per log-in: connect, bind, unbind. Tokens are minted before each timed bind
 * with the relying party's own LoginTokens on a memory store (the M-Pin sign-in that precedes
 * minting is the relying party's cost, benchmarked elsewhere, not the bind's).
 */
import { Slapd, slapdMissing, SERVICE_DN, SERVICE_PASSWORD, SUFFIX, USERS } from '../demo/ldap/slapd.ts';
import { BackendConnection, type LdapTarget } from '../src/ldap/backend.ts';
import { LdapProxy } from '../src/ldap/proxy.ts';
import { InProcessTokenVerifier } from '../src/ldap/verifier.ts';
import { systemClock, systemRandom } from '../src/providers.ts';
import { MemoryStore } from '../src/store/index.ts';
import { LoginTokens } from '../src/web/server/login-tokens.ts';

export interface BindRow {
  readonly name: string;
  /** One wall-clock time per log-in, ms. */
  readonly samplesMs: readonly number[];
}

/** connect + bind + unbind; throws unless the bind succeeded. */
async function bindOnce(target: LdapTarget, dn: string, password: string): Promise<void> {
  const c = await BackendConnection.open(target);
  const r = await c.bind(dn, password);
  c.close();
  if (r.resultCode !== 0) throw new Error(`bind as ${dn} failed: ${r.resultCode} ${r.diagnosticMessage}`);
}

/** Rows for the identity benchmark, or a reason when slapd is not installed. */
export async function ldapBindRows(quick: boolean): Promise<{ rows: BindRow[]; skipped?: string }> {
  const missing = slapdMissing();
  if (missing !== undefined) return { rows: [], skipped: `LDAP proxy rows skipped: ${missing}` };
  const slapd = await Slapd.start();
  const store = new MemoryStore({ clock: systemClock });
  const tokens = new LoginTokens({ store, clock: systemClock, random: systemRandom });
  const proxy = new LdapProxy({
    target: { secure: false, host: '127.0.0.1', port: slapd.port },
    verifier: new InProcessTokenVerifier({ verifyLoginToken: (r) => tokens.verify(r) }),
    audience: 'ldap',
    serviceAccount: { dn: SERVICE_DN, password: SERVICE_PASSWORD },
    identityAttribute: 'mail',
    baseDn: SUFFIX,
    mode: 'force',
  });
  try {
    const viaProxy: LdapTarget = { secure: false, host: '127.0.0.1', port: (await proxy.listen(0)).port };
    const direct: LdapTarget = { secure: false, host: '127.0.0.1', port: slapd.port };
    const user = USERS[0];
    if (user === undefined) throw new Error('no demo user');
    const n = quick ? 15 : 100;
    const directMs: number[] = [];
    const proxiedMs: number[] = [];
    for (let i = 0; i < n + 5; i++) {
      const { token } = await tokens.mint(user.mail, 'ldap');
      let t = performance.now();
      await bindOnce(direct, user.dn, user.password);
      if (i >= 5) directMs.push(performance.now() - t); // the first 5 warm up
      t = performance.now();
      await bindOnce(viaProxy, user.dn, token);
      if (i >= 5) proxiedMs.push(performance.now() - t);
    }
    return {
      rows: [
        { name: 'ldap bind direct to slapd (connect+bind+unbind)', samplesMs: directMs },
        { name: 'ldap token bind through the proxy (same)', samplesMs: proxiedMs },
      ],
    };
  } finally {
    await proxy.close();
    await store.close();
    await slapd.stop();
  }
}
