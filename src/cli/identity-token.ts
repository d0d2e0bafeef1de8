/**
 * `milagro-ts identity token --site URL --keystore FILE [--audience A]` (issue 15 §1): signs in to
 * the relying party with one-pass M-Pin (keystore + PIN from MILAGRO_PIN or stdin) and prints the
 * one-time login token it mints (`mpin-token:…`, single use, 60 s by default) on stdout, for
 * scripts and tests: e.g. an LDAP simple bind with the token as the password.
 */
import { ENDPOINTS } from '../web/protocol.ts';
import { CliError, parseCli } from './common.ts';
import { csrfHeaders, errorOf, getJson, onePass, refusal, siteBase } from './identity-login.ts';

export const TOKEN_USAGE = `usage: milagro-ts identity token --site URL --keystore FILE [--audience A] [--prefix /mpin]

  Signs in to the site at URL with the identity in FILE and prints a one-time login token for
  audience A (default: the site's default audience). PIN from MILAGRO_PIN or stdin.`;

export async function token(argv: string[]): Promise<number> {
  const { values } = parseCli(
    { args: argv, options: { site: { type: 'string' }, keystore: { type: 'string' }, audience: { type: 'string' }, prefix: { type: 'string' } } },
    TOKEN_USAGE,
  );
  if (values.site === undefined) throw new CliError(`token needs --site URL (e.g. http://127.0.0.1:8080)\n\n${TOKEN_USAGE}`);
  if (values.keystore === undefined) throw new CliError(`token needs --keystore FILE\n\n${TOKEN_USAGE}`);
  const base = siteBase(values.site, values.prefix);
  const { identity, pass } = await onePass(base, values.keystore);
  const r = await getJson(`${base}${ENDPOINTS.pass}`, {
    method: 'POST',
    headers: await csrfHeaders(base),
    body: JSON.stringify({ identity, ...pass, purpose: 'token', ...(values.audience !== undefined ? { audience: values.audience } : {}) }),
  });
  const tok = r.body['token'];
  if (r.status === 200 && r.body['ok'] === true && typeof tok === 'string') {
    process.stdout.write(`${tok}\n`);
    return 0;
  }
  throw refusal(identity, r.status, errorOf(r.body));
}
