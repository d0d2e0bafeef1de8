/**
 * Issue 5 "Tests": bad input to every endpoint gets a 4xx JSON error with a code and a message,
 * and the service keeps running (status still answers, a good request still succeeds).
 */
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bytesToHex } from '../../src/codec/bytes.ts';
import { generateEnrolmentKey, type Operation, type SignedRequest, signRequest } from '../../src/identity/auth.ts';
import { hashIdHex } from '../../src/identity/client/mpin-client.ts';
import { crypto, DtaCluster, errorCode, postJson, seededRandom, TestClock } from './helpers.ts';

const T0 = Date.UTC(2026, 10, 28, 9, 30);
const ENDPOINTS: readonly (readonly [string, Operation])[] = [
  ['/v1/client-secret', 'client-secret'],
  ['/v1/time-permits', 'time-permits'],
  ['/v1/server-secret', 'server-secret'],
  ['/v1/wcc/sender-key', 'wcc-sender'],
  ['/v1/wcc/receiver-key', 'wcc-receiver'],
  ['/v1/revocations', 'revoke'],
];
const HASH = hashIdHex(crypto, 'mallory@example.com');

describe('DTA endpoints reject bad input with 4xx and keep running', () => {
  const clock = new TestClock(T0);
  let cluster: DtaCluster;
  let base: string;

  beforeAll(async () => {
    cluster = await DtaCluster.start(1, clock, { maxBodyBytes: 4096, maxRequestLifetimeMs: 3_600_000 });
    base = cluster.urls[0] ?? '';
  });
  afterAll(async () => {
    await cluster.stop();
  });

  const paramsFor = (op: Operation): { op: Operation; hashId?: string } => (op === 'server-secret' ? { op } : { op, hashId: HASH });

  async function expectAlive(): Promise<void> {
    const res = await fetch(`${base}/v1/status`);
    expect(res.status).toBe(200);
    const st = (await res.json()) as Record<string, unknown>;
    expect(st['service']).toBe('milagro-ts-dta');
    expect(st['fingerprint']).toMatch(/^[0-9a-f]{64}$/);
  }

  async function expectError(path: string, body: string, status: number, code: string, headers?: Record<string, string>): Promise<void> {
    const r = await postJson(`${base}${path}`, body, headers);
    expect({ path, status: r.status, code: errorCode(r.json) }).toEqual({ path, status, code });
  }

  const mutate = (s: SignedRequest, f: (req: Record<string, unknown>) => void): SignedRequest => {
    const req = JSON.parse(s.request) as Record<string, unknown>;
    f(req);
    // Re-sign so only the mutated field is wrong.
    const text = JSON.stringify(req);
    return { ...s, request: text, signature: bytesToHex(signExact(text)) };
  };
  let signExact: (text: string) => Uint8Array;

  beforeAll(async () => {
    const { ed25519 } = await import('@noble/curves/ed25519.js');
    signExact = (text) => ed25519.sign(new TextEncoder().encode(`milagro-ts dta request v1\n${text}`), cluster.key.secretKey);
  });

  it('status answers GET and refuses POST', async () => {
    await expectAlive();
    await expectError('/v1/status', '{}', 405, 'method_not_allowed');
  });

  it('unknown paths and wrong methods', async () => {
    await expectError('/v1/nope', '{}', 404, 'not_found');
    await expectError('/v2/client-secret', '{}', 404, 'not_found');
    const res = await fetch(`${base}/v1/client-secret`);
    expect(res.status).toBe(405);
    expect(errorCode(await res.json())).toBe('method_not_allowed');
    await expectAlive();
  });

  for (const [path, op] of ENDPOINTS) {
    describe(`${path}`, () => {
      it('refuses non-JSON content types, empty bodies, invalid JSON and non-objects', async () => {
        await expectError(path, '{}', 415, 'unsupported_media_type', { 'content-type': 'text/plain' });
        await expectError(path, '', 400, 'bad_json');
        await expectError(path, '{"request":', 400, 'bad_json');
        await expectError(path, '[1,2,3]', 400, 'invalid_field');
        await expectError(path, 'null', 400, 'invalid_field');
        await expectAlive();
      });

      it('refuses missing fields, wrong types, wrong lengths and invalid hex', async () => {
        const good = cluster.sign(paramsFor(op));
        await expectError(path, JSON.stringify({ keyId: good.keyId, signature: good.signature }), 400, 'missing_field');
        await expectError(path, JSON.stringify({ request: good.request, signature: good.signature }), 400, 'missing_field');
        await expectError(path, JSON.stringify({ request: good.request, keyId: good.keyId }), 400, 'missing_field');
        await expectError(path, JSON.stringify({ ...good, request: 7 }), 400, 'invalid_field');
        await expectError(path, JSON.stringify({ ...good, keyId: good.keyId.slice(2) }), 400, 'invalid_field');
        await expectError(path, JSON.stringify({ ...good, keyId: `zz${good.keyId.slice(2)}` }), 400, 'invalid_field');
        await expectError(path, JSON.stringify({ ...good, signature: `${good.signature}00` }), 400, 'invalid_field');
        await expectError(path, JSON.stringify({ ...good, signature: good.signature.toUpperCase() }), 400, 'invalid_field');
        // Inner request: each field wrong in turn (validly signed, so the parser is what refuses).
        if (op !== 'server-secret') {
          await expectError(path, JSON.stringify(mutate(good, (r) => delete r['hashId'])), 400, 'missing_field');
          await expectError(path, JSON.stringify(mutate(good, (r) => (r['hashId'] = HASH.slice(2)))), 400, 'invalid_field');
          await expectError(path, JSON.stringify(mutate(good, (r) => (r['hashId'] = `${HASH.slice(0, 62)}zz`))), 400, 'invalid_field');
        } else {
          await expectError(path, JSON.stringify(mutate(good, (r) => (r['hashId'] = HASH))), 400, 'invalid_field');
        }
        await expectError(path, JSON.stringify(mutate(good, (r) => (r['nonce'] = 'abc'))), 400, 'invalid_field');
        await expectError(path, JSON.stringify(mutate(good, (r) => (r['v'] = 2))), 400, 'invalid_field');
        await expectError(path, JSON.stringify(mutate(good, (r) => (r['expiresAt'] = 'soon'))), 400, 'invalid_field');
        await expectError(path, JSON.stringify(mutate(good, (r) => (r['extra'] = 1))), 400, 'invalid_field');
        await expectError(path, JSON.stringify(mutate(good, (r) => (r['fromDay'] = -3))), 400, 'invalid_field');
        await expectError(path, JSON.stringify({ ...good, request: '{not json' }), 403, 'bad_signature');
        await expectAlive();
      });

      it('refuses unknown keys, bad signatures, wrong operations, expired, early and replayed requests', async () => {
        const stranger = generateEnrolmentKey(seededRandom(99));
        const foreign = signRequest(stranger, paramsFor(op), { clock: clock.read, random: seededRandom(7) });
        await expectError(path, JSON.stringify(foreign), 403, 'unknown_key');
        const good = cluster.sign(paramsFor(op));
        const flipped = good.signature.slice(0, 10) + (good.signature[10] === 'a' ? 'b' : 'a') + good.signature.slice(11);
        await expectError(path, JSON.stringify({ ...good, signature: flipped }), 403, 'bad_signature');
        const tampered = good.request.replace('"v":1', '"v":1 ');
        await expectError(path, JSON.stringify({ ...good, request: tampered }), 403, 'bad_signature');
        const otherOp: Operation = op === 'server-secret' ? 'client-secret' : 'server-secret';
        await expectError(path, JSON.stringify(cluster.sign(paramsFor(otherOp))), 400, 'wrong_operation');
        // Expired: signed two hours ago with a one-hour lifetime.
        const past = new TestClock(clock.now - 2 * 3_600_000);
        const expired = signRequest(cluster.key, paramsFor(op), { clock: past.read, random: seededRandom(11), lifetimeMs: 3_600_000 });
        await expectError(path, JSON.stringify(expired), 403, 'expired');
        const future = new TestClock(clock.now + 10 * 60_000);
        const early = signRequest(cluster.key, paramsFor(op), { clock: future.read, random: seededRandom(12) });
        await expectError(path, JSON.stringify(early), 403, 'not_yet_valid');
        const longLived = cluster.sign(paramsFor(op), 48 * 3_600_000);
        await expectError(path, JSON.stringify(longLived), 400, 'lifetime_too_long');
        // First use is fine (revoking mallory is fine too), the replay is refused.
        const once = cluster.sign(paramsFor(op));
        const first = await postJson(`${base}${path}`, JSON.stringify(once));
        expect(first.status).toBe(200);
        await expectError(path, JSON.stringify(once), 409, 'replayed');
        await expectAlive();
      });

      it('refuses oversize bodies with 413 and keeps serving', async () => {
        const big = JSON.stringify({ request: 'x'.repeat(10_000), keyId: '', signature: '' });
        await expectError(path, big, 413, 'body_too_large');
        // Same without a content-length (chunked): the limit applies while streaming.
        const status = await new Promise<number>((resolve, reject) => {
          const u = new URL(`${base}${path}`);
          const req = request({ host: u.hostname, port: u.port, path: u.pathname, method: 'POST', headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' } });
          req.on('response', (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          });
          req.on('error', reject);
          for (let i = 0; i < 8; i++) req.write('x'.repeat(1024));
          req.end();
        });
        expect(status).toBe(413);
        await expectAlive();
      });
    });
  }

  it('time-permits: ranges in the past, too far ahead or reversed are refused', async () => {
    const HASH = hashIdHex(crypto, 'trent@example.com');
    const today = Math.floor(clock.now / 86_400_000);
    await expectError('/v1/time-permits', JSON.stringify(cluster.sign({ op: 'time-permits', hashId: HASH, fromDay: today - 5 })), 400, 'invalid_field');
    await expectError('/v1/time-permits', JSON.stringify(cluster.sign({ op: 'time-permits', hashId: HASH, toDay: today + 30 })), 400, 'invalid_field');
    await expectError('/v1/time-permits', JSON.stringify(cluster.sign({ op: 'time-permits', hashId: HASH, fromDay: today + 2, toDay: today + 1 })), 400, 'invalid_field');
    await expectAlive();
  });

  it('survives garbage on the socket', async () => {
    const net = await import('node:net');
    const u = new URL(base);
    await new Promise<void>((resolve) => {
      const s = net.connect(Number(u.port), u.hostname, () => s.end('\x16\x03\x01garbage\r\n\r\n'));
      s.on('data', () => undefined);
      s.on('close', () => resolve());
      s.on('error', () => resolve());
    });
    await expectAlive();
  });
});
