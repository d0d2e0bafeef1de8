/**
 * Every command and subcommand answers --help with its usage on stdout and exit code 0 (issue 12
 * §4: `dta status --help` used to be an error). Run in-process through the CLI's main(): the
 * spawned bin is covered by test/cli/cli.test.ts.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.ts';

afterEach(() => {
  vi.restoreAllMocks();
});

async function help(argv: string[]): Promise<{ code: number; out: string }> {
  let out = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString();
    return true;
  });
  const code = await main(argv);
  vi.restoreAllMocks();
  return { code, out };
}

describe('--help on every (sub)command', () => {
  it.each([
    'server',
    'client',
    'dta',
    'dta serve',
    'dta status',
    'identity',
    'identity keygen',
    'identity register',
    'identity export',
    'identity token',
    'tunnel',
    'tunnel server',
    'tunnel client',
    'ldap-proxy',
  ])('milagro-ts %s --help', async (command) => {
    const r = await help([...command.split(' '), '--help']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/usage/i);
  });
});
