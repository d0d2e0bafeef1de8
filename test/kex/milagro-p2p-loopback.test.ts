/**
 * MILAGRO_P2P between our own sans-I/O engines (issue 7 items 1, 2, 7): full handshakes with the
 * WCC work in-process and in the Milagro worker pool, authenticated identities on both sides only
 * after Finished, key confirmation failing for a client that claims an identity it has no key
 * for, and hostile ClientKeyExchange bytes on the wire answered with a fatal alert.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { AlertDescription, PeerAlertError, TlsError } from '../../src/alerts.ts';
import { bytesToHex, hexToBytes } from '../../src/codec/bytes.ts';
import { encodeG2, isInG2, map2BeforeClearing } from '../../src/crypto/bncx/index.ts';
import * as wcc from '../../src/crypto/wcc.ts';
import { hashId, receiverKeyShare, senderKeyShare } from '../../src/crypto/wcc.ts';
import { clientConfig, serverConfig } from '../../src/handshake/config.ts';
import { milagroP2p, type MilagroP2pOptions } from '../../src/kex/milagro-p2p.ts';
import { InProcessP2pCompute, PooledP2pCompute } from '../../src/kex/milagro/p2p-compute.ts';
import { MilagroWorkerPool } from '../../src/kex/milagro/pool.ts';
import { KexRegistry } from '../../src/kex/registry.ts';
import { Suites, withSuiteId } from '../../src/suites.ts';
import { fixedClock, handshake, seededRandom, type Tamper } from '../handshake/helpers.ts';

/** The demo master secret of milagro.md §8.2 / V2 (public: never deploy it). */
const MS = hexToBytes('0849251666b537910c30f0c396408621446acb6608adba50cde5d87f19fe589f');
const sender = (id: string) => senderKeyShare(MS, hashId(new TextEncoder().encode(id)));
const receiver = (id: string) => receiverKeyShare(MS, hashId(new TextEncoder().encode(id)));

const pool = new MilagroWorkerPool({ size: 2 });
afterAll(() => pool.close());

const P2P = Suites.MILAGRO_P2P_WITH_AES_128_GCM_SHA256;

function configs(
  server: NonNullable<MilagroP2pOptions['server']>,
  client: NonNullable<MilagroP2pOptions['client']>,
  extra: { serverCompute?: MilagroP2pOptions['compute']; clientCompute?: MilagroP2pOptions['compute']; suite?: typeof P2P } = {},
) {
  const suite = extra.suite ?? P2P;
  return {
    client: clientConfig({
      ca: [],
      rejectUnauthorized: true,
      suites: [suite],
      kex: KexRegistry.of(milagroP2p({ client, ...(extra.clientCompute === undefined ? {} : { compute: extra.clientCompute }) })),
      random: seededRandom('p2p-client'),
      clock: fixedClock,
    }),
    server: serverConfig({
      suites: [suite],
      kex: KexRegistry.of(milagroP2p({ server, ...(extra.serverCompute === undefined ? {} : { compute: extra.serverCompute }) })),
      random: seededRandom('p2p-server'),
      clock: fixedClock,
    }),
  };
}

const alice = { identity: 'alice.devices.example', senderKey: sender('alice.devices.example') };
const bob = { identity: 'bob@devices.example', receiverKey: receiver('bob@devices.example'), serverIdentity: 'alice.devices.example' };

describe('MILAGRO_P2P loopback between our engines', () => {
  for (const [name, serverCompute, clientCompute] of [
    ['in-process', undefined, undefined],
    ['server and client in the worker pool', new PooledP2pCompute(pool), new PooledP2pCompute(pool)],
  ] as const) {
    it(`${name}: handshake, identities on both sides, data both ways`, async () => {
      const c = configs(alice, bob, { serverCompute, clientCompute });
      const w = await handshake(c.client, c.server);
      expect(w.client.errors).toEqual([]);
      expect(w.server.errors).toEqual([]);
      expect(w.client.secure?.suite).toBe(P2P);
      expect(w.client.secure?.peerIdentity).toMatchObject({ kind: 'wcc', identity: 'alice.devices.example' });
      expect(w.server.secure?.peerIdentity).toMatchObject({ kind: 'wcc', identity: 'bob@devices.example' });
      expect(w.server.secure?.authorized).toBe(true);
      expect(w.client.secure?.authorized).toBe(true);
      w.client.engine.write(new TextEncoder().encode('ping'));
      w.server.engine.write(new TextEncoder().encode('pong'));
      await w.settle();
      expect(new TextDecoder().decode(w.server.data[0])).toBe('ping');
      expect(new TextDecoder().decode(w.client.data[0])).toBe('pong');
    });
  }

  it('the pool computes the same bytes as in-process (V9-style inputs)', async () => {
    const inputs = {
      date: 0,
      idA: new TextEncoder().encode('alice.devices.example'),
      idB: new TextEncoder().encode('bob@devices.example'),
      w: hexToBytes('116dbc66d5520e2dda853d8592b1e37b9c53969902633e55112184d286bf44d7'),
      y: hexToBytes('001681d38a05bb6819845e941ef49fd3dd9d9025ee0209df89ed2c93b1f956dc'),
      receiverKey: bob.receiverKey,
    };
    const x = hexToBytes('05fc703b970f4d5baa5ac976e1f805d5faf1c935d2966a60436483de51885253');
    const local = new InProcessP2pCompute();
    const pooled = new PooledP2pCompute(pool);
    const PaG1 = local.senderEphemeral({ hashIdA: hashId(inputs.idA), date: 0, x });
    expect(bytesToHex(await pooled.senderEphemeral({ hashIdA: hashId(inputs.idA), date: 0, x }))).toBe(bytesToHex(PaG1));
    const r = await pooled.receiverKeyExchange({ ...inputs, PaG1 });
    const l = local.receiverKeyExchange({ ...inputs, PaG1 });
    expect(bytesToHex(r.key)).toBe(bytesToHex(l.key));
    const k = await pooled.senderKey({ date: 0, x, PaG1, PgG1: r.PgG1, PbG2: r.PbG2, senderKey: alice.senderKey, idA: inputs.idA, idB: inputs.idB });
    expect(bytesToHex(k)).toBe(bytesToHex(r.key));
  });

  it('the cached, bilinearity-rearranged in-process compute equals the wcc.ts reference (random inputs, permits on and off)', () => {
    const rng = seededRandom('p2p-crosscheck');
    const compute = new InProcessP2pCompute();
    for (const date of [0, 20000]) {
      for (let i = 0; i < 2; i++) {
        const idA = new TextEncoder().encode(`server-${i}.example`);
        const idB = new TextEncoder().encode(`client-${i}@example`);
        const [hA, hB] = [hashId(idA), hashId(idB)];
        const scalar = () => wcc.randomScalar(rng);
        const [x, w, y] = [scalar(), scalar(), scalar()].map((k) => hexToBytes(k.toString(16).padStart(64, '0')));
        if (x === undefined || w === undefined || y === undefined) throw new Error('unreachable');
        const sKey = senderKeyShare(MS, hA);
        const rKey = receiverKeyShare(MS, hB);
        const permits = date === 0 ? {} : { senderPermit: wcc.senderPermitShare(MS, hA, date), receiverPermit: wcc.receiverPermitShare(MS, hB, date) };
        const PaG1 = compute.senderEphemeral({ hashIdA: hA, date, x });
        expect(bytesToHex(PaG1)).toBe(bytesToHex(wcc.senderEphemeral({ hashIdA: hA, date, x }).PaG1));
        const r = compute.receiverKeyExchange({ date, idA, idB, w, y, PaG1, receiverKey: rKey, receiverPermit: permits.receiverPermit });
        const ref = wcc.receiverEphemeral({ hashIdA: hA, hashIdB: hB, date, w, y });
        expect([bytesToHex(r.PgG1), bytesToHex(r.PbG2)]).toEqual([bytesToHex(ref.PgG1), bytesToHex(ref.PbG2)]);
        const pia = wcc.pia(PaG1, r.PbG2, r.PgG1, idB);
        const pib = wcc.pib(r.PbG2, PaG1, r.PgG1, idA);
        const refKey = wcc.receiverKey({ date, y, w, pia, pib, PaG1, receiverKey: rKey, receiverPermit: permits.receiverPermit, idA });
        expect(bytesToHex(r.key)).toBe(bytesToHex(refKey));
        const s = compute.senderKey({ date, x, PaG1, PgG1: r.PgG1, PbG2: r.PbG2, senderKey: sKey, senderPermit: permits.senderPermit, idA, idB });
        expect(bytesToHex(s)).toBe(bytesToHex(wcc.senderKey({ date, x, pia, pib, PbG2: r.PbG2, PgG1: r.PgG1, senderKey: sKey, senderPermit: permits.senderPermit, idB })));
      }
    }
  });

  it('a point error in a worker still becomes illegal_parameter', async () => {
    const bad = (() => {
      for (let i = 0; ; i++) {
        const pt = map2BeforeClearing(new Uint8Array(32).fill(i + 7));
        if (!isInG2(pt)) return encodeG2(pt);
      }
    })();
    const c = configs(alice, bob, { serverCompute: new PooledP2pCompute(pool) });
    // Replace PbG2 (the last 128 bytes of the ClientKeyExchange record's handshake body).
    const tamper: Tamper = (dir, bytes) => {
      if (dir !== 'c2s' || bytes[0] !== 22 || bytes[5] !== 16) return bytes;
      const out = bytes.slice();
      out.set(bad, 5 + 4 + 6 + 'bob@devices.example'.length + 65);
      return out;
    };
    const w = await handshake(c.client, c.server, tamper);
    expect(w.server.errors[0]).toBeInstanceOf(TlsError);
    expect((w.server.errors[0] as TlsError).alert).toBe(AlertDescription.illegal_parameter);
    expect(w.client.errors[0]).toBeInstanceOf(PeerAlertError);
    expect(w.server.secure).toBeUndefined();
  });

  it('a client claiming an identity it holds no key for fails key confirmation; no identity is reported', async () => {
    // Mallory holds a real key for her own identity but claims to be bob.
    const mallory = { identity: 'bob@devices.example', receiverKey: receiver('mallory@devices.example'), serverIdentity: 'alice.devices.example' };
    const c = configs(alice, mallory);
    const w = await handshake(c.client, c.server);
    expect(w.server.secure).toBeUndefined();
    expect(w.client.secure).toBeUndefined();
    expect(w.server.errors[0]).toBeInstanceOf(TlsError);
    expect([AlertDescription.bad_record_mac, AlertDescription.decrypt_error]).toContain((w.server.errors[0] as TlsError).alert);
  });

  it('a server impersonating another identity fails key confirmation at the client', async () => {
    const eve = { identity: 'alice.devices.example', senderKey: sender('eve.devices.example') };
    const c = configs(eve, bob);
    const w = await handshake(c.client, c.server);
    expect(w.client.secure).toBeUndefined();
    expect(w.server.secure).toBeUndefined();
  });

  it('keys from another authority do not agree (master secret mismatch)', async () => {
    const other = hexToBytes('1111111111111111111111111111111111111111111111111111111111111111');
    const foreign = { ...bob, receiverKey: receiverKeyShare(other, hashId(new TextEncoder().encode('bob@devices.example'))) };
    const w = await handshake(configs(alice, foreign).client, configs(alice, foreign).server);
    expect(w.server.secure).toBeUndefined();
  });

  it('the suite number is configurable (both peers agree on 0xFF42)', async () => {
    const suite = withSuiteId(P2P, 0xff42);
    const c = configs(alice, bob, { suite });
    const w = await handshake(c.client, c.server);
    expect(w.client.secure?.suite.id).toBe(0xff42);
    expect(w.server.secure?.peerIdentity?.identity).toBe('bob@devices.example');
  });
});
