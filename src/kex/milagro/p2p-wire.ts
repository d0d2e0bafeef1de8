/**
 * Wire codecs of MILAGRO_P2P (milagro.md §7.5): the ServerKeyExchange and ClientKeyExchange
 * bodies. All length fields come first, then all values — unlike the usual TLS vectors:
 *
 *   ServerKeyExchange: BE16(len IdA) ‖ BE16(65) ‖ IdA ‖ PaG1
 *   ClientKeyExchange: BE16(len IdB) ‖ BE16(65) ‖ BE16(128) ‖ IdB ‖ PgG1 ‖ PbG2
 *
 * No crypto here: points are only length-checked; they are validated by the point decoders where
 * they are used. The original trusts every length (§10 item 4: lengths read without bounds,
 * values copied before the length check, short G2 values read as 128 bytes, a zero length calls
 * exit()). Here every field has its one legal size: identities 1…255 bytes, G1 points 65, G2
 * points 128, the body exactly the sum of its lengths. A forbidden length value is
 * illegal_parameter; a structure that does not add up (truncated, trailing bytes) is decode_error
 * (RFC 5246 §7.2.2) — the same split as MILAGRO_CS (cs-wire.ts).
 */
import { DecodeError, IllegalParameterError } from '../../alerts.ts';
import { ByteReader } from '../../codec/reader.ts';
import { ByteWriter } from '../../codec/writer.ts';

export const P2P_G1_BYTES = 65;
export const P2P_G2_BYTES = 128;
/** Documented identity bound (§10 item 4): at least one byte, at most 255. */
export const P2P_MAX_IDENTITY_BYTES = 255;

export interface P2pServerValues {
  /** IdA, the sender's (TLS server's) identity, raw bytes. */
  readonly identity: Uint8Array;
  readonly PaG1: Uint8Array;
}

export interface P2pClientValues {
  /** IdB, the receiver's (TLS client's) identity, raw bytes. */
  readonly identity: Uint8Array;
  readonly PgG1: Uint8Array;
  readonly PbG2: Uint8Array;
}

/** Our own identities are checked with RangeError (configuration), peers' with alerts. */
export function checkIdentityLength(identity: Uint8Array, who: string): Uint8Array {
  if (identity.length < 1 || identity.length > P2P_MAX_IDENTITY_BYTES) {
    throw new RangeError(`milagro_p2p: ${who} identity must be 1..${P2P_MAX_IDENTITY_BYTES} bytes, got ${identity.length}`);
  }
  return identity;
}

function checkPeerIdentityLength(len: number, what: string): void {
  if (len < 1 || len > P2P_MAX_IDENTITY_BYTES) {
    throw new IllegalParameterError(`milagro_p2p ${what}: identity length ${len}, allowed 1..${P2P_MAX_IDENTITY_BYTES}`);
  }
}

function checkPointLength(len: number, want: number, what: string, field: string): void {
  if (len !== want) throw new IllegalParameterError(`milagro_p2p ${what}: ${field} length ${len}, expected ${want}`);
}

export function encodeP2pServerKeyExchange(v: P2pServerValues): Uint8Array {
  checkIdentityLength(v.identity, 'server');
  if (v.PaG1.length !== P2P_G1_BYTES) throw new RangeError('milagro_p2p: PaG1 must be 65 bytes');
  const w = new ByteWriter(4 + v.identity.length + P2P_G1_BYTES);
  w.u16(v.identity.length).u16(v.PaG1.length);
  w.bytes(v.identity).bytes(v.PaG1);
  return w.finish();
}

export function decodeP2pServerKeyExchange(body: Uint8Array): P2pServerValues {
  const what = 'server_key_exchange';
  const r = new ByteReader(body, `milagro_p2p ${what}`);
  const lenId = r.u16('len IdA');
  const lenP = r.u16('len PaG1');
  checkPeerIdentityLength(lenId, what);
  checkPointLength(lenP, P2P_G1_BYTES, what, 'PaG1');
  // Checked before any value is read (the original copied first, §10 item 4).
  if (body.length !== 4 + lenId + lenP) throw new DecodeError(`milagro_p2p ${what}: ${body.length} bytes, the lengths say ${4 + lenId + lenP}`);
  const identity = r.bytes(lenId, 'IdA');
  const PaG1 = r.bytes(lenP, 'PaG1');
  r.expectEnd();
  return { identity, PaG1 };
}

export function encodeP2pClientKeyExchange(v: P2pClientValues): Uint8Array {
  checkIdentityLength(v.identity, 'client');
  if (v.PgG1.length !== P2P_G1_BYTES || v.PbG2.length !== P2P_G2_BYTES) throw new RangeError('milagro_p2p: PgG1 must be 65 bytes, PbG2 128');
  const w = new ByteWriter(6 + v.identity.length + P2P_G1_BYTES + P2P_G2_BYTES);
  w.u16(v.identity.length).u16(v.PgG1.length).u16(v.PbG2.length);
  w.bytes(v.identity).bytes(v.PgG1).bytes(v.PbG2);
  return w.finish();
}

export function decodeP2pClientKeyExchange(body: Uint8Array): P2pClientValues {
  const what = 'client_key_exchange';
  const r = new ByteReader(body, `milagro_p2p ${what}`);
  const lenId = r.u16('len IdB');
  const lenG = r.u16('len PgG1');
  const lenB = r.u16('len PbG2');
  checkPeerIdentityLength(lenId, what);
  checkPointLength(lenG, P2P_G1_BYTES, what, 'PgG1');
  checkPointLength(lenB, P2P_G2_BYTES, what, 'PbG2');
  const total = 6 + lenId + lenG + lenB;
  if (body.length !== total) throw new DecodeError(`milagro_p2p ${what}: ${body.length} bytes, the lengths say ${total}`);
  const identity = r.bytes(lenId, 'IdB');
  const PgG1 = r.bytes(lenG, 'PgG1');
  const PbG2 = r.bytes(lenB, 'PbG2');
  r.expectEnd();
  return { identity, PgG1, PbG2 };
}
