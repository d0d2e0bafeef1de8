/** RFC 8422 §5.1.1 supported_groups (formerly elliptic_curves): `NamedCurve named_curve_list<2..2^16-1>`. */
import { decodeU16List, encodeU16List } from './u16-list.ts';

export function decodeSupportedGroups(data: Uint8Array): number[] {
  return decodeU16List(data, 'supported_groups');
}

export function encodeSupportedGroups(groups: readonly number[]): Uint8Array {
  return encodeU16List(groups, 'supported_groups');
}
