/**
 * Issue 11 §3: MILAGRO_CS / MILAGRO_P2P under a flood. Functional, not timed:
 *  - the pool's waiting room serves sources round-robin, bounds each source and the total
 *    (deterministic tests on FairQueue, plus the real pool's per-source limit);
 *  - the cheap checks come before any pairing: an unknown identity (resolveIdentity / allow-list),
 *    a refused one (authorize), a stale or replayed proof cost zero pairings;
 *  - an overloaded pool is answered with a fatal internal_error alert, logged `overloaded`;
 *  - one worker job per server handshake step (CS and P2P), queued under the peer's address;
 *  - a stream of unknown identity hashes builds no precomputation tables.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { AlertDescription, TlsError } from '../../src/alerts.ts';
import { bytesToHex, hexToBytes } from '../../src/codec/bytes.ts';
import { masterSecretShare } from '../../src/crypto/mpin.ts';
import { hashId as wccHashId, receiverKeyShare, senderKeyShare } from '../../src/crypto/wcc.ts';
import { clientConfig, serverConfig } from '../../src/handshake/config.ts';
import { TlsEngine } from '../../src/handshake/engine.ts';
import type { ClientKexSelection, PeerIdentity, ServerKexSelection } from '../../src/kex/key-exchange.ts';
import { milagroCs, type MilagroCsEvent, type MilagroCsServerCredentials } from '../../src/kex/milagro-cs.ts';
import { milagroP2p, type MilagroP2pEvent, type MilagroP2pOptions } from '../../src/kex/milagro-p2p.ts';
import { InProcessCsCompute, type MilagroCsCompute } from '../../src/kex/milagro/cs-compute.ts';
import { FairQueue, type JobOptions, type JobRunner } from '../../src/kex/milagro/fair-queue.ts';
import { InProcessP2pCompute, PooledP2pCompute } from '../../src/kex/milagro/p2p-compute.ts';
import { MilagroWorkerPool, PooledCsCompute, WorkerPoolBusyError } from '../../src/kex/milagro/pool.ts';
import { KexRegistry } from '../../src/kex/registry.ts';
import { Suites } from '../../src/suites.ts';
import { handshake, seededRandom } from '../handshake/helpers.ts';
import { collector, loadRecording, traceHex, traceNumber } from '../replay/recording.ts';
import { issueCsKeys } from './keys.ts';

describe('FairQueue: the pool waiting room (deterministic)', () => {
  it('serves sources round-robin: a source with 50 waiting jobs delays another by at most one job per source', () => {
    const q = new FairQueue<string>(1000, 100);
    for (let i = 0; i < 50; i++) expect(q.admit('flood', `f${i}`, false)).toBe('queued');
    expect(q.admit('alice', 'a0', false)).toBe('queued');
    expect(q.admit('bob', 'b0', false)).toBe('queued');
    const order = Array.from({ length: 6 }, () => q.take()?.job);
    expect(order).toEqual(['f0', 'a0', 'b0', 'f1', 'f2', 'f3']);
  });

  it('a source that keeps refilling its queue cannot starve a newcomer (2 workers, 200 rounds)', () => {
    const q = new FairQueue<string>(256, 16);
    const waitedRounds: number[] = [];
    const running: { source: string; job: string }[] = [];
    let pendingSince: number | undefined;
    for (let round = 0; round < 200; round++) {
      // The flooder tops up as far as its per-source limit allows.
      for (let k = 0; k < 20; k++) q.admit('10.0.0.66', `junk${round}.${k}`, false);
      if (round % 10 === 3) {
        expect(q.admit('10.0.0.7', `legit${round}`, false)).toBe('queued');
        pendingSince = round;
      }
      // Two workers finish and take the next jobs.
      for (const r of running.splice(0)) q.done(r.source);
      for (let wkr = 0; wkr < 2; wkr++) {
        const next = q.take();
        if (next === undefined) continue;
        running.push(next);
        if (next.source === '10.0.0.7' && pendingSince !== undefined) {
          waitedRounds.push(round - pendingSince);
          pendingSince = undefined;
        }
      }
    }
    expect(waitedRounds.length).toBe(20);
    expect(Math.max(...waitedRounds)).toBe(0); // taken in the round it arrived
    // The flooder never holds more than its share.
    expect(q.inFlight('10.0.0.66')).toBeLessThanOrEqual(16);
  });

  it('bounds jobs per source (waiting + running) and in total; done() frees the share', () => {
    const q = new FairQueue<number>(3, 2);
    expect(q.admit('a', 1, true)).toBe('run');
    expect(q.admit('a', 2, false)).toBe('queued');
    expect(q.admit('a', 3, false)).toBe('source-limit');
    expect(q.admit('b', 4, false)).toBe('queued');
    expect(q.admit('c', 5, false)).toBe('queued');
    expect(q.admit('d', 6, false)).toBe('queue-full');
    expect(q.admit('d', 7, true)).toBe('run'); // a free worker: no waiting, no queue bound
    q.done('a');
    expect(q.take()).toEqual({ source: 'a', job: 2 });
    expect(q.admit('a', 8, false)).toBe('queued');
    expect(q.drain().sort()).toEqual([4, 5, 8]);
    expect(q.size).toBe(0);
    expect(q.inFlight('b')).toBe(0);
    expect(q.inFlight('a')).toBe(1); // job 2 still running
  });

  it('jobs without a source are bounded only by the global queue', () => {
    const q = new FairQueue<number>(3, 1);
    expect(q.admit('', 1, true)).toBe('run');
    expect(q.admit('', 2, false)).toBe('queued');
    expect(q.admit('', 3, false)).toBe('queued');
    expect(q.admit('', 4, false)).toBe('queued');
    expect(q.admit('', 5, false)).toBe('queue-full');
  });
});

describe('MilagroWorkerPool per-source limit (real workers)', () => {
  const pool = new MilagroWorkerPool({ size: 1, maxPerSource: 2, maxQueue: 8 });
  afterAll(() => pool.close());
  it('a third job from one address is refused with reason source-limit; another address still gets in', async () => {
    const a1 = pool.run('ping', null, { source: '10.0.0.66' });
    const a2 = pool.run('ping', null, { source: '10.0.0.66' });
    const refused = pool.run('ping', null, { source: '10.0.0.66' });
    const b = pool.run('ping', null, { source: '10.0.0.7' });
    await expect(refused).rejects.toBeInstanceOf(WorkerPoolBusyError);
    await expect(refused).rejects.toMatchObject({ reason: 'source-limit' });
    expect(await Promise.all([a1, a2, b])).toEqual(['pong', 'pong', 'pong']);
    expect(await pool.run('ping', null, { source: '10.0.0.66' })).toBe('pong'); // its share is free again
  });

  it('counts an IPv6 source by its /64: addresses rotated inside it share one share of the pool', async () => {
    const a1 = pool.run('ping', null, { source: '2001:db8:1:2::1' });
    const a2 = pool.run('ping', null, { source: '2001:db8:1:2::2' });
    const refused = pool.run('ping', null, { source: '2001:db8:1:2:abcd::3' });
    const b = pool.run('ping', null, { source: '2001:db8:1:3::1' });
    await expect(refused).rejects.toMatchObject({ reason: 'source-limit' });
    expect(await Promise.all([a1, a2, b])).toEqual(['pong', 'pong', 'pong']);
  });
});

// ---- MILAGRO_CS server: cheap checks, overload, jobs --------------------------------------

const rec = loadRecording('cs_default');
const t0 = traceNumber(rec, 'server', 'timevalue_used');
const helloRecord = hexToBytes(rec.records[0]?.record_hex ?? '');
const CS = Suites.MILAGRO_CS_WITH_AES_128_GCM_SHA256;
const recordedHashId = traceHex(rec, 'client', 'hash_id');

/** In-process compute that counts the pairing-bearing calls. */
class CountingCsCompute extends InProcessCsCompute {
  pairings = 0;
  override serverVerify(...a: Parameters<InProcessCsCompute['serverVerify']>): ReturnType<InProcessCsCompute['serverVerify']> {
    this.pairings++;
    return super.serverVerify(...a);
  }
}

async function serveCs(server: Partial<MilagroCsServerCredentials>, compute: MilagroCsCompute, clockSeconds = t0) {
  const log: MilagroCsEvent[] = [];
  const provider = milagroCs({
    server: { serverSecret: hexToBytes(rec.key_files['CSServerKey'] ?? ''), timePermits: true, ...server },
    compute,
    logger: (e) => log.push(e),
  });
  const run = async (): Promise<{ alert: number | undefined; error: Error | undefined }> => {
    const c = collector();
    const engine = TlsEngine.server(serverConfig({ suites: [CS], kex: KexRegistry.of(provider), random: seededRandom('srv'), clock: () => clockSeconds * 1000 }), c.events);
    engine.receive(helloRecord);
    await engine.idle;
    const out = hexToBytes(c.take());
    return { alert: out[0] === 21 && out.length === 7 ? out[6] : undefined, error: c.errors[0] };
  };
  return { log, run };
}

describe('MILAGRO_CS: every cheap check before any pairing (issue 11 §3)', () => {
  it('resolveIdentity that does not know the hash → access_denied, logged unknown-identity, zero pairings', async () => {
    const compute = new CountingCsCompute();
    const s = await serveCs({ resolveIdentity: () => undefined }, compute);
    const r = await s.run();
    expect(r.alert).toBe(AlertDescription.access_denied);
    expect(s.log).toEqual([expect.objectContaining({ kind: 'rejected', reason: 'unknown-identity', hashId: recordedHashId })]);
    expect(compute.pairings).toBe(0);
  });

  it('allowUnknownIdentities keeps the old behaviour: verified and accepted', async () => {
    const compute = new CountingCsCompute();
    const s = await serveCs({ resolveIdentity: () => undefined, allowUnknownIdentities: true }, compute);
    await s.run();
    expect(s.log.map((e) => e.kind)).toEqual(['accepted']);
    expect(compute.pairings).toBe(1);
  });

  it('authorize refusing the claimed identity → not-authorized with zero pairings; it sees the resolved name', async () => {
    const compute = new CountingCsCompute();
    const seen: PeerIdentity[] = [];
    const s = await serveCs({ resolveIdentity: () => 'client@miracl.com', authorize: (id) => (seen.push(id), false) }, compute);
    const r = await s.run();
    expect(r.alert).toBe(AlertDescription.access_denied);
    expect(s.log).toEqual([expect.objectContaining({ reason: 'not-authorized' })]);
    expect(seen.map((i) => i.identity)).toEqual(['client@miracl.com']);
    expect(compute.pairings).toBe(0);
  });

  it('stale and replayed proofs cost no pairing; the replay cache may be asynchronous (a shared store)', async () => {
    const compute = new CountingCsCompute();
    const stale = await serveCs({}, compute, t0 + 60);
    expect((await stale.run()).alert).toBe(AlertDescription.access_denied);
    expect(stale.log[0]).toMatchObject({ reason: 'stale' });
    const seen = new Set<string>();
    const replayCache = {
      add: async (v: { hashId: Uint8Array; timeValue: number; V: Uint8Array }) => {
        const k = `${bytesToHex(v.hashId)}:${v.timeValue}:${bytesToHex(v.V)}`;
        await new Promise((r) => setTimeout(r, 1));
        if (seen.has(k)) return false;
        seen.add(k);
        return true;
      },
    };
    const s = await serveCs({ replayCache }, compute);
    await s.run();
    expect(compute.pairings).toBe(1);
    const r = await s.run();
    expect(r.alert).toBe(AlertDescription.access_denied);
    expect(s.log.map((e) => (e.kind === 'rejected' ? e.reason : e.kind))).toEqual(['accepted', 'replayed']);
    expect(compute.pairings).toBe(1);
  });

  it('unknown identity hashes build no tables; a proven identity is cached', () => {
    const compute = new InProcessCsCompute();
    const input = {
      serverSecret: hexToBytes(rec.key_files['CSServerKey'] ?? ''),
      point: hexToBytes(traceHex(rec, 'client', 'UT')),
      V: hexToBytes(traceHex(rec, 'client', 'V')),
      timeValue: traceNumber(rec, 'client', 'timevalue'),
      date: traceNumber(rec, 'server', 'date'),
      detectPinError: false,
    };
    const rng = seededRandom('junk ids');
    for (let i = 0; i < 5; i++) expect(compute.serverVerify({ ...input, hashId: rng(32) }).ok).toBe(false);
    expect(compute.cachedIdentities).toBe(0);
    expect(compute.serverVerify({ ...input, hashId: hexToBytes(recordedHashId) }).ok).toBe(true);
    expect(compute.cachedIdentities).toBe(1);
  });
});

const busyRunner: JobRunner = {
  run: () => Promise.reject(new WorkerPoolBusyError('worker pool overloaded: 256 jobs already waiting', 'queue-full')),
};

describe('overload → fatal alert, logged as overloaded (not invalid-point)', () => {
  it('MILAGRO_CS: internal_error alert, reason overloaded', async () => {
    const s = await serveCs({}, new PooledCsCompute(busyRunner));
    const r = await s.run();
    expect(r.alert).toBe(AlertDescription.internal_error);
    expect(r.error).toBeInstanceOf(TlsError);
    expect(s.log).toEqual([expect.objectContaining({ kind: 'rejected', reason: 'overloaded' })]);
  });

  it('MILAGRO_P2P: internal_error, reason overloaded', async () => {
    const log: MilagroP2pEvent[] = [];
    const p = p2pServer({ compute: new PooledP2pCompute(busyRunner), logger: (e) => log.push(e) });
    const s = p.server({ groups: [], random: seededRandom('x'), clock: () => Date.now() });
    expect(await s.acceptClient({} as never)).toBe(true);
    const err = await Promise.resolve()
      .then(() => s.serverKeyExchange({} as ServerKexSelection))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TlsError);
    expect((err as TlsError).alert).toBe(AlertDescription.internal_error);
    expect(log).toEqual([expect.objectContaining({ kind: 'rejected', reason: 'overloaded' })]);
  });
});

// ---- MILAGRO_P2P ---------------------------------------------------------------------------

const p2pMaster = masterSecretShare(seededRandom('p2p flood authority'));
const SERVER_ID = 'server.example.org';
const CLIENT_ID = 'client@example.org';
const hid = (id: string): Uint8Array => wccHashId(new TextEncoder().encode(id));
const senderKey = senderKeyShare(p2pMaster, hid(SERVER_ID));
const receiverKey = receiverKeyShare(p2pMaster, hid(CLIENT_ID));

function p2pServer(over: Partial<MilagroP2pOptions> & { allowedClients?: NonNullable<MilagroP2pOptions['server']>['allowedClients'] } = {}) {
  const { allowedClients, ...rest } = over;
  return milagroP2p({ server: { identity: SERVER_ID, senderKey, ...(allowedClients === undefined ? {} : { allowedClients }) }, ...rest });
}

class CountingP2pCompute extends InProcessP2pCompute {
  pairings = 0;
  override senderKey(...a: Parameters<InProcessP2pCompute['senderKey']>): ReturnType<InProcessP2pCompute['senderKey']> {
    this.pairings++;
    return super.senderKey(...a);
  }
}

describe('MILAGRO_P2P: an identity outside allowedClients costs no pairing', () => {
  it('access_denied, logged unexpected-identity, zero sender-key computations', async () => {
    const compute = new CountingP2pCompute();
    const log: MilagroP2pEvent[] = [];
    const server = p2pServer({ compute, allowedClients: ['someone-else@example.org'], logger: (e) => log.push(e) });
    const client = milagroP2p({ client: { identity: CLIENT_ID, receiverKey, serverIdentity: SERVER_ID } });
    const s = server.server({ groups: [], random: seededRandom('x'), clock: () => Date.now() });
    expect(await s.acceptClient({} as never)).toBe(true);
    const ske = await s.serverKeyExchange({} as ServerKexSelection);
    const c = client.client({ suites: [], groups: [], signatureSchemes: [], clientRandom: new Uint8Array(32), random: seededRandom('c'), clock: () => Date.now() });
    await c.processServerKeyExchange(ske, {} as ClientKexSelection);
    const { body } = await c.clientKeyExchange({} as ClientKexSelection);
    await expect(Promise.resolve().then(() => s.processClientKeyExchange(body, {} as ServerKexSelection))).rejects.toMatchObject({ alert: AlertDescription.access_denied });
    expect(log.at(-1)).toMatchObject({ reason: 'unexpected-identity' });
    expect(compute.pairings).toBe(0);
  });
});

describe('one worker job per server handshake step, queued under the peer address', () => {
  const pool = new MilagroWorkerPool({ size: 2 });
  afterAll(() => pool.close());
  const counting = (): { runner: JobRunner; jobs: { op: string; source: string | undefined }[] } => {
    const jobs: { op: string; source: string | undefined }[] = [];
    return {
      jobs,
      runner: {
        run: <T,>(op: string, input: unknown, o?: JobOptions): Promise<T> => {
          jobs.push({ op, source: o?.source });
          return pool.run<T>(op, input, o);
        },
      },
    };
  };

  it('MILAGRO_CS: cs.serverHello (verify + W + [w]UT) then cs.serverKey', async () => {
    const now = Date.UTC(2026, 10, 28, 4, 0, 0);
    const keys = issueCsKeys({ now });
    const { runner, jobs } = counting();
    const client = clientConfig({
      ca: [],
      rejectUnauthorized: true,
      suites: [CS],
      random: seededRandom('c'),
      clock: () => now,
      kex: KexRegistry.of(milagroCs({ client: { identity: keys.identity, token: keys.token, pin: keys.pin, timePermit: keys.timePermit, date: keys.date } })),
    });
    const server = serverConfig({
      suites: [CS],
      random: seededRandom('s'),
      clock: () => now,
      peerAddress: '192.0.2.7',
      kex: KexRegistry.of(milagroCs({ server: { serverSecret: keys.serverSecret, timePermits: true }, compute: new PooledCsCompute(runner) })),
    });
    const w = await handshake(client, server);
    expect(w.server.errors).toEqual([]);
    expect(w.server.secure?.peerIdentity?.kind).toBe('mpin');
    expect(jobs).toEqual([
      { op: 'cs.serverHello', source: '192.0.2.7' },
      { op: 'cs.serverKey', source: '192.0.2.7' },
    ]);
  });

  it('MILAGRO_P2P: p2p.senderEphemeral then p2p.senderKey', async () => {
    const { runner, jobs } = counting();
    const P2P = Suites.MILAGRO_P2P_WITH_AES_128_GCM_SHA256;
    const client = clientConfig({
      ca: [],
      rejectUnauthorized: true,
      suites: [P2P],
      random: seededRandom('c'),
      kex: KexRegistry.of(milagroP2p({ client: { identity: CLIENT_ID, receiverKey, serverIdentity: SERVER_ID } })),
    });
    const server = serverConfig({ suites: [P2P], random: seededRandom('s'), peerAddress: '192.0.2.8', kex: KexRegistry.of(p2pServer({ compute: new PooledP2pCompute(runner) })) });
    const w = await handshake(client, server);
    expect(w.server.errors).toEqual([]);
    expect(w.server.secure?.peerIdentity?.identity).toBe(CLIENT_ID);
    expect(jobs).toEqual([
      { op: 'p2p.senderEphemeral', source: '192.0.2.8' },
      { op: 'p2p.senderKey', source: '192.0.2.8' },
    ]);
  });
});


