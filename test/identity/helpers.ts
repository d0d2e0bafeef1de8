/** Shared fixtures for the identity tests: DTAs on loopback with temp dirs and a settable clock. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bytesToHex } from '../../src/codec/bytes.ts';
import { type EnrolmentKey, generateEnrolmentKey, type RequestParams, signRequest, type SignedRequest } from '../../src/identity/auth.ts';
import { DtaService, type DtaOptions } from '../../src/identity/dta/server.ts';
import { MilagroCrypto } from '../../src/identity/milagro-crypto.ts';
import type { RandomSource } from '../../src/providers.ts';
import { seededRandom } from '../helpers/random.ts';

export const crypto = new MilagroCrypto();

export { seededRandom };

/** A clock tests can move. */
export class TestClock {
  constructor(public now: number) {}
  readonly read = (): number => this.now;
  advanceDays(n: number): void {
    this.now += n * 86_400_000;
  }
}

export const DAY_MS = 86_400_000;

export interface RunningDta {
  readonly dir: string;
  readonly url: string;
  service: DtaService;
  port: number;
}

export class DtaCluster {
  readonly dtas: RunningDta[] = [];
  readonly tmpDirs: string[] = [];
  constructor(
    readonly clock: TestClock,
    readonly key: EnrolmentKey,
    readonly random: RandomSource,
  ) {}

  static async start(n: number, clock: TestClock, extra: Partial<DtaOptions> = {}): Promise<DtaCluster> {
    const random = seededRandom(0x5eed);
    const c = new DtaCluster(clock, generateEnrolmentKey(random), random);
    for (let i = 0; i < n; i++) {
      const dir = await c.tempDir();
      const service = await DtaService.open(c.options(dir, extra));
      const port = await service.listen(0);
      c.dtas.push({ dir, url: `http://127.0.0.1:${port}`, service, port });
    }
    return c;
  }

  async tempDir(): Promise<string> {
    const d = await mkdtemp(join(tmpdir(), 'milagro-dta-test-'));
    this.tmpDirs.push(d);
    return d;
  }

  options(dataDir: string, extra: Partial<DtaOptions> = {}): DtaOptions {
    return { dataDir, crypto, trustedKeys: [bytesToHex(this.key.publicKey)], clock: this.clock.read, random: this.random, ...extra };
  }

  get urls(): string[] {
    return this.dtas.map((d) => d.url);
  }

  sign(params: RequestParams, lifetimeMs?: number): SignedRequest {
    return signRequest(this.key, params, { clock: this.clock.read, random: this.random, ...(lifetimeMs !== undefined ? { lifetimeMs } : {}) });
  }

  /** Stops DTA i and starts it again on the same port from the same data directory. */
  async restart(i: number, extra: Partial<DtaOptions> = {}): Promise<void> {
    const d = this.dtas[i];
    if (d === undefined) throw new Error('no such DTA');
    await d.service.close();
    d.service = await DtaService.open(this.options(d.dir, extra));
    d.port = await d.service.listen(d.port);
  }

  async stop(): Promise<void> {
    await Promise.all(this.dtas.map((d) => d.service.close()));
    await Promise.all(this.tmpDirs.map((d) => rm(d, { recursive: true, force: true })));
  }
}

export async function postJson(url: string, body: string, headers: Record<string, string> = { 'content-type': 'application/json' }): Promise<{ status: number; json: unknown }> {
  const res = await fetch(url, { method: 'POST', headers, body });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: res.status, json };
}

export function errorCode(json: unknown): string | undefined {
  if (typeof json !== 'object' || json === null) return undefined;
  const e = (json as Record<string, unknown>)['error'];
  if (typeof e !== 'object' || e === null) return undefined;
  const c = (e as Record<string, unknown>)['code'];
  const m = (e as Record<string, unknown>)['message'];
  return typeof c === 'string' && typeof m === 'string' && m.length > 0 ? c : undefined;
}
