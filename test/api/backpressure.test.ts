/**
 * Flow control through the TLS layer: 8 MiB each way with checksums, and a reader that stops
 * reading must stall the writer (transport.pause() on a full readable; 'drain' on the writer).
 */
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { connect, createServer, type TLSSocket } from '../../src/index.ts';
import { ca, cert256, closeServer, key256, listen, secure, sleep } from './helpers.ts';

const MiB = 1024 * 1024;

function sha256(b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex');
}

/** Writes `data` in 64 KiB chunks honouring write()'s return value; resolves once all were accepted. */
async function writeWithBackpressure(s: TLSSocket, data: Buffer): Promise<number> {
  let stalls = 0;
  for (let off = 0; off < data.length; off += 64 * 1024) {
    if (!s.write(data.subarray(off, off + 64 * 1024))) {
      stalls++;
      await once(s, 'drain');
    }
  }
  return stalls;
}

/** Hashes the first `expectedLength` bytes read from `s` (event-driven: no early stream teardown). */
function digestOf(s: TLSSocket, expectedLength: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    let n = 0;
    const onData = (c: Buffer): void => {
      h.update(c);
      n += c.length;
      if (n >= expectedLength) {
        s.off('data', onData);
        if (n === expectedLength) resolve(h.digest('hex'));
        else reject(new Error(`read ${n} bytes, expected ${expectedLength}`));
      }
    };
    s.on('data', onData);
    s.once('error', reject);
  });
}

describe('backpressure', () => {
  for (const provider of ['noble', 'node'] as const) {
    it(`8 MiB each way, both directions at once, checksums match (${provider})`, async () => {
      const up = randomBytes(8 * MiB);
      const down = randomBytes(8 * MiB);
      let serverDigest: Promise<string> | undefined;
      let serverStalls: Promise<number> | undefined;
      const server = createServer({ key: key256, cert: cert256, cryptoProvider: provider }, (s) => {
        s.on('error', () => {}); // the client tears down with destroy() at the end
        serverDigest = digestOf(s, up.length);
        serverStalls = writeWithBackpressure(s, down);
      });
      const port = await listen(server);
      const c = connect({ host: 'localhost', port, ca, cryptoProvider: provider });
      await secure(c);
      const clientDigest = digestOf(c, down.length);
      const clientStalls = await writeWithBackpressure(c, up);
      expect(await clientDigest).toBe(sha256(down));
      expect(await serverDigest).toBe(sha256(up));
      // With 8 MiB against 16 KiB high-water marks, both writers must have been told to wait.
      expect(clientStalls).toBeGreaterThan(0);
      expect(await serverStalls).toBeGreaterThan(0);
      c.destroy();
      await closeServer(server);
    });
  }

  it('a reader that stops reading stalls the writer; reading again lets it finish', async () => {
    const total = 48 * MiB;
    const chunk = Buffer.alloc(256 * 1024, 0x5a);
    let written = 0;
    let writerDone = false;
    const server = createServer({ key: key256, cert: cert256, cryptoProvider: 'node' }, (s) => {
      void (async () => {
        while (written < total) {
          written += chunk.length;
          if (!s.write(chunk)) await once(s, 'drain');
        }
        writerDone = true;
        s.end();
      })();
    });
    const port = await listen(server);
    const c = connect({ host: 'localhost', port, ca, cryptoProvider: 'node' });
    await secure(c);
    c.pause();
    // Wait until the writer stops making progress (kernel socket buffers absorb a few MiB first;
    // on a loaded machine that can take a while). Without backpressure it would never stop
    // before writing everything.
    let last = -1;
    for (let i = 0; i < 100 && written !== last; i++) {
      last = written;
      await sleep(300);
    }
    expect(written).toBe(last);
    expect(writerDone).toBe(false);
    expect(written).toBeLessThan(total);
    let received = 0;
    c.on('data', (d: Buffer) => {
      received += d.length;
    });
    c.resume();
    await once(c, 'end');
    expect(received).toBe(total);
    expect(writerDone).toBe(true);
    await closeServer(server);
  });
});
