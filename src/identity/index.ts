/**
 * `milagro-ts/identity`: the DTA service, enrolment, the M-Pin client (registration, keystore,
 * passes), the server-side verifier and the key files of the original milagro-tls programs.
 *
 *   import { MilagroCrypto, loadKeystore } from 'milagro-ts/identity';
 *   const keystore = await loadKeystore('alice.keystore.json', new MilagroCrypto());
 *   connect({ port, milagro: { keystore, pin: 1234 } });
 */
export { MilagroCrypto } from './milagro-crypto.ts';
export type { IdentityCrypto, ClientPassValues, ClientPassInput, ServerVerifyInput, ServerVerifyResult } from './crypto-port.ts';
export { dayOf, G1_BYTES, G2_BYTES, HASH_ID_BYTES, SHARE_BYTES } from './crypto-port.ts';
export { systemRandom, systemClock, type RandomSource, type Clock } from '../providers.ts';

// DTA service and its on-disk state.
export { DtaService, DTA_VERSION, API_VERSION, type DtaOptions, type DtaStatus } from './dta/server.ts';
export { loadOrCreateShare, importShare, SHARE_FILE_NAME, DEFAULT_SCRYPT, type ScryptParams, type LoadedShare, type ShareStoreOptions } from './dta/share-store.ts';
export { RevocationList, REVOCATIONS_FILE_NAME, type RevocationEntry } from './dta/revocations.ts';

// Enrolment: the administrator's Ed25519 key, signed issuing requests, request bundles.
export {
  OPERATIONS,
  generateEnrolmentKey,
  signRequest,
  parseRequest,
  RequestVerifier,
  type Operation,
  type DtaRequest,
  type SignedRequest,
  type RequestParams,
  type EnrolmentKey,
  type VerifierOptions as RequestVerifierOptions,
} from './auth.ts';
export { saveEnrolmentKey, loadEnrolmentKey, parseTrustFile, bundleToJson, parseBundle, type RegistrationBundle } from './enrolment.ts';

// M-Pin client: DTA calls, registration, keystore, passes.
export { callDta, fanOut, normaliseDtaUrl, DtaFanOutError, type DtaCallOptions } from './client/dta-client.ts';
export {
  fetchClientSecret,
  fetchTimePermits,
  fetchServerSecret,
  fetchWccKey,
  revokeEverywhere,
  type ShareFetchOptions,
  type RecombinedKey,
  type WccKey,
} from './client/shares.ts';
export { keystoreToJson, saveKeystore, parseKeystore, loadKeystore, type Keystore } from './client/keystore.ts';
export {
  DEFAULT_PIN_DIGITS,
  parsePin,
  encodeIdentity,
  hashIdHex,
  registerIdentity,
  refreshPermits,
  createPass,
  passToJson,
  type RegisterOptions,
  type PassOptions,
} from './client/mpin-client.ts';

// Server side: pass verification with PIN-error detection and lockout.
export { MpinVerifier, type VerifierOptions as MpinVerifierOptions, type PassMessage, type VerifyOutcome } from './server/verifier.ts';
export { FailureCounter } from './server/failure-counter.ts';

// Key files in the formats of the original TA_cs / TA_p2p programs, private files.
export { HEX_KEY_KINDS, isHexKeyKind, encodeHexKey, decodeHexKey, readHexKeyFile, writeHexKeyFile, type HexKeyKind } from './hex-files.ts';
export { writePrivateFile, createPrivateFile } from './files.ts';

export { DtaRequestError, ShareFileError, DtaCallError, IdentityInputError, type DtaErrorCode } from './errors.ts';
