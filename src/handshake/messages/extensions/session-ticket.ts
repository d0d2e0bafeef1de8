/**
 * RFC 5077 §3.2 SessionTicket extension: the whole extension_data is the opaque ticket (empty
 * when the client asks for a new one, and in the server's acknowledgment).
 */
export function decodeSessionTicket(data: Uint8Array): Uint8Array {
  return data.slice();
}

export function encodeSessionTicket(ticket: Uint8Array): Uint8Array {
  return ticket.slice();
}
