/**
 * One record per connection, written when it ends (accepted, refused or forwarded alike), and
 * tunnel events (listening, reloads, draining). Text is `key=value` for people and grep; JSON is
 * one object per line for log shippers.
 */
import type { CloseReason } from './reasons.ts';

export interface ConnectionRecord {
  readonly type: 'connection';
  /** ISO time the connection ended. */
  readonly time: string;
  readonly side: 'server' | 'client';
  /** Sequence number within this tunnel. */
  readonly conn: number;
  /** The accepting side's address (the TLS client for a tunnel server, the local app for a client). */
  readonly remote: string;
  /** The authenticated peer: Milagro identity (or M-Pin hash), certificate CN; absent if none. */
  readonly identity?: string;
  /** IANA suite name, when the handshake completed. */
  readonly suite?: string;
  /** Bytes from the accepting side to the target, and back. */
  readonly bytesIn: number;
  readonly bytesOut: number;
  readonly durationMs: number;
  readonly reason: CloseReason;
  /** Handshake failure label (see reasons.ts) when reason is handshake_failed. */
  readonly handshake?: string;
  /** Human detail: the error message, the alert, the refused name. */
  readonly detail?: string;
}

export interface TunnelEvent {
  readonly type: 'event';
  readonly time: string;
  readonly side: 'server' | 'client';
  readonly event: 'listening' | 'reloaded' | 'reload_failed' | 'draining' | 'closed' | 'status_listening';
  readonly detail?: string;
}

export type TunnelLogRecord = ConnectionRecord | TunnelEvent;

export type LogFormat = 'text' | 'json';

function quoteIfNeeded(v: string): string {
  return /^[^\s"=]+$/.test(v) ? v : JSON.stringify(v);
}

export function formatRecord(r: TunnelLogRecord, format: LogFormat): string {
  if (format === 'json') return JSON.stringify(r);
  if (r.type === 'event') return `${r.time} tunnel-${r.side} ${r.event}${r.detail !== undefined ? ` ${r.detail}` : ''}`;
  const parts = [
    `${r.time} tunnel-${r.side} conn=${r.conn}`,
    `remote=${r.remote}`,
    ...(r.identity !== undefined ? [`identity=${quoteIfNeeded(r.identity)}`] : []),
    ...(r.suite !== undefined ? [`suite=${r.suite}`] : []),
    `in=${r.bytesIn}`,
    `out=${r.bytesOut}`,
    `duration=${(r.durationMs / 1000).toFixed(3)}s`,
    `reason=${r.reason}`,
    ...(r.handshake !== undefined ? [`handshake=${r.handshake}`] : []),
    ...(r.detail !== undefined ? [`detail=${quoteIfNeeded(r.detail)}`] : []),
  ];
  return parts.join(' ');
}
