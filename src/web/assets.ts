/**
 * The prebuilt browser bundles the relying party serves (`assets` option). `npm pack` builds them
 * into the package (dist/web/mpin-web.js, dist/web/mpin-override.js, see scripts/build-web.ts), so
 * reading them needs no bundler at run time. From a git clone, run `npm run build` first, or build
 * them in memory with scripts/build-web.ts (tests and demos do).
 */
import { readFile } from 'node:fs/promises';
import type { WebAssets } from './server/relying-party.ts';

export async function loadWebAssets(dir: URL = new URL('./', import.meta.url)): Promise<WebAssets> {
  const read = async (name: string): Promise<string> => {
    const file = new URL(name, dir);
    try {
      return await readFile(file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new Error(`${file.pathname}: browser bundle not built; run \`npm run build\` (a git clone has no prebuilt bundles)`);
      }
      throw e;
    }
  };
  const [client, override] = await Promise.all([read('mpin-web.js'), read('mpin-override.js')]);
  return { client, override };
}
