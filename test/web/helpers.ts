/** Fixtures for the web tests: three loopback DTAs, a relying party and the demo site, one settable clock. */
import { mkdtemp, rm } from 'node:fs/promises';
import { request, type IncomingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DemoOutbox } from '../../demo/web/outbox.ts';
import { DemoSite } from '../../demo/web/site.ts';
import { bytesToHex } from '../../src/codec/bytes.ts';
import { type EnrolmentKey, generateEnrolmentKey, signRequest } from '../../src/identity/auth.ts';
import { saveKeystore } from '../../src/identity/client/keystore.ts';
import { registerIdentity } from '../../src/identity/client/mpin-client.ts';
import { revokeEverywhere } from '../../src/identity/client/shares.ts';
import { DtaService } from '../../src/identity/dta/server.ts';
import { MilagroCrypto } from '../../src/identity/milagro-crypto.ts';
import { systemRandom } from '../../src/providers.ts';
import { RelyingParty, type RelyingPartyOptions, type WebAssets } from '../../src/web/server/relying-party.ts';

export const DAY_MS = 86_400_000;

export interface RawReply {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/**
 * A raw HTTP request with exactly the headers given (fetch adds its own), from a chosen loopback
 * source address (`from`, e.g. 127.0.0.7), so per-address budgets can be exercised.
 */
export function rawRequest(base: string, path: string, opts: { method?: string; headers?: Record<string, string>; body?: string; from?: string } = {}): Promise<RawReply> {
  const url = new URL(path, base);
  return new Promise((resolve, reject) => {
    const req = request(
      { host: url.hostname, port: url.port, path: url.pathname, method: opts.method ?? 'GET', headers: opts.headers ?? {}, ...(opts.from !== undefined ? { localAddress: opts.from } : {}), agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}
export const crypto = new MilagroCrypto();

export class TestClock {
  constructor(public now: number) {}
  readonly read = (): number => this.now;
  advanceDays(n: number): void {
    this.now += n * DAY_MS;
  }
}

export interface FixtureOptions {
  readonly clock?: TestClock;
  readonly rp?: Partial<RelyingPartyOptions>;
  readonly assets?: WebAssets;
  readonly passwords?: ReadonlyMap<string, string>;
  readonly dtaCount?: number;
  /**
   * Identity proofing through the demo outbox (verification links). Without it the fixture's
   * relying party registers whoever asks (`authorizeRegistration: () => true`), for the tests of
   * other features.
   */
  readonly outbox?: boolean;
}

export class WebFixture {
  private constructor(
    readonly clock: TestClock,
    readonly key: EnrolmentKey,
    readonly dtas: readonly DtaService[],
    readonly dtaUrls: readonly string[],
    readonly dirs: readonly string[],
    readonly rp: RelyingParty,
    readonly site: DemoSite,
    readonly url: string,
    readonly outbox: DemoOutbox | undefined,
  ) {}

  static async start(o: FixtureOptions = {}): Promise<WebFixture> {
    // Noon, so that moving the clock by whole days never crosses a day boundary by accident.
    const clock = o.clock ?? new TestClock(Math.floor(Date.now() / DAY_MS) * DAY_MS + DAY_MS / 2);
    const key = generateEnrolmentKey(systemRandom);
    const dtas: DtaService[] = [];
    const urls: string[] = [];
    const dirs: string[] = [];
    for (let i = 0; i < (o.dtaCount ?? 3); i++) {
      const dir = await mkdtemp(join(tmpdir(), 'milagro-web-dta-'));
      dirs.push(dir);
      const s = await DtaService.open({ dataDir: dir, crypto, trustedKeys: [bytesToHex(key.publicKey)], clock: clock.read });
      dtas.push(s);
      urls.push(`http://127.0.0.1:${await s.listen(0)}`);
    }
    const outbox = o.outbox === true ? new DemoOutbox() : undefined;
    const rp = await RelyingParty.create({
      dtas: urls,
      enrolmentKey: key,
      clock: clock.read,
      allowInsecureLoopbackCookies: true,
      ...(o.assets !== undefined ? { assets: o.assets } : {}),
      ...(outbox !== undefined ? { verification: outbox } : o.rp?.verification === undefined ? { authorizeRegistration: () => true } : {}),
      ...o.rp,
    });
    const site = new DemoSite({ rp, ...(o.passwords !== undefined ? { passwords: o.passwords } : {}), ...(outbox !== undefined ? { outbox } : {}) });
    const url = await site.listen(0);
    return new WebFixture(clock, key, dtas, urls, dirs, rp, site, url, outbox);
  }

  #sign(params: Parameters<typeof signRequest>[1]): ReturnType<typeof signRequest> {
    return signRequest(this.key, params, { clock: this.clock.read, random: systemRandom });
  }

  /** Administrator revocation at every DTA (no more permits from tomorrow on). */
  async revoke(identity: string): Promise<void> {
    const mpinId = (await this.rp.registration(identity))?.mpinId ?? identity;
    const hashId = bytesToHex(crypto.hashId(new TextEncoder().encode(mpinId)));
    await revokeEverywhere({ dtas: this.dtaUrls, request: this.#sign({ op: 'revoke', hashId, reason: 'test' }) });
  }

  /**
   * A CLI keystore registered straight with the DTAs (as `identity register` does), adopted by
   * the relying party as the identity's registration.
   */
  async keystore(identity: string, pin: string, path: string): Promise<void> {
    const hashId = bytesToHex(crypto.hashId(new TextEncoder().encode(identity)));
    const ks = await registerIdentity({
      crypto,
      identity,
      pin,
      dtas: this.dtaUrls,
      clientSecretRequest: this.#sign({ op: 'client-secret', hashId }),
      timePermitRequest: this.#sign({ op: 'time-permits', hashId }),
    });
    await saveKeystore(path, ks, systemRandom);
    await this.rp.adoptRegistration(identity);
  }

  async close(): Promise<void> {
    await this.site.close();
    await this.rp.close();
    for (const d of this.dtas) await d.close();
    for (const d of this.dirs) await rm(d, { recursive: true, force: true });
  }
}

/** fetch with a cookie jar, for driving the relying party from Node like a browser would. */
export function jarFetch(): ((input: string, init: RequestInit) => Promise<Response>) & { readonly jar: Map<string, string> } {
  const jar = new Map<string, string>();
  const f = async (input: string, init: RequestInit): Promise<Response> => {
    const headers = new Headers(init.headers);
    if (jar.size > 0) headers.set('cookie', [...jar].map(([k, v]) => `${k}=${v}`).join('; '));
    const res = await fetch(input, { ...init, headers });
    for (const c of res.headers.getSetCookie()) {
      const kv = c.split(';', 1)[0] ?? '';
      const i = kv.indexOf('=');
      if (/;\s*Max-Age=0/i.test(c)) jar.delete(kv.slice(0, i));
      else jar.set(kv.slice(0, i), kv.slice(i + 1));
    }
    return res;
  };
  return Object.assign(f, { jar });
}
