/**
 * The optimised MILAGRO_CS compute (cached identity points, fixed-base tables, public-scalar
 * shortcuts) must give exactly the bytes of the reference M-Pin code in crypto/mpin.ts (spec
 * §5.5–§5.8), with and without time permits, on first use and on cache hits.
 */
import { describe, expect, it } from 'vitest';
import { bytesToHex } from '../../src/codec/bytes.ts';
import * as mpin from '../../src/crypto/mpin.ts';
import { encodeScalar, randomScalar } from '../../src/crypto/bncx/index.ts';
import { InProcessCsCompute } from '../../src/kex/milagro/cs-compute.ts';
import { seededRandom } from '../handshake/fixtures.ts';
import { issueCsKeys } from './keys.ts';

const hex = bytesToHex;

describe('InProcessCsCompute = crypto/mpin.ts', () => {
  for (const permits of [true, false]) {
    it(`random sessions, time permits ${permits ? 'on' : 'off'}, repeated on warm caches`, () => {
      const now = Date.UTC(2026, 10, 28, 4, 0, 0);
      const keys = issueCsKeys({ now, identity: `carol-${permits}@example.org`, pin: 777, seed: `ta-${permits}` });
      const compute = new InProcessCsCompute();
      const rng = seededRandom(`cs-compute-${permits}`);
      const identity = new TextEncoder().encode(keys.identity);
      const timePermit = permits ? { permit: keys.timePermit, date: keys.date } : undefined;
      for (let i = 0; i < 3; i++) {
        const x = encodeScalar(randomScalar(rng));
        const r = encodeScalar(randomScalar(rng));
        const w = encodeScalar(randomScalar(rng));
        const timeValue = Math.floor(now / 1000) + i;
        const ref = mpin.clientPass({ identity, pin: keys.pin, token: keys.token, timePermit, x, timeValue });
        const hello = compute.clientHello({ identity, pin: keys.pin, token: keys.token, timePermit, x, timeValue });
        expect(hex(hello.hashId)).toBe(hex(ref.hashId));
        expect(hex(hello.point)).toBe(hex(ref.point));
        expect(hex(hello.V)).toBe(hex(ref.V));
        expect(hex(hello.y)).toBe(hex(ref.y));

        const date = permits ? keys.date : 0;
        const verify = compute.serverVerify({ serverSecret: keys.serverSecret, hashId: ref.hashId, point: ref.point, V: ref.V, timeValue, date, detectPinError: false });
        expect(verify.ok).toBe(true);
        expect(mpin.serverVerify({ serverSecret: keys.serverSecret, hashId: ref.hashId, point: ref.point, V: ref.V, date, timeValue }).ok).toBe(true);

        const W = compute.serverEphemeral({ hashId: ref.hashId, date, w });
        expect(hex(W)).toBe(hex(mpin.serverEphemeral({ hashId: ref.hashId, date, w }).W));

        const UT = permits ? ref.point : undefined;
        const ck = compute.clientKeyExchange({ token: keys.token, hashId: ref.hashId, pin: keys.pin, x, y: ref.y, V: ref.V, UT, W, r });
        const R = mpin.clientEphemeral({ hashId: ref.hashId, r }).R;
        expect(hex(ck.R)).toBe(hex(R));
        const h = mpin.transcriptHash({ hashId: ref.hashId, UT, y: ref.y, V: ref.V, R, W });
        const refClientKey = mpin.clientKey({ precompute: mpin.ClientPrecompute.compute(keys.token, ref.hashId), pin: keys.pin, r, x, h, W });
        expect(hex(ck.key)).toBe(hex(refClientKey));

        const sk = compute.serverKey({ serverSecret: keys.serverSecret, hashId: ref.hashId, point: ref.point, UT, y: ref.y, V: ref.V, W, w, R });
        expect(hex(sk)).toBe(hex(mpin.serverKey({ serverSecret: keys.serverSecret, hashId: ref.hashId, R, h, w, point: ref.point })));
        expect(hex(sk)).toBe(hex(ck.key));
      }
    });
  }

  it('a wrong PIN fails the check; without permits the PIN error is found (§5.7)', () => {
    const now = Date.UTC(2026, 10, 28, 4, 0, 0);
    const keys = issueCsKeys({ now, pin: 1234 });
    const compute = new InProcessCsCompute();
    const identity = new TextEncoder().encode(keys.identity);
    const x = encodeScalar(randomScalar(seededRandom('wrong pin')));
    const t = Math.floor(now / 1000);
    const hello = compute.clientHello({ identity, pin: 1239, token: keys.token, x, timeValue: t });
    const v = compute.serverVerify({ serverSecret: keys.serverSecret, hashId: hello.hashId, point: hello.point, V: hello.V, timeValue: t, date: 0, detectPinError: true });
    expect(v).toMatchObject({ ok: false, pinError: 5 });
  });
});
