/**
 * A throw-away mosquitto broker on loopback (no persistence, anonymous), for demo:iot and
 * test/tunnel/mosquitto.test.ts. Resolves once the broker logs that it is running.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export const MOSQUITTO = '/usr/sbin/mosquitto';

/** Starts mosquitto on 127.0.0.1:`port` with its config written into `dir`; stop it with kill('SIGTERM'). */
export async function startMosquitto(dir: string, port: number): Promise<ChildProcess> {
  const conf = join(dir, 'mosquitto.conf');
  await writeFile(conf, `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\nlog_dest stderr\n`);
  const proc = spawn(MOSQUITTO, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  proc.stderr.setEncoding('utf8').on('data', (d: string) => (log += d));
  const t0 = Date.now();
  while (!/running/.test(log)) {
    if (proc.exitCode !== null || Date.now() - t0 > 10_000) {
      proc.kill('SIGKILL');
      throw new Error(`mosquitto did not start:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return proc;
}
