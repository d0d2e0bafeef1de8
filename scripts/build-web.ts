/**
 * `npm run build:web`: writes the browser bundles to dist/web/ (mpin-web.js, ESM; mpin-override.js,
 * classic script) for sites that serve them from their own static files. The demo and the tests
 * build the same bundles in memory (src/web/build.ts).
 */
import { buildWebAssets } from '../src/web/build.ts';

const outDir = process.argv[2] ?? 'dist/web';
const a = await buildWebAssets({ outDir });
process.stdout.write(`${outDir}/mpin-web.js ${a.client.length} bytes, ${outDir}/mpin-override.js ${a.override.length} bytes (${a.inputs.length} sources)\n`);
