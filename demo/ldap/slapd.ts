/**
 * A throw-away OpenLDAP slapd for the LDAP proxy's tests, demo and benchmark: a temporary
 * directory with a slapd.conf (mdb backend, core/cosine/inetorgperson/nis schema), listening on
 * a free loopback port, a few users loaded with ldapadd, stopped and deleted by stop().
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../interop/process.ts';

export const SLAPD = '/usr/sbin/slapd';
export const SUFFIX = 'dc=example,dc=org';
export const ADMIN_DN = `cn=admin,${SUFFIX}`;
export const ADMIN_PASSWORD = 'admin-secret';
export const SERVICE_DN = `cn=mpin-proxy,${SUFFIX}`;
export const SERVICE_PASSWORD = 'proxy-secret';
export const PEOPLE = `ou=people,${SUFFIX}`;

export interface DirectoryUser {
  readonly uid: string;
  readonly dn: string;
  readonly mail: string;
  readonly password: string;
}

export const USERS: readonly DirectoryUser[] = ['alice', 'bob', 'carol'].map((uid) => ({
  uid,
  dn: `uid=${uid},${PEOPLE}`,
  mail: `${uid}@example.org`,
  password: `${uid}-directory-password`,
}));

/** Why slapd tests cannot run here, or undefined when slapd and ldap-utils are installed. */
export function slapdMissing(): string | undefined {
  const need = [SLAPD, '/usr/bin/ldapadd', '/usr/bin/ldapwhoami', '/usr/bin/ldapsearch', '/usr/lib/ldap/back_mdb.so', '/etc/ldap/schema/inetorgperson.schema'];
  const missing = need.filter((p) => !existsSync(p));
  return missing.length === 0 ? undefined : `missing ${missing.join(', ')} — install with: apt-get install slapd ldap-utils`;
}

export function run(cmd: string, args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { env: { ...process.env, ...env }, timeout: 20_000 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 1;
      resolve({ code, stdout, stderr });
    });
  });
}


function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const c = connect({ host: '127.0.0.1', port });
    c.once('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });
}

function ldif(): string {
  const people = USERS.map(
    (u) => `dn: ${u.dn}
objectClass: inetOrgPerson
uid: ${u.uid}
cn: ${u.uid[0]?.toUpperCase() ?? ''}${u.uid.slice(1)}
sn: Example
mail: ${u.mail}
userPassword: ${u.password}
`,
  );
  return [
    `dn: ${SUFFIX}
objectClass: dcObject
objectClass: organization
o: Example
dc: example
`,
    `dn: ${PEOPLE}
objectClass: organizationalUnit
ou: people
`,
    // The proxy's service account may assert (RFC 4370) any identity under ou=people.
    `dn: ${SERVICE_DN}
objectClass: organizationalRole
objectClass: simpleSecurityObject
cn: mpin-proxy
userPassword: ${SERVICE_PASSWORD}
authzTo: dn.subtree:${PEOPLE}
`,
    ...people,
  ].join('\n');
}

export class Slapd {
  private constructor(
    readonly dir: string,
    readonly port: number,
    readonly child: ChildProcess,
    /** LDAPS port when started with `tls`. */
    readonly tlsPort: number | undefined,
  ) {}

  get url(): string {
    return `ldap://127.0.0.1:${this.port}`;
  }

  /** Starts slapd on a free loopback port and loads the example users (throws with slapd's output on failure). */
  static async start(opts: { readonly tls?: { readonly certFile: string; readonly keyFile: string } } = {}): Promise<Slapd> {
    const dir = await mkdtemp(join(tmpdir(), 'milagro-slapd-'));
    await mkdir(join(dir, 'db'));
    const conf = join(dir, 'slapd.conf');
    await writeFile(
      conf,
      `include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
include /etc/ldap/schema/nis.schema
modulepath /usr/lib/ldap
moduleload back_mdb
pidfile ${join(dir, 'slapd.pid')}
authz-policy to
database mdb
maxsize 16777216
suffix "${SUFFIX}"
rootdn "${ADMIN_DN}"
rootpw ${ADMIN_PASSWORD}
directory ${join(dir, 'db')}
access to attrs=userPassword by self =xw by anonymous auth by * none
access to * by * read
`.replace('database mdb', opts.tls === undefined ? 'database mdb' : `TLSCertificateFile ${opts.tls.certFile}\nTLSCertificateKeyFile ${opts.tls.keyFile}\ndatabase mdb`),
    );
    let lastError = '';
    for (let attempt = 0; attempt < 3; attempt++) {
      const port = await freePort();
      const tlsPort = opts.tls === undefined ? undefined : await freePort();
      const urls = `ldap://127.0.0.1:${port}/${tlsPort === undefined ? '' : ` ldaps://127.0.0.1:${tlsPort}/`}`;
      // -d 0: stay in the foreground (so the child is ours to stop) without debug output.
      const child = spawn(SLAPD, ['-f', conf, '-h', urls, '-d', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
      child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
      let exited = false;
      child.once('exit', () => (exited = true));
      const deadline = Date.now() + 10_000;
      const up = async (): Promise<boolean> => (await canConnect(port)) && (tlsPort === undefined || (await canConnect(tlsPort)));
      while (!exited && Date.now() < deadline && !(await up())) await new Promise((r) => setTimeout(r, 50));
      if (exited || Date.now() >= deadline) {
        child.kill('SIGKILL');
        lastError = output;
        continue;
      }
      const s = new Slapd(dir, port, child, tlsPort);
      const ldifPath = join(dir, 'users.ldif');
      await writeFile(ldifPath, ldif());
      const add = await run('/usr/bin/ldapadd', ['-x', '-H', s.url, '-D', ADMIN_DN, '-w', ADMIN_PASSWORD, '-f', ldifPath]);
      if (add.code !== 0) {
        await s.stop();
        throw new Error(`ldapadd failed (${add.code}): ${add.stderr}`);
      }
      return s;
    }
    await rm(dir, { recursive: true, force: true });
    throw new Error(`slapd did not start: ${lastError}`);
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const gone = new Promise<void>((r) => this.child.once('exit', () => r()));
      this.child.kill('SIGTERM');
      const t = setTimeout(() => this.child.kill('SIGKILL'), 3000);
      await gone;
      clearTimeout(t);
    }
    await rm(this.dir, { recursive: true, force: true });
  }
}
