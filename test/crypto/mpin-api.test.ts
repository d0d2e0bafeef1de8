/** M-Pin API behaviour beyond the vectors: randomness, ranges, rejection of bad input, 2-pass flow. */
import { describe, expect, it } from 'vitest';
import * as mpin from '../../src/crypto/mpin.ts';
import { AmclRng } from '../../src/crypto/amcl-rng.ts';
import { R, PointError, encodeScalar, i2os, randomScalar, bncx, encodeG1 } from '../../src/crypto/bncx/index.ts';
import { fixedRandom, toHex } from './helpers.ts';
import { concatBytes } from '../../src/codec/bytes.ts';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const rngFor = (n: number): ((k: number) => Uint8Array) => new AmclRng(Uint8Array.of(n, 1, 2, 3)).source;

describe('randomScalar (§10 item 12)', () => {
  it('rejects 0 and values ≥ r, masks to 254 bits, returns the first acceptable draw', () => {
    const good = i2os(12345n);
    const tooBig = i2os(R); // exactly r: rejected
    const zero = new Uint8Array(32);
    const highBits = i2os(R + (1n << 255n)); // top bits masked away → r: rejected
    const src = fixedRandom(concatBytes(zero, tooBig, highBits, good));
    expect(randomScalar(src)).toBe(12345n);
  });
  it('draws in [1, r−1] and fails loudly on a broken source', () => {
    const rng = rngFor(1);
    for (let i = 0; i < 50; i++) {
      const k = randomScalar(rng);
      expect(k >= 1n && k < R).toBe(true);
    }
    expect(() => randomScalar(() => new Uint8Array(32))).toThrow(/broken/);
    expect(() => randomScalar(() => new Uint8Array(31))).toThrow(RangeError);
  });
});

describe('M-Pin end to end with injected randomness', () => {
  const id = enc('alice@example.org');
  const hid = mpin.hashId(id);
  const rng = rngFor(7);
  const ms1 = mpin.masterSecretShare(rng);
  const ms2 = mpin.masterSecretShare(rng);
  const cs = mpin.recombineG1(mpin.clientSecretShare(ms1, hid), mpin.clientSecretShare(ms2, hid));
  const sst = mpin.ServerSecret.fromBytes(mpin.recombineG2(mpin.serverSecretShare(ms1), mpin.serverSecretShare(ms2)));
  const date = mpin.dayOf(1_790_000_000_000);
  const permit = mpin.recombineG1(mpin.timePermitShare(ms1, hid, date), mpin.timePermitShare(ms2, hid, date));
  const token = mpin.extractPin(id, 4321, cs);
  const t = 1_790_000_123;

  it('one-pass with permits: accepted, keys agree; wrong PIN rejected and located', () => {
    const cp = mpin.clientPass({ identity: id, pin: 4321, token, timePermit: { permit, date }, timeValue: t, rng });
    const sv = mpin.serverVerify({ serverSecret: sst, hashId: cp.hashId, point: cp.point, V: cp.V, timeValue: t, date });
    expect(sv.ok).toBe(true);
    const { w, W } = mpin.serverEphemeral({ hashId: cp.hashId, date, rng });
    const { r, R: Rpt } = mpin.clientEphemeral({ hashId: cp.hashId, rng });
    const h = mpin.transcriptHash({ hashId: cp.hashId, UT: cp.UT, y: cp.y, V: cp.V, R: Rpt, W });
    const pre = mpin.ClientPrecompute.compute(token, cp.hashId);
    const ck = mpin.clientKey({ precompute: pre, pin: 4321, r, x: cp.x, h, W });
    const sk = mpin.serverKey({ serverSecret: sst, hashId: cp.hashId, R: Rpt, h, w, point: cp.point });
    expect(ck.length).toBe(16);
    expect(toHex(ck)).toBe(toHex(sk));

    const bad = mpin.clientPass({ identity: id, pin: 4300, token, timePermit: { permit, date }, timeValue: t, rng });
    const sb = mpin.serverVerify({ serverSecret: sst, hashId: bad.hashId, point: bad.point, V: bad.V, timeValue: t, date, U: bad.U });
    expect(sb.ok).toBe(false);
    if (sb.E === undefined || sb.F === undefined) throw new Error('E/F expected');
    expect(mpin.pinError(sb.E, sb.F)).toBe(-21);
    // Wrong day on the server: rejected, not a PIN error
    const sd = mpin.serverVerify({ serverSecret: sst, hashId: cp.hashId, point: cp.point, V: cp.V, timeValue: t, date: date + 1, U: cp.U });
    expect(sd.ok).toBe(false);
    if (sd.E === undefined || sd.F === undefined) throw new Error('E/F expected');
    expect(mpin.pinError(sd.E, sd.F)).toBeUndefined();
  });

  it('PIN-error search covers the extremes ±9999', () => {
    const t0 = mpin.extractPin(id, 0, cs);
    const cp = mpin.clientPass({ identity: id, pin: 9999, token: t0, timeValue: t, rng });
    const sv = mpin.serverVerify({ serverSecret: sst, hashId: cp.hashId, point: cp.point, V: cp.V, timeValue: t, date: 0, U: cp.U });
    if (sv.E === undefined || sv.F === undefined) throw new Error('E/F expected');
    expect(mpin.pinError(sv.E, sv.F)).toBe(9999);
  });

  it('multi-pass (§5.9): client1, server-chosen y, client2, server2', () => {
    const c1 = mpin.client1({ identity: id, pin: 4321, token, rng });
    const s1 = mpin.server1(c1.hashId, 0);
    expect(toHex(s1.hidPoint)).toBe(toHex(encodeG1(mpin.identityPoint(hid))));
    expect(s1.htidPoint).toBeUndefined();
    const y = encodeScalar(randomScalar(rng));
    const V = mpin.client2(c1.x, y, c1.sec);
    expect(mpin.server2({ serverSecret: sst, hashId: hid, point: c1.point, V, date: 0, y }).ok).toBe(true);
    const otherY = encodeScalar(randomScalar(rng));
    expect(mpin.server2({ serverSecret: sst, hashId: hid, point: c1.point, V, date: 0, y: otherY }).ok).toBe(false);
    // x + y ≡ 0 would give V = O: refused
    const yBad = encodeScalar((R - BigInt('0x' + toHex(c1.x))) % R);
    expect(() => mpin.client2(c1.x, yBad, c1.sec)).toThrow(PointError);
  });

  it('enforces PIN 0..9999 and day numbers (§5.4, §10 item 17)', () => {
    for (const pin of [-1, 10000, 16383, 1.5, Number.NaN]) {
      expect(() => mpin.clientPass({ identity: id, pin, token, timeValue: t, rng })).toThrow(RangeError);
      expect(() => mpin.extractPin(id, pin, cs)).toThrow(RangeError);
    }
    expect(() => mpin.timePermitShare(ms1, hid, 0)).toThrow(RangeError);
    expect(() => mpin.timePermitShare(ms1, hid, -3)).toThrow(RangeError);
    expect(() => mpin.clientPass({ identity: id, pin: 1, token, timeValue: t })).toThrow(TypeError); // no x, no rng
  });

  it('server rejects malformed input with typed errors, never crashes', () => {
    const cp = mpin.clientPass({ identity: id, pin: 4321, token, timeValue: t, rng });
    const base = { serverSecret: sst, hashId: cp.hashId, point: cp.point, V: cp.V, timeValue: t, date: 0 };
    expect(() => mpin.serverVerify({ ...base, hashId: cp.hashId.subarray(0, 31) })).toThrow(PointError);
    expect(() => mpin.serverVerify({ ...base, hashId: new Uint8Array(0) })).toThrow(PointError);
    const v2 = cp.V.slice();
    v2[0] = 0x02;
    expect(() => mpin.serverVerify({ ...base, V: v2 })).toThrow(PointError);
    expect(() => mpin.serverVerify({ ...base, point: cp.point.subarray(0, 64) })).toThrow(PointError);
    const offCurve = cp.V.slice();
    offCurve[64] = (offCurve[64] ?? 0) ^ 1;
    expect(() => mpin.serverVerify({ ...base, V: offCurve })).toThrow(PointError);
    expect(() => mpin.ServerSecret.fromBytes(new Uint8Array(128))).toThrow(PointError);
    // A V from another identity simply fails
    expect(mpin.serverVerify({ ...base, hashId: mpin.hashId(enc('mallory')) }).ok).toBe(false);
  });

  it('time-permit obfuscation round-trips and rejects ordinary points / bad lengths', () => {
    const e = mpin.encodePermit(permit, rng);
    expect(e.length).toBe(65);
    expect((e[0] ?? 0) & 0x04).toBe(0);
    expect(toHex(mpin.decodePermit(e))).toBe(toHex(permit));
    expect(() => mpin.decodePermit(permit)).toThrow(PointError);
    expect(() => mpin.decodePermit(e.subarray(0, 64))).toThrow(PointError);
  });

  it('dayOf counts UTC days since the epoch', () => {
    expect(mpin.dayOf(0)).toBe(0);
    expect(mpin.dayOf(86_400_000 * 19675 + 5)).toBe(19675);
    expect(bncx.G1.BASE.is0()).toBe(false);
  });
});
