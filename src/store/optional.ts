/** Loading the backends' optional dependencies (native SQLite driver, Redis client) on first use. */
import { StoreDependencyError } from './types.ts';

/** Imports a module by name, or undefined when it is not installed (any other failure throws). */
export async function importOptional(name: string): Promise<unknown> {
  try {
    return (await import(name)) as unknown;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND' || code === 'ERR_UNKNOWN_BUILTIN_MODULE') return undefined;
    throw new StoreDependencyError(`cannot load ${name}: ${e instanceof Error ? e.message : String(e)} (reinstall it: 'npm rebuild ${name}')`);
  }
}
