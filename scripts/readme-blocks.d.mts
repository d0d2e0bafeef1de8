export function shellBlocks(path: string): string[];
export function freePort(): Promise<number>;
export interface ShellBlockOptions {
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly ports?: readonly number[];
  readonly replace?: readonly (readonly [string, string])[];
  readonly errexit?: boolean;
  readonly timeoutMs?: number;
}
export interface ShellBlockResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** The script as run (after the swaps). */
  readonly script: string;
}
export function runShellBlock(script: string, opts?: ShellBlockOptions): Promise<ShellBlockResult>;
export function killSession(sid: number | undefined): void;
