/**
 * Wire types of the TLS 1.2 handshake (RFC 5246 §7.4). Plain readonly data: the codecs in the
 * sibling files decode and encode them; no crypto, state or configuration lives here.
 */

/** RFC 5246 §7.4 HandshakeType. */
export const HandshakeType = {
  hello_request: 0,
  client_hello: 1,
  server_hello: 2,
  new_session_ticket: 4,
  certificate: 11,
  server_key_exchange: 12,
  certificate_request: 13,
  server_hello_done: 14,
  certificate_verify: 15,
  client_key_exchange: 16,
  finished: 20,
} as const;
export type HandshakeType = (typeof HandshakeType)[keyof typeof HandshakeType];

/** Extension numbers we understand. Unknown extensions are carried as raw entries and skipped. */
export const ExtensionType = {
  server_name: 0,
  max_fragment_length: 1,
  supported_groups: 10,
  ec_point_formats: 11,
  signature_algorithms: 13,
  application_layer_protocol_negotiation: 16,
  extended_master_secret: 23,
  session_ticket: 35,
  /** milagro-tls MILAGRO_CS extension (configurable; see kex/milagro-cs). */
  milagro_cs_default: 37,
  record_size_limit: 28,
  renegotiation_info: 0xff01,
} as const;

/** RFC 8422 / RFC 7748 named groups. */
export const NamedGroup = {
  secp256r1: 23,
  secp384r1: 24,
  x25519: 29,
} as const;
export type NamedGroup = (typeof NamedGroup)[keyof typeof NamedGroup];

/** A raw extension entry; duplicates are rejected by `decodeExtensions`. */
export interface Extension {
  readonly type: number;
  readonly data: Uint8Array;
}

export interface ProtocolVersion {
  readonly major: number;
  readonly minor: number;
}

/** RFC 5246 §7.4.1.2 */
export interface ClientHello {
  readonly version: number; // e.g. 0x0303
  readonly random: Uint8Array; // 32 bytes
  readonly sessionId: Uint8Array; // 0..32 bytes
  readonly cipherSuites: readonly number[];
  readonly compressionMethods: readonly number[];
  /** An absent extensions block decodes as []; encoding [] omits the block (transcripts hash raw bytes). */
  readonly extensions: readonly Extension[];
}

/** RFC 5246 §7.4.1.3 */
export interface ServerHello {
  readonly version: number;
  readonly random: Uint8Array;
  readonly sessionId: Uint8Array;
  readonly cipherSuite: number;
  readonly compressionMethod: number;
  readonly extensions: readonly Extension[];
}

/** RFC 5246 §7.4.2: DER certificates, leaf first. */
export interface CertificateMessage {
  readonly certificates: readonly Uint8Array[];
}

/**
 * RFC 5246 §7.4.3: the body is opaque to the handshake; the negotiated key exchange decodes it
 * (ECDHE params + signature, MILAGRO W, MILAGRO_P2P identity + point).
 */
export interface ServerKeyExchange {
  readonly body: Uint8Array;
}

/** RFC 5246 §7.4.4 */
export interface CertificateRequest {
  readonly certificateTypes: readonly number[];
  readonly signatureAlgorithms: readonly number[];
  readonly certificateAuthorities: readonly Uint8Array[]; // DER DistinguishedNames
}

/** RFC 5246 §7.4.7: opaque to the handshake; the key exchange decodes it. */
export interface ClientKeyExchange {
  readonly body: Uint8Array;
}

/** RFC 5246 §7.4.8 with §7.4.1.4.1 signature_and_hash algorithm. */
export interface CertificateVerify {
  readonly signatureScheme: number;
  readonly signature: Uint8Array;
}

/** RFC 5246 §7.4.9 */
export interface Finished {
  readonly verifyData: Uint8Array; // 12 bytes
}

/** RFC 5077 §3.3 */
export interface NewSessionTicket {
  readonly lifetimeHint: number;
  readonly ticket: Uint8Array;
}

/** One reassembled handshake message: its type, body, and the exact bytes for the transcript. */
export interface HandshakeMessage {
  readonly type: number;
  readonly body: Uint8Array;
  /** Header + body, exactly as received or sent (the transcript hashes these bytes). */
  readonly raw: Uint8Array;
}
