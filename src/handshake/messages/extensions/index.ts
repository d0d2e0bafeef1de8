/**
 * The extensions block of ClientHello / ServerHello (RFC 5246 §7.4.1.4). Entries stay raw
 * (`{type, data}`) so unknown extensions are carried, not crashed on; the typed codecs in the
 * sibling files decode the `data` of the ones we understand.
 */
import { IllegalParameterError } from '../../../alerts.ts';
import type { ByteReader } from '../../../codec/reader.ts';
import type { ByteWriter } from '../../../codec/writer.ts';
import type { Extension } from '../types.ts';

/**
 * Reads `Extension extensions<0..2^16-1>`. RFC 5246 §7.4.1.4: "There MUST NOT be more than one
 * extension of the same type" — a repeated type is well-formed but forbidden, so it raises
 * illegal_parameter (as rustls and Go do), not decode_error.
 */
export function decodeExtensions(r: ByteReader): Extension[] {
  const block = r.vec16('extensions');
  const out: Extension[] = [];
  const seen = new Set<number>();
  while (block.remaining > 0) {
    const type = block.u16('extension type');
    const data = block.opaque16('extension_data');
    if (seen.has(type)) throw new IllegalParameterError(`duplicate extension ${type}`);
    seen.add(type);
    out.push({ type, data });
  }
  return out;
}

/** Writes the u16-length-prefixed extensions block (always, even when empty). */
export function encodeExtensions(w: ByteWriter, exts: readonly Extension[]): void {
  w.withLength16((b) => {
    for (const e of exts) {
      b.u16(e.type);
      b.withLength16((d) => d.bytes(e.data));
    }
  });
}

export function findExtension(exts: readonly Extension[], type: number): Extension | undefined {
  return exts.find((e) => e.type === type);
}
