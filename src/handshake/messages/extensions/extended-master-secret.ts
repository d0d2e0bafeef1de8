/** RFC 7627 §5.1 extended_master_secret: "The extension_data field of this extension is empty." */
import { DecodeError } from '../../../alerts.ts';

export function decodeExtendedMasterSecret(data: Uint8Array): true {
  if (data.length !== 0) throw new DecodeError('extended_master_secret: extension_data must be empty');
  return true;
}

export function encodeExtendedMasterSecret(): Uint8Array {
  return new Uint8Array(0);
}
