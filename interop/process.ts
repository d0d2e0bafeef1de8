/**
 * Child-process helper for the interop peers: captured output, "wait until the output matches",
 * hard timeouts, and a kill that only targets the process we started.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createServer } from 'node:net';

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export class PeerProcess {
  readonly #proc: ChildProcessWithoutNullStreams;
  readonly exited: Promise<Exit>;
  #stdout = '';
  #stderr = '';
  #waiters: (() => void)[] = [];
  #exit: Exit | undefined;

  constructor(command: string, args: readonly string[], cwd?: string) {
    // stdbuf: make the C peers line-buffer stdout so we can react to their output while they run.
    this.#proc = spawn('stdbuf', ['-oL', '-eL', command, ...args], { cwd, stdio: 'pipe' });
    this.#proc.stdout.setEncoding('utf8');
    this.#proc.stderr.setEncoding('utf8');
    this.#proc.stdout.on('data', (d: string) => {
      this.#stdout += d;
      this.#notify();
    });
    this.#proc.stderr.on('data', (d: string) => {
      this.#stderr += d;
      this.#notify();
    });
    this.#proc.stdin.on('error', () => {
      /* the peer may exit before reading stdin; that is reported through its exit status */
    });
    this.exited = new Promise((resolve) => {
      this.#proc.on('error', (err) => {
        this.#stderr += `\nspawn failed: ${err.message}`;
        this.#exit = { code: 127, signal: null };
        this.#notify();
        resolve(this.#exit);
      });
      this.#proc.on('close', (code, signal) => {
        this.#exit = { code, signal };
        this.#notify();
        resolve(this.#exit);
      });
    });
  }

  get stdout(): string {
    return this.#stdout;
  }
  get stderr(): string {
    return this.#stderr;
  }
  get exit(): Exit | undefined {
    return this.#exit;
  }

  #notify(): void {
    const w = this.#waiters;
    this.#waiters = [];
    for (const f of w) f();
  }

  /** Resolves with the match once stdout+stderr match `re`; rejects on exit or timeout. */
  waitFor(re: RegExp, timeoutMs: number): Promise<RegExpMatchArray> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${String(re)}`)), timeoutMs);
      const check = (): void => {
        const m = (this.#stdout + this.#stderr).match(re);
        if (m !== null) {
          clearTimeout(timer);
          resolve(m);
        } else if (this.#exit !== undefined) {
          clearTimeout(timer);
          reject(new Error(`peer exited (code ${String(this.#exit.code)}) before printing ${String(re)}`));
        } else {
          this.#waiters.push(check);
        }
      };
      check();
    });
  }

  /** Waits for exit; kills the process (SIGKILL) if it is still running after `timeoutMs`. */
  async waitExit(timeoutMs: number): Promise<Exit & { readonly timedOut: boolean }> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    });
    const r = await Promise.race([this.exited, timeout]);
    clearTimeout(timer);
    if (r === 'timeout') {
      this.kill();
      return { ...(await this.exited), timedOut: true };
    }
    return { ...r, timedOut: false };
  }

  write(text: string): void {
    if (!this.#proc.stdin.destroyed) this.#proc.stdin.write(text);
  }

  endInput(): void {
    if (!this.#proc.stdin.destroyed) this.#proc.stdin.end();
  }

  kill(): void {
    if (this.#exit === undefined) this.#proc.kill('SIGKILL');
  }

  /** Both output streams, trimmed, for failure reports. */
  transcript(max = 1500): string {
    const all = `--- stdout\n${this.#stdout}\n--- stderr\n${this.#stderr}`;
    return all.length > max ? `…${all.slice(all.length - max)}` : all;
  }
}

/** A loopback port that was free a moment ago (for peers that cannot bind port 0 and report it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a !== null ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
