/**
 * milagro.md §7.3–§7.8 and issue 6 item 4: the recorded milagro-tls MILAGRO_CS sessions replayed
 * through the sans-I/O engine with injected randomness (the exact client/server randoms, session
 * id, x, r, w the original drew) and an injected clock (the recorded time value). Playing either
 * role against the other side's recorded records, every record we emit must equal the recorded
 * one byte for byte, and we must accept everything the original sent.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { AccessDeniedError, AlertDescription } from '../../src/alerts.ts';
import { bytesToHex, hexToBytes } from '../../src/codec/bytes.ts';
import type { MilagroCsEvent } from '../../src/kex/milagro-cs.ts';
import type { MilagroCsCompute } from '../../src/kex/milagro/cs-compute.ts';
import { MilagroWorkerPool, PooledCsCompute } from '../../src/kex/milagro/pool.ts';
import { collector, feed, loadRecording, playRecording, traceHex, type Recording, type Role } from './recording.ts';
import { csClientEngine as clientEngine, csServerEngine as serverEngine } from './cs-engines.ts';

/** Play `role` through the whole recording (see playRecording). */
async function replay(rec: Recording, role: Role, compute?: MilagroCsCompute): Promise<{ secure: boolean; data: string[]; log: MilagroCsEvent[] }> {
  const c = collector();
  const log: MilagroCsEvent[] = [];
  const over = compute === undefined ? {} : { compute };
  const engine = role === 'client' ? clientEngine(rec, c.events, over) : serverEngine(rec, c.events, log, over);
  await playRecording(rec, role, engine, c);
  return { secure: c.secure !== undefined, data: c.data.map(bytesToHex), log };
}

describe('milagro.md §7 MILAGRO_CS: replay of live milagro-tls sessions', () => {
  for (const name of ['cs_default', 'cs_no_time_permits']) {
    for (const role of ['client', 'server'] as const) {
      it(`${name}: as ${role}, byte-identical records and the peer's accepted`, async () => {
        const rec = loadRecording(name);
        const result = await replay(rec, role);
        expect(result.secure).toBe(true);
        expect(result.data.length).toBe(1);
        if (role === 'server') {
          expect(result.log.map((e) => e.kind)).toEqual(['accepted']);
        }
      });
    }
  }

  it('cs_default as server: the authenticated identity hash is SHA-256("client@miracl.com"), reported after Finished', async () => {
    const rec = loadRecording('cs_default');
    const c = collector();
    const engine = serverEngine(rec, c.events, []);
    const clientRecords = rec.records.filter((r) => r.direction === 'client_to_server');
    await feed(engine, clientRecords.slice(0, 1));
    expect(c.secure).toBeUndefined();
    await feed(engine, clientRecords.slice(1, 3)); // ClientKeyExchange, ChangeCipherSpec
    expect(c.secure).toBeUndefined();
    await feed(engine, clientRecords.slice(3, 4)); // Finished
    expect(c.secure?.peerIdentity?.kind).toBe('mpin');
    expect(bytesToHex(c.secure?.peerIdentity?.hashId ?? new Uint8Array())).toBe(traceHex(rec, 'server', 'received_hash_id'));
    expect(c.secure?.authorized).toBe(true);
    expect(c.secure?.peerCertificates).toEqual([]);
    expect(c.secure?.extendedMasterSecret).toBe(false);
  });

  it('cs_wrong_pin_rejected: our client reproduces the ClientHello byte for byte', async () => {
    const rec = loadRecording('cs_wrong_pin_rejected');
    const c = collector();
    const engine = clientEngine(rec, c.events);
    engine.start();
    await engine.idle;
    expect(c.take()).toBe(rec.records[0]?.record_hex);
  });

  it('cs_wrong_pin_rejected: our server answers with a fatal access_denied alert (the original closed silently)', async () => {
    const rec = loadRecording('cs_wrong_pin_rejected');
    const c = collector();
    const log: MilagroCsEvent[] = [];
    const engine = serverEngine(rec, c.events, log);
    await feed(engine, rec.records.slice(0, 1));
    const out = hexToBytes(c.take());
    // One alert record: type 21, length 2, fatal(2) access_denied(49).
    expect(out[0]).toBe(21);
    expect([...out.subarray(3)]).toEqual([0, 2, 2, AlertDescription.access_denied]);
    expect(engine.state).toBe('failed');
    expect(c.errors[0]).toBeInstanceOf(AccessDeniedError);
    expect(log).toMatchObject([{ kind: 'rejected', reason: 'bad-credentials', hashId: traceHex(rec, 'server', 'received_hash_id') }]);
  });
});

describe('MILAGRO_CS replay with the pairings in the worker pool (async key-exchange steps)', () => {
  const pool = new MilagroWorkerPool({ size: 2 });
  afterAll(() => pool.close());
  for (const role of ['client', 'server'] as const) {
    it(`cs_default: as ${role}, byte-identical records`, async () => {
      const result = await replay(loadRecording('cs_default'), role, new PooledCsCompute(pool));
      expect(result.secure).toBe(true);
      expect(result.data.length).toBe(1);
    });
  }
});
