/**
 * Errors raised while decoding certificates and keys. A certificate comes from the peer, so a
 * malformed one is a protocol failure: bad_certificate (RFC 5246 §7.2.2). Key-loading errors use
 * the same class (local configuration; the engine never sends an alert for them).
 */
import { AlertDescription, TlsError } from '../alerts.ts';

export class CertificateError extends TlsError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(AlertDescription.bad_certificate, message, options);
  }
}

/** The certificate or key is well-formed but uses an algorithm or size we do not accept. */
export class UnsupportedCertificateError extends CertificateError {}
