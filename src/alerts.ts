/**
 * TLS alerts (RFC 5246 §7.2) and the typed error family that carries them.
 *
 * Every failure caused by peer input is thrown as a `TlsError` subclass; the engine has one
 * choke point that turns it into a fatal alert. Any other exception becomes internal_error.
 * Error messages are for logs; alerts on the wire carry only the code.
 */

export const AlertLevel = { warning: 1, fatal: 2 } as const;
export type AlertLevel = (typeof AlertLevel)[keyof typeof AlertLevel];

export const AlertDescription = {
  close_notify: 0,
  unexpected_message: 10,
  bad_record_mac: 20,
  record_overflow: 22,
  handshake_failure: 40,
  bad_certificate: 42,
  unsupported_certificate: 43,
  certificate_revoked: 44,
  certificate_expired: 45,
  certificate_unknown: 46,
  illegal_parameter: 47,
  unknown_ca: 48,
  access_denied: 49,
  decode_error: 50,
  decrypt_error: 51,
  protocol_version: 70,
  insufficient_security: 71,
  internal_error: 80,
  inappropriate_fallback: 86,
  user_canceled: 90,
  no_renegotiation: 100,
  missing_extension: 109,
  unsupported_extension: 110,
  unrecognized_name: 112,
  no_application_protocol: 120,
} as const;
export type AlertDescription = (typeof AlertDescription)[keyof typeof AlertDescription];

const alertNames: ReadonlyMap<number, string> = new Map(
  Object.entries(AlertDescription).map(([name, code]) => [code, name]),
);

/** Name of an alert code for logs; unknown codes are carried, not crashed on. */
export function alertName(code: number): string {
  return alertNames.get(code) ?? `unknown_alert(${code})`;
}

/** Alerts OpenSSL names SSLV3_ALERT_* (defined by SSL 3.0); the others are TLSV1_ALERT_*. */
const sslv3Alerts: ReadonlySet<number> = new Set([10, 20, 30, 40, 41, 42, 43, 44, 45, 46, 47]);
/** OpenSSL reason names that do not follow the TLSV1_ALERT_<NAME> pattern. */
const opensslAlertReasons: ReadonlyMap<number, string> = new Map([
  [90, 'TLSV1_ALERT_USER_CANCELLED'],
  [109, 'TLSV13_ALERT_MISSING_EXTENSION'],
  [110, 'TLSV1_UNSUPPORTED_EXTENSION'],
  [112, 'TLSV1_UNRECOGNIZED_NAME'],
  [116, 'TLSV13_ALERT_CERTIFICATE_REQUIRED'],
]);

/**
 * node:tls's `err.code` for a fatal alert received from the peer: OpenSSL's reason name with the
 * ERR_SSL_ prefix, e.g. 40 → ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE, 49 → ERR_SSL_TLSV1_ALERT_ACCESS_DENIED.
 */
export function peerAlertCode(alert: number): string {
  const special = opensslAlertReasons.get(alert);
  if (special !== undefined) return `ERR_SSL_${special}`;
  const name = alertNames.get(alert);
  if (name === undefined) return `ERR_SSL_TLSV1_ALERT_UNKNOWN_${alert}`;
  return `ERR_SSL_${sslv3Alerts.has(alert) ? 'SSLV3' : 'TLSV1'}_ALERT_${name.toUpperCase()}`;
}

/**
 * `err.code` for a failure we detected and answered with `alert`: ERR_SSL_<ALERT NAME>, except
 * bad_record_mac, which reads as OpenSSL's ERR_SSL_DECRYPTION_FAILED_OR_BAD_RECORD_MAC.
 */
export function localAlertCode(alert: number): string {
  if (alert === AlertDescription.bad_record_mac) return 'ERR_SSL_DECRYPTION_FAILED_OR_BAD_RECORD_MAC';
  return `ERR_SSL_${(alertNames.get(alert) ?? `alert_${alert}`).toUpperCase()}`;
}

/** Base class: a protocol failure that maps to one fatal alert. */
export class TlsError extends Error {
  readonly alert: AlertDescription;
  /** node-style code (`err.code`), as node:tls carries on every error. */
  readonly code: string;
  constructor(alert: AlertDescription, message: string, options?: { cause?: unknown; code?: string }) {
    super(message, options);
    this.alert = alert;
    this.code = options?.code ?? localAlertCode(alert);
    this.name = new.target.name;
  }
}

/** Malformed bytes: truncated, trailing data, bad inner length (RFC 5246 §7.2.2 decode_error). */
export class DecodeError extends TlsError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(AlertDescription.decode_error, message, options);
  }
}

/** Well-formed but forbidden value: duplicate extension, invalid point, wrong suite. */
export class IllegalParameterError extends TlsError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(AlertDescription.illegal_parameter, message, options);
  }
}

/** A message or record that is not allowed in the current state. */
export class UnexpectedMessageError extends TlsError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(AlertDescription.unexpected_message, message, options);
  }
}

/** No acceptable parameters, or the peer failed to authenticate. */
export class HandshakeFailureError extends TlsError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(AlertDescription.handshake_failure, message, options);
  }
}

/** Every decryption failure looks the same on the wire (RFC 5246 §6.2.3.3). */
export class BadRecordMacError extends TlsError {
  constructor(message = 'record authentication failed', options?: { cause?: unknown }) {
    super(AlertDescription.bad_record_mac, message, options);
  }
}

export class RecordOverflowError extends TlsError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(AlertDescription.record_overflow, message, options);
  }
}

export class ProtocolVersionError extends TlsError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(AlertDescription.protocol_version, message, options);
  }
}

export class DecryptError extends TlsError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(AlertDescription.decrypt_error, message, options);
  }
}

export class AccessDeniedError extends TlsError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(AlertDescription.access_denied, message, options);
  }
}

/** Raised locally when the peer sent us a fatal alert. Never re-sent as an alert. */
export class PeerAlertError extends Error {
  readonly alert: number;
  /** node:tls's code for this alert, e.g. ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE. */
  readonly code: string;
  constructor(alert: number) {
    super(`peer sent fatal alert ${alertName(alert)} (${alert})`);
    this.alert = alert;
    this.code = peerAlertCode(alert);
    this.name = 'PeerAlertError';
  }
}

/** Map any thrown value to the alert the engine should send. */
export function alertFor(err: unknown): AlertDescription {
  return err instanceof TlsError ? err.alert : AlertDescription.internal_error;
}
