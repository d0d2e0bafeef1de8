/**
 * RFC 6066 §3 server_name. ClientHello carries
 * `ServerName server_name_list<1..2^16-1>`, each `NameType name_type; opaque HostName<1..2^16-1>`
 * (host_name = 0, the only type defined). The server acknowledges with an *empty* extension_data
 * (see `isServerNameAck`).
 */
import { DecodeError, IllegalParameterError } from '../../../alerts.ts';
import { ByteReader } from '../../../codec/reader.ts';
import { ByteWriter } from '../../../codec/writer.ts';

export const NameType = { host_name: 0 } as const;

/**
 * Returns the host_name. Entries of unknown name types are skipped (their body is assumed to be
 * opaque16, as Go does). RFC 6066 §3: "The ServerNameList MUST NOT contain more than one name of
 * the same name_type" → decode_error (the RFC names no alert; OpenSSL answers decode_error). A host name must be non-empty printable ASCII
 * ("a byte string using ASCII encoding without a trailing dot"); NUL or high bytes are refused
 * so they can never reach hostname checks or logs.
 */
export function decodeServerName(data: Uint8Array): string {
  const r = new ByteReader(data, 'server_name');
  const list = r.vec16('server_name_list', 1);
  r.expectEnd();
  const seen = new Set<number>();
  let host: string | undefined;
  while (list.remaining > 0) {
    const type = list.u8('name_type');
    const name = list.opaque16('HostName', 1);
    if (seen.has(type)) throw new DecodeError(`server_name: duplicate name_type ${type}`);
    seen.add(type);
    if (type === NameType.host_name) host = asciiHostName(name);
  }
  if (host === undefined) throw new IllegalParameterError('server_name: no host_name entry');
  return host;
}

export function encodeServerName(host: string): Uint8Array {
  const name = new Uint8Array(host.length);
  for (let i = 0; i < host.length; i++) {
    const c = host.charCodeAt(i);
    if (c < 0x21 || c > 0x7e) throw new RangeError('server_name: host name must be printable ASCII');
    name[i] = c;
  }
  if (name.length === 0) throw new RangeError('server_name: empty host name');
  const w = new ByteWriter();
  w.withLength16((l) => {
    l.u8(NameType.host_name);
    l.withLength16((b) => b.bytes(name));
  });
  return w.finish();
}

/** RFC 6066 §3: the ServerHello's server_name extension_data "SHALL be empty". */
export function isServerNameAck(data: Uint8Array): boolean {
  return data.length === 0;
}

function asciiHostName(name: Uint8Array): string {
  let s = '';
  for (const c of name) {
    if (c < 0x21 || c > 0x7e) throw new IllegalParameterError('server_name: host name is not printable ASCII');
    s += String.fromCharCode(c);
  }
  if (s.endsWith('.')) throw new IllegalParameterError('server_name: host name has a trailing dot');
  return s;
}
