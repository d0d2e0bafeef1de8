/**
 * AMCL's published M-Pin test vectors for BNCX (600 cases): multi-pass (client1 / given y /
 * client2 / server2) and one-pass (clientPass / serverVerify). Each has two authorities, time
 * permits, and 100 wrong-PIN cases per file.
 */
import { describe, expect, it } from 'vitest';
import * as mpin from '../../src/crypto/mpin.ts';
import { loadVector, hx, toHex } from './helpers.ts';

type Hex = string;
type AmclCase = {
  test_no: number; MPIN_ID_HEX: Hex; HASH_MPIN_ID_HEX: Hex; MS1: Hex; MS2: Hex;
  SS1: Hex; SS2: Hex; SERVER_SECRET: Hex; CS1: Hex; CS2: Hex; CLIENT_SECRET: Hex;
  TP1: Hex; TP2: Hex; TIME_PERMIT: Hex; DATE: number; PIN1: number; PIN2: number; TOKEN: Hex;
  X: Hex; Y: Hex; U: Hex; UT: Hex; SEC: Hex; V?: Hex; TimeValue?: number; SERVER_OUTPUT: number;
};

function checkIssuing(c: AmclCase): { id: Uint8Array; hid: Uint8Array; token: Uint8Array } {
  const id = hx(c.MPIN_ID_HEX);
  const hid = mpin.hashId(id);
  expect(toHex(hid)).toBe(c.HASH_MPIN_ID_HEX);
  expect(toHex(mpin.serverSecretShare(hx(c.MS1)))).toBe(c.SS1);
  expect(toHex(mpin.serverSecretShare(hx(c.MS2)))).toBe(c.SS2);
  expect(toHex(mpin.recombineG2(hx(c.SS1), hx(c.SS2)))).toBe(c.SERVER_SECRET);
  expect(toHex(mpin.clientSecretShare(hx(c.MS1), hid))).toBe(c.CS1);
  expect(toHex(mpin.clientSecretShare(hx(c.MS2), hid))).toBe(c.CS2);
  expect(toHex(mpin.recombineG1(hx(c.CS1), hx(c.CS2)))).toBe(c.CLIENT_SECRET);
  expect(toHex(mpin.timePermitShare(hx(c.MS1), hid, c.DATE))).toBe(c.TP1);
  expect(toHex(mpin.timePermitShare(hx(c.MS2), hid, c.DATE))).toBe(c.TP2);
  expect(toHex(mpin.recombineG1(hx(c.TP1), hx(c.TP2)))).toBe(c.TIME_PERMIT);
  const token = mpin.extractPin(id, c.PIN1, hx(c.CLIENT_SECRET));
  expect(toHex(token)).toBe(c.TOKEN);
  return { id, hid, token };
}

describe('AMCL published M-Pin vectors (BNCX)', () => {
  it('mpin-BNCX.json: multi-pass protocol, all 300 cases', () => {
    const cases = loadVector<AmclCase[]>('amcl/mpin-BNCX.json');
    let failures = 0;
    for (const c of cases) {
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
    }
    console.log(`amcl/mpin-BNCX.json: ${cases.length} cases ran (${failures} expected BAD_PIN)`);
    expect(cases.length).toBe(300);
  });

  it('mpin-BNCX-onepass.json: one-pass protocol with time value, all 300 cases', () => {
    const cases = loadVector<AmclCase[]>('amcl/mpin-BNCX-onepass.json');
    let failures = 0;
    for (const c of cases) {
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
    }
    console.log(`amcl/mpin-BNCX-onepass.json: ${cases.length} cases ran (${failures} expected BAD_PIN)`);
    expect(cases.length).toBe(300);
  });
});
