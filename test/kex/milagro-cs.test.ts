/**
 * MILAGRO_CS in the sans-I/O engine (milagro.md §7.3–§7.7) and every §10 weakness that applies to
 * it: each bad input must end in the right fatal alert, and the same provider (server) must keep
 * serving good clients afterwards.
 */
import { describe, expect, it } from 'vitest';
import {
  AccessDeniedError,
  AlertDescription,
  DecodeError,
  HandshakeFailureError,
  IllegalParameterError,
  PeerAlertError,
  TlsError as TlsErrorClass,
  type TlsError,
} from '../../src/alerts.ts';
import { ByteWriter } from '../../src/codec/writer.ts';
import { bytesToHex, concatBytes, hexToBytes } from '../../src/codec/bytes.ts';
import { clientConfig, serverConfig } from '../../src/handshake/config.ts';
import { TlsEngine } from '../../src/handshake/engine.ts';
import { encodeClientHello, parseClientHello } from '../../src/handshake/messages/client-hello.ts';
import { encodeHandshake } from '../../src/handshake/messages/handshake.ts';
import type { ClientHello, Extension } from '../../src/handshake/messages/types.ts';
import { milagroCs, type MilagroCsEvent, type MilagroCsProvider } from '../../src/kex/milagro-cs.ts';
import { decodeCsExtension, decodeCsKeyExchange, encodeCsExtension } from '../../src/kex/milagro/cs-wire.ts';
import { defaultKexRegistry, KexRegistry } from '../../src/kex/registry.ts';
import { Suites, withSuiteId } from '../../src/suites.ts';
import { collector, feed, loadRecording, recordBytes, traceNumber } from '../replay/recording.ts';
import { csClientEngine } from '../replay/cs-engines.ts';
import { defaultClient, defaultServer, handshake, seededRandom, text, untext } from '../handshake/helpers.ts';
import { issueCsKeys } from '../milagro/keys.ts';

const CS = Suites.MILAGRO_CS_WITH_AES_128_GCM_SHA256;
const rec = loadRecording('cs_default');
const t0 = traceNumber(rec, 'server', 'timevalue_used');
const recordedHello = parseClientHello(hexToBytes(rec.records[0]?.record_hex ?? '').subarray(9));
const ext37 = (ch: ClientHello): Uint8Array => ch.extensions.find((e) => e.type === 37)?.data ?? new Uint8Array();

function recordOf(hs: Uint8Array, version = 0x0301): Uint8Array {
  const w = new ByteWriter(hs.length + 5);
  w.u8(22).u16(version).u16(hs.length).bytes(hs);
  return w.finish();
}

function helloRecord(change: (ch: ClientHello) => Partial<ClientHello>): Uint8Array {
  const ch = { ...recordedHello, ...change(recordedHello) };
  const w = new ByteWriter();
  encodeClientHello(w, ch);
  return recordOf(encodeHandshake(1, w.finish()));
}

const withExt37 = (data: Uint8Array): ((ch: ClientHello) => Partial<ClientHello>) => (ch) => ({
  extensions: ch.extensions.map((e): Extension => (e.type === 37 ? { type: 37, data } : e)),
});

function serverProvider(log: MilagroCsEvent[], over: Partial<Parameters<typeof milagroCs>[0]['server'] & object> = {}): MilagroCsProvider {
  return milagroCs({
    server: { serverSecret: hexToBytes(rec.key_files['CSServerKey'] ?? ''), timePermits: true, ...over },
    logger: (e) => log.push(e),
  });
}

/** One connection to a server using `provider`; returns the alert it sent (if any) and its error. */
async function serve(provider: MilagroCsProvider, record: Uint8Array, clockSeconds = t0) {
  const c = collector();
  const engine = TlsEngine.server(
    serverConfig({ suites: [CS], kex: KexRegistry.of(provider), random: seededRandom('srv'), clock: () => clockSeconds * 1000 }),
    c.events,
  );
  engine.receive(record);
  await engine.idle;
  const out = hexToBytes(c.take());
  const alert = out[0] === 21 && out.length === 7 ? out[6] : undefined;
  return { alert, error: c.errors[0] as TlsError | undefined, out, engine };
}

function patch(data: Uint8Array, at: number, bytes: readonly number[]): Uint8Array {
  const d = data.slice();
  d.set(bytes, at);
  return d;
}

const good = ext37(recordedHello);
const u16 = (n: number): number[] => [n >> 8, n & 0xff];

describe('milagro.md §10 items 1–3: extension 37 parsed with a bounded reader', () => {
  const cases: [string, Uint8Array, number, new (...a: never[]) => Error][] = [
    ['len_HID = 0 (killed the original server)', patch(good, 0, u16(0)), AlertDescription.illegal_parameter, IllegalParameterError],
    ['len_HID = 0xffff', patch(good, 0, u16(0xffff)), AlertDescription.illegal_parameter, IllegalParameterError],
    ['len_HID = 31', patch(good, 0, u16(31)), AlertDescription.illegal_parameter, IllegalParameterError],
    ['len_P = 66 (heap overflow in the original)', patch(good, 2, u16(66)), AlertDescription.illegal_parameter, IllegalParameterError],
    ['len_V = 0', patch(good, 4, u16(0)), AlertDescription.illegal_parameter, IllegalParameterError],
    ['len_V = 0xffff', patch(good, 4, u16(0xffff)), AlertDescription.illegal_parameter, IllegalParameterError],
    ['one byte short of the lengths', good.subarray(0, 171), AlertDescription.decode_error, DecodeError],
    ['a trailing byte', concatBytes(good, new Uint8Array([0])), AlertDescription.decode_error, DecodeError],
    ['only the three lengths', good.subarray(0, 6), AlertDescription.decode_error, DecodeError],
    ['two bytes', good.subarray(0, 2), AlertDescription.decode_error, DecodeError],
    ['empty', new Uint8Array(0), AlertDescription.decode_error, DecodeError],
  ];
  for (const [name, data, alert, cls] of cases) {
    it(`refuses ${name}`, async () => {
      const log: MilagroCsEvent[] = [];
      const r = await serve(serverProvider(log), helloRecord(withExt37(data)));
      expect(r.alert).toBe(alert);
      expect(r.error).toBeInstanceOf(cls);
      expect(r.engine.state).toBe('failed');
      expect(log[0]).toMatchObject({ kind: 'rejected', reason: 'malformed' });
    });
  }

  it('the codec round-trips the recorded extension', () => {
    expect(bytesToHex(encodeCsExtension(decodeCsExtension(good)))).toBe(bytesToHex(good));
  });
});

describe('MILAGRO_CS codecs under random input (style.md §11 fuzz)', () => {
  const rng = seededRandom('cs-wire-fuzz');
  const byte = (): number => (rng(1)[0] ?? 0);
  it('mutated or random extension data only ever throws TlsError', () => {
    for (let i = 0; i < 3000; i++) {
      let data: Uint8Array;
      if (i % 3 === 0) data = rng(byte() % 200);
      else {
        data = good.slice(0, i % 5 === 0 ? byte() % good.length : good.length);
        for (let k = 0; k < 1 + (byte() % 4); k++) if (data.length > 0) data[byte() % data.length] = byte();
      }
      try {
        decodeCsExtension(data);
      } catch (e) {
        expect(e).toBeInstanceOf(TlsErrorClass);
      }
      try {
        decodeCsKeyExchange(data.subarray(0, 67), 'server_key_exchange');
      } catch (e) {
        expect(e).toBeInstanceOf(TlsErrorClass);
      }
    }
  });
});

describe('milagro.md §10 item 8: points validated', () => {
  const v = decodeCsExtension(good);
  const withPoint = (field: 'point' | 'V', p: Uint8Array): Uint8Array => encodeCsExtension({ ...v, [field]: p });
  const offCurve = v.V.slice();
  offCurve[64] = (offCurve[64] ?? 0) ^ 1;
  const infinity = new Uint8Array(65);
  infinity[0] = 4;
  const compressedPrefix = v.V.slice();
  compressedPrefix[0] = 2;
  const xTooBig = v.point.slice();
  xTooBig.fill(0xff, 1, 33);
  const cases: [string, Uint8Array][] = [
    ['V off the curve', withPoint('V', offCurve)],
    ['V at infinity (04 ‖ 0…0)', withPoint('V', infinity)],
    ['V with prefix 02', withPoint('V', compressedPrefix)],
    ['UT with x ≥ p', withPoint('point', xTooBig)],
    ['UT at infinity', withPoint('point', infinity)],
  ];
  for (const [name, data] of cases) {
    it(`refuses ${name} with illegal_parameter`, async () => {
      const log: MilagroCsEvent[] = [];
      const r = await serve(serverProvider(log), helloRecord(withExt37(data)));
      expect(r.alert).toBe(AlertDescription.illegal_parameter);
      expect(r.error).toBeInstanceOf(IllegalParameterError);
      expect(log[0]).toMatchObject({ kind: 'rejected', reason: 'invalid-point' });
    });
  }
});

describe('milagro.md §7.3 step 2, §10 items 13–14: time window and replay cache', () => {
  const v = decodeCsExtension(good);
  for (const [name, delta] of [
    ['stale (t − 6 s)', -6],
    ['future (t + 6 s)', 6],
    ['far future (2^32 − 1)', 0xffffffff - t0],
    ['zero', -t0],
  ] as const) {
    it(`refuses a ${name} time value with access_denied`, async () => {
      const log: MilagroCsEvent[] = [];
      const r = await serve(serverProvider(log), helloRecord(withExt37(encodeCsExtension({ ...v, timeValue: t0 + delta }))));
      expect(r.alert).toBe(AlertDescription.access_denied);
      expect(r.error).toBeInstanceOf(AccessDeniedError);
      expect(log[0]).toMatchObject({ kind: 'rejected', reason: 'stale' });
    });
  }

  it('the window is configurable: 10 s accepts a client 8 s ahead (time check), the proof then decides', async () => {
    const log: MilagroCsEvent[] = [];
    const r = await serve(serverProvider(log, { timeWindowSeconds: 10 }), recordBytes(rec.records[0] ?? rec.records[0]!), t0 - 8);
    expect(r.error).toBeUndefined();
    expect(log[0]).toMatchObject({ kind: 'accepted' });
  });

  it('a t moved within the window changes y, so the pairing check fails (access_denied)', async () => {
    const log: MilagroCsEvent[] = [];
    const r = await serve(serverProvider(log), helloRecord(withExt37(encodeCsExtension({ ...v, timeValue: t0 + 1 }))));
    expect(r.alert).toBe(AlertDescription.access_denied);
    expect(log[0]).toMatchObject({ kind: 'rejected', reason: 'bad-credentials' });
  });

  it('refuses the same (HID, t, V) twice (replayed ClientHello), keeps serving others', async () => {
    const log: MilagroCsEvent[] = [];
    const provider = serverProvider(log);
    const first = await serve(provider, recordBytes(rec.records[0] ?? rec.records[0]!));
    expect(first.error).toBeUndefined();
    const again = await serve(provider, recordBytes(rec.records[0] ?? rec.records[0]!));
    expect(again.alert).toBe(AlertDescription.access_denied);
    expect(log.map((e) => (e.kind === 'rejected' ? e.reason : e.kind))).toEqual(['accepted', 'replayed']);
  });
});

describe('milagro.md §10 items 6–7: suite selection and duplicates', () => {
  it('a duplicated extension 37 is illegal_parameter', async () => {
    const r = await serve(serverProvider([]), helloRecord((ch) => ({ extensions: [...ch.extensions, { type: 37, data: good }] })));
    expect(r.alert).toBe(AlertDescription.illegal_parameter);
    expect(r.error).toBeInstanceOf(IllegalParameterError);
  });

  it('MILAGRO_CS offered without the extension: handshake_failure (never picked unverified)', async () => {
    const log: MilagroCsEvent[] = [];
    const r = await serve(serverProvider(log), helloRecord(() => ({ extensions: [] })));
    expect(r.alert).toBe(AlertDescription.handshake_failure);
    expect(r.error).toBeInstanceOf(HandshakeFailureError);
    expect(log[0]).toMatchObject({ kind: 'rejected', reason: 'no-extension' });
  });

  it('another identity hash fails the pairing check: access_denied', async () => {
    const v = decodeCsExtension(good);
    const hid = v.hashId.slice();
    hid[0] = (hid[0] ?? 0) ^ 1;
    const r = await serve(serverProvider([]), helloRecord(withExt37(encodeCsExtension({ ...v, hashId: hid }))));
    expect(r.alert).toBe(AlertDescription.access_denied);
  });

  it('after all of the above, a server keeps serving: the recorded client is accepted', async () => {
    const log: MilagroCsEvent[] = [];
    const provider = serverProvider(log);
    await serve(provider, helloRecord(withExt37(patch(good, 0, u16(0)))));
    await serve(provider, helloRecord(() => ({ extensions: [] })));
    const ok = await serve(provider, recordBytes(rec.records[0] ?? rec.records[0]!));
    expect(ok.error).toBeUndefined();
    expect(ok.out[0]).toBe(22); // ServerHello flight
  });

  it('a server without MILAGRO_CS credentials ignores extension 37 and does ECDHE (the original crashed)', async () => {
    const keys = issueCsKeys({ now: Date.UTC(2026, 10, 28, 4, 0, 0) });
    const client = defaultClient({
      suites: [CS, Suites.ECDHE_ECDSA_WITH_AES_128_GCM_SHA256],
      kex: defaultKexRegistry().withProvider(milagroCs({ client: { identity: keys.identity, token: keys.token, pin: keys.pin } })),
    });
    const w = await handshake(client, defaultServer());
    expect(w.client.errors).toEqual([]);
    expect(w.server.secure?.suite).toBe(Suites.ECDHE_ECDSA_WITH_AES_128_GCM_SHA256);
    expect(w.server.secure?.peerIdentity).toBeUndefined();
  });
});

describe('milagro.md §10 item 4: ServerKeyExchange / ClientKeyExchange bodies', () => {
  const ske = (body: Uint8Array): Uint8Array => recordOf(encodeHandshake(12, body), 0x0303);
  const W = hexToBytes(rec.records[2]?.record_hex ?? '').subarray(11);
  const cases: [string, Uint8Array, number][] = [
    ['an oversized W (length 66)', concatBytes(new Uint8Array([0, 66]), W, new Uint8Array([0])), AlertDescription.illegal_parameter],
    ['a W length 0', new Uint8Array([0, 0]), AlertDescription.illegal_parameter],
    ['a trailing byte after W', concatBytes(new Uint8Array([0, 65]), W, new Uint8Array([0])), AlertDescription.decode_error],
    ['a truncated W', concatBytes(new Uint8Array([0, 65]), W.subarray(0, 64)), AlertDescription.decode_error],
    ['a W off the curve', concatBytes(new Uint8Array([0, 65]), patch(W, 64, [(W[64] ?? 0) ^ 1])), AlertDescription.illegal_parameter],
  ];
  for (const [name, body, alert] of cases) {
    it(`the client refuses ${name}`, async () => {
      const c = collector();
      const engine = csClientEngine(rec, c.events);
      engine.start();
      c.take();
      await feed(engine, rec.records.slice(1, 2));
      engine.receive(ske(body));
      await engine.idle;
      const out = hexToBytes(c.take());
      expect(out[0]).toBe(21);
      expect(out[6]).toBe(alert);
      expect(engine.state).toBe('failed');
    });
  }

  it('the server refuses an R off the curve with illegal_parameter', async () => {
    const provider = serverProvider([]);
    const c = collector();
    const s = rec.milagro_values_from_amcl_call_trace.server;
    const engine = TlsEngine.server(
      serverConfig({
        suites: [CS],
        kex: KexRegistry.of(provider),
        random: (() => {
          const vals = [rec.debug_output_values.server_random ?? '', rec.debug_output_values.session_id ?? '', String(s['w'])];
          return (n: number) => hexToBytes(vals.shift() ?? '').subarray(0, n);
        })(),
        clock: () => t0 * 1000,
      }),
      c.events,
    );
    await feed(engine, rec.records.slice(0, 1));
    const cke = hexToBytes(rec.records[4]?.record_hex ?? '');
    cke[cke.length - 1] = (cke[cke.length - 1] ?? 0) ^ 1;
    engine.receive(cke);
    await engine.idle;
    expect(c.errors[0]).toBeInstanceOf(IllegalParameterError);
  });
});

describe('MILAGRO_CS loopback (our client ↔ our server, sans-I/O)', () => {
  const now = Date.UTC(2026, 10, 28, 4, 0, 0);
  const keys = issueCsKeys({ now });
  const clock = (): number => now;
  const cfgs = (opts: { pin: number; permits: boolean; detectPinError?: boolean; log?: MilagroCsEvent[]; suiteId?: number; ext?: number }) => {
    const suite = opts.suiteId === undefined ? CS : withSuiteId(CS, opts.suiteId);
    const client = clientConfig({
      ca: [],
      rejectUnauthorized: true,
      suites: [suite],
      random: seededRandom('c'),
      clock,
      kex: KexRegistry.of(
        milagroCs({
          client: { identity: keys.identity, token: keys.token, pin: opts.pin, ...(opts.permits ? { timePermit: keys.timePermit, date: keys.date } : {}) },
          ...(opts.ext === undefined ? {} : { extensionType: opts.ext }),
        }),
      ),
    });
    const server = serverConfig({
      suites: [suite],
      random: seededRandom('s'),
      clock,
      kex: KexRegistry.of(
        milagroCs({
          server: {
            serverSecret: keys.serverSecret,
            timePermits: opts.permits,
            detectPinError: opts.detectPinError ?? false,
            resolveIdentity: (h) => (bytesToHex(h) === bytesToHex(keys.hashId) ? keys.identity : undefined),
          },
          ...(opts.ext === undefined ? {} : { extensionType: opts.ext }),
          ...(opts.log === undefined ? {} : { logger: (e: MilagroCsEvent) => opts.log?.push(e) }),
        }),
      ),
    });
    return { client, server };
  };

  for (const permits of [true, false]) {
    it(`right PIN, time permits ${permits ? 'on' : 'off'}: both secure, identity reported, data flows`, async () => {
      const { client, server } = cfgs({ pin: keys.pin, permits });
      const w = await handshake(client, server);
      expect(w.client.errors).toEqual([]);
      expect(w.server.errors).toEqual([]);
      expect(w.server.secure?.peerIdentity).toMatchObject({ kind: 'mpin', identity: keys.identity });
      expect(bytesToHex(w.server.secure?.peerIdentity?.hashId ?? new Uint8Array())).toBe(bytesToHex(keys.hashId));
      expect(w.client.secure?.suite.id).toBe(0xc0b1);
      w.client.engine.write(text('hello'));
      await w.settle();
      expect(untext(w.server.data[0] ?? new Uint8Array())).toBe('hello');
    });
  }

  it('wrong PIN without time permits: access_denied, and the server finds the PIN error (§5.7)', async () => {
    const log: MilagroCsEvent[] = [];
    const { client, server } = cfgs({ pin: keys.pin + 5, permits: false, detectPinError: true, log });
    const w = await handshake(client, server);
    expect(w.server.errors[0]).toBeInstanceOf(AccessDeniedError);
    expect(w.client.errors[0]).toBeInstanceOf(PeerAlertError);
    expect((w.client.errors[0] as PeerAlertError).alert).toBe(AlertDescription.access_denied);
    expect(log).toMatchObject([{ kind: 'rejected', reason: 'bad-credentials', pinError: 5 }]);
  });

  it('wrong PIN with time permits: access_denied (PIN error not detectable, only UT is sent)', async () => {
    const log: MilagroCsEvent[] = [];
    const { client, server } = cfgs({ pin: 0, permits: true, detectPinError: true, log });
    const w = await handshake(client, server);
    expect(w.server.errors[0]).toBeInstanceOf(AccessDeniedError);
    expect(log[0]).toMatchObject({ kind: 'rejected', reason: 'bad-credentials' });
    expect(log[0]).not.toHaveProperty('pinError');
  });

  it('the authorize policy can refuse a valid identity (e.g. locked out): access_denied, logged', async () => {
    const log: MilagroCsEvent[] = [];
    const { client } = cfgs({ pin: keys.pin, permits: true });
    const asked: string[] = [];
    const server = serverConfig({
      suites: [CS],
      random: seededRandom('s'),
      clock,
      kex: KexRegistry.of(
        milagroCs({
          server: {
            serverSecret: keys.serverSecret,
            timePermits: true,
            authorize: async (id) => {
              asked.push(bytesToHex(id.hashId));
              return false;
            },
          },
          logger: (e) => log.push(e),
        }),
      ),
    });
    const w = await handshake(client, server);
    expect(asked).toEqual([bytesToHex(keys.hashId)]);
    expect(w.server.errors[0]).toBeInstanceOf(AccessDeniedError);
    expect(log).toMatchObject([{ kind: 'rejected', reason: 'not-authorized' }]);
  });

  describe('§10 item 14: permit grace around UTC midnight', () => {
    const midnight = Date.UTC(2026, 10, 29, 0, 0, 0);
    const yesterday = issueCsKeys({ now: midnight - 1000, permitDay: Math.floor(midnight / 86_400_000) - 1 });
    const run = async (serverNow: number, grace: number | undefined) => {
      const log: MilagroCsEvent[] = [];
      const client = clientConfig({
        ca: [],
        rejectUnauthorized: true,
        suites: [CS],
        random: seededRandom('c'),
        clock: () => serverNow,
        kex: KexRegistry.of(
          milagroCs({ client: { identity: yesterday.identity, token: yesterday.token, pin: yesterday.pin, timePermit: yesterday.timePermit, date: yesterday.date } }),
        ),
      });
      const server = serverConfig({
        suites: [CS],
        random: seededRandom('s'),
        clock: () => serverNow,
        kex: KexRegistry.of(
          milagroCs({ server: { serverSecret: yesterday.serverSecret, timePermits: true, permitGraceSeconds: grace }, logger: (e) => log.push(e) }),
        ),
      });
      const w = await handshake(client, server);
      return { w, log };
    };
    it("yesterday's permit 20 s after midnight: refused without grace", async () => {
      const { w, log } = await run(midnight + 20_000, undefined);
      expect(w.server.errors[0]).toBeInstanceOf(AccessDeniedError);
      expect(log[0]).toMatchObject({ reason: 'bad-credentials' });
    });
    it("yesterday's permit 20 s after midnight: accepted with a 60 s grace, keys follow that day", async () => {
      const { w, log } = await run(midnight + 20_000, 60);
      expect(w.server.errors).toEqual([]);
      expect(w.client.secure).toBeDefined();
      expect(log).toMatchObject([{ kind: 'accepted' }]);
    });
    it("yesterday's permit 2 minutes after midnight: outside a 60 s grace", async () => {
      const { w } = await run(midnight + 120_000, 60);
      expect(w.server.errors[0]).toBeInstanceOf(AccessDeniedError);
    });
  });

  it('suite id and extension number are configurable (0xFF01 / 0xFE37)', async () => {
    const { client, server } = cfgs({ pin: keys.pin, permits: true, suiteId: 0xff01, ext: 0xfe37 });
    const sent: Uint8Array[] = [];
    const w = await handshake(client, server, (dir, b) => {
      if (dir === 'c2s') sent.push(b);
      return b;
    });
    expect(w.server.secure?.suite.id).toBe(0xff01);
    const hello = parseClientHello((sent[0] ?? new Uint8Array()).subarray(9));
    expect(hello.cipherSuites).toEqual([0xff01, 0x00ff]);
    expect(hello.extensions.map((e) => e.type)).toEqual([0xfe37, 23]); // + extended_master_secret (on by default)
  });

  it('the client offers nothing but what MILAGRO_CS needs (no groups, point formats, signature algorithms)', async () => {
    const { client, server } = cfgs({ pin: keys.pin, permits: true });
    const sent: Uint8Array[] = [];
    await handshake({ ...client, extendedMasterSecret: false }, server, (dir, b) => {
      if (dir === 'c2s') sent.push(b);
      return b;
    });
    const first = sent[0] ?? new Uint8Array();
    expect([...first.subarray(0, 3)]).toEqual([22, 3, 1]);
    const hello = parseClientHello(first.subarray(9));
    expect(hello.extensions.map((e) => e.type)).toEqual([37]);
    expect(hello.sessionId.length).toBe(0);
  });
});
