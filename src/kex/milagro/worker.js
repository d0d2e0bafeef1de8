// Worker-thread entry for the Milagro compute pool (pool.ts) when running from the TypeScript
// sources in a clone (tsx, vitest); compiled output imports worker-main.js directly (pool.ts picks
// it). Plain JavaScript so it loads in every runtime. With MILAGRO_TS_FROM_DIST=1 (as for
// bin/milagro-ts.js; the tests set it after building dist/) it runs the compiled worker, else it
// imports worker-main.ts, registering tsx's ESM loader first if no loader handles .ts in this thread.
import { existsSync } from 'node:fs';

const compiled = new URL('../../../dist/kex/milagro/worker-main.js', import.meta.url);
if (process.env.MILAGRO_TS_FROM_DIST === '1' && existsSync(compiled)) {
  await import(compiled.href);
} else {
  const source = new URL('./worker-main.ts', import.meta.url).href;
  try {
    await import(source);
  } catch (e) {
    if (e === null || typeof e !== 'object' || e.code !== 'ERR_UNKNOWN_FILE_EXTENSION') throw e;
    const { register } = await import('tsx/esm/api');
    register();
    // A failed import is cached per URL: retry under a distinct one.
    await import(`${source}?tsx`);
  }
}
