/**
 * Key files of the original demo programs (spec §8.2): lowercase hex of the raw octet, no `0x`, no
 * trailing newline. Readers stop at the first newline like the originals, but unlike them validate
 * the hex, the length and the point (spec §10 item 5, 8, 9).
 */
import { readFile } from 'node:fs/promises';
import { bytesToHex, hexToBytes } from '../codec/bytes.ts';
import type { RandomSource } from '../providers.ts';
import { G1_BYTES, G2_BYTES, type IdentityCrypto } from './crypto-port.ts';
import { IdentityInputError } from './errors.ts';
import { writePrivateFile } from './files.ts';

export const HEX_KEY_KINDS = {
  /** M-Pin token (client secret minus PIN part), G1. */
  CSClientKey: 'g1',
  /** M-Pin time permit for the current day, G1. */
  CSTimePermit: 'g1',
  /** M-Pin server secret [s]Q, G2. */
  CSServerKey: 'g2',
  /** WCC receiver key [s]H2(client id), G2 (MILAGRO_P2P TLS client). */
  P2PClientKey: 'g2',
  /** WCC sender key [s]H1(server id), G1 (MILAGRO_P2P TLS server). */
  P2PServerKey: 'g1',
} as const;
export type HexKeyKind = keyof typeof HEX_KEY_KINDS;

export function isHexKeyKind(s: string): s is HexKeyKind {
  return Object.hasOwn(HEX_KEY_KINDS, s);
}

function check(kind: HexKeyKind, bytes: Uint8Array, crypto: IdentityCrypto): void {
  const group = HEX_KEY_KINDS[kind];
  const len = group === 'g1' ? G1_BYTES : G2_BYTES;
  if (bytes.length !== len) throw new IdentityInputError(`${kind} must hold ${len} bytes (${2 * len} hex characters), got ${bytes.length}`);
  try {
    if (group === 'g1') crypto.checkG1(bytes);
    else crypto.checkG2(bytes);
  } catch (e) {
    throw new IdentityInputError(`${kind} does not hold a valid ${group.toUpperCase()} point (${(e as Error).message})`);
  }
}

export function encodeHexKey(kind: HexKeyKind, bytes: Uint8Array, crypto: IdentityCrypto): string {
  check(kind, bytes, crypto);
  return bytesToHex(bytes);
}

export function decodeHexKey(kind: HexKeyKind, text: string, crypto: IdentityCrypto): Uint8Array {
  const line = (text.split('\n', 1)[0] ?? '').replace(/\r$/, '');
  if (!/^[0-9a-fA-F]*$/.test(line) || line.length % 2 !== 0) throw new IdentityInputError(`${kind} is not a hex string`);
  const bytes = hexToBytes(line);
  check(kind, bytes, crypto);
  return bytes;
}

export async function writeHexKeyFile(path: string, kind: HexKeyKind, bytes: Uint8Array, crypto: IdentityCrypto, random: RandomSource): Promise<void> {
  await writePrivateFile(path, encodeHexKey(kind, bytes, crypto), random);
}

export async function readHexKeyFile(path: string, kind: HexKeyKind, crypto: IdentityCrypto): Promise<Uint8Array> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new IdentityInputError(`cannot read ${kind} file ${path} (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  return decodeHexKey(kind, text, crypto);
}
