/**
 * Issue 13 §2 (TLS and MILAGRO_CS rows) with every store backend: state one server instance
 * writes is honoured by another instance sharing the store, as separate processes would.
 *  - a MILAGRO_CS proof accepted by one server is refused (replayed) by a second one;
 *  - a ticket issued by one server resumes on another; so does a session ID;
 *  - a ticket key is used for decryption only until its last ticket's lifetime ends.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AlertDescription, type TlsError } from '../../src/alerts.ts';
import { hexToBytes } from '../../src/codec/bytes.ts';
import { serverConfig } from '../../src/handshake/config.ts';
import { TlsEngine } from '../../src/handshake/engine.ts';
import type { SessionState } from '../../src/handshake/session/state.ts';
import { SessionStore } from '../../src/handshake/session/store.ts';
import { createServer, type Server } from '../../src/index.ts';
import { milagroCs, type MilagroCsEvent } from '../../src/kex/milagro-cs.ts';
import { KexRegistry } from '../../src/kex/registry.ts';
import { StoreReplayCache } from '../../src/kex/milagro/replay-store.ts';
import { type KeyValueStore, MemoryStore, namespaced } from '../../src/store/index.ts';
import { Suites } from '../../src/suites.ts';
import { cert256, closeServer, key256, listen, roundTrip, withSession } from '../api/helpers.ts';
import { seededRandom } from '../handshake/helpers.ts';
import { collector, loadRecording, recordBytes, traceNumber } from '../replay/recording.ts';
import { describeEachBackend } from './each-backend.ts';

const CS = Suites.MILAGRO_CS_WITH_AES_128_GCM_SHA256;
const rec = loadRecording('cs_default');
const t0 = traceNumber(rec, 'server', 'timevalue_used');

/** One MILAGRO_CS server instance (its own provider, as another process would have) on `store`. */
function csServer(store: KeyValueStore | undefined, log: MilagroCsEvent[]) {
  const provider = milagroCs({
    server: {
      serverSecret: hexToBytes(rec.key_files['CSServerKey'] ?? ''),
      timePermits: true,
      ...(store === undefined ? {} : { replayCache: new StoreReplayCache(namespaced(store, 'cs-replay:')) }),
    },
    logger: (e) => log.push(e),
  });
  return async (record: Uint8Array) => {
    const c = collector();
    const engine = TlsEngine.server(
      serverConfig({ suites: [CS], kex: KexRegistry.of(provider), random: seededRandom('srv'), clock: () => t0 * 1000 }),
      c.events,
    );
    engine.receive(record);
    await engine.idle;
    const out = hexToBytes(c.take());
    return { alert: out[0] === 21 && out.length === 7 ? out[6] : undefined, error: c.errors[0] as TlsError | undefined };
  };
}


describeEachBackend('shared MILAGRO_CS replay cache and TLS sessions', (backend) => {
  const stores: KeyValueStore[] = [];
  const open = async (): Promise<KeyValueStore> => {
    const s = await backend().open();
    stores.push(s);
    return s;
  };
  afterAll(async () => {
    for (const s of stores) await s.close();
  });

  it('a MILAGRO_CS proof accepted by one server is refused by a second one sharing the store', async () => {
    const logA: MilagroCsEvent[] = [];
    const logB: MilagroCsEvent[] = [];
    const logOther: MilagroCsEvent[] = [];
    const a = csServer(await open(), logA);
    const b = csServer(await open(), logB);
    const hello = recordBytes(rec.records[0]!);
    expect((await a(hello)).error).toBeUndefined();
    const replayed = await b(hello);
    expect(replayed.alert).toBe(AlertDescription.access_denied);
    expect(logB).toEqual([expect.objectContaining({ kind: 'rejected', reason: 'replayed' })]);
    // A different deployment (another prefix) has its own cache: the proof is fresh there.
    const other = csServer(namespaced(await open(), `other-${Date.now()}:`), logOther);
    expect((await other(hello)).error).toBeUndefined();
  });

  describe('TLS servers sharing the store', () => {
    let servers: Server[] = [];
    let ports: number[] = [];
    beforeAll(async () => {
      const s1 = await open();
      const s2 = await open();
      servers = [
        createServer({ key: key256, cert: cert256, store: s1 }, (s) => s.pipe(s)),
        createServer({ key: key256, cert: cert256, store: s2 }, (s) => s.pipe(s)),
        createServer({ key: key256, cert: cert256, store: s2, sessionTickets: false }, (s) => s.pipe(s)),
        createServer({ key: key256, cert: cert256, sessionTickets: false }, (s) => s.pipe(s)),
      ];
      ports = [];
      for (const s of servers) ports.push(await listen(s));
    });
    afterAll(async () => {
      for (const s of servers) await closeServer(s);
    });

    it('a ticket issued by one server resumes on another', async () => {
      const first = await roundTrip(ports[0]!);
      expect(first.socket.isSessionReused()).toBe(false);
      const again = await roundTrip(ports[1]!, withSession(first.session));
      expect(again.socket.isSessionReused()).toBe(true);
      // And back: both servers use the same key of the shared schedule.
      expect((await roundTrip(ports[0]!, withSession(again.session ?? first.session))).socket.isSessionReused()).toBe(true);
    });

    it('a session ID cached by one server resumes on another; a server without the store does not', async () => {
      const first = await roundTrip(ports[2]!);
      expect((await roundTrip(ports[2]!, withSession(first.session))).socket.isSessionReused()).toBe(true);
      // Server 0 shares the store: it finds the ID (the client offers no ticket in this session).
      expect((await roundTrip(ports[0]!, withSession(first.session))).socket.isSessionReused()).toBe(true);
      expect((await roundTrip(ports[3]!, withSession(first.session))).socket.isSessionReused()).toBe(false);
    });
  });
});

describe('shared ticket-key schedule (fake clock)', () => {
  const state = (createdAt: number): SessionState => ({
    suiteId: 0xc02b,
    master: new Uint8Array(48).fill(7),
    extendedMasterSecret: true,
    createdAt,
    peerCertificates: [],
    authorized: true,
    sessionId: new Uint8Array(0),
  });

  it('an old key decrypts only until its lifetime ends; every instance derives the same keys', async () => {
    const now = { t: 1_000_000_000 };
    const clock = (): number => now.t;
    const kv = new MemoryStore({ clock, sweepIntervalMs: 0 });
    const mk = (seed: string): SessionStore =>
      new SessionStore({ random: seededRandom(seed), clock, sessionTimeout: 100, ticketKeyRotation: 50_000, shared: kv });
    const a = mk('a');
    const b = mk('b');
    const t1 = await a.seal(state(now.t));
    expect(t1.length).toBeGreaterThan(0);
    expect((await b.open(t1))?.master).toEqual(new Uint8Array(48).fill(7));
    expect(b.getTicketKeys()).toEqual(a.getTicketKeys());
    // Next rotation period: a new key encrypts; the old one still decrypts its live tickets.
    now.t += 50_000;
    const t2 = await b.seal(state(now.t - 1000));
    expect(t2.subarray(0, 16)).not.toEqual(t1.subarray(0, 16));
    const late = await a.seal(state(now.t));
    expect(late.subarray(0, 16)).toEqual(t2.subarray(0, 16));
    now.t = 1_000_000_000 + 50_000 + 20_000;
    // t1's session was created at the start: past sessionTimeout (100 s)? no — 70 s old: still valid.
    expect(await a.open(t1)).toBeDefined();
    // The end of key 1's decrypt window: (epoch + 1)·rotation + sessionTimeout.
    const epoch1 = Math.floor(1_000_000_000 / 50_000);
    now.t = (epoch1 + 1) * 50_000 + 100_000;
    const fresh = mk('c');
    expect(await fresh.open(t1)).toBeUndefined();
    expect(await a.open(t1)).toBeUndefined();
    await kv.close();
  });

  it('tickets under names nobody issued, or tampered, are refused without creating keys', async () => {
    const now = { t: 2_000_000_000 };
    const clock = (): number => now.t;
    const kv = new MemoryStore({ clock, sweepIntervalMs: 0 });
    const s = new SessionStore({ random: seededRandom('x'), clock, shared: kv });
    const t = await s.seal(state(now.t));
    const forged = t.slice();
    forged[3] = (forged[3] ?? 0) ^ 0xff; // another epoch
    expect(await s.open(forged)).toBeUndefined();
    const flipped = t.slice();
    flipped[20] = (flipped[20] ?? 0) ^ 1;
    expect(await s.open(flipped)).toBeUndefined();
    expect(kv.size).toBe(1); // only the one real key
    await kv.close();
  });
});
