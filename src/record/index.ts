/** Record layer public surface (RFC 5246 §6). */
export { ContentType, contentTypeName, isContentType } from './content-type.ts';
export { HalfConnection, MAX_SEQUENCE } from './half-connection.ts';
export { aeadProtection, nullProtection, type RecordProtection } from './protection.ts';
export {
  MAX_AEAD_EXPANSION,
  MAX_PLAINTEXT,
  RECORD_HEADER_LENGTH,
  RecordLayer,
  type PlainRecord,
  type RecordLayerOptions,
} from './record-layer.ts';
