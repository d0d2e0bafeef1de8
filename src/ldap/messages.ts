/**
 * The few LDAPv3 messages (RFC 4511) the proxy must understand: LDAPMessage framing,
 * BindRequest/BindResponse, SearchRequest/SearchResultEntry/SearchResultDone for the identity
 * look-up, ExtendedRequest/Response (StartTLS, notice of disconnection), UnbindRequest, and
 * appending a control (proxied authorization, RFC 4370). Everything else is forwarded as the
 * raw bytes it arrived as, after `parseEnvelope` has checked its BER structure.
 */
import { concatBytes } from '../codec/bytes.ts';
import { BerError, BerReader, berBoolean, berInteger, berOctets, berTlv, peekTlv, Tag, validateBer, type Tlv } from './ber.ts';

/** protocolOp tags ([APPLICATION n], constructed unless noted). */
export const Op = {
  BindRequest: 0x60,
  BindResponse: 0x61,
  UnbindRequest: 0x42, // primitive NULL
  SearchRequest: 0x63,
  SearchResultEntry: 0x64,
  SearchResultDone: 0x65,
  SearchResultReference: 0x73,
  ModifyRequest: 0x66,
  AddRequest: 0x68,
  DelRequest: 0x4a, // primitive LDAPDN
  ModifyDNRequest: 0x6c,
  CompareRequest: 0x6e,
  AbandonRequest: 0x50, // primitive MessageID
  ExtendedRequest: 0x77,
  ExtendedResponse: 0x78,
  IntermediateResponse: 0x79,
} as const;

/** resultCode values the proxy produces or inspects (RFC 4511 Appendix A). */
export const ResultCode = {
  success: 0,
  operationsError: 1,
  protocolError: 2,
  authMethodNotSupported: 7,
  invalidCredentials: 49,
  unavailable: 52,
  unwillingToPerform: 53,
  other: 80,
} as const;

export const STARTTLS_OID = '1.3.6.1.4.1.1466.20037';
export const NOTICE_OF_DISCONNECTION_OID = '1.3.6.1.4.1.1466.20036';
export const PROXIED_AUTHZ_OID = '2.16.840.1.113730.3.4.18';

/** BER nesting accepted in one message: LDAP filters nest, but real ones stay shallow. */
export const MAX_BER_DEPTH = 32;
/** Default bound on one LDAPMessage (a bind, a search with a big filter, an add of an entry). */
export const DEFAULT_MAX_MESSAGE_SIZE = 1 << 20;

/** One LDAPMessage: its ID, operation and the raw bytes it came as. */
export interface LdapEnvelope {
  readonly messageId: number;
  readonly opTag: number;
  readonly raw: Uint8Array;
  /** The protocolOp element within raw. */
  readonly op: Tlv;
  /** The controls element ([0]) within raw, when present. */
  readonly controls: Tlv | undefined;
}

/** Checks and splits one complete LDAPMessage (exactly `raw`, as cut by LdapFramer). */
export function parseEnvelope(raw: Uint8Array): LdapEnvelope {
  const outer = new BerReader(raw);
  const seq = outer.next(Tag.SEQUENCE, 'LDAPMessage SEQUENCE');
  if (!outer.done) throw new BerError('malformed', 'bytes after the LDAPMessage');
  validateBer(raw, seq.valueStart, seq.end, MAX_BER_DEPTH);
  const r = new BerReader(raw, seq.valueStart, seq.end);
  const messageId = r.integer(Tag.INTEGER, 'messageID');
  if (messageId < 0) throw new BerError('malformed', `negative messageID ${messageId}`);
  const op = r.next(undefined, 'protocolOp');
  let controls: Tlv | undefined;
  if (!r.done) controls = r.next(0xa0, 'controls [0]');
  if (!r.done) throw new BerError('malformed', 'unexpected element after the controls of an LDAPMessage');
  return { messageId, opTag: op.tag, raw, op, controls };
}

function opReader(env: LdapEnvelope): BerReader {
  if (!env.op.constructed) throw new BerError('malformed', `protocolOp 0x${env.opTag.toString(16)} is not constructed`);
  return new BerReader(env.raw, env.op.valueStart, env.op.end);
}

export type BindAuthentication =
  | { readonly kind: 'simple'; readonly password: Uint8Array }
  | { readonly kind: 'sasl'; readonly mechanism: string };

export interface BindRequest {
  readonly version: number;
  readonly name: string;
  readonly auth: BindAuthentication;
}

export function decodeBindRequest(env: LdapEnvelope): BindRequest {
  const r = opReader(env);
  const version = r.integer(Tag.INTEGER, 'bind version');
  const name = r.string(Tag.OCTET_STRING, 'bind name');
  const tag = r.peekTag();
  let auth: BindAuthentication;
  if (tag === 0x80) auth = { kind: 'simple', password: r.octets(0x80, 'simple password') };
  else if (tag === 0xa3) {
    const s = r.enter(0xa3, 'SaslCredentials');
    auth = { kind: 'sasl', mechanism: s.string(Tag.OCTET_STRING, 'SASL mechanism') };
  } else throw new BerError('unexpected', `bind authentication choice with tag ${tag === undefined ? 'missing' : `0x${tag.toString(16)}`}`);
  if (!r.done) throw new BerError('malformed', 'trailing elements in BindRequest');
  return { version, name, auth };
}

/** ExtendedRequest requestName ([0] LDAPOID). */
export function decodeExtendedRequestName(env: LdapEnvelope): string {
  return opReader(env).string(0x80, 'extended requestName');
}

export interface LdapResult {
  readonly resultCode: number;
  readonly matchedDN: string;
  readonly diagnosticMessage: string;
}

/** The LDAPResult at the start of any response (BindResponse, SearchResultDone, ExtendedResponse...). */
export function decodeLdapResult(env: LdapEnvelope): LdapResult {
  const r = opReader(env);
  const resultCode = r.integer(Tag.ENUMERATED, 'resultCode');
  const matchedDN = r.string(Tag.OCTET_STRING, 'matchedDN');
  const diagnosticMessage = r.string(Tag.OCTET_STRING, 'diagnosticMessage');
  return { resultCode, matchedDN, diagnosticMessage };
}

export interface SearchEntry {
  readonly dn: string;
  /** Attribute descriptions lower-cased (they are case-insensitive) → values as UTF-8 text. */
  readonly attributes: ReadonlyMap<string, readonly string[]>;
}

export function decodeSearchResultEntry(env: LdapEnvelope): SearchEntry {
  const r = opReader(env);
  const dn = r.string(Tag.OCTET_STRING, 'objectName');
  const attrs = r.enter(Tag.SEQUENCE, 'PartialAttributeList');
  const attributes = new Map<string, string[]>();
  while (!attrs.done) {
    const a = attrs.enter(Tag.SEQUENCE, 'PartialAttribute');
    const type = a.string(Tag.OCTET_STRING, 'attribute type').toLowerCase();
    const vals = a.enter(Tag.SET, 'attribute values');
    const list = attributes.get(type) ?? [];
    while (!vals.done) list.push(vals.string(Tag.OCTET_STRING, 'attribute value'));
    attributes.set(type, list);
  }
  return { dn, attributes };
}

// ---- encoders ----------------------------------------------------------------------------

export interface Control {
  readonly oid: string;
  readonly critical: boolean;
  readonly value?: Uint8Array | string;
}

function encodeControl(c: Control): Uint8Array {
  return berTlv(Tag.SEQUENCE, berOctets(c.oid), ...(c.critical ? [berBoolean(true)] : []), ...(c.value !== undefined ? [berOctets(c.value)] : []));
}

function message(messageId: number, op: Uint8Array, controls: readonly Control[] = []): Uint8Array {
  return berTlv(Tag.SEQUENCE, berInteger(messageId), op, ...(controls.length > 0 ? [berTlv(0xa0, ...controls.map(encodeControl))] : []));
}

function ldapResult(code: number, diagnostic: string, matchedDN = ''): Uint8Array[] {
  return [berInteger(code, Tag.ENUMERATED), berOctets(matchedDN), berOctets(diagnostic)];
}

export function encodeBindRequest(messageId: number, name: string, password: Uint8Array | string): Uint8Array {
  return message(messageId, berTlv(Op.BindRequest, berInteger(3), berOctets(name), berOctets(password, 0x80)));
}

export function encodeBindResponse(messageId: number, code: number, diagnostic = ''): Uint8Array {
  return message(messageId, berTlv(Op.BindResponse, ...ldapResult(code, diagnostic)));
}

export function encodeExtendedResponse(messageId: number, code: number, diagnostic = '', responseName?: string): Uint8Array {
  return message(messageId, berTlv(Op.ExtendedResponse, ...ldapResult(code, diagnostic), ...(responseName !== undefined ? [berOctets(responseName, 0x8a)] : [])));
}

/** An unsolicited notice of disconnection (RFC 4511 §4.4.1), sent just before closing. */
export function encodeNoticeOfDisconnection(code: number, diagnostic: string): Uint8Array {
  return encodeExtendedResponse(0, code, diagnostic, NOTICE_OF_DISCONNECTION_OID);
}

/** A response to any request: the same result code in the operation's own response type. */
export function encodeErrorResponse(env: LdapEnvelope, code: number, diagnostic: string): Uint8Array | undefined {
  const responseTag: Partial<Record<number, number>> = {
    [Op.BindRequest]: Op.BindResponse,
    [Op.SearchRequest]: Op.SearchResultDone,
    [Op.ModifyRequest]: 0x67,
    [Op.AddRequest]: 0x69,
    [Op.DelRequest]: 0x6b,
    [Op.ModifyDNRequest]: 0x6d,
    [Op.CompareRequest]: 0x6f,
    [Op.ExtendedRequest]: Op.ExtendedResponse,
  };
  const tag = responseTag[env.opTag];
  // Unbind and abandon have no response.
  return tag === undefined ? undefined : message(env.messageId, berTlv(tag, ...ldapResult(code, diagnostic)));
}

export type SearchFilter = { readonly present: string } | { readonly equals: readonly [string, string] };

export interface SearchParams {
  readonly base: string;
  /** 0 baseObject, 1 singleLevel, 2 wholeSubtree. */
  readonly scope: 0 | 1 | 2;
  readonly filter: SearchFilter;
  readonly attributes: readonly string[];
  readonly sizeLimit?: number;
  readonly timeLimit?: number;
}

export function encodeSearchRequest(messageId: number, p: SearchParams): Uint8Array {
  const filter = 'present' in p.filter ? berOctets(p.filter.present, 0x87) : berTlv(0xa3, berOctets(p.filter.equals[0]), berOctets(p.filter.equals[1]));
  return message(
    messageId,
    berTlv(
      Op.SearchRequest,
      berOctets(p.base),
      berInteger(p.scope, Tag.ENUMERATED),
      berInteger(0, Tag.ENUMERATED), // derefAliases: never
      berInteger(p.sizeLimit ?? 0),
      berInteger(p.timeLimit ?? 0),
      berBoolean(false),
      filter,
      berTlv(Tag.SEQUENCE, ...p.attributes.map((a) => berOctets(a))),
    ),
  );
}

export function encodeUnbindRequest(messageId: number): Uint8Array {
  return message(messageId, Uint8Array.of(Op.UnbindRequest, 0));
}

/**
 * The same message with one more control appended (its other bytes unchanged) — how the proxy
 * adds proxied authorization to each request it forwards for a token-bound user.
 */
export function appendControl(env: LdapEnvelope, control: Control): Uint8Array {
  const body = env.raw.subarray(peekTlvStrict(env.raw).valueStart, env.controls?.start ?? env.raw.length);
  const existing = env.controls === undefined ? new Uint8Array(0) : env.raw.subarray(env.controls.valueStart, env.controls.end);
  return berTlv(Tag.SEQUENCE, body, berTlv(0xa0, existing, encodeControl(control)));
}

function peekTlvStrict(raw: Uint8Array): Tlv {
  const t = peekTlv(raw, 0, raw.length);
  if (t === undefined) throw new BerError('malformed', 'truncated LDAPMessage');
  return t;
}

/** The RFC 4370 control asserting the user's identity ("dn:" form), always critical. */
export function proxiedAuthorizationControl(userDn: string): Control {
  return { oid: PROXIED_AUTHZ_OID, critical: true, value: `dn:${userDn}` };
}

/**
 * Cuts a byte stream into whole LDAPMessages. Lengths are checked as soon as a header is
 * complete, so an announced 2 GiB message is refused before anything is buffered for it.
 */
export class LdapFramer {
  #buf: Uint8Array = new Uint8Array(0);
  readonly #maxMessageSize: number;

  constructor(maxMessageSize = DEFAULT_MAX_MESSAGE_SIZE) {
    this.#maxMessageSize = maxMessageSize;
  }

  /** Appends bytes; returns the complete messages now available (throws BerError on bad framing). */
  push(chunk: Uint8Array): Uint8Array[] {
    this.#buf = this.#buf.length === 0 ? chunk : concatBytes(this.#buf, chunk);
    const out: Uint8Array[] = [];
    let pos = 0;
    for (;;) {
      const first = this.#buf[pos];
      if (first !== undefined && first !== Tag.SEQUENCE) throw new BerError('unexpected', `LDAPMessage must be a SEQUENCE, found tag 0x${first.toString(16)}`);
      const t = peekTlv(this.#buf, pos, this.#maxMessageSize);
      if (t === undefined) break;
      out.push(this.#buf.slice(pos, t.end));
      pos = t.end;
    }
    this.#buf = pos === 0 ? this.#buf : this.#buf.slice(pos);
    return out;
  }

  /** Bytes received but not yet part of a complete message. */
  takeRemainder(): Uint8Array {
    const r = this.#buf;
    this.#buf = new Uint8Array(0);
    return r;
  }

  get buffered(): number {
    return this.#buf.length;
  }
}
