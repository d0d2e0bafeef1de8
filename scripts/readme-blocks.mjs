// The shell blocks of the READMEs, run as a reader pastes them (issue 12 §5). Used by
// test/docs/readme-shell.test.ts and scripts/consumer-test.mjs.
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/** Every ```sh block of a Markdown file, in order. */
export function shellBlocks(path) {
  const md = readFileSync(path, 'utf8');
  return [...md.matchAll(/^```(?:sh|bash|shell)\n([\s\S]*?)^```/gm)].map((m) => m[1]);
}

export async function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a !== null ? a.port : 0));
    });
    s.on('error', reject);
  });
}

/**
 * Runs `script` with bash as an interactive paste would (aliases expand; job specs like %1 work).
 * `ports`: fixed ports in the text swapped for free ones; `replace`: other [from, to] swaps (scratch
 * folders). `errexit`: stop at the first failing command (off for blocks that show a failure on
 * purpose). Whatever the script leaves running is killed at its end, or at `timeoutMs`.
 */
export async function runShellBlock(script, { cwd, env = process.env, ports = [], replace = [], errexit = true, timeoutMs = 150_000 } = {}) {
  let text = script;
  for (const [from, to] of replace) text = text.replaceAll(from, to);
  for (const p of ports) text = text.replaceAll(String(p), String(await freePort()));
  // set -m: background jobs get their own process group, as in an interactive shell, so `kill %1`
  // stops `npx …` and the node process it started. At the end (or on SIGTERM from the guard) every
  // job's group still running is stopped.
  const prelude = [
    'set -m',
    'shopt -s expand_aliases',
    "__stop_jobs() { for p in $(jobs -p); do kill -- -$p 2>/dev/null; done; true; }",
    "trap __stop_jobs EXIT",
    "trap 'exit 143' TERM",
    ...(errexit ? ['set -eo pipefail'] : []),
  ].join('\n');
  return new Promise((resolve) => {
    // detached: bash leads a new session; every process the block starts stays in it (set -m only
    // makes new process groups), so killSession() finds whatever is left at the end.
    const child = spawn('bash', ['-c', `${prelude}\n${text}`], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d.toString()));
    child.stderr.on('data', (d) => (stderr += d.toString()));
    const guard = setTimeout(() => {
      child.kill('SIGTERM'); // the EXIT trap stops the jobs
      setTimeout(() => killSession(child.pid), 3000).unref();
    }, timeoutMs);
    let done = false;
    const finish = (code) => {
      if (done) return;
      done = true;
      clearTimeout(guard);
      killSession(child.pid);
      resolve({ code, stdout, stderr, script: text });
    };
    child.on('close', (code) => finish(code));
    // A leftover process holding stdout would delay 'close' forever: give it 2 s after bash exits.
    child.on('exit', (code) => setTimeout(() => finish(code), 2000).unref());
  });
}

/** SIGKILL every process of session `sid` (Linux /proc; elsewhere nothing to do). */
export function killSession(sid) {
  if (sid === undefined) return;
  let pids = [];
  try {
    pids = readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  } catch {
    return;
  }
  for (const pid of pids) {
    try {
      // Fields after the command name (which may contain spaces), from ") ": state ppid pgrp session.
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(') ') + 2).split(' ');
      if (Number(fields[3]) === sid) process.kill(Number(pid), 'SIGKILL');
    } catch {
      // gone meanwhile, or not ours
    }
  }
}
