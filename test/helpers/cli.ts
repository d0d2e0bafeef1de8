/**
 * Spawning the `milagro-ts` command in tests. Every CLI-spawning test uses this helper:
 *
 *   import { runCli, spawnCli } from '../helpers/cli.ts';
 *   const r = await runCli(['--version']);                  // { code, stdout, stderr }
 *   const srv = spawnCli(['server', '--port', '0', ...]);   // long-running
 *   const port = Number((await srv.waitFor(/listening on 127\.0\.0\.1:(\d+)/))[1]);
 *   const cli = spawnCli(['client', `localhost:${port}`, ...], { input: 'ping\n' });
 *   expect(await cli.exit).toBe(0);
 *
 * It runs bin/milagro-ts.js on the compiled build (dist/, which test/global-setup.ts brings up to
 * date before the tests start), not on the TypeScript sources through tsx: that saves about a
 * second of start-up per command. Processes still running after a test are killed (test/setup.ts).
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { resolve } from 'node:path';
import { ensureBuilt, repoRoot } from './build.ts';
import { track } from './processes.ts';

export { repoRoot };
export const cliBin = resolve(repoRoot, 'bin', 'milagro-ts.js');

/** The environment variable bin/milagro-ts.js reads to run dist/ inside a clone. */
export const FROM_DIST_ENV = { MILAGRO_TS_FROM_DIST: '1' } as const;

/** The environment for a CLI process (or a shell script that runs the CLI): `base` plus the switch to dist/. */
export function cliEnv(base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return { ...base, ...FROM_DIST_ENV };
}

/** A shell command line that runs the CLI as the tests do (for scripts: `alias milagro-ts="…"`). */
export const cliCommandLine = `${JSON.stringify(process.execPath)} ${JSON.stringify(cliBin)}`;

export interface CliOptions {
  /** Default: the repository root. */
  readonly cwd?: string;
  /** The whole environment (default process.env); MILAGRO_TS_FROM_DIST=1 is added. */
  readonly env?: NodeJS.ProcessEnv;
  /** Written to stdin, which is then closed. Without it stdin stays open (`proc.stdin`). */
  readonly input?: string | Uint8Array;
}

export interface CliProcess {
  readonly proc: ChildProcessWithoutNullStreams;
  /** Everything written so far. */
  readonly stdout: string;
  readonly stderr: string;
  /** The exit code (null when killed by a signal). */
  readonly exit: Promise<number | null>;
  /** Waits until stdout + stderr match `re`; fails when the process exits first or after `ms`. */
  waitFor(re: RegExp, ms?: number): Promise<RegExpMatchArray>;
}

export function spawnCli(args: readonly string[], opts: CliOptions = {}): CliProcess {
  ensureBuilt();
  const proc = spawn(process.execPath, [cliBin, ...args], { cwd: opts.cwd ?? repoRoot, stdio: 'pipe', env: cliEnv(opts.env) });
  track(proc);
  let stdout = '';
  let stderr = '';
  proc.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  proc.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exit = new Promise<number | null>((res, rej) => {
    proc.once('error', rej);
    // 'close' (not 'exit'): stdout and stderr are complete when it fires.
    proc.once('close', (code: number | null) => res(code));
  });
  if (opts.input !== undefined) proc.stdin.end(opts.input);
  let closed = false;
  void exit.then(
    () => (closed = true),
    () => (closed = true),
  );
  return {
    proc,
    get stdout() {
      return stdout;
    },
    get stderr() {
      return stderr;
    },
    exit,
    async waitFor(re: RegExp, ms = 20_000): Promise<RegExpMatchArray> {
      const t0 = Date.now();
      for (;;) {
        const m = (stdout + stderr).match(re);
        if (m !== null) return m;
        if (closed || Date.now() - t0 > ms) {
          throw new Error(`no ${String(re)} in the output of milagro-ts ${args.join(' ')}${closed ? ' (exited)' : ` after ${ms} ms`}:\n${stdout}\n${stderr}`);
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    },
  };
}

/** Runs the CLI to completion. */
export async function runCli(args: readonly string[], opts: CliOptions = {}): Promise<{ readonly code: number | null; readonly stdout: string; readonly stderr: string }> {
  const p = spawnCli(args, { ...opts, input: opts.input ?? '' });
  const code = await p.exit;
  return { code, stdout: p.stdout, stderr: p.stderr };
}
