/** Runs before every test file (vitest setupFiles): processes a test leaves running are killed after it. */
import { afterEach } from 'vitest';
import { killTracked } from './helpers/processes.ts';

afterEach(killTracked);
