/**
 * Event-loop protection in the Milagro worker pool (issue 6 item 3): workers run at a lower
 * scheduling priority so the event-loop thread is not time-sliced with them, and job inputs that
 * are views into larger buffers are copied compactly before crossing the thread boundary.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { bytesToHex, hexToBytes } from '../../src/codec/bytes.ts';
import { MilagroWorkerPool, PooledCsCompute } from '../../src/kex/milagro/pool.ts';
import { loadRecording, traceHex, traceNumber } from '../replay/recording.ts';

const rec = loadRecording('cs_default');
const pool = new MilagroWorkerPool({ size: 1, niceness: 7 });
afterAll(() => pool.close());

/** Nice values of this process's threads (Linux /proc; field 19 of stat). */
function threadNiceValues(): number[] {
  return readdirSync('/proc/self/task').map((tid) => {
    const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[16]); // field 19 overall; fields[0] is field 3 (state)
  });
}

describe('MilagroWorkerPool scheduling and inputs', () => {
  it('rejects a niceness outside 0..19', () => {
    expect(() => new MilagroWorkerPool({ niceness: 20 })).toThrow(RangeError);
    expect(() => new MilagroWorkerPool({ niceness: -1 })).toThrow(RangeError);
  });

  it('its worker thread runs at the configured niceness, the event-loop thread unchanged', async () => {
    await pool.warmup();
    const nice = threadNiceValues();
    expect(nice).toContain(7);
    expect(nice[0]).toBe(0); // the first task is the main thread
  });

  it('accepts points that are views into a large buffer (copied compactly) with the same result', async () => {
    const point = hexToBytes(traceHex(rec, 'client', 'UT'));
    const V = hexToBytes(traceHex(rec, 'client', 'V'));
    const slab = new Uint8Array(1 << 16);
    slab.set(point, 1000);
    slab.set(V, 5000);
    const v = await new PooledCsCompute(pool).serverVerify({
      serverSecret: hexToBytes(rec.key_files['CSServerKey'] ?? ''),
      hashId: hexToBytes(traceHex(rec, 'client', 'hash_id')),
      point: slab.subarray(1000, 1000 + point.length),
      V: slab.subarray(5000, 5000 + V.length),
      timeValue: traceNumber(rec, 'client', 'timevalue'),
      date: traceNumber(rec, 'server', 'date'),
      detectPinError: false,
    });
    expect(v.ok).toBe(true);
    expect(bytesToHex(v.y)).toBe(traceHex(rec, 'server', 'Y'));
  });
});
