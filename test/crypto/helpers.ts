/** Test helpers: load the vectors copied into test/vectors (the project stands alone). */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { hexToBytes, bytesToHex } from '../../src/codec/bytes.ts';

export function loadVector<T>(name: string): T {
  const path = fileURLToPath(new URL(`../vectors/${name}`, import.meta.url));
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}
export const hx = (s: string): Uint8Array => hexToBytes(s);
export const toHex = (b: Uint8Array): string => bytesToHex(b);
/** A RandomSource that replays fixed bytes (fails loudly when exhausted). */
export function fixedRandom(bytes: Uint8Array): (n: number) => Uint8Array {
  let at = 0;
  return (n) => {
    if (at + n > bytes.length) throw new Error('fixed random source exhausted');
    const out = bytes.slice(at, at + n);
    at += n;
    return out;
  };
}
