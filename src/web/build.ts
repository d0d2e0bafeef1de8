/**
 * Builds the two browser bundles with esbuild from the same sources as the server (no copy of the
 * crypto core): the ESM client (`src/web/browser/index.ts`) and the classic-script override
 * (`src/web/browser/override.ts`). Platform "browser": an import of a Node built-in fails the build,
 * and the metafile lets tests check that no such import exists.
 */
import { build, type Metafile } from 'esbuild';
import { fileURLToPath } from 'node:url';
import type { WebAssets } from './server/relying-party.ts';

const here = (p: string): string => fileURLToPath(new URL(p, import.meta.url));

export interface BuiltAssets extends WebAssets {
  /** Every source file that went into either bundle. */
  readonly inputs: readonly string[];
}

export async function buildWebAssets(opts: { readonly minify?: boolean; readonly outDir?: string } = {}): Promise<BuiltAssets> {
  const common = {
    bundle: true,
    platform: 'browser',
    target: ['chrome100', 'firefox100', 'safari15'],
    minify: opts.minify ?? true,
    legalComments: 'none',
    metafile: true,
    write: false,
    logLevel: 'silent',
  } as const;
  const [client, override] = await Promise.all([
    build({ ...common, entryPoints: [here('./browser/index.ts')], format: 'esm', outfile: 'mpin-web.js' }),
    build({ ...common, entryPoints: [here('./browser/override.ts')], format: 'iife', outfile: 'mpin-override.js' }),
  ]);
  const text = (r: { readonly outputFiles: readonly { readonly path: string; readonly text: string }[] }): string => {
    const f = r.outputFiles.find((o) => o.path.endsWith('.js'));
    if (f === undefined) throw new Error('esbuild produced no JavaScript');
    return f.text;
  };
  const inputs = (m: Metafile): string[] => Object.keys(m.inputs);
  const assets = { client: text(client), override: text(override), inputs: [...new Set([...inputs(client.metafile), ...inputs(override.metafile)])].sort() };
  if (opts.outDir !== undefined) {
    const { mkdir, writeFile } = await import('node:fs/promises');
    await mkdir(opts.outDir, { recursive: true });
    await writeFile(`${opts.outDir}/mpin-web.js`, assets.client);
    await writeFile(`${opts.outDir}/mpin-override.js`, assets.override);
  }
  return assets;
}
