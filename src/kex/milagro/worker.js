// Worker-thread entry for the Milagro compute pool (pool.ts). Plain JavaScript so it loads in
// every runtime: compiled output imports worker-main.js directly (pool.ts picks it); when running
// from TypeScript sources (tsx, vitest, plain node with a loader) this bootstrap imports
// worker-main.ts, registering tsx's ESM loader first if no loader handles .ts in this thread.
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
