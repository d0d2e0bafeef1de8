/**
 * MILAGRO_P2P key exchange (milagro.md §6, §7.5–§7.7, §10, §11 V9/V10; issue 7 items 1–3, 7):
 * the lengths-first wire codec with exact sizes, the spec vectors through the provider's
 * sessions (scripted randomness: x for the server; w then y for the client), identity policies,
 * time permits, and every kind of bad input refused with the right alert.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AccessDeniedError, AlertDescription, DecodeError, HandshakeFailureError, IllegalParameterError, TlsError } from '../../src/alerts.ts';
import { bytesToHex, hexToBytes } from '../../src/codec/bytes.ts';
import { encodeG2, map2BeforeClearing, isInG2 } from '../../src/crypto/bncx/index.ts';
import { masterSecret } from '../../src/crypto/prf.ts';
import type { ClientKexContext, ClientKexSelection, ServerKexContext, ServerKexSelection } from '../../src/kex/key-exchange.ts';
import { InProcessP2pCompute, milagroP2p, type MilagroP2pEvent, type MilagroP2pOptions } from '../../src/kex/milagro-p2p.ts';
import {
  decodeP2pClientKeyExchange,
  decodeP2pServerKeyExchange,
  encodeP2pClientKeyExchange,
  encodeP2pServerKeyExchange,
} from '../../src/kex/milagro/p2p-wire.ts';
import type { RandomSource } from '../../src/providers.ts';
import { Suites } from '../../src/suites.ts';
import { xorshift32 } from '../helpers/random.ts';

const spec = JSON.parse(readFileSync(new URL('../vectors/amcl/spec-section11.json', import.meta.url), 'utf8')) as Record<string, Record<string, string>>;
function v(block: 'V9' | 'V10', label: string): Uint8Array {
  const hex = spec[block]?.[label];
  if (hex === undefined) throw new Error(`spec vector ${block} "${label}" missing`);
  return hexToBytes(hex);
}

const SERVER_ID = 'server.miracl.com';
const CLIENT_ID = 'client@miracl.com';
const senderKey = v('V9', 'server (sender) key s.H1("server.miracl.com")');
const receiverKey = v('V9', 'client (receiver) key s.H2("client@miracl.com")');
const x = v('V9', 'x (server draw)');
const w = v('V9', 'w (client, first draw)');
const y = v('V9', 'y (client, second draw)');
const V10_DAY = 19675;
const dayClock = (day: number) => (): number => day * 86_400_000 + 3_600_000;

function scripted(values: readonly Uint8Array[]): RandomSource & { left(): number } {
  const q = [...values];
  const f = (n: number): Uint8Array => {
    const next = q.shift();
    if (next === undefined || next.length !== n) throw new Error(`unexpected draw of ${n} bytes`);
    return next.slice();
  };
  return Object.assign(f, { left: () => q.length });
}

const clientSel = {} as unknown as ClientKexSelection; // unused by MILAGRO_P2P sessions
const serverSel = {} as unknown as ServerKexSelection;

function clientCtx(random: RandomSource, extra: Partial<ClientKexContext> = {}): ClientKexContext {
  return {
    suites: [Suites.MILAGRO_P2P_WITH_AES_128_GCM_SHA256],
    groups: [],
    signatureSchemes: [],
    clientRandom: new Uint8Array(32),
    random,
    clock: dayClock(20785),
    ...extra,
  };
}
function serverCtx(random: RandomSource, extra: Partial<ServerKexContext> = {}): ServerKexContext {
  return { groups: [], random, clock: dayClock(20785), ...extra };
}

function serverProvider(extra: Partial<NonNullable<MilagroP2pOptions['server']>> = {}, log?: MilagroP2pEvent[]) {
  return milagroP2p({ server: { identity: SERVER_ID, senderKey, ...extra }, ...(log === undefined ? {} : { logger: (e) => log.push(e) }) });
}
function clientProvider(extra: Partial<NonNullable<MilagroP2pOptions['client']>> = {}, log?: MilagroP2pEvent[]) {
  return milagroP2p({
    client: { identity: CLIENT_ID, receiverKey, serverIdentity: SERVER_ID, ...extra },
    ...(log === undefined ? {} : { logger: (e) => log.push(e) }),
  });
}

/** Run the V9 exchange through both sessions; returns the bodies and premasters. */
async function exchange(
  server = serverProvider(),
  client = clientProvider(),
  opts: { clock?: () => number } = {},
): Promise<{ ske: Uint8Array; cke: Uint8Array; clientPremaster: Uint8Array; serverPremaster: Uint8Array; serverRng: ReturnType<typeof scripted>; clientRng: ReturnType<typeof scripted> }> {
  const serverRng = scripted([x]);
  const clientRng = scripted([w, y]);
  const clock = opts.clock ?? dayClock(20785);
  const s = server.server(serverCtx(serverRng, { clock }));
  expect(await s.acceptClient({} as never)).toBe(true);
  const ske = await s.serverKeyExchange(serverSel);
  const c = client.client(clientCtx(clientRng, { clock }));
  await c.processServerKeyExchange(ske, clientSel);
  expect(clientRng.left()).toBe(2); // w and y are drawn when ClientKeyExchange is written
  const { body: cke, premaster: clientPremaster } = await c.clientKeyExchange(clientSel);
  const serverPremaster = await s.processClientKeyExchange(cke, serverSel);
  expect(c.peerIdentity?.identity).toBe(SERVER_ID);
  expect(s.peerIdentity?.identity).toBe(CLIENT_ID);
  return { ske, cke, clientPremaster, serverPremaster, serverRng, clientRng };
}

function flip(b: Uint8Array, i: number): void {
  b[i] = (b[i] ?? 0) ^ 1;
}

async function alertOf(p: Promise<unknown> | (() => unknown)): Promise<TlsError> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    expect(e).toBeInstanceOf(TlsError);
    return e as TlsError;
  }
  throw new Error('expected a TlsError');
}

describe('milagro.md §7.5 wire codec', () => {
  const skeBody = v('V9', 'ServerKeyExchange body');
  const ckeBody = v('V9', 'ClientKeyExchange body');

  it('decodes and re-encodes the V9 ServerKeyExchange and ClientKeyExchange bodies exactly', () => {
    const s = decodeP2pServerKeyExchange(skeBody);
    expect(new TextDecoder().decode(s.identity)).toBe(SERVER_ID);
    expect(bytesToHex(s.PaG1)).toBe(bytesToHex(v('V9', 'PaG1 = x.H1(IdS)')));
    expect(bytesToHex(encodeP2pServerKeyExchange(s))).toBe(bytesToHex(skeBody));
    const c = decodeP2pClientKeyExchange(ckeBody);
    expect(new TextDecoder().decode(c.identity)).toBe(CLIENT_ID);
    expect(bytesToHex(c.PbG2)).toBe(bytesToHex(v('V9', 'PbG2 = y.H2(IdC)')));
    expect(bytesToHex(encodeP2pClientKeyExchange(c))).toBe(bytesToHex(ckeBody));
  });

  it('rejects every truncated prefix with decode_error or illegal_parameter, never anything else', () => {
    for (const body of [skeBody, ckeBody]) {
      const decode = body === skeBody ? decodeP2pServerKeyExchange : decodeP2pClientKeyExchange;
      for (let n = 0; n < body.length; n++) {
        expect(() => decode(body.subarray(0, n)), `prefix ${n}`).toThrow(DecodeError);
      }
    }
  });

  it('rejects trailing bytes (decode_error)', () => {
    const extra = (b: Uint8Array) => Uint8Array.of(...b, 0);
    expect(() => decodeP2pServerKeyExchange(extra(skeBody))).toThrow(DecodeError);
    expect(() => decodeP2pClientKeyExchange(extra(ckeBody))).toThrow(DecodeError);
  });

  it('rejects a zero-length identity (illegal_parameter; the original called exit())', () => {
    const ske = Uint8Array.of(0, 0, 0, 65, ...v('V9', 'PaG1 = x.H1(IdS)'));
    const e = (() => {
      try {
        decodeP2pServerKeyExchange(ske);
      } catch (err) {
        return err;
      }
      return undefined;
    })();
    expect(e).toBeInstanceOf(IllegalParameterError);
    expect((e as TlsError).alert).toBe(AlertDescription.illegal_parameter);
    const cke = Uint8Array.of(0, 0, 0, 65, 0, 128, ...ckeBody.subarray(6 + 17));
    expect(() => decodeP2pClientKeyExchange(cke)).toThrow(IllegalParameterError);
  });

  it('rejects an oversized (256-byte) identity even when the body is consistent', () => {
    const id = new Uint8Array(256).fill(0x61);
    const ske = Uint8Array.of(1, 0, 0, 65, ...id, ...v('V9', 'PaG1 = x.H1(IdS)'));
    expect(() => decodeP2pServerKeyExchange(ske)).toThrow(IllegalParameterError);
    const cke = Uint8Array.of(1, 0, 0, 65, 0, 128, ...id, ...ckeBody.subarray(6 + 17));
    expect(() => decodeP2pClientKeyExchange(cke)).toThrow(IllegalParameterError);
    // A 255-byte identity is the documented maximum and decodes.
    const ok = Uint8Array.of(0, 255, 0, 65, ...id.subarray(0, 255), ...v('V9', 'PaG1 = x.H1(IdS)'));
    expect(decodeP2pServerKeyExchange(ok).identity.length).toBe(255);
  });

  it('rejects point lengths other than 65 / 128 (illegal_parameter), even with a matching body size', () => {
    const pa = v('V9', 'PaG1 = x.H1(IdS)');
    const ske = Uint8Array.of(0, 17, 0, 64, ...skeBody.subarray(4, 4 + 17), ...pa.subarray(0, 64));
    expect(() => decodeP2pServerKeyExchange(ske)).toThrow(IllegalParameterError);
    const shortG2 = Uint8Array.of(0, 17, 0, 65, 0, 127, ...ckeBody.subarray(6, ckeBody.length - 1));
    expect(() => decodeP2pClientKeyExchange(shortG2)).toThrow(IllegalParameterError);
    const bigG1 = Uint8Array.of(0, 17, 0, 66, 0, 128, ...ckeBody.subarray(6), 0);
    expect(() => decodeP2pClientKeyExchange(bigG1)).toThrow(IllegalParameterError);
  });

  it('rejects lengths that disagree with the message (decode_error)', () => {
    // Identity length says 16 but 17 bytes follow before the point: one byte left over.
    const ske = Uint8Array.of(0, 16, ...skeBody.subarray(2));
    expect(() => decodeP2pServerKeyExchange(ske)).toThrow(DecodeError);
    const cke = Uint8Array.of(0, 18, ...ckeBody.subarray(2));
    expect(() => decodeP2pClientKeyExchange(cke)).toThrow(DecodeError);
  });

  it('random bytes and single-byte mutations throw only TlsError (seeded fuzz)', () => {
    const { next } = xorshift32(0x9e3779b9);
    for (let i = 0; i < 2000; i++) {
      const base = i % 2 === 0 ? skeBody : ckeBody;
      const m = base.slice();
      m[next() % m.length] = next() & 0xff;
      const input = i % 5 === 0 ? Uint8Array.from({ length: next() % 300 }, () => next() & 0xff) : m;
      for (const decode of [decodeP2pServerKeyExchange, decodeP2pClientKeyExchange]) {
        try {
          decode(input);
        } catch (e) {
          expect(e).toBeInstanceOf(TlsError);
        }
      }
    }
  });

  it('refuses to encode identities outside 1..255 bytes (configuration error)', () => {
    const pa = v('V9', 'PaG1 = x.H1(IdS)');
    expect(() => encodeP2pServerKeyExchange({ identity: new Uint8Array(0), PaG1: pa })).toThrow(RangeError);
    expect(() => encodeP2pServerKeyExchange({ identity: new Uint8Array(256), PaG1: pa })).toThrow(RangeError);
  });
});

describe('milagro.md §11 V9: MILAGRO_P2P through the provider sessions', () => {
  it('server ServerKeyExchange, client ClientKeyExchange and both premasters equal the vectors', async () => {
    const r = await exchange();
    expect(bytesToHex(r.ske)).toBe(bytesToHex(v('V9', 'ServerKeyExchange body')));
    expect(bytesToHex(r.cke)).toBe(bytesToHex(v('V9', 'ClientKeyExchange body')));
    expect(bytesToHex(r.clientPremaster)).toBe(bytesToHex(v('V9', 'premaster secret')));
    expect(bytesToHex(r.serverPremaster)).toBe(bytesToHex(v('V9', 'premaster secret')));
    expect(r.serverRng.left()).toBe(0);
    expect(r.clientRng.left()).toBe(0);
  });

  it('repeated handshakes on one compute (caches and multiplication tables kick in) keep the V9 bytes', async () => {
    const compute = new InProcessP2pCompute();
    const server = milagroP2p({ server: { identity: SERVER_ID, senderKey }, compute });
    const client = milagroP2p({ client: { identity: CLIENT_ID, receiverKey, serverIdentity: SERVER_ID }, compute });
    for (let i = 0; i < 4; i++) {
      const r = await exchange(server, client);
      expect(bytesToHex(r.ske)).toBe(bytesToHex(v('V9', 'ServerKeyExchange body')));
      expect(bytesToHex(r.cke)).toBe(bytesToHex(v('V9', 'ClientKeyExchange body')));
      expect(bytesToHex(r.serverPremaster)).toBe(bytesToHex(v('V9', 'premaster secret')));
      expect(bytesToHex(r.clientPremaster)).toBe(bytesToHex(v('V9', 'premaster secret')));
    }
  });

  it('the premaster gives the V9 master secret (client_random 32×11, server_random 32×22)', async () => {
    const r = await exchange();
    const ms = masterSecret('sha256', r.clientPremaster, new Uint8Array(32).fill(0x11), new Uint8Array(32).fill(0x22));
    expect(bytesToHex(ms)).toBe(bytesToHex(v('V9', 'master secret for client_random = 32 x 0x11, server_random = 32 x 0x22')));
  });

  it('peer identities are the claimed ones with their SHA-256 (what the DTAs key on)', async () => {
    const server = serverProvider();
    const client = clientProvider();
    const s = server.server(serverCtx(scripted([x])));
    await s.acceptClient({} as never);
    const c = client.client(clientCtx(scripted([w, y])));
    await c.processServerKeyExchange(await s.serverKeyExchange(serverSel), clientSel);
    expect(c.peerIdentity).toBeUndefined(); // not before the key is computed
    await s.processClientKeyExchange((await c.clientKeyExchange(clientSel)).body, serverSel);
    expect(c.peerIdentity?.kind).toBe('wcc');
    const sha = (t: string) => createHash('sha256').update(t).digest('hex');
    expect(bytesToHex(c.peerIdentity?.hashId ?? new Uint8Array())).toBe(sha(SERVER_ID));
    expect(s.peerIdentity?.kind).toBe('wcc');
    expect(bytesToHex(s.peerIdentity?.hashId ?? new Uint8Array())).toBe(sha(CLIENT_ID));
  });
});

describe('milagro.md §11 V10: time permits (library option, off by default)', () => {
  const g1Permit = v('V10', 'G1 permit s.map1(SHA(BE32(19675) ‖ SHA(IdS)))');
  const g2Permit = v('V10', 'G2 permit s.map2(SHA(BE32(19675) ‖ SHA(IdC)))');

  it('both sides with permits for the day of the injected clock: PaG1, PgG1, PbG2 and the key match V10', async () => {
    const r = await exchange(
      serverProvider({ timePermits: [{ date: V10_DAY - 1, permit: senderKey }, { date: V10_DAY, permit: g1Permit }] }),
      clientProvider({ timePermits: [{ date: V10_DAY, permit: g2Permit }] }),
      { clock: dayClock(V10_DAY) },
    );
    expect(bytesToHex(decodeP2pServerKeyExchange(r.ske).PaG1)).toBe(bytesToHex(v('V10', 'PaG1 = x.(H1(IdS) + map1(SHA(BE32(19675) ‖ SHA(IdS))))')));
    const cke = decodeP2pClientKeyExchange(r.cke);
    expect(bytesToHex(cke.PgG1)).toBe(bytesToHex(v('V10', 'PgG1 = w.(same G1 point)')));
    expect(bytesToHex(cke.PbG2)).toBe(bytesToHex(v('V10', 'PbG2 = y.(H2(IdC) + map2(SHA(BE32(19675) ‖ SHA(IdC))))')));
    expect(bytesToHex(r.clientPremaster)).toBe(`0010${bytesToHex(v('V10', 'session key'))}`);
    expect(bytesToHex(r.serverPremaster)).toBe(bytesToHex(r.clientPremaster));
  });

  it('a server without a permit for today declines the suite (so it can serve another)', async () => {
    const log: MilagroP2pEvent[] = [];
    const s = serverProvider({ timePermits: [{ date: V10_DAY, permit: g1Permit }] }, log).server(serverCtx(scripted([]), { clock: dayClock(V10_DAY + 1) }));
    expect(await s.acceptClient({} as never)).toBe(false);
    expect(log).toMatchObject([{ kind: 'rejected', role: 'server', reason: 'no-time-permit' }]);
  });

  it('a client without a permit for today fails with handshake_failure before drawing w, y', async () => {
    const s = serverProvider().server(serverCtx(scripted([x])));
    await s.acceptClient({} as never);
    const rng = scripted([w, y]);
    const c = clientProvider({ timePermits: [{ date: V10_DAY, permit: g2Permit }] }).client(clientCtx(rng, { clock: dayClock(V10_DAY + 2) }));
    await c.processServerKeyExchange(await s.serverKeyExchange(serverSel), clientSel);
    expect(() => c.clientKeyExchange(clientSel)).toThrow(HandshakeFailureError);
    expect(rng.left()).toBe(2);
  });

  it('permits on one side only: the keys differ (the mode is not negotiated, §6.4)', async () => {
    const r = await exchange(serverProvider({ timePermits: [{ date: V10_DAY, permit: g1Permit }] }), clientProvider(), { clock: dayClock(V10_DAY) });
    expect(bytesToHex(r.serverPremaster)).not.toBe(bytesToHex(r.clientPremaster));
  });

  it('rejects malformed permit configuration (bad point, day 0, duplicate day)', () => {
    expect(() => serverProvider({ timePermits: [{ date: V10_DAY, permit: g2Permit }] })).toThrow();
    expect(() => clientProvider({ timePermits: [{ date: 0, permit: g2Permit }] })).toThrow(RangeError);
    expect(() => clientProvider({ timePermits: [{ date: 5, permit: g2Permit }, { date: 5, permit: g2Permit }] })).toThrow(RangeError);
  });
});

describe('§10 items 8, 9, 18: invalid points and unexpected identities', () => {
  /** A point on the twist whose order is not r (map2 before cofactor clearing). */
  function twistPointOutsideG2(): Uint8Array {
    for (let i = 0; ; i++) {
      const pt = map2BeforeClearing(new Uint8Array(32).fill(i + 1));
      if (!isInG2(pt)) return encodeG2(pt);
    }
  }

  async function serverAfterSke(extra: Partial<NonNullable<MilagroP2pOptions['server']>> = {}, log?: MilagroP2pEvent[]) {
    const s = serverProvider(extra, log).server(serverCtx(scripted([x])));
    await s.acceptClient({} as never);
    await s.serverKeyExchange(serverSel);
    return s;
  }

  const cke = v('V9', 'ClientKeyExchange body');
  const pgOffset = 6 + CLIENT_ID.length;
  const pbOffset = pgOffset + 65;

  it('PaG1 not on the curve → illegal_parameter at ServerKeyExchange, before any draw', async () => {
    const ske = v('V9', 'ServerKeyExchange body');
    flip(ske, ske.length - 1);
    const rng = scripted([w, y]);
    const log: MilagroP2pEvent[] = [];
    const c = clientProvider({}, log).client(clientCtx(rng));
    const e = await alertOf(() => c.processServerKeyExchange(ske, clientSel));
    expect(e.alert).toBe(AlertDescription.illegal_parameter);
    expect(rng.left()).toBe(2);
    expect(log).toMatchObject([{ kind: 'rejected', reason: 'invalid-point' }]);
  });

  it('PaG1 with a bad prefix byte or coordinates ≥ p → illegal_parameter', async () => {
    const ske = v('V9', 'ServerKeyExchange body');
    ske[4 + SERVER_ID.length] = 0x02;
    expect((await alertOf(() => clientProvider().client(clientCtx(scripted([]))).processServerKeyExchange(ske, clientSel))).alert).toBe(AlertDescription.illegal_parameter);
    const ff = v('V9', 'ServerKeyExchange body');
    ff.fill(0xff, 4 + SERVER_ID.length + 1);
    expect((await alertOf(() => clientProvider().client(clientCtx(scripted([]))).processServerKeyExchange(ff, clientSel))).alert).toBe(AlertDescription.illegal_parameter);
  });

  it('PgG1 not on the curve → illegal_parameter', async () => {
    const s = await serverAfterSke();
    const bad = cke.slice();
    flip(bad, pgOffset + 64);
    expect((await alertOf(async () => s.processClientKeyExchange(bad, serverSel))).alert).toBe(AlertDescription.illegal_parameter);
  });

  it('PbG2 not on the twist → illegal_parameter', async () => {
    const s = await serverAfterSke();
    const bad = cke.slice();
    flip(bad, pbOffset + 127);
    expect((await alertOf(async () => s.processClientKeyExchange(bad, serverSel))).alert).toBe(AlertDescription.illegal_parameter);
  });

  it('PbG2 on the twist but outside the order-r subgroup → illegal_parameter (the original accepted it)', async () => {
    const log: MilagroP2pEvent[] = [];
    const s = await serverAfterSke({}, log);
    const bad = cke.slice();
    bad.set(twistPointOutsideG2(), pbOffset);
    const e = await alertOf(async () => s.processClientKeyExchange(bad, serverSel));
    expect(e).toBeInstanceOf(IllegalParameterError);
    expect(e.message).toMatch(/subgroup/);
    expect(log).toMatchObject([{ kind: 'rejected', role: 'server', reason: 'invalid-point', peer: '"client@miracl.com"' }]);
    expect(s.peerIdentity).toBeUndefined();
  });

  it('a loaded receiver key outside G2 is refused when the provider is built', () => {
    expect(() => clientProvider({ receiverKey: twistPointOutsideG2() })).toThrow(/subgroup/);
  });

  it('malformed ClientKeyExchange → decode_error, logged as malformed', async () => {
    const log: MilagroP2pEvent[] = [];
    const s = await serverAfterSke({}, log);
    expect((await alertOf(async () => s.processClientKeyExchange(cke.subarray(0, 100), serverSel))).alert).toBe(AlertDescription.decode_error);
    expect(log).toMatchObject([{ kind: 'rejected', reason: 'malformed' }]);
  });

  it('server identity not the expected one (list, bytes, callback, servername default) → access_denied', async () => {
    const ske = v('V9', 'ServerKeyExchange body');
    const run = (extra: Partial<NonNullable<MilagroP2pOptions['client']>>, ctx: Partial<ClientKexContext> = {}) =>
      alertOf(() => clientProvider(extra).client(clientCtx(scripted([]), ctx)).processServerKeyExchange(ske, clientSel));
    for (const e of [
      await run({ serverIdentity: 'server.miracl.co' }),
      await run({ serverIdentity: ['a.example', new TextEncoder().encode('server.miracl.comm')] }),
      await run({ serverIdentity: () => false }),
      await run({ serverIdentity: () => {
        throw new Error('policy bug');
      } }),
      await run({ serverIdentity: undefined }, { servername: 'localhost' }),
      await run({ serverIdentity: undefined }),
    ]) {
      expect(e).toBeInstanceOf(AccessDeniedError);
      expect(e.alert).toBe(AlertDescription.access_denied);
    }
  });

  it('the servername default accepts the matching server identity', async () => {
    const s = serverProvider().server(serverCtx(scripted([x])));
    await s.acceptClient({} as never);
    const c = clientProvider({ serverIdentity: undefined }).client(clientCtx(scripted([w, y]), { servername: SERVER_ID }));
    await c.processServerKeyExchange(await s.serverKeyExchange(serverSel), clientSel);
    const { premaster } = await c.clientKeyExchange(clientSel);
    expect(bytesToHex(premaster)).toBe(bytesToHex(v('V9', 'premaster secret')));
  });

  it('a callback policy sees the identity as bytes, text and hash', async () => {
    const seen: string[] = [];
    await exchange(
      serverProvider({ allowedClients: (p) => (seen.push(`${p.text}:${bytesToHex(p.hashId).slice(0, 8)}:${p.bytes.length}`), true) }),
      clientProvider({ serverIdentity: (p) => p.text === SERVER_ID }),
    );
    expect(seen).toEqual(['client@miracl.com:ffd53752:17']);
  });

  it('client identity not allowed → access_denied before the pairing (server keeps no identity)', async () => {
    const log: MilagroP2pEvent[] = [];
    const s = await serverAfterSke({ allowedClients: ['alice@miracl.com'] }, log);
    const e = await alertOf(async () => s.processClientKeyExchange(cke, serverSel));
    expect(e).toBeInstanceOf(AccessDeniedError);
    expect(s.peerIdentity).toBeUndefined();
    expect(log).toMatchObject([{ kind: 'rejected', role: 'server', reason: 'unexpected-identity', peer: '"client@miracl.com"' }]);
  });

  it('a client claiming another identity with a valid-looking exchange does not get the same key', async () => {
    // Same PgG1/PbG2 but IdB replaced: pia changes and H2(IdB) changes, so the keys disagree and
    // the Finished check (key confirmation) would fail.
    const s = await serverAfterSke();
    const id = new TextEncoder().encode('mallory@miracl.com');
    const forged = encodeP2pClientKeyExchange({ ...decodeP2pClientKeyExchange(cke), identity: id });
    const premaster = await s.processClientKeyExchange(forged, serverSel);
    expect(bytesToHex(premaster)).not.toBe(bytesToHex(v('V9', 'premaster secret')));
  });

  it('mutated key-exchange bodies through the sessions: only TlsError, never a crash (seeded)', async () => {
    let st = 0x2545f491;
    const next = (): number => {
      st ^= st << 13;
      st >>>= 0;
      st ^= st >>> 17;
      st ^= st << 5;
      st >>>= 0;
      return st;
    };
    const ske = v('V9', 'ServerKeyExchange body');
    for (let i = 0; i < 200; i++) {
      const m = ske.slice();
      for (let k = 1 + (next() % 3); k > 0; k--) m[next() % m.length] = next() & 0xff;
      const c = clientProvider({ serverIdentity: () => true }).client(clientCtx(scripted([])));
      try {
        c.processServerKeyExchange(m, clientSel);
      } catch (e) {
        expect(e).toBeInstanceOf(TlsError);
      }
    }
    const s = await serverAfterSke();
    for (let i = 0; i < 25; i++) {
      const m = cke.slice();
      m[next() % m.length] = next() & 0xff;
      try {
        const pm = await s.processClientKeyExchange(m, serverSel);
        expect(pm.length).toBe(18); // a changed identity or point that still decodes: a different key
      } catch (e) {
        expect(e).toBeInstanceOf(TlsError);
      }
    }
  });

  it('configuration errors are reported when the provider is built', () => {
    expect(() => milagroP2p({})).toThrow(TypeError);
    expect(() => serverProvider({ identity: '' })).toThrow(RangeError);
    expect(() => serverProvider({ identity: 'x'.repeat(256) })).toThrow(RangeError);
    expect(() => serverProvider({ senderKey: receiverKey })).toThrow(RangeError);
    expect(() => clientProvider({ receiverKey: senderKey })).toThrow(RangeError);
    expect(() => clientProvider({ serverIdentity: [] })).toThrow(RangeError);
    expect(() => serverProvider({ allowedClients: [''] })).toThrow(RangeError);
    expect(() => milagroP2p({ server: { identity: SERVER_ID, senderKey } }).client(clientCtx(scripted([])))).toThrow(HandshakeFailureError);
  });
});
