/**
 * `milagro-ts identity login --access-number N --site URL --keystore FILE`: the out-of-band
 * sign-in of issue 8 item 5. The CLI stands in for the phone: it checks the access number's Luhn
 * digit, takes the relying party's clock (GET /mpin/time), makes a one-pass M-Pin proof with its
 * own keystore and PIN (spec §5.5; today's permit from the keystore, else from the relying party)
 * and posts it with the access number. The browser that shows the number is then signed in.
 * The PIN comes from MILAGRO_PIN or the first line of stdin, as for `identity pass`.
 */
import { createInterface } from 'node:readline';
import { bytesToHex, hexToBytes } from '../codec/bytes.ts';
import { loadKeystore } from '../identity/client/keystore.ts';
import { encodeIdentity, parsePin } from '../identity/client/mpin-client.ts';
import { dayOf } from '../identity/crypto-port.ts';
import { MilagroCrypto } from '../identity/milagro-crypto.ts';
import { systemRandom } from '../providers.ts';
import { CSRF_HEADER, DEFAULT_PREFIX, ENDPOINTS, formatAccessNumber, isHex, parseAccessNumber } from '../web/protocol.ts';
import { CliError, parseCli } from './common.ts';

export const LOGIN_USAGE = `usage: milagro-ts identity login --access-number N --site URL --keystore FILE [--prefix /mpin]

  Signs in the browser that shows access number N on the site at URL, with the identity in
  FILE (written by \`milagro-ts identity register\`). PIN from MILAGRO_PIN or stdin.`;

export async function readPin(): Promise<string> {
  const env = process.env['MILAGRO_PIN'];
  if (env !== undefined) return env;
  if (process.stdin.isTTY) process.stderr.write('PIN: ');
  const rl = createInterface({ input: process.stdin, terminal: false });
  for await (const line of rl) {
    rl.close();
    return line;
  }
  throw new CliError('no PIN on stdin: pipe it in (echo 1234 | ...) or set MILAGRO_PIN');
}

export async function getJson(url: string, init: RequestInit = {}): Promise<{ status: number; body: Record<string, unknown>; res: Response }> {
  let res: Response;
  try {
    res = await fetch(url, { ...init, signal: AbortSignal.timeout(15_000) });
  } catch (e) {
    const cause = e instanceof Error && e.cause instanceof Error ? e.cause.message : String(e);
    throw new CliError(`cannot reach ${url} (${cause})`, 1);
  }
  let body: unknown;
  try {
    body = await res.json();
  } catch {
    throw new CliError(`${url} answered HTTP ${res.status} without JSON; is --site the M-Pin site?`, 1);
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new CliError(`${url} answered JSON that is not an object`, 1);
  return { status: res.status, body: body as Record<string, unknown>, res };
}

export function errorOf(body: Record<string, unknown>): { code: string; message: string; attemptsLeft: number | undefined } {
  const e = (body['error'] ?? {}) as Record<string, unknown>;
  return {
    code: typeof e['code'] === 'string' ? e['code'] : 'unknown',
    message: typeof e['message'] === 'string' ? e['message'] : '',
    attemptsLeft: typeof e['attemptsLeft'] === 'number' ? e['attemptsLeft'] : undefined,
  };
}

/** A CSRF token and its cookie from GET {prefix}/session, for the endpoints browsers use. */
export async function csrfHeaders(base: string): Promise<Record<string, string>> {
  const s = await getJson(`${base}${ENDPOINTS.session}`);
  const csrf = s.body['csrf'];
  const cookie = s.res.headers.getSetCookie().map((c) => c.split(';', 1)[0]).join('; ');
  if (typeof csrf !== 'string') throw new CliError('the site gave no CSRF token', 1);
  return { 'content-type': 'application/json', [CSRF_HEADER]: csrf, cookie };
}

/** Today's permit through the relying party (it relays to the DTAs), when the keystore has none. */
async function permitFromSite(base: string, identity: string, day: number): Promise<Uint8Array> {
  const p = await getJson(`${base}${ENDPOINTS.permit}`, { method: 'POST', headers: await csrfHeaders(base), body: JSON.stringify({ identity }) });
  if (p.status !== 200) {
    const e = errorOf(p.body);
    throw new CliError(e.code === 'revoked' ? `${identity} has been revoked: no time permit` : `no time permit from the site: ${e.message}`, 1);
  }
  if (p.body['day'] !== day) throw new CliError(`the site issued a permit for day ${String(p.body['day'])}, not ${day}`, 1);
  const crypto = new MilagroCrypto();
  const shares = p.body['shares'];
  if (!Array.isArray(shares) || shares.length === 0) throw new CliError('the site sent no permit shares', 1);
  const parts = (shares as unknown[]).map((s) => {
    const share = (s as Record<string, unknown> | null)?.['share'];
    if (!isHex(share, 65)) throw new CliError('the site sent a malformed permit share', 1);
    return hexToBytes(share);
  });
  return crypto.recombineG1(parts);
}

export async function login(argv: string[]): Promise<number> {
  const { values } = parseCli(
    { args: argv, options: { 'access-number': { type: 'string' }, site: { type: 'string' }, keystore: { type: 'string' }, prefix: { type: 'string' } } },
    LOGIN_USAGE,
  );
  const raw = values['access-number'];
  if (raw === undefined) throw new CliError(`login needs --access-number N (the number the browser shows)\n\n${LOGIN_USAGE}`);
  const accessNumber = parseAccessNumber(raw);
  if (accessNumber === undefined) throw new CliError(`access number ${raw} is not valid: check the digits (the last one is a check digit)`);
  if (values.site === undefined) throw new CliError(`login needs --site URL (e.g. http://127.0.0.1:8080)\n\n${LOGIN_USAGE}`);
  if (values.keystore === undefined) throw new CliError(`login needs --keystore FILE\n\n${LOGIN_USAGE}`);
  const base = siteBase(values.site, values.prefix);
  const { identity, pass } = await onePass(base, values.keystore);
  const r = await getJson(`${base}${ENDPOINTS.oobAuthenticate}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ accessNumber, identity, ...pass }),
  });
  if (r.status === 200 && r.body['ok'] === true) {
    process.stdout.write(`signed in as ${identity}: the browser showing ${formatAccessNumber(accessNumber)} is now signed in\n`);
    return 0;
  }
  const e = errorOf(r.body);
  if (e.code === 'unknown_access_number') throw new CliError(`no browser is waiting with access number ${formatAccessNumber(accessNumber)} (expired or already used)`, 1);
  throw refusal(identity, r.status, e);
}

/** `--site URL [--prefix P]` → the relying party's endpoint base. */
export function siteBase(siteArg: string, prefix: string | undefined): string {
  let site: URL;
  try {
    site = new URL(siteArg);
  } catch {
    throw new CliError(`--site ${siteArg} is not a URL; write it like http://127.0.0.1:8080`);
  }
  return `${site.origin}${(prefix ?? DEFAULT_PREFIX).replace(/\/+$/, '')}`;
}

/** The error to show for a refused sign-in. */
export function refusal(identity: string, status: number, e: ReturnType<typeof errorOf>): CliError {
  switch (e.code) {
    case 'wrong_pin':
      return new CliError(`wrong PIN; ${e.attemptsLeft ?? 0} attempt(s) left before ${identity} is locked`, 1);
    case 'locked':
      return new CliError(`${identity} is locked after too many failed sign-ins`, 1);
    default:
      return new CliError(`the site refused the sign-in (HTTP ${status} ${e.code}): ${e.message}`, 1);
  }
}

/**
 * One-pass M-Pin values for the site's current time (spec §5.5) from a keystore and the PIN
 * (MILAGRO_PIN or stdin): the fields u, ut, v, timeValue of the sign-in endpoints.
 */
export async function onePass(base: string, keystore: string): Promise<{ readonly identity: string; readonly pass: Record<string, string | number> }> {
  const crypto = new MilagroCrypto();
  const ks = await loadKeystore(keystore, crypto);
  const pin = parsePin(await readPin(), ks.pinDigits);
  // The relying party's clock decides the day and the time value (spec §3.5, §5.5).
  const t = await getJson(`${base}${ENDPOINTS.time}`);
  const now = t.body['now'];
  if (typeof now !== 'number' || !Number.isSafeInteger(now)) throw new CliError('the site did not tell its time', 1);
  const day = dayOf(now);
  const permit = ks.permits.get(day) ?? (await permitFromSite(base, ks.identity, day));
  const pass = crypto.clientPass({
    identity: encodeIdentity(ks.identity),
    pin,
    token: ks.token,
    timePermit: { day, permit },
    timeValue: Math.floor(now / 1000),
    random: systemRandom,
  });
  return {
    identity: ks.identity,
    pass: { u: bytesToHex(pass.u), ...(pass.ut !== undefined ? { ut: bytesToHex(pass.ut) } : {}), v: bytesToHex(pass.v), timeValue: pass.timeValue },
  };
}
