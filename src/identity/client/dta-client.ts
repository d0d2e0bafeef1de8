/**
 * HTTP calls from the client side to DTAs, and the parallel fan-out used to collect shares.
 * Every failure is a DtaCallError naming the DTA (issue 5 item 3).
 */
import type { SignedRequest } from '../auth.ts';
import { DtaCallError } from '../errors.ts';
import { BodyTooLargeError, readResponseText } from '../http-body.ts';

export interface DtaCallOptions {
  /** Per-request timeout. Default 10 s. */
  readonly timeoutMs?: number;
  /** Larger responses are treated as garbage. Default 1 MiB. */
  readonly maxResponseBytes?: number;
}

/** Normalises a DTA base URL (scheme required, no trailing slash) or throws a helpful error. */
export function normaliseDtaUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new DtaCallError(url, 'not a URL; write it like http://127.0.0.1:8101');
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new DtaCallError(url, 'only http:// and https:// DTAs are supported');
  return `${u.protocol}//${u.host}${u.pathname.replace(/\/+$/, '')}`;
}

async function readCapped(res: Response, max: number, dta: string): Promise<string> {
  try {
    return await readResponseText(res, max);
  } catch (e) {
    if (e instanceof BodyTooLargeError) throw new DtaCallError(dta, `response larger than ${max} bytes`);
    throw e;
  }
}

/** GET or POST one DTA endpoint and return its JSON object; throws DtaCallError. */
export async function callDta(
  baseUrl: string,
  path: string,
  body: SignedRequest | undefined,
  opts: DtaCallOptions = {},
): Promise<Record<string, unknown>> {
  const dta = normaliseDtaUrl(baseUrl);
  let res: Response;
  try {
    res = await fetch(`${dta}${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(opts.timeoutMs ?? 10_000),
    });
  } catch (e) {
    const cause = e instanceof Error && e.cause instanceof Error ? e.cause.message : e instanceof Error ? e.message : String(e);
    throw new DtaCallError(dta, `unreachable (${cause}); is it running?`);
  }
  const text = await readCapped(res, opts.maxResponseBytes ?? 1 << 20, dta);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new DtaCallError(dta, `answered HTTP ${res.status} with a body that is not JSON`, res.status);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new DtaCallError(dta, `answered HTTP ${res.status} with JSON that is not an object`, res.status);
  }
  const obj = json as Record<string, unknown>;
  if (!res.ok) {
    const err = obj['error'];
    if (typeof err === 'object' && err !== null) {
      const code = (err as Record<string, unknown>)['code'];
      const message = (err as Record<string, unknown>)['message'];
      throw new DtaCallError(
        dta,
        `refused (HTTP ${res.status} ${typeof code === 'string' ? code : '?'}): ${typeof message === 'string' ? message : ''}`,
        res.status,
        typeof code === 'string' ? code : undefined,
      );
    }
    throw new DtaCallError(dta, `answered HTTP ${res.status}`, res.status);
  }
  return obj;
}

/** Raised when one or more DTAs failed during a fan-out; nothing was stored. */
export class DtaFanOutError extends Error {
  override readonly name = 'DtaFanOutError';
  constructor(readonly failures: readonly DtaCallError[]) {
    super(failures.map((f) => f.message).join('; '));
  }
}

/**
 * Runs `task` against every DTA in parallel. All must succeed: a partial set of shares would give
 * a wrong key, so any failure (named) aborts the whole operation.
 */
export async function fanOut<T>(dtas: readonly string[], task: (dta: string) => Promise<T>): Promise<T[]> {
  if (dtas.length === 0) throw new DtaFanOutError([new DtaCallError('(none)', 'no DTAs given; pass --dta URL once per authority')]);
  const seen = new Set<string>();
  for (const d of dtas) {
    const n = normaliseDtaUrl(d);
    if (seen.has(n)) throw new DtaFanOutError([new DtaCallError(n, 'listed twice; each DTA must be asked exactly once')]);
    seen.add(n);
  }
  const settled = await Promise.allSettled(dtas.map((d) => task(normaliseDtaUrl(d))));
  const failures: DtaCallError[] = [];
  const values: T[] = [];
  settled.forEach((s, i) => {
    if (s.status === 'fulfilled') values.push(s.value);
    else {
      const dta = normaliseDtaUrl(dtas[i] ?? '?');
      failures.push(s.reason instanceof DtaCallError ? s.reason : new DtaCallError(dta, s.reason instanceof Error ? s.reason.message : String(s.reason)));
    }
  });
  if (failures.length > 0) throw new DtaFanOutError(failures);
  return values;
}
