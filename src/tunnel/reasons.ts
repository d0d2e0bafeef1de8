/**
 * Why a handshake failed or a connection closed, as a short label from a fixed vocabulary. The
 * labels go into log lines and Prometheus label values, so nothing a peer sends can create new
 * ones (unbounded label cardinality would let one client grow our memory and the scraper's).
 */
import { AlertDescription, alertName, PeerAlertError, TlsError } from '../alerts.ts';

/** Every alert name we can send or receive, known in advance. */
const ALERT_LABELS: ReadonlySet<string> = new Set(
  Object.values(AlertDescription).map((v) => alertName(v)),
);

function alertLabel(code: number): string {
  const name = alertName(code);
  return ALERT_LABELS.has(name) ? name : 'unknown_alert';
}

/** Handshake failure → label: the alert we sent, `peer_<alert>`, `timeout`, `reset`, or `error`. */
export function handshakeFailureReason(err: unknown): string {
  if (err instanceof PeerAlertError) return `peer_${alertLabel(err.alert)}`;
  if (err instanceof TlsError) return alertLabel(err.alert);
  const code = (err as { code?: unknown } | null)?.code;
  if (code === 'ERR_TLS_HANDSHAKE_TIMEOUT') return 'timeout';
  if (code === 'ECONNRESET' || code === 'EPIPE') return 'reset';
  return 'error';
}

/** Labels of a connection's end (see README "Log lines"). */
export const CLOSE_REASONS = [
  'closed', // both sides finished normally
  'peer_closed', // the accepting side closed first
  'target_closed', // the forwarding side closed first
  'peer_error',
  'target_error',
  'target_unreachable', // connect to the target failed (refused, timeout, DNS)
  'idle_timeout',
  'handshake_failed',
  'not_allowed', // handshake fine, peer not on the allow-list (certificate mode)
  'max_connections',
  'shutdown', // still open when the drain timeout ran out
] as const;
export type CloseReason = (typeof CLOSE_REASONS)[number];

/** A one-line description of any error, for the log line's `detail`. */
export function describeError(err: unknown): string {
  if (err instanceof PeerAlertError) return `peer sent alert ${alertName(err.alert)}`;
  if (err instanceof TlsError) return `alert ${alertName(err.alert)} sent: ${err.message}`;
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return typeof code === 'string' && !err.message.includes(code) ? `${code}: ${err.message}` : err.message;
  }
  return String(err);
}
