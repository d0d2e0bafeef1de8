/** Typed errors of the identity layer. Messages say what is wrong and what to do. */

/** Machine-readable codes of the DTA JSON error body `{ "error": { "code", "message" } }`. */
export type DtaErrorCode =
  | 'bad_json'
  | 'missing_field'
  | 'invalid_field'
  | 'body_too_large'
  | 'unsupported_media_type'
  | 'not_found'
  | 'method_not_allowed'
  | 'unknown_key'
  | 'bad_signature'
  | 'wrong_operation'
  | 'expired'
  | 'not_yet_valid'
  | 'lifetime_too_long'
  | 'replayed'
  | 'busy'
  | 'revoked'
  | 'internal';

/** A request the DTA refuses; `status` is the HTTP status to answer with. */
export class DtaRequestError extends Error {
  override readonly name = 'DtaRequestError';
  constructor(
    readonly status: number,
    readonly code: DtaErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** The DTA cannot start: its data directory holds no usable share (never regenerated silently). */
export class ShareFileError extends Error {
  override readonly name = 'ShareFileError';
}

/** Something the client side got from (or could not get from) one DTA; names the DTA. */
export class DtaCallError extends Error {
  override readonly name = 'DtaCallError';
  constructor(
    readonly dta: string,
    message: string,
    readonly status?: number,
    readonly code?: string,
  ) {
    super(`DTA ${dta}: ${message}`);
  }
}

/** Bad local input: a keystore, key file, PIN or option the user has to fix. */
export class IdentityInputError extends Error {
  override readonly name = 'IdentityInputError';
}
