import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('../fixtures/certs/', import.meta.url));

/** A committed fixture file as text. */
export function fixture(name: string): string {
  return readFileSync(dir + name, 'utf8');
}

export { seededRandom } from '../helpers/random.ts';
