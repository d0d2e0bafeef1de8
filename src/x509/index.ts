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
export type { AltNameEntry } from './types.ts';
export { parseCertificate, loadCertificates, isCaCertificate, EkuOid } from './certificate.ts';
export { verifyChain, verifyCertificateSignature, SignatureCache, DEFAULT_CHAIN_BUDGET, type ChainBudget, type ChainResult, type VerifyChainOptions } from './chain.ts';
export { checkServerIdentity, HostnameMismatchError, parseIp } from './hostname.ts';
export { toPeerCertificate, formatOpensslTime, type PeerCertificate } from './peer.ts';
