/**
 * AMCL's published M-Pin test vectors for BNCX, one-pass protocol with time value (clientPass /
 * serverVerify): 300 cases with two authorities, time permits and 100 wrong-PIN cases.
 */
import { afterAll, describe, expect, it } from 'vitest';
import * as mpin from '../../src/crypto/mpin.ts';
import { loadVector, hx, toHex } from './helpers.ts';
import { checkIssuing, type AmclCase } from './amcl-vector-checks.ts';

describe('AMCL published M-Pin vectors (BNCX), one-pass', () => {
  const cases = loadVector<AmclCase[]>('amcl/mpin-BNCX-onepass.json');
  let ran = 0;
  let failures = 0;
  afterAll(() => {
    console.log(`amcl/mpin-BNCX-onepass.json: ${ran} cases ran (${failures} expected BAD_PIN)`);
  });
  it('has 300 cases', () => {
    expect(cases.length).toBe(300);
  });
  // Chunks of 50 cases keep each test well inside the timeout on a loaded 2-core machine.
  for (let from = 0; from < 300; from += 50) {
    it(`cases ${from}..${from + 49}`, () => {
      for (const c of cases.slice(from, from + 50)) {
        const { id, hid, token } = checkIssuing(c);
        const timeValue = c.TimeValue;
        if (timeValue === undefined) throw new Error('one-pass case without TimeValue');
        const cp = mpin.clientPass({
          identity: id, pin: c.PIN2, token, timePermit: { permit: hx(c.TIME_PERMIT), date: c.DATE }, timeValue, x: hx(c.X),
        });
        expect(toHex(cp.U)).toBe(c.U);
        expect(cp.UT === undefined ? '' : toHex(cp.UT)).toBe(c.UT);
        expect(toHex(cp.y)).toBe(c.Y);
        // In AMCL's one-pass vectors the SEC column holds the client's output V.
        expect(toHex(cp.V), `test ${c.test_no}`).toBe(c.SEC);
        const sv = mpin.serverVerify({ serverSecret: hx(c.SERVER_SECRET), hashId: hid, point: cp.point, V: cp.V, timeValue, date: c.DATE });
        expect(toHex(sv.y)).toBe(c.Y);
        expect(sv.ok ? 0 : -19, `test ${c.test_no}`).toBe(c.SERVER_OUTPUT);
        if (!sv.ok) failures++;
        ran++;
      }
    }, 180_000);
  }
});
