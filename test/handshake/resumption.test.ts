/** Session resumption (RFC 5246 §7.3 Figure 2; RFC 5077 tickets; RFC 7627 §5.3) on the sans-I/O engine. */
import { describe, expect, it } from 'vitest';
import { SessionStore } from '../../src/handshake/session/store.ts';
import { decodeSessionState, encodeSessionState, type SessionState } from '../../src/handshake/session/state.ts';
import type { ClientEngineConfig } from '../../src/handshake/config.ts';
import { Suites } from '../../src/suites.ts';
import { AlertDescription, TlsError } from '../../src/alerts.ts';
import { defaultKexRegistry } from '../../src/kex/registry.ts';
import { fakeMilagro } from './fake-kex.ts';
import { defaultClient, defaultServer, fixedClock, handshake, seededRandom, text, untext } from './helpers.ts';

function store(over: Partial<ConstructorParameters<typeof SessionStore>[0]> = {}, now = { t: fixedClock() }) {
  return new SessionStore({ random: seededRandom('store'), clock: () => now.t, ...over });
}

async function full(s: SessionStore, client: Partial<ClientEngineConfig> = {}, serverSeed = 'server') {
  const w = await handshake(defaultClient(client), defaultServer({ sessionStore: s, random: seededRandom(serverSeed) }));
  expect(w.client.errors).toEqual([]);
  const session = w.client.secure?.session;
  if (session === undefined) throw new Error('no session');
  return { w, session };
}

describe('RFC 5077 session tickets', () => {
  it('resumes with a ticket: abbreviated handshake, same master secret, data flows, keylog for both', async () => {
    const s = store();
    const { w: first, session } = await full(s);
    expect(first.client.secure?.resumed).toBe(false);
    expect(session.ticket?.length).toBeGreaterThan(0);
    expect(session.ticketLifetime).toBe(300);
    const w = await handshake(defaultClient({ session, random: seededRandom('c2') }), defaultServer({ sessionStore: s, random: seededRandom('s2') }));
    expect(w.client.errors).toEqual([]);
    expect(w.server.errors).toEqual([]);
    expect(w.client.secure?.resumed).toBe(true);
    expect(w.server.secure?.resumed).toBe(true);
    expect(w.client.secure?.peerCertificates.length).toBe(1);
    expect(w.client.keylog.length).toBe(1);
    expect(w.server.keylog).toEqual(w.client.keylog);
    expect(w.client.keylog[0]?.split(' ')[2]).toBe(first.client.keylog[0]?.split(' ')[2]);
    w.client.engine.write(text('again'));
    await w.settle();
    expect(untext(w.server.data[0] ?? new Uint8Array())).toBe('again');
  });

  it('a tampered ticket → full handshake', async () => {
    const s = store();
    const { session } = await full(s);
    const ticket = (session.ticket ?? new Uint8Array()).slice();
    ticket[ticket.length - 3] = (ticket[ticket.length - 3] ?? 0) ^ 0x40;
    const w = await handshake(defaultClient({ session: { ...session, ticket } }), defaultServer({ sessionStore: s }));
    expect(w.client.errors).toEqual([]);
    expect(w.client.secure?.resumed).toBe(false);
    expect(w.client.secure?.session?.ticket).toBeDefined();
  });

  it('an expired ticket → full handshake', async () => {
    const now = { t: fixedClock() };
    const s = store({ sessionTimeout: 60 }, now);
    const { session } = await full(s);
    now.t += 61_000;
    const w = await handshake(defaultClient({ session }), defaultServer({ sessionStore: s }));
    expect(w.client.errors).toEqual([]);
    expect(w.client.secure?.resumed).toBe(false);
  });

  it('a ticket from another server (unknown key) → full; shared ticketKeys → resumed; rotation keeps the previous key', async () => {
    const a = store();
    const { session } = await full(a);
    const other = store({ random: seededRandom('other') });
    expect((await handshake(defaultClient({ session }), defaultServer({ sessionStore: other }))).client.secure?.resumed).toBe(false);
    const shared = store({ ticketKeys: a.getTicketKeys(), random: seededRandom('worker2') });
    expect((await handshake(defaultClient({ session }), defaultServer({ sessionStore: shared }))).client.secure?.resumed).toBe(true);
    shared.setTicketKeys(new Uint8Array(48).fill(7));
    expect(shared.getTicketKeys()).toEqual(new Uint8Array(48).fill(7));
    expect((await handshake(defaultClient({ session }), defaultServer({ sessionStore: shared }))).client.secure?.resumed).toBe(true);
    expect(() => shared.setTicketKeys(new Uint8Array(47))).toThrow(/48 bytes/);
  });

  it('automatic rotation: a ticket stays valid for one rotation period after its key was replaced', async () => {
    const now = { t: 0 };
    const s = store({ sessionTimeout: 1000, ticketKeyRotation: 100_000 }, now);
    const st: SessionState = { suiteId: 0xc02b, master: new Uint8Array(48).fill(1), extendedMasterSecret: true, createdAt: 0, peerCertificates: [], authorized: true, sessionId: new Uint8Array(0) };
    const k1 = s.getTicketKeys();
    const t1 = await s.seal(st);
    now.t = 100_000;
    const t2 = await s.seal({ ...st, createdAt: now.t });
    expect(s.getTicketKeys()).not.toEqual(k1);
    expect((await s.open(t1))?.master).toEqual(st.master);
    expect(await s.open(t2)).toBeDefined();
    now.t = 200_000;
    expect(await s.open(t1)).toBeUndefined();
  });
});

describe('RFC 5246 §7.4.1.2 session-ID cache', () => {
  it('resumes by session ID when tickets are off; bounded cache evicts the oldest', async () => {
    const s = store({ tickets: false, cacheSize: 2 });
    const { session } = await full(s);
    expect(session.ticket).toBeUndefined();
    expect(session.sessionId.length).toBe(32);
    const w = await handshake(defaultClient({ session, random: seededRandom('c3') }), defaultServer({ sessionStore: s, random: seededRandom('s3') }));
    expect(w.client.secure?.resumed).toBe(true);
    expect(w.server.secure?.sessionId).toEqual(session.sessionId);
    await full(s, { random: seededRandom('x1') }, 'server-x1');
    await full(s, { random: seededRandom('x2') }, 'server-x2');
    expect(s.cachedSessions).toBe(2);
    const w4 = await handshake(defaultClient({ session, random: seededRandom('c4') }), defaultServer({ sessionStore: s, random: seededRandom('server-4') }));
    expect(w4.client.errors).toEqual([]);
    expect(w4.client.secure?.resumed).toBe(false);
  });

  it('a fatal alert after the handshake removes the session from the cache (RFC 5246 §7.2.2)', async () => {
    const s = store({ tickets: false });
    const { w, session } = await full(s);
    expect(s.cachedSessions).toBe(1);
    w.server.engine.receive(new Uint8Array([23, 3, 3, 0, 40, ...new Uint8Array(40)]));
    await w.settle();
    expect(w.server.errors.length).toBe(1);
    expect(s.cachedSessions).toBe(0);
    const r = await handshake(defaultClient({ session, random: seededRandom('c5') }), defaultServer({ sessionStore: s, random: seededRandom('server-5') }));
    expect(r.client.secure?.resumed).toBe(false);
  });

  it('the client does not ask for tickets when sessionTickets is false', async () => {
    const s = store();
    const { session } = await full(s, { sessionTickets: false });
    expect(session.ticket).toBeUndefined();
  });

  it('no store on the server → full handshakes only', async () => {
    const w0 = await handshake(defaultClient(), defaultServer());
    const session = w0.client.secure?.session;
    expect(session?.ticket).toBeUndefined();
    if (session === undefined) throw new Error('no session');
    expect((await handshake(defaultClient({ session }), defaultServer({ random: seededRandom('server-2') }))).client.secure?.resumed).toBe(false);
  });
});

describe('RFC 7627 §5.3 extended master secret and resumption', () => {
  it('a non-EMS session is not resumed by an EMS handshake, and vice versa', async () => {
    const s = store();
    const { session: noEms } = await full(s, { extendedMasterSecret: false });
    expect(noEms.extendedMasterSecret).toBe(false);
    const w = await handshake(defaultClient({ session: noEms }), defaultServer({ sessionStore: s }));
    expect(w.client.errors).toEqual([]);
    expect(w.client.secure?.resumed).toBe(false);
    const { session: withEms } = await full(s);
    const w2 = await handshake(defaultClient({ session: withEms, extendedMasterSecret: false }), defaultServer({ sessionStore: s }));
    expect(w2.client.errors).toEqual([]);
    expect(w2.client.secure?.resumed).toBe(false);
  });

  it('a different SNI or a suite no longer offered → full handshake', async () => {
    const s = store();
    const { session } = await full(s);
    expect((await handshake(defaultClient({ session, servername: 'other.localhost', rejectUnauthorized: false }), defaultServer({ sessionStore: s }))).client.secure?.resumed).toBe(false);
    const w = await handshake(defaultClient({ session, suites: [Suites.ECDHE_ECDSA_WITH_AES_256_GCM_SHA384] }), defaultServer({ sessionStore: s }));
    expect(w.client.secure?.resumed).toBe(false);
  });
});

describe('RFC 7627 §5.3 on the client', () => {
  it('a server resuming without EMS a session the client holds as EMS → handshake_failure', async () => {
    const s = store();
    const w0 = await handshake(defaultClient(), defaultServer({ sessionStore: s, extendedMasterSecret: false }));
    const session = w0.client.secure?.session;
    if (session === undefined) throw new Error('no session');
    expect(session.extendedMasterSecret).toBe(false);
    const w = await handshake(defaultClient({ session: { ...session, extendedMasterSecret: true } }), defaultServer({ sessionStore: s, extendedMasterSecret: false }));
    expect(w.client.secure).toBeUndefined();
    expect((w.client.errors[0] as TlsError).alert).toBe(AlertDescription.handshake_failure);
  });
});

describe('milagro.md §7.10: Milagro sessions are never resumed', () => {
  it('no ticket, nothing cached, no session for the client, even when it asks', async () => {
    const s = store();
    const kex = defaultKexRegistry().withProvider(fakeMilagro());
    const suites = [Suites.MILAGRO_P2P_WITH_AES_128_GCM_SHA256, Suites.ECDHE_ECDSA_WITH_AES_128_GCM_SHA256];
    const w = await handshake(defaultClient({ suites, kex }), defaultServer({ suites, kex, sessionStore: s }));
    expect(w.client.errors).toEqual([]);
    expect(w.client.secure?.suite).toBe(Suites.MILAGRO_P2P_WITH_AES_128_GCM_SHA256);
    expect(w.client.secure?.session).toBeUndefined();
    expect(s.cachedSessions).toBe(0);
  });
});

describe('tickets are untrusted input', () => {
  it('every single-bit change and random garbage open to undefined, never throw', async () => {
    const s = store();
    const { session } = await full(s);
    const ticket = session.ticket ?? new Uint8Array();
    expect(await s.open(ticket)).toBeDefined();
    for (let i = 0; i < ticket.length; i++) {
      const t = ticket.slice();
      t[i] = (t[i] ?? 0) ^ 1;
      expect(await s.open(t)).toBeUndefined();
    }
    const rnd = seededRandom('garbage');
    for (let n = 0; n < 300; n += 7) expect(await s.open(rnd(n))).toBeUndefined();
  });
});

describe('session state codec', () => {
  it('round-trips and rejects every truncation', () => {
    const st: SessionState = { suiteId: 0xc02f, master: new Uint8Array(48).fill(9), extendedMasterSecret: true, createdAt: Date.UTC(2031, 5, 6), peerCertificates: [new Uint8Array([1, 2, 3])], authorized: true, sessionId: new Uint8Array(32).fill(3), ticket: new Uint8Array([5, 6]), ticketLifetime: 300, servername: 'localhost', alpnProtocol: 'h2' };
    const b = encodeSessionState(st);
    expect(decodeSessionState(b)).toEqual(st);
    for (let i = 0; i < b.length; i++) expect(() => decodeSessionState(b.subarray(0, i))).toThrow();
  });
});
