/**
 * Public surface of the BNCX crypto core (spec §1–§4). Bytes in, bytes out for protocol code;
 * typed points (noble WeierstrassPoint) and Fp12 values for hot paths.
 * @module
 */
export { bncx, P, R, U_ABS, type Bncx, type Fp2, type Fp12, type G1Point, type G2Point } from './curve.ts';
export {
  PointError,
  type PointErrorCode,
  SCALAR_BYTES,
  FIELD_BYTES,
  G1_BYTES,
  G2_BYTES,
  GT_BYTES,
  TRACE_BYTES,
  i2os,
  os2i,
  decodeScalar,
  decodeSecretScalar,
  encodeScalar,
  encodeG1,
  decodeG1,
  encodeG2,
  decodeG2,
  decodeG2OnCurve,
  isInG2,
  encodeGT,
  decodeGT,
  traceBytes,
} from './codec.ts';
export {
  sha,
  hashN,
  hashId,
  datedHash,
  map1,
  mapXToG1,
  map2,
  map2BeforeClearing,
  sqrtFp2Amcl,
  challengeY,
  hashToScalar,
  hq,
  mpinKdf,
  wccKdf,
} from './hash.ts';
export {
  G2Prepared,
  Q_PREPARED,
  pairing,
  pairing2,
  multiPairing,
  gtPow,
  gtEquals,
  gtIsOne,
  mulG1,
  mulG2,
  mulG1Public,
  mulG2Public,
  mulG1Once,
  mulG2Once,
} from './pairing.ts';
export { randomScalar } from './random.ts';
