#!/usr/bin/env node
// The milagro-ts command. The package ships TypeScript sources; tsx's ESM loader runs them
// directly (no build step). See src/cli/main.ts for the subcommands.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
