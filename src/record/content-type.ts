/**
 * TLS record content types (RFC 5246 §6.2.1, Appendix A.1). Anything else on the wire is refused
 * by the deframer with unexpected_message.
 */
export const ContentType = {
  change_cipher_spec: 20,
  alert: 21,
  handshake: 22,
  application_data: 23,
} as const;
export type ContentType = (typeof ContentType)[keyof typeof ContentType];

const names: ReadonlyMap<number, string> = new Map(Object.entries(ContentType).map(([n, v]) => [v, n]));

export function isContentType(x: number): x is ContentType {
  return names.has(x);
}

/** Name for logs; unknown values are carried, not crashed on. */
export function contentTypeName(x: number): string {
  return names.get(x) ?? `unknown_content_type(${x})`;
}
