/** Shared checks for AMCL's published M-Pin vectors (mpin-amcl-*.test.ts). */
import { expect } from 'vitest';
import * as mpin from '../../src/crypto/mpin.ts';
import { hx, toHex } from './helpers.ts';

type Hex = string;
export type AmclCase = {
  test_no: number; MPIN_ID_HEX: Hex; HASH_MPIN_ID_HEX: Hex; MS1: Hex; MS2: Hex;
  SS1: Hex; SS2: Hex; SERVER_SECRET: Hex; CS1: Hex; CS2: Hex; CLIENT_SECRET: Hex;
  TP1: Hex; TP2: Hex; TIME_PERMIT: Hex; DATE: number; PIN1: number; PIN2: number; TOKEN: Hex;
  X: Hex; Y: Hex; U: Hex; UT: Hex; SEC: Hex; V?: Hex; TimeValue?: number; SERVER_OUTPUT: number;
};

export function checkIssuing(c: AmclCase): { id: Uint8Array; hid: Uint8Array; token: Uint8Array } {
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

