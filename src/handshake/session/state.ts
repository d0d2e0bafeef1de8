/**
 * A resumable TLS 1.2 session (RFC 5246 §7.3 "session state"; RFC 5077 §4 lists what a ticket
 * carries): suite, master secret, whether it was made with the extended master secret (RFC 7627
 * §5.3 forbids crossing that line on resumption), the peer's certificates, SNI and ALPN, and the
 * time it was created. Serialized with our own small codec; the same bytes are what a server
 * encrypts into a ticket and what a client hands to the application as its opaque `session`.
 */
import { DecodeError } from '../../alerts.ts';
import { ByteReader } from '../../codec/reader.ts';
import { ByteWriter } from '../../codec/writer.ts';

export interface SessionState {
  readonly suiteId: number;
  readonly master: Uint8Array;
  readonly extendedMasterSecret: boolean;
  /** Milliseconds since the epoch (injected clock). */
  readonly createdAt: number;
  /** DER certificates of the peer, leaf first (server state: the client's; client state: the server's). */
  readonly peerCertificates: readonly Uint8Array[];
  /** Whether the peer chain verified when the session was made. */
  readonly authorized: boolean;
  readonly servername?: string;
  readonly alpnProtocol?: string;
  /** Client side: the session ID the server gave (may be empty when a ticket is used). */
  readonly sessionId: Uint8Array;
  /** Client side: the RFC 5077 ticket, if the server issued one. */
  readonly ticket?: Uint8Array;
  /** Client side: lifetime hint in seconds (RFC 5077 §3.3; 0 = unspecified). */
  readonly ticketLifetime?: number;
}

const VERSION = 1;
const enc = new TextEncoder();
const dec = new TextDecoder('utf-8', { fatal: true });

export function encodeSessionState(s: SessionState): Uint8Array {
  const w = new ByteWriter();
  w.u8(VERSION).u16(s.suiteId).u8(s.extendedMasterSecret ? 1 : 0).u8(s.authorized ? 1 : 0);
  w.withLength8((b) => b.bytes(s.master));
  // createdAt as two u32 (ms since the epoch exceeds 2^32).
  w.u32(Math.floor(s.createdAt / 0x1_0000_0000)).u32(s.createdAt >>> 0);
  w.withLength8((b) => b.bytes(s.sessionId));
  w.withLength16((b) => b.bytes(s.ticket ?? new Uint8Array(0)));
  w.u32(s.ticketLifetime ?? 0);
  w.withLength8((b) => b.bytes(enc.encode(s.servername ?? '')));
  w.withLength8((b) => b.bytes(enc.encode(s.alpnProtocol ?? '')));
  w.withLength24((l) => {
    for (const c of s.peerCertificates) l.withLength24((b) => b.bytes(c));
  });
  return w.finish();
}

/** Throws DecodeError on anything malformed (tickets and session buffers are untrusted input). */
export function decodeSessionState(bytes: Uint8Array): SessionState {
  const r = new ByteReader(bytes, 'session');
  if (r.u8('version') !== VERSION) throw new DecodeError('session: unknown version');
  const suiteId = r.u16('suite');
  const ems = r.u8('ems');
  const authorized = r.u8('authorized');
  if (ems > 1 || authorized > 1) throw new DecodeError('session: bad flag');
  const master = r.opaque8('master', 48, 48).slice();
  const hi = r.u32('created_hi');
  const lo = r.u32('created_lo');
  const sessionId = r.opaque8('session_id', 0, 32);
  const ticket = r.opaque16('ticket');
  const ticketLifetime = r.u32('ticket_lifetime');
  let servername: string;
  let alpn: string;
  try {
    servername = dec.decode(r.opaque8('servername'));
    alpn = dec.decode(r.opaque8('alpn'));
  } catch (e) {
    if (e instanceof DecodeError) throw e;
    throw new DecodeError('session: bad UTF-8');
  }
  const certs = r.vec24('certificates');
  const peerCertificates: Uint8Array[] = [];
  while (certs.remaining > 0) peerCertificates.push(certs.opaque24('certificate', 1));
  r.expectEnd();
  return {
    suiteId,
    master,
    extendedMasterSecret: ems === 1,
    createdAt: hi * 0x1_0000_0000 + lo,
    peerCertificates,
    authorized: authorized === 1,
    sessionId,
    ticketLifetime,
    ...(ticket.length > 0 ? { ticket } : {}),
    ...(servername.length > 0 ? { servername } : {}),
    ...(alpn.length > 0 ? { alpnProtocol: alpn } : {}),
  };
}
