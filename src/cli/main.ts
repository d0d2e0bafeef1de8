/**
 * `milagro-ts <command> ...`: a table of subcommands, each a module exporting
 * `main(argv: string[]): Promise<number>` (the exit code). Modules are loaded on demand, so a
 * subcommand with heavy dependencies (pairings) costs nothing to the others, and adding one is a
 * one-line change here plus its own file.
 */

export type CommandMain = (argv: string[]) => Promise<number>;

export interface CommandEntry {
  readonly summary: string;
  readonly load: () => Promise<unknown>;
}

/** Resolves a sibling module at run time (subcommands owned by other modules may be absent). */
function sibling(name: string): () => Promise<unknown> {
  return () => import(new URL(`./${name}.ts`, import.meta.url).href);
}

export const commands: Readonly<Record<string, CommandEntry>> = Object.freeze({
  server: { summary: 'TLS server like `openssl s_server`: echo, or a small HTTP page with --www', load: () => import('./server.ts') },
  client: { summary: 'TLS client like `openssl s_client`: stdin to the server, server data to stdout', load: () => import('./client.ts') },
  dta: { summary: 'Milagro distributed trusted authority (issues key and time-permit shares)', load: sibling('dta') },
  identity: { summary: 'Milagro identities: enrolment keys, registration, key export', load: sibling('identity') },
  'ldap-proxy': { summary: 'LDAP proxy accepting one-time M-Pin login tokens as bind passwords', load: sibling('ldap-proxy') },
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
    'Run `milagro-ts <command> --help` for the options of a command.',
  ].join('\n');
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
