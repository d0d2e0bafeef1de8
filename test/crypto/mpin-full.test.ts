import { describe, expect, it } from 'vitest';
import * as mpin from '../../src/crypto/mpin.ts';
import { loadVector, hx, toHex } from './helpers.ts';

type Hex = string;
type Case = {
  case: number; note: string; time_permits: boolean; expected_success: boolean;
  identity_hex: Hex; hash_id: Hex;
  inputs: { MS1: Hex; MS2: Hex; pin_registered: number; pin_entered: number; date: number; server_date: number; timevalue: number; x: Hex; r: Hex; w: Hex };
  trusted_authorities: {
    client_secret_share_1: Hex; client_secret_share_2: Hex; client_secret: Hex;
    server_secret_share_1: Hex; server_secret_share_2: Hex; server_secret: Hex;
    time_permit_share_1: Hex | null; time_permit_share_2: Hex | null; time_permit: Hex | null; token: Hex;
  };
  client_pass1: { U: Hex; UT: Hex | null; V: Hex; Y: Hex };
  server: { HID_point: Hex; HTID_point: Hex | null; Y: Hex; result: number; E: Hex | null; F: Hex | null; kangaroo_pin_error: number | null };
  key_agreement: {
    R: Hex; W: Hex; precompute_g1: Hex; precompute_g2: Hex;
    tls_order: { H: Hex; client_key: Hex; server_key: Hex; keys_equal: boolean };
    amcl_reference_order: { H: Hex; client_key: Hex; server_key: Hex };
  };
};
const vec = loadVector<{ cases: Case[] }>('mpin-full.json');

describe('spec §5 M-Pin full, two authorities, milagro-tls order (mpin-full.json)', () => {
  it('reproduces every case: issuing, client pass, server check, PIN error, keys', () => {
    for (const c of vec.cases) {
      const id = hx(c.identity_hex);
      const hid = mpin.hashId(id);
      const ta = c.trusted_authorities;
      const inp = c.inputs;
      expect(toHex(hid)).toBe(c.hash_id);
      // Trust authorities (§5.1–5.2)
      const cs1 = mpin.clientSecretShare(hx(inp.MS1), hid);
      const cs2 = mpin.clientSecretShare(hx(inp.MS2), hid);
      expect(toHex(cs1)).toBe(ta.client_secret_share_1);
      expect(toHex(cs2)).toBe(ta.client_secret_share_2);
      expect(toHex(mpin.recombineG1(cs1, cs2))).toBe(ta.client_secret);
      const ss1 = mpin.serverSecretShare(hx(inp.MS1));
      const ss2 = mpin.serverSecretShare(hx(inp.MS2));
      expect(toHex(ss1)).toBe(ta.server_secret_share_1);
      expect(toHex(ss2)).toBe(ta.server_secret_share_2);
      expect(toHex(mpin.recombineG2(ss1, ss2))).toBe(ta.server_secret);
      let permit: Uint8Array | undefined;
      if (c.time_permits) {
        const tp1 = mpin.timePermitShare(hx(inp.MS1), hid, inp.date);
        const tp2 = mpin.timePermitShare(hx(inp.MS2), hid, inp.date);
        expect(toHex(tp1)).toBe(ta.time_permit_share_1);
        expect(toHex(tp2)).toBe(ta.time_permit_share_2);
        permit = mpin.recombineG1(tp1, tp2);
        expect(toHex(permit)).toBe(ta.time_permit);
      }
      const token = mpin.extractPin(id, inp.pin_registered, hx(ta.client_secret));
      expect(toHex(token)).toBe(ta.token);

      // Client pass (§5.5)
      const cp = mpin.clientPass({
        identity: id, pin: inp.pin_entered, token,
        timePermit: permit === undefined ? undefined : { permit, date: inp.date },
        timeValue: inp.timevalue, x: hx(inp.x),
      });
      expect(toHex(cp.U)).toBe(c.client_pass1.U);
      expect(cp.UT === undefined ? null : toHex(cp.UT)).toBe(c.client_pass1.UT);
      expect(toHex(cp.V), `case ${c.case} V`).toBe(c.client_pass1.V);
      expect(toHex(cp.y)).toBe(c.client_pass1.Y);

      // Server (§5.6, §5.7)
      const sst = mpin.ServerSecret.fromBytes(hx(ta.server_secret));
      const sv = mpin.serverVerify({
        serverSecret: sst, hashId: hid, point: cp.point, V: cp.V, timeValue: inp.timevalue,
        date: inp.server_date, U: cp.U,
      });
      expect(sv.ok, `case ${c.case} ${c.note}`).toBe(c.server.result === 0);
      expect(sv.ok).toBe(c.expected_success);
      expect(toHex(sv.y)).toBe(c.server.Y);
      expect(toHex(sv.hidPoint)).toBe(c.server.HID_point);
      expect(sv.htidPoint === undefined ? null : toHex(sv.htidPoint)).toBe(c.server.HTID_point);
      expect(sv.E === undefined ? null : toHex(sv.E)).toBe(c.server.E);
      expect(sv.F === undefined ? null : toHex(sv.F)).toBe(c.server.F);
      if (sv.E !== undefined && sv.F !== undefined) {
        const delta = mpin.pinError(sv.E, sv.F);
        const wrongPin = inp.pin_entered - inp.pin_registered;
        if (wrongPin !== 0) {
          // Exact δ. AMCL's kangaroo returns either δ or 0 (it gave up on δ = −9999; ours finds it).
          expect(delta).toBe(wrongPin);
          expect([wrongPin, 0]).toContain(c.server.kangaroo_pin_error);
        } else {
          // Wrong-day permit: not a PIN error.
          expect(delta).toBeUndefined();
          expect(c.server.kangaroo_pin_error).toBe(0);
        }
      }

      // Key agreement (§5.8)
      const ka = c.key_agreement;
      const { R } = mpin.clientEphemeral({ hashId: hid, r: hx(inp.r) });
      expect(toHex(R)).toBe(ka.R);
      const { W } = mpin.serverEphemeral({ hashId: hid, date: inp.server_date, w: hx(inp.w) });
      expect(toHex(W)).toBe(ka.W);
      const pre = mpin.ClientPrecompute.compute(token, hid);
      expect(toHex(pre.toBytes().g1)).toBe(ka.precompute_g1);
      expect(toHex(pre.toBytes().g2)).toBe(ka.precompute_g2);
      const h = mpin.transcriptHash({ hashId: hid, UT: cp.UT, y: cp.y, V: cp.V, R, W });
      expect(toHex(h)).toBe(ka.tls_order.H);
      const ck = mpin.clientKey({ precompute: pre, pin: inp.pin_entered, r: hx(inp.r), x: cp.x, h, W });
      const sk = mpin.serverKey({ serverSecret: sst, hashId: hid, R, h, w: hx(inp.w), point: cp.point });
      expect(toHex(ck), `case ${c.case} client key`).toBe(ka.tls_order.client_key);
      expect(toHex(sk), `case ${c.case} server key`).toBe(ka.tls_order.server_key);
      expect(toHex(ck) === toHex(sk)).toBe(ka.tls_order.keys_equal);
      // AMCL sample-program order, for comparison
      const h2 = mpin.transcriptHashAmclOrder({ hashId: hid, point: cp.point, y: cp.y, V: cp.V, R, W });
      expect(toHex(h2)).toBe(ka.amcl_reference_order.H);
      expect(toHex(mpin.clientKey({ precompute: pre, pin: inp.pin_entered, r: hx(inp.r), x: cp.x, h: h2, W }))).toBe(ka.amcl_reference_order.client_key);
    }
    console.log(`mpin-full.json: ${vec.cases.length} cases ran`);
    expect(vec.cases.length).toBe(30);
  });
});
