/** Helpers shared by the CLI subcommands: argument errors that say what to pass, file loading, error text. */
import { appendFileSync, readFileSync } from 'node:fs';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { alertName, PeerAlertError, TlsError } from '../alerts.ts';
import { loadCertificates } from '../x509/index.ts';

/** A usage mistake: printed without a stack trace, exit code 2. */
export class CliError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode = 2) {
    super(message);
    this.name = 'CliError';
    this.exitCode = exitCode;
  }
}

/** node:util parseArgs with its errors turned into CliErrors that show the usage text. */
export function parseCli<T extends ParseArgsConfig>(config: T, usage: string): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config);
  } catch (e) {
    throw new CliError(`${(e as Error).message}\n\n${usage}`);
  }
}

/** Reads a file named by a flag; a missing/unreadable file says which flag and what it should hold. */
export function readFileArg(flag: string, path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'error';
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (e as Error).message;
    throw new CliError(`${flag} ${path}: ${why}; pass ${what}`);
  }
}

/** A --ca file: read and parsed here, so a file that is not PEM certificates is named in the error. */
export function readCaArg(path: string, flag = '--ca'): Buffer {
  const bytes = readFileArg(flag, path, 'a PEM file of CA certificates');
  try {
    if (loadCertificates([bytes]).length === 0) throw new Error('no certificate in it');
  } catch (e) {
    throw new CliError(`${flag} ${path}: not a usable PEM file of CA certificates (${(e as Error).message})`);
  }
  return bytes;
}

/** A flag that takes a positive integer (milliseconds, counts). */
export function parsePositiveInt(flag: string, value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < 1) throw new CliError(`${flag} must be a positive integer, got "${value}"`);
  return n;
}

/** One-line description of a TLS failure, naming the alert when there is one. */
export function describeTlsError(err: unknown): string {
  if (err instanceof PeerAlertError) return `peer sent alert ${alertName(err.alert)}`;
  if (err instanceof TlsError) return `alert ${alertName(err.alert)} sent: ${err.message}`;
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return typeof code === 'string' ? `${code}: ${err.message}` : err.message;
  }
  return String(err);
}

/** Runs a subcommand body, mapping CliError to its exit code and message. */
export async function runCli(body: () => Promise<number>): Promise<number> {
  try {
    return await body();
  } catch (e) {
    if (e instanceof CliError) {
      process.stderr.write(`milagro-ts: ${e.message}\n`);
      return e.exitCode;
    }
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('ERR_TLS')) {
      // Option validation errors from the API are already phrased for users.
      process.stderr.write(`milagro-ts: ${(e as Error).message}\n`);
      return 2;
    }
    throw e;
  }
}

/**
 * SSLKEYLOGFILE (the NSS key-log convention honoured by OpenSSL, curl, browsers): when set,
 * append each connection's key-log line so Wireshark can decrypt a capture. Returns the
 * 'keylog' listener, or undefined when the variable is not set.
 */
export function keylogSink(env: NodeJS.ProcessEnv = process.env): ((line: Buffer) => void) | undefined {
  const file = env['SSLKEYLOGFILE'];
  if (file === undefined || file.length === 0) return undefined;
  return (line: Buffer) => {
    try {
      appendFileSync(file, line, { mode: 0o600 });
    } catch (e) {
      process.stderr.write(`milagro-ts: cannot write SSLKEYLOGFILE ${file}: ${(e as Error).message}\n`);
    }
  };
}

/** --alpn "h2,http/1.1" → ['h2', 'http/1.1']. */
export function parseAlpnFlag(v: string): string[] {
  const names = v.split(',').map((x) => x.trim()).filter((x) => x.length > 0);
  if (names.length === 0 || names.some((n) => Buffer.byteLength(n) > 255)) throw new CliError(`--alpn takes comma-separated protocol names, not "${v}"`);
  return names;
}
