/** `milagro-ts dta` / `milagro-ts identity` argument handling: helpful errors, exit codes, no stack traces. */
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main as dtaMain } from '../../src/cli/dta.ts';
import { main as identityMain } from '../../src/cli/identity.ts';

async function run(main: (argv: string[]) => Promise<number>, argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => {
    out += String(s);
    return true;
  });
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => {
    err += String(s);
    return true;
  });
  try {
    const code = await main(argv);
    return { code, out, err };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

describe('CLI arguments', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'milagro-cli-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('dta: usage, unknown subcommand, missing options', async () => {
    expect((await run(dtaMain, [])).code).toBe(2);
    expect(await run(dtaMain, ['--help'])).toMatchObject({ code: 0, out: expect.stringContaining('dta serve') as unknown });
    expect(await run(dtaMain, ['frobnicate'])).toMatchObject({ code: 2, err: expect.stringContaining('unknown dta subcommand') as unknown });
    expect(await run(dtaMain, ['serve'])).toMatchObject({ code: 2, err: expect.stringContaining('--data-dir DIR is required') as unknown });
    expect(await run(dtaMain, ['serve', '--data-dir', dir])).toMatchObject({ code: 2, err: expect.stringContaining('no trusted enrolment key') as unknown });
    expect(await run(dtaMain, ['serve', '--data-dir', dir, '--trust', 'abc'])).toMatchObject({ code: 2, err: expect.stringContaining('64-hex-character') as unknown });
    expect(await run(dtaMain, ['serve', '--data-dir', dir, '--trust-file', join(dir, 'nope.pub')])).toMatchObject({ code: 2, err: expect.stringContaining('no such file') as unknown });
    expect(await run(dtaMain, ['serve', '--data-dir', dir, '--trust', 'ab'.repeat(32), '--tls-cert', 'x.pem'])).toMatchObject({ code: 2, err: expect.stringContaining('go together') as unknown });
    expect(await run(dtaMain, ['serve', '--data-dir', dir, '--port', '99999', '--trust', 'ab'.repeat(32)])).toMatchObject({ code: 2, err: expect.stringContaining('--port') as unknown });
    expect(await run(dtaMain, ['status', 'not a url'])).toMatchObject({ code: 1, err: expect.stringContaining('not a URL') as unknown });
  });

  it('identity: keygen, hash, sign, and errors that say what to pass', async () => {
    const key = join(dir, 'admin.key');
    const kg = await run(identityMain, ['keygen', '--out', key]);
    expect(kg.code).toBe(0);
    expect(kg.out).toMatch(/^[0-9a-f]{64}\n$/);
    expect(await readFile(`${key}.pub`, 'utf8')).toBe(kg.out);
    expect((await stat(key)).mode & 0o777).toBe(0o600);
    expect(await run(identityMain, ['keygen', '--out', key])).toMatchObject({ code: 1, err: expect.stringContaining('refusing to overwrite') as unknown });
    expect(await run(identityMain, ['hash', 'client@miracl.com'])).toMatchObject({ code: 0, out: 'ffd537528ab0021207d049f87b7de080fcfe02f582f6b9f96aaa5561432afb89\n' });
    const signed = await run(identityMain, ['sign', 'alice@example.com', '--op', 'time-permits', '--enrol-key', key, '--valid', '5m']);
    expect(signed.code).toBe(0);
    const env = JSON.parse(signed.out) as { request: string; keyId: string };
    expect(env.keyId).toBe(kg.out.trim());
    const req = JSON.parse(env.request) as { op: string; hashId: string; notBefore: number; expiresAt: number };
    expect(req.op).toBe('time-permits');
    expect(req.expiresAt - req.notBefore).toBe(300_000);
    const bundle = await run(identityMain, ['sign', 'bob@example.com', '--op', 'register', '--enrol-key', key, '--out', join(dir, 'bob.json')]);
    expect(bundle.code).toBe(0);
    expect(JSON.parse(await readFile(join(dir, 'bob.json'), 'utf8'))).toMatchObject({ identity: 'bob@example.com', format: 'milagro-ts-registration-requests' });

    expect((await run(identityMain, [])).code).toBe(2);
    expect(await run(identityMain, ['bogus'])).toMatchObject({ code: 2, err: expect.stringContaining('unknown identity subcommand') as unknown });
    expect(await run(identityMain, ['sign', 'a@b', '--op', 'steal', '--enrol-key', key])).toMatchObject({ code: 2, err: expect.stringContaining('unknown --op') as unknown });
    expect(await run(identityMain, ['sign', 'a@b', '--op', 'revoke', '--enrol-key', key, '--valid', 'soon'])).toMatchObject({ code: 2, err: expect.stringContaining('duration') as unknown });
    expect(await run(identityMain, ['sign', '--op', 'revoke', '--enrol-key', key])).toMatchObject({ code: 2, err: expect.stringContaining('exactly one identity') as unknown });
    expect(await run(identityMain, ['sign', 'a@b', '--op', 'revoke', '--enrol-key', join(dir, 'missing.key')])).toMatchObject({ code: 1, err: expect.stringContaining('identity keygen') as unknown });
    expect(await run(identityMain, ['register', 'a@b', '--dta', 'http://127.0.0.1:1'])).toMatchObject({ code: 2, err: expect.stringContaining('--keystore') as unknown });
    expect(await run(identityMain, ['register', 'a@b', '--keystore', join(dir, 'k.json')])).toMatchObject({ code: 2, err: expect.stringContaining('--enrol-key FILE') as unknown });
    expect(await run(identityMain, ['export', '--keystore', join(dir, 'none.json')])).toMatchObject({ code: 1, err: expect.stringContaining('cannot read keystore') as unknown });
    expect(await run(identityMain, ['p2p-key', 'x@y', '--role', 'middle', '--enrol-key', key])).toMatchObject({ code: 2, err: expect.stringContaining('--role server') as unknown });
    expect(await run(identityMain, ['verify'])).toMatchObject({ code: 2, err: expect.stringContaining('--server-key') as unknown });
    // No DTAs reachable: the error names the DTA and nothing is written.
    const ks = join(dir, 'never.json');
    const savedPin = process.env['MILAGRO_PIN'];
    process.env['MILAGRO_PIN'] = '1234';
    try {
      const r = await run(identityMain, ['register', 'a@b.c', '--enrol-key', key, '--keystore', ks, '--dta', 'http://127.0.0.1:9']);
      expect(r).toMatchObject({ code: 1, err: expect.stringContaining('DTA http://127.0.0.1:9: unreachable') as unknown });
    } finally {
      if (savedPin === undefined) delete process.env['MILAGRO_PIN'];
      else process.env['MILAGRO_PIN'] = savedPin;
    }
    await expect(stat(ks)).rejects.toThrow(/ENOENT/);
  });
});
