/**
 * Issue 13 §2 (DTA row) with every store backend: replicas of one DTA (same share, own data
 * directories) sharing a store refuse a request another replica served, see each other's
 * revocations, and keep them across a restart — even one from a data directory without the
 * revocation file. DTAs with different shares on the same store stay independent.
 */
import { copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { bytesToHex } from '../../src/codec/bytes.ts';
import { DtaService } from '../../src/identity/dta/server.ts';
import { SHARE_FILE_NAME } from '../../src/identity/dta/share-store.ts';
import type { KeyValueStore } from '../../src/store/index.ts';
import { DtaCluster, TestClock, errorCode, postJson } from '../identity/helpers.ts';
import { describeEachBackend } from './each-backend.ts';

const HASH = bytesToHex(new Uint8Array(32).fill(0xab));

describeEachBackend('DTA replicas sharing a store', (backend) => {
  const clock = new TestClock(Date.UTC(2026, 0, 10, 12));
  let cluster: DtaCluster;
  const stores: KeyValueStore[] = [];
  const replicas: { service: DtaService; url: string; dir: string }[] = [];
  const open = async (): Promise<KeyValueStore> => {
    const s = await backend().open();
    stores.push(s);
    return s;
  };
  /** Another replica of DTA 0: a copy of its share in a fresh data directory, the same store. */
  const replica = async (store: KeyValueStore): Promise<{ service: DtaService; url: string; dir: string }> => {
    const dir = await cluster.tempDir();
    await copyFile(join(cluster.dtas[0]!.dir, SHARE_FILE_NAME), join(dir, SHARE_FILE_NAME));
    const service = await DtaService.open(cluster.options(dir, { store }));
    const r = { service, url: `http://127.0.0.1:${await service.listen(0)}`, dir };
    replicas.push(r);
    return r;
  };

  beforeAll(async () => {
    // DTA 0 and DTA 1 have different shares; both use the store.
    cluster = await DtaCluster.start(1, clock, { store: await open() });
    const other = await cluster.tempDir();
    const service = await DtaService.open(cluster.options(other, { store: await open() }));
    cluster.dtas.push({ dir: other, url: `http://127.0.0.1:${await service.listen(0)}`, service, port: 0 });
  });
  afterAll(async () => {
    for (const r of replicas) await r.service.close();
    await cluster.stop();
    for (const s of stores) await s.close();
  });

  it('a request served by one replica is refused (replayed) by another; another DTA still serves it', async () => {
    const b = await replica(await open());
    const body = JSON.stringify(cluster.sign({ op: 'client-secret', hashId: HASH }));
    expect((await postJson(`${cluster.urls[0]}/v1/client-secret`, body)).status).toBe(200);
    const again = await postJson(`${b.url}/v1/client-secret`, body);
    expect(again.status).toBe(409);
    expect(errorCode(again.json)).toBe('replayed');
    // The same signed request goes to every DTA of the identity: a different share is not a replay.
    expect((await postJson(`${cluster.urls[1]}/v1/client-secret`, body)).status).toBe(200);
    expect((await postJson(`${cluster.urls[1]}/v1/client-secret`, body)).status).toBe(409);
    // A fresh request is fine at the replica.
    expect((await postJson(`${b.url}/v1/client-secret`, JSON.stringify(cluster.sign({ op: 'client-secret', hashId: HASH })))).status).toBe(200);
  });

  it('a revocation at one replica holds at the others and survives restarts, even without the file', async () => {
    const b = await replica(await open());
    const revoked = await postJson(`${cluster.urls[0]}/v1/revocations`, JSON.stringify(cluster.sign({ op: 'revoke', hashId: HASH, reason: 'device lost' })));
    expect(revoked.status).toBe(200);
    const permits = (url: string) => postJson(`${url}/v1/time-permits`, JSON.stringify(cluster.sign({ op: 'time-permits', hashId: HASH })));
    const atB = await permits(b.url);
    expect(atB.status).toBe(403);
    expect(errorCode(atB.json)).toBe('revoked');
    // Restart DTA 0 (keeps its file) and start a brand-new replica (no revocation file at all).
    await cluster.restart(0, { store: await open() });
    expect(errorCode((await permits(cluster.urls[0]!)).json)).toBe('revoked');
    const c = await replica(await open());
    expect(errorCode((await permits(c.url)).json)).toBe('revoked');
    const status = (await (await fetch(`${c.url}/v1/status`)).json()) as { revokedIdentities: number };
    expect(status.revokedIdentities).toBe(1);
    // The other DTA (another share) has its own revocations.
    expect((await permits(cluster.urls[1]!)).status).toBe(200);
  });
});
