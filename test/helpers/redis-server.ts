/**
 * A throw-away redis-server for tests: loopback only, a free port, no persistence, a temp dir.
 * When no redis-server (or valkey-server) binary is installed, `startRedis` returns undefined and
 * warns loudly, so the caller can skip its Redis tests and the rest of the suite still runs.
 *
 *   const redis = await startRedis();          // in beforeAll
 *   ... openStore(redis.url) ...
 *   await redis?.stop();                       // in afterAll
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../interop/process.ts';

export interface RedisServer {
  readonly url: string;
  readonly port: number;
  stop(): Promise<void>;
}

const CANDIDATES = [process.env['REDIS_SERVER'], '/usr/bin/redis-server', '/usr/local/bin/redis-server', '/usr/bin/valkey-server', '/usr/local/bin/valkey-server'];

/** The redis-server binary, or undefined (after a loud warning) when none is installed. */
export function findRedisServer(): string | undefined {
  for (const c of CANDIDATES) {
    if (c === undefined || c === '') continue;
    try {
      accessSync(c, constants.X_OK);
      return c;
    } catch {
      // try the next one
    }
  }
  console.warn(
    '\n*** redis-server NOT FOUND: the Redis store tests are SKIPPED. Install it to run them: apt-get install redis-server ' +
      '(or set REDIS_SERVER=/path/to/redis-server). CI (.ci/run) installs it. ***\n',
  );
  return undefined;
}

/** Whether a redis-server binary exists (for describe.skipIf); warns once per file when not. */
export const hasRedisServer = (): boolean => findRedisServer() !== undefined;


/** Starts redis-server on a free loopback port; retries on a port race. Undefined when not installed. */
export async function startRedis(): Promise<RedisServer | undefined> {
  const bin = findRedisServer();
  if (bin === undefined) return undefined;
  let lastError: Error | undefined;
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'milagro-redis-'));
    try {
      const child = await launch(bin, port, dir);
      return {
        url: `redis://127.0.0.1:${port}/0`,
        port,
        stop: async () => {
          await stopChild(child);
          rmSync(dir, { recursive: true, force: true });
        },
      };
    } catch (e) {
      rmSync(dir, { recursive: true, force: true });
      lastError = e as Error;
    }
  }
  throw new Error(`could not start redis-server: ${lastError?.message ?? 'unknown error'}`);
}

function launch(bin: string, port: number, dir: string): Promise<ChildProcess> {
  const args = [
    '--port', String(port),
    '--bind', '127.0.0.1',
    '--protected-mode', 'yes',
    '--save', '',
    '--appendonly', 'no',
    '--dir', dir,
    '--daemonize', 'no',
    '--loglevel', 'notice',
    '--logfile', '',
  ];
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`redis-server did not become ready in 15 s: ${out.slice(-500)}`));
    }, 15_000);
    const onData = (d: Buffer): void => {
      out += d.toString();
      if (out.includes('Ready to accept connections')) {
        clearTimeout(timer);
        child.stdout!.off('data', onData);
        child.stdout!.resume();
        child.stderr!.resume();
        resolve(child);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited with ${String(code)}: ${out.slice(-500)}`));
    });
  });
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
