/** The crypto API is pure functions of bytes, so it runs unchanged in a worker thread. */
import { describe, expect, it } from 'vitest';
import { Worker } from 'node:worker_threads';
import * as mpin from '../../src/crypto/mpin.ts';
import { AmclRng } from '../../src/crypto/amcl-rng.ts';
import { toHex } from './helpers.ts';

describe('worker-thread use', () => {
  it('a worker verifies an M-Pin client pass from posted bytes', async () => {
    const rng = new AmclRng(Uint8Array.of(4, 2)).source;
    const id = new TextEncoder().encode('worker@example.org');
    const hid = mpin.hashId(id);
    const ms = mpin.masterSecretShare(rng);
    const token = mpin.extractPin(id, 77, mpin.clientSecretShare(ms, hid));
    const cp = mpin.clientPass({ identity: id, pin: 77, token, timeValue: 1_800_000_000, rng });
    // Register tsx's loader inside the worker so it can import the TypeScript sources directly.
    const entry = new URL('./fixtures/mpin-worker.ts', import.meta.url).href;
    const boot = `import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(entry)}); })`;
    const worker = new Worker(boot, { eval: true });
    try {
      const reply = await new Promise<{ ok: boolean; y: Uint8Array }>((resolve, reject) => {
        worker.once('message', resolve);
        worker.once('error', reject);
        worker.postMessage({ serverSecret: mpin.serverSecretShare(ms), hashId: hid, point: cp.point, V: cp.V, timeValue: 1_800_000_000 });
      });
      expect(reply.ok).toBe(true);
      expect(toHex(reply.y)).toBe(toHex(cp.y));
    } finally {
      await worker.terminate();
    }
  }, 60_000);
});
