/**
 * `npm run build:web [DIR]` (part of `npm run build`): writes the browser bundles to DIR (default
 * dist/web/): mpin-web.js (ESM) and mpin-override.js (classic script), served by sites from their
 * own static files or read by `loadWebAssets()`.
 */
import { buildWebAssets } from './web-bundle.ts';

const outDir = process.argv[2] ?? 'dist/web';
const a = await buildWebAssets({ outDir });
process.stdout.write(`${outDir}/mpin-web.js ${a.client.length} bytes, ${outDir}/mpin-override.js ${a.override.length} bytes (${a.inputs.length} sources)\n`);
