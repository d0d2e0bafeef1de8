/**
 * RFC 8422 §5.1.2 ec_point_formats: `ECPointFormat ec_point_format_list<1..2^8-1>`.
 * Whether `uncompressed` (0) is present is a semantic check left to the caller (RFC 8422 §5.1.2
 * requires it when the extension is sent).
 */
import { ByteReader } from '../../../codec/reader.ts';
import { ByteWriter } from '../../../codec/writer.ts';

export const ECPointFormat = { uncompressed: 0 } as const;

export function decodeEcPointFormats(data: Uint8Array): number[] {
  const r = new ByteReader(data, 'ec_point_formats');
  const list = r.vec8('ec_point_format_list', 1);
  r.expectEnd();
  const out: number[] = [];
  while (list.remaining > 0) out.push(list.u8());
  return out;
}

export function encodeEcPointFormats(formats: readonly number[]): Uint8Array {
  if (formats.length === 0) throw new RangeError('ec_point_formats: empty list');
  const w = new ByteWriter();
  w.withLength8((l) => {
    for (const f of formats) l.u8(f);
  });
  return w.finish();
}
