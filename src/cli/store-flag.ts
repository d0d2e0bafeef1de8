/**
 * `--store SPEC` for the long-running commands (`server`, `dta serve`): where replay caches,
 * session caches, ticket keys and revocations live. Default: a SQLite file; when that default
 * cannot be used (the optional better-sqlite3 is not installed) the command falls back to an
 * in-process store and says so. An explicit --store that fails stops the command.
 */
import { mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { type KeyValueStore, STORE_SPEC_HELP, StoreDependencyError, StoreError, openStore } from '../store/index.ts';
import { CliError } from './common.ts';

export const STORE_FLAG_HELP = `--store SPEC      shared state (replay caches, sessions, keys): ${STORE_SPEC_HELP};
                    redis://…?prefix=NAME: keeps deployments apart on one server`;

/** ~/.local/state/milagro-ts (or $XDG_STATE_HOME/milagro-ts), created 0700. */
export function defaultStateDir(): string {
  const base = process.env['XDG_STATE_HOME'] ?? join(homedir(), '.local', 'state');
  const dir = join(base, 'milagro-ts');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return dir;
}

export async function openStoreFlag(spec: string | undefined, defaultSpec: () => string, log: (line: string) => void): Promise<{ store: KeyValueStore; spec: string }> {
  const chosen = spec ?? defaultSpec();
  try {
    return { store: await openStore(chosen), spec: chosen };
  } catch (e) {
    if (spec === undefined && e instanceof StoreDependencyError) {
      log(`warning: ${e.message}; using an in-process store (replay caches and sessions are not shared and are lost on restart)`);
      return { store: await openStore('memory:'), spec: 'memory:' };
    }
    if (e instanceof StoreError) throw new CliError(`--store ${chosen}: ${e.message}`, 1);
    throw e;
  }
}

/** The spec for logs, without a password. */
export function redactSpec(spec: string): string {
  return spec.replace(/^(\w+:\/\/[^:@/]*:)[^@/]*@/, '$1***@');
}
