/**
 * `milagro-ts ldap-proxy`: flags → LdapProxyOptions, then serve until SIGINT/SIGTERM.
 * The proxy itself lives in src/ldap/.
 */
import { parseLdapUrl } from '../ldap/backend.ts';
import { LdapProxy, type LdapProxyOptions } from '../ldap/proxy.ts';
import { HttpTokenVerifier } from '../ldap/verifier.ts';
import { CliError, parseCli, readFileArg, runCli } from './common.ts';

export const ldapProxyUsage = `usage: milagro-ts ldap-proxy --listen [ldap[s]://]HOST:PORT --target ldap[s]://HOST:PORT
         --verify URL --verify-secret-file FILE --bind-dn DN --bind-password-file FILE [options]

  --listen ADDR           HOST:PORT or ldap://HOST:PORT: plain LDAP (StartTLS too with --cert/--key);
                          ldaps://HOST:PORT: LDAPS (needs --cert/--key). TLS is milagro-ts's own engine.
  --cert FILE --key FILE  certificate chain and key (PEM) for LDAPS and StartTLS
  --target URL            the directory: ldap://HOST:PORT or ldaps://HOST:PORT
  --target-ca FILE        trust anchors (PEM) for an ldaps:// target's certificate
  --verify URL            the relying party's token endpoint, e.g. https://login.example.org/mpin/token/verify
  --verify-secret-file F  file holding the relying party's token-verify secret
  --audience NAME         the audience tokens are minted for (default: ldap)
  --bind-dn DN            service account: identity look-ups, operations after a token bind
  --bind-password-file F  file holding the service account's password
  --identity-attribute A  attribute holding the M-Pin identity: mail (default), uid, userPrincipalName...
  --base-dn DN            token binds must name a DN under this one; a bind name that is not a DN
                          (alice@example.org) is searched for as A=name under it
  --mode force|prefer     force (default): only token binds (and anonymous ones);
                          prefer: a token if the password looks like one, else the directory checks it
  --proxy-authz           after a token bind, assert the user on every request (RFC 4370 proxied
                          authorization; the service account needs authzTo rights in the directory)
  --max-message-size N    largest LDAP message accepted from a client, bytes (default 1048576)
  --max-connections N     client connections at once (default 1024)
  --idle-timeout MS       close idle client connections (default 300000; 0 = never)
  -h, --help`;

const parseConfig = {
  args: [] as string[],
  options: {
    listen: { type: 'string' },
    cert: { type: 'string' },
    key: { type: 'string' },
    target: { type: 'string' },
    'target-ca': { type: 'string' },
    verify: { type: 'string' },
    'verify-secret-file': { type: 'string' },
    audience: { type: 'string', default: 'ldap' },
    'bind-dn': { type: 'string' },
    'bind-password-file': { type: 'string' },
    'identity-attribute': { type: 'string', default: 'mail' },
    'base-dn': { type: 'string' },
    mode: { type: 'string', default: 'force' },
    'proxy-authz': { type: 'boolean', default: false },
    'max-message-size': { type: 'string', default: '1048576' },
    'max-connections': { type: 'string', default: '1024' },
    'idle-timeout': { type: 'string', default: '300000' },
    help: { type: 'boolean', short: 'h', default: false },
  },
  strict: true,
  allowPositionals: false,
} as const;

type Values = ReturnType<typeof parseCli<typeof parseConfig>>['values'];

function required(v: string | undefined, flag: string, example: string): string {
  if (v === undefined || v === '') throw new CliError(`${flag} is required (e.g. ${flag} ${example})\n\n${ldapProxyUsage}`);
  return v;
}

function intFlag(v: string, flag: string, min: number, max: number): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new CliError(`${flag} must be an integer ${min}..${max}, not "${v}"`);
  return n;
}

/** A secret file's first line (trailing newline and spaces removed). */
function secretFile(flag: string, path: string, what: string): string {
  const s = readFileArg(flag, path, what).toString('utf8').split(/\r?\n/, 1)[0]?.trim() ?? '';
  if (s === '') throw new CliError(`${flag} ${path}: the file is empty; it must hold ${what}`);
  return s;
}

export interface ListenAddress {
  readonly implicitTls: boolean;
  readonly host: string;
  readonly port: number;
}

export function parseListen(v: string): ListenAddress {
  const m = /^(?:(ldaps?):\/\/)?(\[[^\]]+\]|[^:/[\]]+):(\d{1,5})\/?$/.exec(v);
  if (m === null) throw new CliError(`--listen takes HOST:PORT, ldap://HOST:PORT or ldaps://HOST:PORT, not "${v}"`);
  const host = (m[2] as string).replace(/^\[|\]$/g, '');
  return { implicitTls: m[1] === 'ldaps', host, port: intFlag(m[3] as string, '--listen port', 0, 65535) };
}

export function proxyOptionsFromFlags(v: Values): { listen: ListenAddress; options: LdapProxyOptions } {
  const listen = parseListen(required(v.listen, '--listen', '127.0.0.1:1389'));
  const targetFlag = required(v.target, '--target', 'ldap://127.0.0.1:389');
  let target: ReturnType<typeof parseLdapUrl>;
  try {
    target = parseLdapUrl(targetFlag);
  } catch (e) {
    throw new CliError(`--target: ${(e as Error).message}`);
  }
  if (v['target-ca'] !== undefined && !target.secure) throw new CliError('--target-ca applies to an ldaps:// --target only');
  if ((v.cert === undefined) !== (v.key === undefined)) throw new CliError('--cert and --key go together');
  if (listen.implicitTls && v.cert === undefined) throw new CliError('--listen ldaps://... needs --cert FILE --key FILE');
  if (v.mode !== 'force' && v.mode !== 'prefer') throw new CliError(`--mode must be force or prefer, not "${v.mode}"`);
  const verifyUrl = required(v.verify, '--verify', 'https://login.example.org/mpin/token/verify');
  let verifier: HttpTokenVerifier;
  try {
    verifier = new HttpTokenVerifier({
      url: verifyUrl,
      secret: secretFile('--verify-secret-file', required(v['verify-secret-file'], '--verify-secret-file', 'verify-secret.txt'), "the relying party's token-verify secret"),
    });
  } catch (e) {
    if (e instanceof CliError) throw e;
    throw new CliError(`--verify: ${(e as Error).message}`);
  }
  const options: LdapProxyOptions = {
    target: {
      ...target,
      ...(target.secure ? { tls: v['target-ca'] !== undefined ? { ca: readFileArg('--target-ca', v['target-ca'], 'a PEM file of CA certificates') } : {} } : {}),
    },
    verifier,
    audience: v.audience,
    serviceAccount: {
      dn: required(v['bind-dn'], '--bind-dn', '"cn=mpin-proxy,dc=example,dc=org"'),
      password: secretFile('--bind-password-file', required(v['bind-password-file'], '--bind-password-file', 'proxy-password.txt'), "the service account's password"),
    },
    identityAttribute: v['identity-attribute'],
    ...(v['base-dn'] !== undefined ? { baseDn: v['base-dn'] } : {}),
    mode: v.mode,
    ...(v.cert !== undefined && v.key !== undefined
      ? { tls: { cert: readFileArg('--cert', v.cert, 'a PEM certificate file'), key: readFileArg('--key', v.key, 'a PEM private key file') } }
      : {}),
    implicitTls: listen.implicitTls,
    proxyAuthorization: v['proxy-authz'],
    maxMessageSize: intFlag(v['max-message-size'], '--max-message-size', 1024, 64 << 20),
    maxConnections: intFlag(v['max-connections'], '--max-connections', 1, 1 << 20),
    idleTimeoutMs: intFlag(v['idle-timeout'], '--idle-timeout', 0, 2 ** 31 - 1),
    log: (line) => process.stdout.write(`${new Date().toISOString()} ${line}\n`),
  };
  return { listen, options };
}

export async function main(argv: string[]): Promise<number> {
  return runCli(async () => {
    const { values } = parseCli({ ...parseConfig, args: argv }, ldapProxyUsage);
    if (values.help) {
      process.stdout.write(`${ldapProxyUsage}\n`);
      return 0;
    }
    const { listen, options } = proxyOptionsFromFlags(values);
    const proxy = new LdapProxy(options);
    const addr = await proxy.listen(listen.port, listen.host).catch((e: unknown) => {
      throw new CliError(`cannot listen on ${listen.host}:${listen.port}: ${(e as Error).message}`, 1);
    });
    const t = options.target;
    const host = addr.address.includes(':') ? `[${addr.address}]` : addr.address;
    process.stdout.write(
      `${new Date().toISOString()} listening on ${listen.implicitTls ? 'ldaps' : 'ldap'}://${host}:${addr.port}${options.tls !== undefined && !listen.implicitTls ? ' (StartTLS available)' : ''} → ${t.secure ? 'ldaps' : 'ldap'}://${t.host}:${t.port} (mode ${options.mode})\n`,
    );
    proxy.on('error', (e: Error) => process.stdout.write(`${new Date().toISOString()} server error: ${e.message}\n`));
    await new Promise<void>((resolve) => {
      const stop = (): void => {
        process.stdout.write(`${new Date().toISOString()} stopping\n`);
        void proxy.close().then(resolve);
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    return 0;
  });
}
