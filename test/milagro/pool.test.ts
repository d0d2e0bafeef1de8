/**
 * Issue 6 item 3: the MILAGRO_CS pairings in a node:worker_threads pool. The pool must load its
 * workers under vitest (TypeScript sources), give the same bytes as the in-process code, carry
 * point errors across the thread boundary, bound its queue and shut down cleanly.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { bytesToHex, hexToBytes } from '../../src/codec/bytes.ts';
import { InProcessCsCompute } from '../../src/kex/milagro/cs-compute.ts';
import { MilagroWorkerPool, PooledCsCompute, WorkerPoolBusyError, WorkerPoolClosedError } from '../../src/kex/milagro/pool.ts';
import { loadRecording, traceHex, traceNumber } from '../replay/recording.ts';

const rec = loadRecording('cs_default');
const pool = new MilagroWorkerPool({ size: 2 });
afterAll(() => pool.close());

const verifyInput = () => ({
  serverSecret: hexToBytes(rec.key_files['CSServerKey'] ?? ''),
  hashId: hexToBytes(traceHex(rec, 'client', 'hash_id')),
  point: hexToBytes(traceHex(rec, 'client', 'UT')),
  V: hexToBytes(traceHex(rec, 'client', 'V')),
  timeValue: traceNumber(rec, 'client', 'timevalue'),
  date: traceNumber(rec, 'server', 'date'),
  detectPinError: false,
});

describe('MilagroWorkerPool', () => {
  it('runs the server check and key in workers with the same results as in-process (cs_default trace)', async () => {
    const compute = new PooledCsCompute(pool);
    const v = await compute.serverVerify(verifyInput());
    expect(v.ok).toBe(true);
    expect(bytesToHex(v.y)).toBe(traceHex(rec, 'server', 'Y'));
    const W = await compute.serverEphemeral({ hashId: verifyInput().hashId, date: verifyInput().date, w: hexToBytes(traceHex(rec, 'server', 'w')) });
    expect(bytesToHex(W)).toBe(traceHex(rec, 'server', 'W'));
    const input = {
      serverSecret: verifyInput().serverSecret,
      hashId: verifyInput().hashId,
      point: verifyInput().point,
      UT: verifyInput().point,
      y: v.y,
      V: verifyInput().V,
      W,
      w: hexToBytes(traceHex(rec, 'server', 'w')),
      R: hexToBytes(traceHex(rec, 'client', 'R')),
    };
    const key = await compute.serverKey(input);
    expect(bytesToHex(key)).toBe(traceHex(rec, 'server', 'server_key'));
    // [w]·UT computed ahead (overlapping the client's work) gives the same key.
    const keyPoint = await compute.serverKeyPoint({ point: input.point, w: input.w });
    expect(bytesToHex(await compute.serverKey({ ...input, keyPoint }))).toBe(traceHex(rec, 'server', 'server_key'));
    expect(bytesToHex(new InProcessCsCompute().serverKey(input))).toBe(bytesToHex(key));
  });

  it('runs jobs concurrently on both workers', async () => {
    const compute = new PooledCsCompute(pool);
    const results = await Promise.all([1, 2, 3, 4].map(() => compute.serverVerify(verifyInput())));
    expect(results.map((r) => r.ok)).toEqual([true, true, true, true]);
  });

  it('a bad point fails with a PointError-named error (mapped to illegal_parameter by the kex)', async () => {
    const compute = new PooledCsCompute(pool);
    const bad = verifyInput().V.slice();
    bad[64] = (bad[64] ?? 0) ^ 1;
    await expect(compute.serverVerify({ ...verifyInput(), V: bad })).rejects.toMatchObject({ name: 'PointError' });
  });

  it('an unknown operation is refused, the worker keeps serving', async () => {
    await expect(pool.run('nope', {})).rejects.toThrow(/unknown worker operation/);
    expect((await new PooledCsCompute(pool).serverVerify(verifyInput())).ok).toBe(true);
  });

  it('bounds its queue and rejects jobs once closed', async () => {
    const small = new MilagroWorkerPool({ size: 1, maxQueue: 1 });
    const compute = new PooledCsCompute(small);
    const a = compute.serverVerify(verifyInput());
    const b = compute.serverVerify(verifyInput());
    await expect(compute.serverVerify(verifyInput())).rejects.toBeInstanceOf(WorkerPoolBusyError);
    expect((await a).ok).toBe(true);
    expect((await b).ok).toBe(true);
    await small.close();
    await expect(compute.serverVerify(verifyInput())).rejects.toBeInstanceOf(WorkerPoolClosedError);
  });
});
