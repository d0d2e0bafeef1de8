/**
 * RFC 6066 §4 max_fragment_length: one byte, 1..4 → 2^9..2^12. RFC 6066 §4: a server receiving
 * any other value "MUST abort the handshake with an illegal_parameter alert".
 */
import { IllegalParameterError } from '../../../alerts.ts';
import { ByteReader } from '../../../codec/reader.ts';

export type MaxFragmentLength = 512 | 1024 | 2048 | 4096;

const byCode: ReadonlyMap<number, MaxFragmentLength> = new Map([
  [1, 512],
  [2, 1024],
  [3, 2048],
  [4, 4096],
]);

export function decodeMaxFragmentLength(data: Uint8Array): MaxFragmentLength {
  const r = new ByteReader(data, 'max_fragment_length');
  const code = r.u8('max_fragment_length');
  r.expectEnd();
  const len = byCode.get(code);
  if (len === undefined) throw new IllegalParameterError(`max_fragment_length: invalid code ${code}`);
  return len;
}

export function encodeMaxFragmentLength(len: MaxFragmentLength): Uint8Array {
  switch (len) {
    case 512:
      return Uint8Array.of(1);
    case 1024:
      return Uint8Array.of(2);
    case 2048:
      return Uint8Array.of(3);
    case 4096:
      return Uint8Array.of(4);
    default: {
      const never: never = len;
      throw new RangeError(`max_fragment_length: unsupported ${String(never)}`);
    }
  }
}
