/** RFC 5077 §3.3 NewSessionTicket: `uint32 ticket_lifetime_hint; opaque ticket<0..2^16-1>`. */
import type { ByteReader } from '../../codec/reader.ts';
import type { ByteWriter } from '../../codec/writer.ts';
import type { NewSessionTicket } from './types.ts';

export function decodeNewSessionTicket(r: ByteReader): NewSessionTicket {
  const lifetimeHint = r.u32('ticket_lifetime_hint');
  const ticket = r.opaque16('ticket');
  r.expectEnd();
  return { lifetimeHint, ticket };
}

export function encodeNewSessionTicket(w: ByteWriter, m: NewSessionTicket): void {
  w.u32(m.lifetimeHint);
  w.withLength16((b) => b.bytes(m.ticket));
}
