#!/usr/bin/env node
// The milagro-ts command (subcommands: src/cli/main.ts). The installed package runs the compiled
// JavaScript in dist/. In a git clone (src/ present) it runs the TypeScript sources through tsx, a
// devDependency, so edits take effect without a build; MILAGRO_TS_FROM_DIST=1 runs the compiled
// build there instead (the tests do, after building it once: tsx costs ~1 s per command start).
import { existsSync } from 'node:fs';

const clone = existsSync(new URL('../src/cli/main.ts', import.meta.url));
let cli;
if (clone && process.env.MILAGRO_TS_FROM_DIST !== '1') {
  const { register } = await import('tsx/esm/api');
  register();
  cli = await import('../src/cli/main.ts');
} else {
  cli = await import('../dist/cli/main.js');
}
process.exitCode = await cli.main(process.argv.slice(2));
