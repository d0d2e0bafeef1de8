/**
 * AMCL's published M-Pin test vectors for BNCX, multi-pass protocol (client1 / given y / client2 /
 * server2): 300 cases with two authorities, time permits and 100 wrong-PIN cases.
 * The one-pass file is in mpin-amcl-onepass-vectors.test.ts (separate file so both run in parallel).
 */
import { afterAll, describe, expect, it } from 'vitest';
import * as mpin from '../../src/crypto/mpin.ts';
import { loadVector, hx, toHex } from './helpers.ts';
import { checkIssuing, type AmclCase } from './amcl-vector-checks.ts';

describe('AMCL published M-Pin vectors (BNCX), multi-pass', () => {
  const cases = loadVector<AmclCase[]>('amcl/mpin-BNCX.json');
  let ran = 0;
  let failures = 0;
  afterAll(() => {
    console.log(`amcl/mpin-BNCX.json: ${ran} cases ran (${failures} expected BAD_PIN)`);
  });
  it('has 300 cases', () => {
    expect(cases.length).toBe(300);
  });
  // Chunks of 50 cases keep each test well inside the timeout on a loaded 2-core machine.
  for (let from = 0; from < 300; from += 50) {
    it(`cases ${from}..${from + 49}`, () => {
      for (const c of cases.slice(from, from + 50)) {
        const { id, hid, token } = checkIssuing(c);
        const c1 = mpin.client1({ identity: id, pin: c.PIN2, token, timePermit: { permit: hx(c.TIME_PERMIT), date: c.DATE }, x: hx(c.X) });
        expect(toHex(c1.U)).toBe(c.U);
        expect(c1.UT === undefined ? '' : toHex(c1.UT)).toBe(c.UT);
        expect(toHex(c1.sec)).toBe(c.SEC);
        const V = mpin.client2(c1.x, hx(c.Y), c1.sec);
        expect(toHex(V), `test ${c.test_no}`).toBe(c.V);
        const sv = mpin.server2({ serverSecret: hx(c.SERVER_SECRET), hashId: hid, point: c1.point, V, date: c.DATE, y: hx(c.Y) });
        expect(sv.ok ? 0 : -19, `test ${c.test_no}`).toBe(c.SERVER_OUTPUT);
        if (!sv.ok) failures++;
        ran++;
      }
    }, 180_000);
  }
});
