/** Small file helpers: private files (mode 0600) written atomically. */
import { chmod, open, rename, unlink } from 'node:fs/promises';
import { bytesToHex } from '../codec/bytes.ts';
import type { RandomSource } from '../providers.ts';

/**
 * Writes `data` to `path` with mode 0600 through a temporary file and rename, so a crash never
 * leaves a half-written share, keystore or revocation list behind.
 */
export async function writePrivateFile(
  path: string,
  data: string | Uint8Array,
  random: RandomSource,
): Promise<void> {
  // The temp name only has to be unique among concurrent writers.
  const tmp = `${path}.${bytesToHex(random(6))}.tmp`;
  const fh = await open(tmp, 'wx', 0o600);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } catch (e) {
    await fh.close();
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
  await fh.close();
  await chmod(tmp, 0o600);
  await rename(tmp, path);
}

/** Like writePrivateFile but refuses to replace an existing file. */
export async function createPrivateFile(path: string, data: string | Uint8Array): Promise<void> {
  const fh = await open(path, 'wx', 0o600);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
}
