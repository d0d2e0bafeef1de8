export { ByteReader } from './reader.ts';
export { ByteWriter } from './writer.ts';
export { bytesToHex, hexToBytes, concatBytes, equalBytes } from './bytes.ts';
