/** Certificates, keys and TLS signatures (engine contract, "Certificates"). */
export type { Certificate, DistinguishedName, PublicKey, PrivateKey, EcCurve } from './types.ts';
export { CertificateError, UnsupportedCertificateError } from './errors.ts';
export { decodePem, encodePem } from './pem.ts';
export { loadPrivateKey, keyMatches } from './keys.ts';
export {
  SignatureScheme,
  signatureSchemeName,
  supportedSchemes,
  chooseScheme,
  schemeMatchesKey,
  signTls,
  verifyTls,
  serverKeyExchangeSignedData,
} from './signature.ts';
