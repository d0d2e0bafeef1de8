/**
 * Small writes queued while the connection is busy (here: before the handshake finished) are
 * coalesced by TLSSocket._writev into full records instead of one short record per write().
 */
import { describe, expect, it } from 'vitest';
import { connect, createServer } from '../../src/index.ts';
import { ca, cert256, closeServer, key256, listen } from './helpers.ts';

describe('write coalescing', () => {
  for (const provider of ['noble', 'node'] as const) {
    it(`2000 mostly small writes arrive intact, in order, in far fewer records (${provider})`, async () => {
      const pieces: (string | Buffer)[] = [];
      for (let i = 0; i < 2000; i++) {
        // Mostly small writes, with a write of more than a record now and then (sent uncopied).
        const len = i % 250 === 7 ? 20000 + i : 100 + ((i * 37) % 600);
        pieces.push(i % 3 === 0 ? `s${i}:`.padEnd(len, 'x') : Buffer.alloc(len, i & 0xff));
      }
      const expected = Buffer.concat(pieces.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : p)));
      let events = 0;
      const got: Buffer[] = [];
      const received = new Promise<void>((done) => {
        const server = createServer({ key: key256, cert: cert256, cryptoProvider: provider }, (s) => {
          s.on('error', () => {});
          s.on('data', (d: Buffer) => {
            events++;
            got.push(d);
            if (got.reduce((n, b) => n + b.length, 0) >= expected.length) done();
          });
        });
        void listen(server).then((port) => {
          const c = connect({ host: '127.0.0.1', port, servername: 'localhost', ca, cryptoProvider: provider });
          c.on('error', () => {});
          for (const p of pieces) c.write(p);
          void received.then(async () => {
            c.destroy();
            await closeServer(server);
          });
        });
      });
      await received;
      expect(Buffer.concat(got).equals(expected)).toBe(true);
      // ~1 MB in 16 KiB records is ~70 records; without coalescing it would be over 2000.
      expect(events).toBeLessThan(200);
    });
  }
});
