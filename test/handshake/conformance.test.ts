/**
 * Issue 11 §5: protocol conformance where peers probe it — warning-alert and empty-record floods
 * (CVE-2016-8610 class), resumption rules (offered suite, RFC 7627 §5.3, ALPN afresh, a fresh
 * ticket per RFC 5077 §3.3), large ClientHellos, and the alerts RFC 5246 leaves open, answered as
 * OpenSSL and GnuTLS do (src/handshake/README.md has the table).
 */
import { describe, expect, it } from 'vitest';
import { AlertDescription, AlertLevel, TlsError } from '../../src/alerts.ts';
import { ByteReader } from '../../src/codec/reader.ts';
import { ByteWriter } from '../../src/codec/writer.ts';
import { concatBytes } from '../../src/codec/bytes.ts';
import { decodeClientHello, encodeClientHello } from '../../src/handshake/messages/client-hello.ts';
import { decodeServerHello, encodeServerHello } from '../../src/handshake/messages/server-hello.ts';
import { encodeEcPointFormats } from '../../src/handshake/messages/extensions/ec-point-formats.ts';
import { encodeSignatureAlgorithms } from '../../src/handshake/messages/extensions/signature-algorithms.ts';
import { encodeSupportedGroups } from '../../src/handshake/messages/extensions/supported-groups.ts';
import { ExtensionType, HandshakeType, NamedGroup, type ClientHello, type Extension } from '../../src/handshake/messages/types.ts';
import { SessionStore } from '../../src/handshake/session/store.ts';
import type { ClientEngineConfig } from '../../src/handshake/config.ts';
import { ContentType } from '../../src/record/content-type.ts';
import { Suites } from '../../src/suites.ts';
import { defaultClient, defaultServer, fixedClock, handshake, seededRandom, text, untext, wire, type Side, type Tamper } from './helpers.ts';
import { forgeEncrypted, handshakeMsg, parseRecords, record, splitHandshake } from './wire-tools.ts';

function store(over: Partial<ConstructorParameters<typeof SessionStore>[0]> = {}): SessionStore {
  return new SessionStore({ random: seededRandom('store'), clock: fixedClock, ...over });
}

async function firstSession(s: SessionStore, client: Partial<ClientEngineConfig> = {}, server: Parameters<typeof defaultServer>[0] = {}) {
  const w = await handshake(defaultClient(client), defaultServer({ sessionStore: s, ...server }));
  expect(w.client.errors).toEqual([]);
  const session = w.client.secure?.session;
  if (session === undefined) throw new Error('no session');
  return session;
}

/** The plaintext handshake messages a side sent (up to its ChangeCipherSpec). */
function plainMessages(side: Side) {
  const out: ReturnType<typeof splitHandshake> = [];
  for (const r of parseRecords(concatBytes(...side.sent))) {
    if (r.type === ContentType.change_cipher_spec) break;
    if (r.type === ContentType.handshake) out.push(...splitHandshake(r.data));
  }
  return out;
}

function sentAlert(side: Side): { level: number; description: number } | undefined {
  const a = parseRecords(concatBytes(...side.sent))
    .filter((r) => r.type === ContentType.alert)
    .at(-1);
  return a === undefined ? undefined : { level: a.data[0] as number, description: a.data[1] as number };
}

/** Rewrite the client's ClientHello in flight (the transcripts then differ; we look at the server's answer). */
function rewriteHello(f: (ch: ClientHello) => ClientHello): Tamper {
  return (dir, bytes) => {
    if (dir !== 'c2s') return bytes;
    const recs = parseRecords(bytes);
    const first = recs[0];
    if (first === undefined || first.type !== ContentType.handshake || first.data[0] !== HandshakeType.client_hello) return bytes;
    const [msg] = splitHandshake(first.data);
    if (msg === undefined) return bytes;
    const ch = f(decodeClientHello(new ByteReader(msg.body)));
    const w = new ByteWriter();
    encodeClientHello(w, ch);
    const hs = handshakeMsg(HandshakeType.client_hello, w.finish());
    const parts: Uint8Array[] = [];
    for (let at = 0; at < hs.length; at += 1 << 14) parts.push(record(ContentType.handshake, hs.subarray(at, at + (1 << 14)), at === 0 ? 0x0301 : 0x0303));
    return concatBytes(...parts);
  };
}

const withoutExtension = (type: number) => (ch: ClientHello): ClientHello => ({ ...ch, extensions: ch.extensions.filter((e) => e.type !== type) });

describe('floods of warning alerts and empty records (CVE-2016-8610 class)', () => {
  const warning = (d: number) => record(ContentType.alert, Uint8Array.of(AlertLevel.warning, d));

  it('20,000 warning alerts before the ClientHello: unexpected_message after the 5th, as OpenSSL', async () => {
    const w = wire(defaultClient(), defaultServer());
    const flood = concatBytes(...Array.from({ length: 20_000 }, () => warning(AlertDescription.user_canceled)));
    w.server.engine.receive(flood);
    await w.server.engine.idle;
    expect(w.server.errors.length).toBe(1);
    expect((w.server.errors[0] as TlsError).alert).toBe(AlertDescription.unexpected_message);
    expect(sentAlert(w.server)).toEqual({ level: AlertLevel.fatal, description: AlertDescription.unexpected_message });
  });

  it('a few warnings between records are fine: the count is of consecutive warnings', async () => {
    let n = 0;
    // Four warnings before each of the client's flights: never five in a row.
    const w = await handshake(defaultClient(), defaultServer(), (dir, bytes) =>
      dir === 'c2s' && n++ < 3 ? concatBytes(...Array.from({ length: 4 }, () => warning(AlertDescription.unrecognized_name)), bytes) : bytes,
    );
    expect(w.server.errors).toEqual([]);
    expect(w.server.secure).toBeDefined();
  });

  it('during the handshake too (encrypted warnings after ChangeCipherSpec count as well)', async () => {
    const w = wire(defaultClient(), defaultServer());
    w.client.engine.start();
    await w.settle();
    const forged = concatBytes(...Array.from({ length: 6 }, (_, i) => forgeEncrypted(w, 'client', ContentType.alert, Uint8Array.of(1, AlertDescription.user_canceled), 1n + BigInt(i))));
    w.server.engine.receive(forged);
    await w.server.engine.idle;
    expect(w.server.errors[0]).toBeInstanceOf(TlsError);
    expect((w.server.errors[0] as TlsError | undefined)?.alert).toBe(AlertDescription.unexpected_message);
  });

  it('33 consecutive empty application-data records → unexpected_message (OpenSSL allows 32)', async () => {
    const w = await handshake(defaultClient(), defaultServer());
    expect(w.server.secure).toBeDefined();
    const empties = concatBytes(...Array.from({ length: 40 }, (_, i) => forgeEncrypted(w, 'client', ContentType.application_data, new Uint8Array(0), 1n + BigInt(i))));
    w.server.engine.receive(empties);
    await w.server.engine.idle;
    expect(w.server.errors[0]).toBeInstanceOf(TlsError);
    expect((w.server.errors[0] as TlsError | undefined)?.alert).toBe(AlertDescription.unexpected_message);
  });

  it('empty records between data records are fine', async () => {
    const w = await handshake(defaultClient(), defaultServer());
    let seq = 1n;
    const parts: Uint8Array[] = [];
    for (let i = 0; i < 5; i++) {
      for (let k = 0; k < 30; k++) parts.push(forgeEncrypted(w, 'client', ContentType.application_data, new Uint8Array(0), seq++));
      parts.push(forgeEncrypted(w, 'client', ContentType.application_data, text(`d${i}`), seq++));
    }
    w.server.engine.receive(concatBytes(...parts));
    await w.server.engine.idle;
    expect(w.server.errors).toEqual([]);
    expect(w.server.data.map(untext).join('')).toBe('d0d1d2d3d4');
  });
});

describe('resumption rules', () => {
  it('never resumes with a suite the new ClientHello does not offer: full handshake with an offered suite', async () => {
    const s = store();
    const session = await firstSession(s);
    const offered = Suites.ECDHE_ECDSA_WITH_AES_256_GCM_SHA384;
    expect(session.suiteId).not.toBe(offered.id);
    for (const tickets of [true, false]) {
      const st = tickets ? s : store({ tickets: false });
      const sess = tickets ? session : await firstSession(st);
      const w = await handshake(
        defaultClient({ session: sess, suites: [Suites.ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, offered] }),
        defaultServer({ sessionStore: st, suites: [Suites.ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, offered] }),
        rewriteHello((ch) => ({ ...ch, cipherSuites: [offered.id, 0x00ff] })),
      );
      const msgs = plainMessages(w.server);
      const sh = decodeServerHello(new ByteReader(msgs[0]?.body ?? new Uint8Array()));
      expect(sh.cipherSuite).toBe(offered.id);
      // A full handshake: the server authenticates itself again.
      expect(msgs.map((m) => m.type)).toContain(HandshakeType.certificate);
    }
  });

  it('RFC 7627 §5.3: a ticket of an EMS session offered without extended_master_secret → handshake_failure', async () => {
    const s = store();
    const session = await firstSession(s);
    expect(session.extendedMasterSecret).toBe(true);
    const w = await handshake(defaultClient({ session }), defaultServer({ sessionStore: s }), rewriteHello(withoutExtension(ExtensionType.extended_master_secret)));
    expect(w.server.errors[0]).toBeInstanceOf(TlsError);
    expect((w.server.errors[0] as TlsError | undefined)?.alert).toBe(AlertDescription.handshake_failure);
    expect(sentAlert(w.server)).toEqual({ level: AlertLevel.fatal, description: AlertDescription.handshake_failure });
  });

  it('RFC 7627 §5.3: the same for a session-ID resumption', async () => {
    const s = store({ tickets: false });
    const session = await firstSession(s);
    expect(session.ticket).toBeUndefined();
    const w = await handshake(defaultClient({ session }), defaultServer({ sessionStore: s }), rewriteHello(withoutExtension(ExtensionType.extended_master_secret)));
    expect(w.server.errors[0]).toBeInstanceOf(TlsError);
    expect((w.server.errors[0] as TlsError | undefined)?.alert).toBe(AlertDescription.handshake_failure);
    expect(sentAlert(w.server)).toEqual({ level: AlertLevel.fatal, description: AlertDescription.handshake_failure });
  });

  it('RFC 7627 §5.3: a non-EMS session offered with EMS → full handshake (not an abort)', async () => {
    const s = store();
    const session = await firstSession(s, {}, { extendedMasterSecret: false });
    expect(session.extendedMasterSecret).toBe(false);
    const w = await handshake(defaultClient({ session }), defaultServer({ sessionStore: s }));
    expect(w.client.errors).toEqual([]);
    expect(w.client.secure?.resumed).toBe(false);
    expect(w.client.secure?.extendedMasterSecret).toBe(true);
  });

  it('RFC 7627 §5.3 client side: an EMS session is not offered by a client configured without EMS', async () => {
    const s = store();
    const session = await firstSession(s);
    const w = await handshake(defaultClient({ session, extendedMasterSecret: false }), defaultServer({ sessionStore: s }));
    expect(w.client.errors).toEqual([]);
    expect(w.server.errors).toEqual([]);
    expect(w.client.secure?.resumed).toBe(false);
  });

  it('RFC 7627 §5.3 client side: an abbreviated ServerHello with EMS for a non-EMS session → handshake_failure', async () => {
    const s = store();
    const session = await firstSession(s, {}, { extendedMasterSecret: false });
    expect(session.extendedMasterSecret).toBe(false);
    // The server resumes (it does not use EMS); in flight, its ServerHello gains the extension.
    const addEms: Tamper = (dir, bytes) => {
      if (dir !== 's2c') return bytes;
      const recs = parseRecords(bytes);
      const first = recs[0];
      const msgs = first === undefined ? [] : splitHandshake(first.data);
      if (first === undefined || msgs[0]?.type !== HandshakeType.server_hello) return bytes;
      const sh = decodeServerHello(new ByteReader(msgs[0].body));
      const w = new ByteWriter();
      encodeServerHello(w, { ...sh, extensions: [...sh.extensions, { type: ExtensionType.extended_master_secret, data: new Uint8Array(0) }] });
      const rest = msgs.slice(1).map((m) => m.raw);
      return concatBytes(record(ContentType.handshake, concatBytes(handshakeMsg(HandshakeType.server_hello, w.finish()), ...rest)), ...recs.slice(1).map((r) => record(r.type, r.data)));
    };
    const w = await handshake(defaultClient({ session }), defaultServer({ sessionStore: s, extendedMasterSecret: false }), addEms);
    expect(w.client.errors[0]).toBeInstanceOf(TlsError);
    expect((w.client.errors[0] as TlsError).alert).toBe(AlertDescription.handshake_failure);
  });

  it('ALPN is negotiated afresh on resumption: a different list resumes with the new protocol', async () => {
    const s = store();
    const server = { alpnProtocols: ['h2', 'http/1.1'] };
    const session = await firstSession(s, { alpnProtocols: ['h2'] }, server);
    expect(session.alpnProtocol).toBe('h2');
    const w = await handshake(defaultClient({ session, alpnProtocols: ['http/1.1'] }), defaultServer({ sessionStore: s, ...server }));
    expect(w.client.errors).toEqual([]);
    expect(w.server.errors).toEqual([]);
    expect(w.client.secure?.resumed).toBe(true);
    expect(w.client.secure?.alpnProtocol).toBe('http/1.1');
    expect(w.server.secure?.alpnProtocol).toBe('http/1.1');
    // No ALPN this time: none negotiated, still resumed.
    const w2 = await handshake(defaultClient({ session }), defaultServer({ sessionStore: s, ...server }));
    expect(w2.client.secure?.resumed).toBe(true);
    expect(w2.server.secure?.alpnProtocol).toBeUndefined();
  });

  it('RFC 5077 §3.3: resuming by ticket issues a fresh ticket, which resumes again', async () => {
    const now = { t: fixedClock() };
    const s = new SessionStore({ random: seededRandom('store'), clock: () => now.t, sessionTimeout: 300 });
    const session = await firstSession(s, { clock: () => now.t }, { clock: () => now.t });
    now.t += 100_000;
    const w = await handshake(defaultClient({ session, clock: () => now.t, random: seededRandom('c2') }), defaultServer({ sessionStore: s, clock: () => now.t, random: seededRandom('s2') }));
    expect(w.client.errors).toEqual([]);
    expect(w.server.secure?.resumed).toBe(true);
    const types = plainMessages(w.server).map((m) => m.type);
    expect(types).toEqual([HandshakeType.server_hello, HandshakeType.new_session_ticket]);
    const next = w.client.secure?.session;
    expect(next?.ticket).toBeDefined();
    expect(next?.ticket).not.toEqual(session.ticket);
    // The session keeps its original lifetime: the hint is what is left of it.
    expect(next?.ticketLifetime).toBe(200);
    expect(next?.master).toEqual(session.master);
    if (next === undefined) throw new Error('no renewed session');
    const w3 = await handshake(defaultClient({ session: next, clock: () => now.t, random: seededRandom('c3') }), defaultServer({ sessionStore: s, clock: () => now.t }));
    expect(w3.client.secure?.resumed).toBe(true);
    // Past the original session's lifetime the renewed ticket no longer resumes.
    now.t += 201_000;
    const third = w3.client.secure?.session;
    if (third === undefined) throw new Error('no session after the second resumption');
    const w4 = await handshake(defaultClient({ session: third, clock: () => now.t }), defaultServer({ sessionStore: s, clock: () => now.t }));
    expect(w4.client.secure?.resumed).toBe(false);
  });

  it('a session-ID resumption gets no ticket when the client did not ask', async () => {
    const s = store();
    const session = await firstSession(s, { sessionTickets: false });
    const w = await handshake(defaultClient({ session, sessionTickets: false }), defaultServer({ sessionStore: s }));
    expect(w.server.secure?.resumed).toBe(true);
    expect(plainMessages(w.server).map((m) => m.type)).toEqual([HandshakeType.server_hello]);
  });
});

describe('large ClientHellos are parsed, not refused', () => {
  const base: readonly Extension[] = [
    { type: ExtensionType.supported_groups, data: encodeSupportedGroups([NamedGroup.x25519, NamedGroup.secp256r1]) },
    { type: ExtensionType.ec_point_formats, data: encodeEcPointFormats([0]) },
  ];

  function hello(extensions: readonly Extension[]): Uint8Array {
    const w = new ByteWriter();
    encodeClientHello(w, {
      version: 0x0303,
      random: new Uint8Array(32).fill(9),
      sessionId: new Uint8Array(0),
      cipherSuites: [Suites.ECDHE_ECDSA_WITH_AES_128_GCM_SHA256.id, 0x00ff],
      compressionMethods: [0],
      extensions,
    });
    return handshakeMsg(HandshakeType.client_hello, w.finish());
  }

  /** Split one handshake message over records of at most 2^14 bytes. */
  function records(msg: Uint8Array): Uint8Array {
    const parts: Uint8Array[] = [];
    for (let at = 0; at < msg.length; at += 1 << 14) parts.push(record(ContentType.handshake, msg.subarray(at, at + (1 << 14)), at === 0 ? 0x0301 : 0x0303));
    return concatBytes(...parts);
  }

  async function serverAnswer(bytes: Uint8Array): Promise<{ side: Side; ms: number }> {
    const w = wire(defaultClient(), defaultServer());
    const t0 = performance.now();
    w.server.engine.receive(bytes);
    await w.server.engine.idle;
    return { side: w.server, ms: performance.now() - t0 };
  }

  it('16,000 extensions in a 64 KiB hello over 4 records: answered with a ServerHello', async () => {
    const unknown: Extension[] = Array.from({ length: 16_000 - 3 }, (_, i) => ({ type: 20_000 + i, data: new Uint8Array(0) }));
    const msg = hello([...base, { type: ExtensionType.signature_algorithms, data: encodeSignatureAlgorithms([0x0403]) }, ...unknown]);
    expect(msg.length).toBeGreaterThan(60_000);
    const { side, ms } = await serverAnswer(records(msg));
    expect(side.errors).toEqual([]);
    expect(plainMessages(side)[0]?.type).toBe(HandshakeType.server_hello);
    expect(ms).toBeLessThan(2000);
  });

  it('32,000 signature schemes: the one we support (last) is honoured', async () => {
    const schemes = Array.from({ length: 32_000 - 1 }, (_, i) => 0x0a00 + (i % 0xf000));
    schemes.push(0x0403);
    const msg = hello([...base, { type: ExtensionType.signature_algorithms, data: encodeSignatureAlgorithms(schemes) }]);
    const { side } = await serverAnswer(records(msg));
    expect(side.errors).toEqual([]);
    const types = plainMessages(side).map((m) => m.type);
    expect(types).toEqual([HandshakeType.server_hello, HandshakeType.certificate, HandshakeType.server_key_exchange, HandshakeType.server_hello_done]);
  });

  it('a full handshake with such a hello completes', async () => {
    const unknown: Extension[] = Array.from({ length: 15_000 }, (_, i) => ({ type: 20_000 + i, data: new Uint8Array(0) }));
    const w = await handshake(
      defaultClient(),
      defaultServer(),
      rewriteHello((ch) => ({ ...ch, extensions: [...ch.extensions, ...unknown] })),
    );
    // The rewritten hello breaks the client's transcript (Finished), but the server got past it.
    expect(plainMessages(w.server)[0]?.type).toBe(HandshakeType.server_hello);
  });

  it('a duplicate among 16,000 extensions is still found (illegal_parameter), in linear time', async () => {
    const unknown: Extension[] = Array.from({ length: 16_000 }, (_, i) => ({ type: 20_000 + i, data: new Uint8Array(0) }));
    unknown.push({ type: 20_000, data: new Uint8Array(0) });
    const { side, ms } = await serverAnswer(records(hello([...base, ...unknown])));
    expect((side.errors[0] as TlsError | undefined)?.alert).toBe(AlertDescription.illegal_parameter);
    expect(ms).toBeLessThan(2000);
  });
});

describe('alerts where RFC 5246 leaves the choice open: as OpenSSL s_server and gnutls-serv answer (interop/alert-probes.ts)', () => {
  const ccs = record(ContentType.change_cipher_spec, Uint8Array.of(1));
  /** Replace the client's ChangeCipherSpec record (sent after ClientKeyExchange) with `bad`. */
  const replaceCcs =
    (bad: Uint8Array): Tamper =>
    (dir, bytes) => {
      if (dir !== 'c2s') return bytes;
      const out: Uint8Array[] = [];
      for (let at = 0; at + 5 <= bytes.length; ) {
        const len = ((bytes[at + 3] as number) << 8) | (bytes[at + 4] as number);
        const r = bytes.subarray(at, at + 5 + len);
        out.push(r.length === ccs.length && r.every((b, i) => b === ccs[i]) ? bad : r);
        at += 5 + len;
      }
      return concatBytes(...out);
    };

  async function serverAlertFor(bytes: Uint8Array): Promise<number | undefined> {
    const w = wire(defaultClient(), defaultServer());
    w.server.engine.receive(bytes);
    await w.server.engine.idle;
    expect(w.server.errors[0]).toBeInstanceOf(TlsError);
    return sentAlert(w.server)?.description;
  }

  function helloWith(ext: Extension): Uint8Array {
    const w = new ByteWriter();
    encodeClientHello(w, {
      version: 0x0303,
      random: new Uint8Array(32).fill(4),
      sessionId: new Uint8Array(0),
      cipherSuites: [Suites.ECDHE_ECDSA_WITH_AES_128_GCM_SHA256.id],
      compressionMethods: [0],
      extensions: [
        { type: ExtensionType.supported_groups, data: encodeSupportedGroups([NamedGroup.x25519, NamedGroup.secp256r1]) },
        { type: ExtensionType.signature_algorithms, data: encodeSignatureAlgorithms([0x0403]) },
        ext,
      ],
    });
    return record(ContentType.handshake, handshakeMsg(HandshakeType.client_hello, w.finish()), 0x0301);
  }

  it('a ChangeCipherSpec of two bytes, or of value 2, in its place → unexpected_message', async () => {
    for (const bad of [Uint8Array.of(1, 1), Uint8Array.of(2)]) {
      const w = await handshake(defaultClient(), defaultServer(), replaceCcs(record(ContentType.change_cipher_spec, bad)));
      expect(w.server.errors[0]).toBeInstanceOf(TlsError);
      expect(sentAlert(w.server)).toEqual({ level: AlertLevel.fatal, description: AlertDescription.unexpected_message });
    }
  });

  it('malformed alert records (3 bytes, level 3) → unexpected_message', async () => {
    expect(await serverAlertFor(record(ContentType.alert, Uint8Array.of(1, 0, 0)))).toBe(AlertDescription.unexpected_message);
    expect(await serverAlertFor(record(ContentType.alert, Uint8Array.of(3, 0)))).toBe(AlertDescription.unexpected_message);
  });

  it('a zero-length handshake record → unexpected_message', async () => {
    expect(await serverAlertFor(record(ContentType.handshake, new Uint8Array(0), 0x0301))).toBe(AlertDescription.unexpected_message);
  });

  it('ec_point_formats without uncompressed → illegal_parameter (RFC 8422 §5.1.2 MUST)', async () => {
    expect(await serverAlertFor(helloWith({ type: ExtensionType.ec_point_formats, data: encodeEcPointFormats([1, 2]) }))).toBe(AlertDescription.illegal_parameter);
  });

  it('an ALPN list with an empty name → decode_error, even when the server does not use ALPN', async () => {
    expect(await serverAlertFor(helloWith({ type: ExtensionType.application_layer_protocol_negotiation, data: Uint8Array.of(0, 1, 0) }))).toBe(AlertDescription.decode_error);
  });

  it('server_name with two host_names → decode_error', async () => {
    expect(await serverAlertFor(helloWith({ type: ExtensionType.server_name, data: Uint8Array.of(0, 8, 0, 0, 1, 0x61, 0, 0, 1, 0x62) }))).toBe(AlertDescription.decode_error);
  });
});
