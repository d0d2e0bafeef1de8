/**
 * Tests that need a system program (openssl, gnutls-serv, redis-server, mosquitto, slapd, ...)
 * skip LOUDLY when it is not installed, and only then: `npm test` must pass on a fresh machine
 * with no apt step, and the reader must see what did not run and how to get it.
 *
 *   const redis = systemBinary('redis-server', 'redis-server');
 *   describe.skipIf(redis === undefined)('redis backend', () => { ... spawn(redis!, ...) });
 *
 * .ci/run installs every package and sets MILAGRO_TS_REQUIRE_SYSTEM_BINARIES=1: there a missing
 * program is an error, so CI can never pass by skipping.
 */
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

const EXTRA_DIRS = ['/usr/sbin', '/sbin', '/usr/local/sbin']; // slapd lives in /usr/sbin, often not on PATH

/** The absolute path of `name`, or undefined (after a visible SKIPPED line naming the apt package). */
export function systemBinary(name: string, aptPackage: string): string | undefined {
  for (const dir of [...(process.env['PATH'] ?? '').split(delimiter), ...EXTRA_DIRS]) {
    if (dir === '') continue;
    const p = join(dir, name);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // not here
    }
  }
  const what = `\`${name}\` is not installed (Debian package ${aptPackage}: apt-get install -y ${aptPackage}; .ci/run installs it)`;
  if (process.env['MILAGRO_TS_REQUIRE_SYSTEM_BINARIES'] === '1') throw new Error(`${what}, and MILAGRO_TS_REQUIRE_SYSTEM_BINARIES=1 forbids skipping`);
  process.stderr.write(`\n*** SKIPPED: ${what}. The tests that need it do not run. ***\n\n`);
  return undefined;
}
