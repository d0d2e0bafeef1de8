/** Shared shape of the `uint16 list<2..2^16-2>` extensions (supported_groups, signature_algorithms). */
import { DecodeError } from '../../../alerts.ts';
import { ByteReader } from '../../../codec/reader.ts';
import { ByteWriter } from '../../../codec/writer.ts';

export function decodeU16List(data: Uint8Array, what: string): number[] {
  const r = new ByteReader(data, what);
  const list = r.vec16(what, 2, 0xfffe);
  r.expectEnd();
  if (list.remaining % 2 !== 0) throw new DecodeError(`${what}: odd list length`);
  const out: number[] = [];
  while (list.remaining > 0) out.push(list.u16());
  return out;
}

export function encodeU16List(values: readonly number[], what: string): Uint8Array {
  if (values.length === 0) throw new RangeError(`${what}: empty list`);
  const w = new ByteWriter();
  w.withLength16((l) => {
    for (const v of values) l.u16(v);
  });
  return w.finish();
}
