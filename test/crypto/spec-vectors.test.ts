/** Spec §11 vectors V2–V10 (AMCL RNG, demo TA secret, MILAGRO_CS/P2P values, permit obfuscation). */
import { describe, expect, it } from 'vitest';
import * as mpin from '../../src/crypto/mpin.ts';
import * as wcc from '../../src/crypto/wcc.ts';
import { AmclRng, amclRandomBelow } from '../../src/crypto/amcl-rng.ts';
import { R, encodeG1, encodeG2, map1, map2, map2BeforeClearing } from '../../src/crypto/bncx/index.ts';
import { loadVector, hx, toHex } from './helpers.ts';

const V = loadVector<Record<string, Record<string, string>>>('amcl/spec-section11.json');
const v = (sec: string, label: string): string => {
  const s = V[sec]?.[label];
  if (s === undefined) throw new Error(`missing ${sec} / ${label}`);
  return s;
};
const seq = (start: number): Uint8Array => Uint8Array.from({ length: 32 }, (_, i) => start + i);
const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const ID = enc('client@miracl.com');
const IDS = enc('server.miracl.com');
const DATE = 19675;
const TIME = 1700000000;

describe('spec Appendix A / V2: AMCL generator and demo master secret', () => {
  it('first 32 bytes and the TA master secret from seed 01..20', () => {
    expect(toHex(new AmclRng(seq(1)).bytes(32))).toBe(v('V2', 'seed = bytes 01 02 ... 20 (32 bytes); first 32 output bytes'));
    expect(toHex(mpin.amclRandomScalar(new AmclRng(seq(1)).source))).toBe(v('V2', 'same seed, fresh generator, random scalar mod r (= master secret of both demo TAs)'));
  });
});

describe('spec V3–V8: M-Pin with the demo authority', () => {
  const s = mpin.amclRandomScalar(new AmclRng(seq(1)).source);
  const hid = mpin.hashId(ID);

  it('V3 identity hashing and maps', () => {
    expect(toHex(hid)).toBe(v('V3', 'SHA-256("client@miracl.com")'));
    expect(toHex(encodeG1(map1(hid)))).toBe(v('V3', 'map-to-G1 of that hash (0 increments needed)'));
    expect(toHex(encodeG2(map2BeforeClearing(hid)))).toBe(v('V3', 'map-to-G2 of SHA-256("client@miracl.com"), before cofactor clearing (7 increments)'));
    expect(toHex(encodeG2(map2(hid)))).toBe(v('V3', 'H2("client@miracl.com") (after cofactor clearing)'));
    expect(toHex(encodeG1(map1(mpin.hashId(IDS))))).toBe(v('V3', 'H1("server.miracl.com")'));
    expect(toHex(encodeG2(map2(mpin.hashId(IDS))))).toBe(v('V3', 'H2("server.miracl.com")'));
  });

  it('V4 key material; PIN extraction uses the raw identity', () => {
    expect(toHex(mpin.serverSecretShare(s))).toBe(v('V4', 'server secret s.Q'));
    const cs = mpin.clientSecretShare(s, hid);
    expect(toHex(cs)).toBe(v('V4', 'client secret s.H(ID)'));
    expect(toHex(mpin.timePermitShare(s, hid, DATE))).toBe(v('V4', 'time permit s.map1(SHA(BE32(19675) ‖ HID))'));
    expect(toHex(mpin.extractPin(ID, 1234, cs))).toBe(v('V4', 'token for PIN 1234, extraction with the raw identity (correct)'));
    // The demo TA's bug (hashed identity) gives a different, unusable token.
    expect(toHex(mpin.extractPin(hid, 1234, cs))).toBe(v('V4', 'token for PIN 1234, extraction with the hashed identity (what the demo TA does; unusable)'));
    expect(() => mpin.extractPin(ID, 10000, cs)).toThrow(RangeError);
    expect(() => mpin.extractPin(ID, -1, cs)).toThrow(RangeError);
  });

  for (const permits of [true, false]) {
    it(`${permits ? 'V5 (time permits on)' : 'V6 (time permits off)'}: client pass, server check, keys`, () => {
      const sec = permits ? 'V5' : 'V6';
      const token = mpin.clientSecretShare(s, hid); // PIN 0
      const permit = mpin.timePermitShare(s, hid, DATE);
      const client = new AmclRng(seq(0x40)).source;
      const server = new AmclRng(seq(0x80)).source;
      const x = mpin.amclRandomScalar(client);
      expect(toHex(x)).toBe(v('V5', 'x (client, first draw)'));
      const cp = mpin.clientPass({ identity: ID, pin: 0, token, timePermit: permits ? { permit, date: DATE } : undefined, timeValue: TIME, x });
      expect(toHex(cp.U)).toBe(v('V5', 'U = x.A'));
      if (permits) expect(toHex(cp.UT ?? new Uint8Array())).toBe(v('V5', 'UT = x.(A + T)'));
      expect(toHex(cp.y)).toBe(v(sec, permits ? 'y = SHA(BE32(1700000000) ‖ UT) mod r' : 'y = SHA(BE32(1700000000) ‖ U) mod r'));
      expect(toHex(cp.V)).toBe(v(sec, 'V'));
      const sst = mpin.ServerSecret.fromBytes(mpin.serverSecretShare(s));
      const date = permits ? DATE : 0;
      const sv = mpin.serverVerify({ serverSecret: sst, hashId: cp.hashId, point: cp.point, V: cp.V, timeValue: TIME, date });
      expect(sv.ok).toBe(true);
      if (permits) expect(toHex(sv.htidPoint ?? new Uint8Array())).toBe(v('V5', 'HTID = A + T (server side)'));
      const w = mpin.amclRandomScalar(server);
      expect(toHex(w)).toBe(v('V5', 'w (server, first draw)'));
      const { W } = mpin.serverEphemeral({ hashId: cp.hashId, date, w });
      expect(toHex(W)).toBe(v(sec, permits ? 'W = w.HTID' : 'W = w.A'));
      const r = mpin.amclRandomScalar(client);
      const { R: Rpt } = mpin.clientEphemeral({ hashId: cp.hashId, r });
      expect(toHex(Rpt)).toBe(v('V5', 'R = r.A'));
      const h = mpin.transcriptHash({ hashId: cp.hashId, UT: cp.UT, y: cp.y, V: cp.V, R: Rpt, W });
      expect(toHex(h)).toBe(v(sec, permits ? 'transcript hash h' : 'transcript hash h (note: U is NOT part of it)'));
      const pre = mpin.ClientPrecompute.compute(token, cp.hashId);
      if (permits) {
        expect(toHex(pre.toBytes().g1)).toBe(v('V5', 'g1 = e(Q, token) (client precomputation)'));
        expect(toHex(pre.toBytes().g2)).toBe(v('V5', 'g2 = e(Q, A)'));
      }
      const ck = mpin.clientKey({ precompute: pre, pin: 0, r, x: cp.x, h, W });
      const sk = mpin.serverKey({ serverSecret: sst, hashId: cp.hashId, R: Rpt, h, w, point: cp.point });
      const key = v(sec, permits ? 'session key (client = server)' : 'session key');
      expect(toHex(ck)).toBe(key);
      expect(toHex(sk)).toBe(key);
    });
  }

  it('V7 PIN error detection: token for 1234, entered 1239 ⇒ E = F^(−5), δ = 5', () => {
    const token = mpin.extractPin(ID, 1234, mpin.clientSecretShare(s, hid));
    const x = amclRandomBelow(new AmclRng(seq(0x40)).source, R);
    const cp = mpin.clientPass({ identity: ID, pin: 1239, token, timeValue: TIME, x: hx(x.toString(16).padStart(64, '0')) });
    const sv = mpin.serverVerify({ serverSecret: mpin.serverSecretShare(s), hashId: cp.hashId, point: cp.point, V: cp.V, timeValue: TIME, date: 0, U: cp.U });
    expect(sv.ok).toBe(false);
    expect(toHex(sv.E ?? new Uint8Array())).toBe(v('V7', 'E'));
    expect(toHex(sv.F ?? new Uint8Array())).toBe(v('V7', 'F'));
    expect(mpin.pinError(hx(v('V7', 'E')), hx(v('V7', 'F')))).toBe(5);
  });

  it('V8 time-permit obfuscation (ENCODING with AMCL RNG seed 10..2F) and decoding', () => {
    const permit = mpin.timePermitShare(s, hid, DATE);
    const encoded = mpin.encodePermit(permit, new AmclRng(seq(0x10)).source);
    expect(toHex(encoded)).toBe(v('V8', 'encoded'));
    expect(toHex(mpin.decodePermit(encoded))).toBe(v('V8', 'decoded (= original permit)'));
    expect(() => mpin.decodePermit(permit)).toThrow(); // an ordinary 04 point is not an encoding
    // round trip with another source
    const enc2 = mpin.encodePermit(permit, new AmclRng(seq(0x99)).source);
    expect(toHex(mpin.decodePermit(enc2))).toBe(toHex(permit));
  });
});

describe('spec V9–V10: WCC with the demo identities', () => {
  const s = mpin.amclRandomScalar(new AmclRng(seq(1)).source);
  const hS = wcc.hashId(IDS);
  const hC = wcc.hashId(ID);
  for (const date of [0, DATE]) {
    it(date === 0 ? 'V9 MILAGRO_P2P values and session key' : 'V10 with time permits', () => {
      const sec = date === 0 ? 'V9' : 'V10';
      const aKey = wcc.senderKeyShare(s, hS);
      const bKey = wcc.receiverKeyShare(s, hC);
      expect(toHex(aKey)).toBe(v('V9', 'server (sender) key s.H1("server.miracl.com")'));
      expect(toHex(bKey)).toBe(v('V9', 'client (receiver) key s.H2("client@miracl.com")'));
      const server = new AmclRng(seq(0x80)).source;
      const client = new AmclRng(seq(0x40)).source;
      const x = mpin.amclRandomScalar(server);
      const w = mpin.amclRandomScalar(client);
      const y = mpin.amclRandomScalar(client);
      expect(toHex(x)).toBe(v('V9', 'x (server draw)'));
      expect(toHex(w)).toBe(v('V9', 'w (client, first draw)'));
      expect(toHex(y)).toBe(v('V9', 'y (client, second draw)'));
      const snd = wcc.senderEphemeral({ hashIdA: hS, date, x });
      const rcv = wcc.receiverEphemeral({ hashIdA: hS, hashIdB: hC, date, w, y });
      const label = (k9: string, k10: string): string => (date === 0 ? k9 : k10);
      expect(toHex(snd.PaG1)).toBe(v(sec, label('PaG1 = x.H1(IdS)', 'PaG1 = x.(H1(IdS) + map1(SHA(BE32(19675) ‖ SHA(IdS))))')));
      expect(toHex(rcv.PgG1)).toBe(v(sec, label('PgG1 = w.H1(IdS)', 'PgG1 = w.(same G1 point)')));
      expect(toHex(rcv.PbG2)).toBe(v(sec, label('PbG2 = y.H2(IdC)', 'PbG2 = y.(H2(IdC) + map2(SHA(BE32(19675) ‖ SHA(IdC))))')));
      const pia = wcc.pia(snd.PaG1, rcv.PbG2, rcv.PgG1, ID);
      const pib = wcc.pib(rcv.PbG2, snd.PaG1, rcv.PgG1, IDS);
      expect(toHex(pia)).toBe(v(sec, 'pia'));
      expect(toHex(pib)).toBe(v(sec, 'pib'));
      const aPermit = date > 0 ? wcc.senderPermitShare(s, hS, date) : undefined;
      const bPermit = date > 0 ? wcc.receiverPermitShare(s, hC, date) : undefined;
      if (date > 0) {
        expect(toHex(aPermit ?? new Uint8Array())).toBe(v('V10', 'G1 permit s.map1(SHA(BE32(19675) ‖ SHA(IdS)))'));
        expect(toHex(bPermit ?? new Uint8Array())).toBe(v('V10', 'G2 permit s.map2(SHA(BE32(19675) ‖ SHA(IdC)))'));
      }
      const ks = wcc.senderKey({ date, x, pia, pib, PbG2: rcv.PbG2, PgG1: rcv.PgG1, senderKey: aKey, senderPermit: aPermit, idB: ID });
      const kr = wcc.receiverKey({ date, y, w, pia, pib, PaG1: snd.PaG1, PgG1: rcv.PgG1, receiverKey: bKey, receiverPermit: bPermit, idA: IDS });
      const key = v(sec, date === 0 ? 'session key (sender = receiver)' : 'session key');
      expect(toHex(ks)).toBe(key);
      expect(toHex(kr)).toBe(key);
    });
  }
});
