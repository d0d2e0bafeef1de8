/**
 * Builds the two browser bundles with esbuild (a devDependency: this runs at build and test time,
 * never in the installed package) from the same sources as the server (no copy of the crypto
 * core): the ESM client (`src/web/browser/index.ts`) and the classic-script override
 * (`src/web/browser/override.ts`). Platform "browser": an import of a Node built-in fails the build,
 * and the metafile lets tests check that no such import exists.
 *
 * `npm run build` writes them to dist/web/ (scripts/build-web.ts), where `loadWebAssets()` of
 * `milagro-ts/web` reads them; the demo and the tests build them in memory.
 */
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';
import type { WebAssets } from '../src/web/server/relying-party.ts';

const here = (p: string): string => fileURLToPath(new URL(p, import.meta.url));

export interface BuiltAssets extends WebAssets {
  /** Every source file that went into either bundle. */
  readonly inputs: readonly string[];
}

export async function buildWebAssets(opts: { readonly minify?: boolean; readonly outDir?: string } = {}): Promise<BuiltAssets> {
  const one = async (entry: string, format: 'esm' | 'iife'): Promise<{ readonly text: string; readonly inputs: readonly string[] }> => {
    const r = await build({
      entryPoints: [here(entry)],
      format,
      bundle: true,
      platform: 'browser',
      target: ['chrome100', 'firefox100', 'safari15'],
      minify: opts.minify ?? true,
      legalComments: 'none',
      metafile: true,
      write: false,
      outfile: format === 'esm' ? 'mpin-web.js' : 'mpin-override.js',
      logLevel: 'silent',
    });
    const f = r.outputFiles.find((o) => o.path.endsWith('.js'));
    if (f === undefined || r.metafile === undefined) throw new Error('esbuild produced no JavaScript or no metafile');
    return { text: f.text, inputs: Object.keys(r.metafile.inputs) };
  };
  const [client, override] = await Promise.all([one('../src/web/browser/index.ts', 'esm'), one('../src/web/browser/override.ts', 'iife')]);
  const assets = { client: client.text, override: override.text, inputs: [...new Set([...client.inputs, ...override.inputs])].sort() };
  if (opts.outDir !== undefined) {
    const { mkdir, writeFile } = await import('node:fs/promises');
    await mkdir(opts.outDir, { recursive: true });
    await writeFile(`${opts.outDir}/mpin-web.js`, assets.client);
    await writeFile(`${opts.outDir}/mpin-override.js`, assets.override);
  }
  return assets;
}
