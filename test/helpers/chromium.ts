/**
 * Which Chromium the browser tests drive (playwright-core), so `npm test` passes on a fresh
 * machine with no apt step:
 *   1. CHROMIUM_PATH, when set (an executable path; the value `@sparticuz/chromium` forces 3);
 *   2. the system Chromium, /usr/bin/chromium (Debian's `chromium` package, which .ci/run installs);
 *   3. else the headless Chromium shipped inside the `@sparticuz/chromium` devDependency: a
 *      brotli-packed binary from the npm registry that needs only libc, libexpat and libgcc.
 *      It unpacks to $TMPDIR/chromium on first use (about 10 s, then reused).
 */
import { existsSync } from 'node:fs';

export interface ChromiumChoice {
  readonly executablePath: string;
  /** Extra flags this build needs on top of the test's own. */
  readonly args: readonly string[];
  /** For the test log: where the binary came from. */
  readonly source: string;
}

const SYSTEM_CHROMIUM = '/usr/bin/chromium';
const BUNDLED = '@sparticuz/chromium';

export async function findChromium(): Promise<ChromiumChoice> {
  const fromEnv = process.env['CHROMIUM_PATH'];
  if (fromEnv !== undefined && fromEnv !== '' && fromEnv !== BUNDLED) {
    if (!existsSync(fromEnv)) throw new Error(`CHROMIUM_PATH=${fromEnv}: no such file; unset it to use ${SYSTEM_CHROMIUM} or the bundled ${BUNDLED}`);
    return { executablePath: fromEnv, args: [], source: `CHROMIUM_PATH=${fromEnv}` };
  }
  if (fromEnv !== BUNDLED && existsSync(SYSTEM_CHROMIUM)) return { executablePath: SYSTEM_CHROMIUM, args: [], source: SYSTEM_CHROMIUM };
  const { default: Chromium } = await import('@sparticuz/chromium');
  const executablePath = await Chromium.executablePath();
  // Built for serverless hosts: no zygote and the "shell" headless mode (its own flag list also
  // turns web security off, which these tests must not do, so only the launch essentials are used).
  return { executablePath, args: [], source: `${BUNDLED} (${executablePath})` };
}
