/**
 * `milagro-ts <command> ...`: a table of subcommands, each a module exporting
 * `main(argv: string[]): Promise<number>` (the exit code). Modules are loaded on demand, so a
 * subcommand with heavy dependencies (pairings) costs nothing to the others, and adding one is a
 * one-line change here plus its own file.
 */

import { readFileSync } from 'node:fs';

export type CommandMain = (argv: string[]) => Promise<number>;

export interface CommandEntry {
  readonly summary: string;
  readonly load: () => Promise<unknown>;
}

export const commands: Readonly<Record<string, CommandEntry>> = Object.freeze({
  server: { summary: 'TLS server like `openssl s_server`: echo, or a small HTTP page with --www', load: () => import('./server.ts') },
  client: { summary: 'TLS client like `openssl s_client`: stdin to the server, server data to stdout', load: () => import('./client.ts') },
  dta: { summary: 'Milagro distributed trusted authority (issues key and time-permit shares)', load: () => import('./dta.ts') },
  identity: { summary: 'Milagro identities: enrolment keys, registration, key export', load: () => import('./identity.ts') },
  'ldap-proxy': { summary: 'LDAP proxy accepting one-time M-Pin login tokens as bind passwords', load: () => import('./ldap-proxy.ts') },
  tunnel: { summary: 'identity-based TLS tunnel (like ghostunnel/stunnel) in front of or behind any TCP service', load: () => import('./tunnel.ts') },
});

export function usage(): string {
  const width = Math.max(...Object.keys(commands).map((k) => k.length));
  const lines = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return [
    'usage: milagro-ts <command> [options]',
    '',
    'commands:',
    ...lines,
    '',
    'Run `milagro-ts <command> --help` for the options of a command, `milagro-ts --version` for the version.',
  ].join('\n');
}

/** The package version, from the package.json two levels up (src/cli/ or dist/cli/). */
export function packageVersion(): string {
  const pkg: unknown = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
  const v = typeof pkg === 'object' && pkg !== null && 'version' in pkg ? pkg.version : undefined;
  return typeof v === 'string' ? v : 'unknown';
}

function isCommandModule(m: unknown): m is { main: CommandMain } {
  return typeof m === 'object' && m !== null && typeof (m as { main?: unknown }).main === 'function';
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    (name === undefined ? process.stderr : process.stdout).write(`${usage()}\n`);
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-V' || name === 'version') {
    process.stdout.write(`milagro-ts ${packageVersion()}\n`);
    return 0;
  }
  const entry = Object.hasOwn(commands, name) ? commands[name] : undefined;
  if (entry === undefined) {
    process.stderr.write(`milagro-ts: unknown command "${name}"\n\n${usage()}\n`);
    return 2;
  }
  let mod: unknown;
  try {
    mod = await entry.load();
  } catch (e) {
    process.stderr.write(`milagro-ts: the "${name}" command is not available in this build (${(e as Error).message})\n`);
    return 2;
  }
  if (!isCommandModule(mod)) {
    process.stderr.write(`milagro-ts: the "${name}" command module does not export main(argv)\n`);
    return 2;
  }
  return mod.main(rest);
}
