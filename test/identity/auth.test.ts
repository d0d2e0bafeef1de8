/** Issue 5 item 1: Ed25519-signed issuing requests — validity window, replay cache, strict parsing. */
import { describe, expect, it } from 'vitest';
import { bytesToHex } from '../../src/codec/bytes.ts';
import { generateEnrolmentKey, parseRequest, RequestVerifier, signRequest } from '../../src/identity/auth.ts';
import { DtaRequestError } from '../../src/identity/errors.ts';
import { seededRandom, TestClock } from './helpers.ts';

const HASH = 'ab'.repeat(32);

function setup(opts: { maxNonces?: number } = {}): { clock: TestClock; verifier: RequestVerifier; sign: (lifetimeMs?: number) => ReturnType<typeof signRequest> } {
  const clock = new TestClock(1_800_000_000_000);
  const random = seededRandom(17);
  const key = generateEnrolmentKey(random);
  const verifier = new RequestVerifier({ trustedKeys: [bytesToHex(key.publicKey)], clock: clock.read, ...opts });
  return {
    clock,
    verifier,
    sign: (lifetimeMs) => signRequest(key, { op: 'client-secret', hashId: HASH }, { clock: clock.read, random, ...(lifetimeMs !== undefined ? { lifetimeMs } : {}) }),
  };
}

function codeOf(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    if (e instanceof DtaRequestError) return e.code;
    throw e;
  }
  return undefined;
}

describe('RequestVerifier', () => {
  it('accepts a fresh request once and refuses the replay', () => {
    const { verifier, sign } = setup();
    const r = sign();
    expect(verifier.verify(r, 'client-secret')).toMatchObject({ op: 'client-secret', hashId: HASH });
    expect(codeOf(() => verifier.verify(r, 'client-secret'))).toBe('replayed');
  });

  it('expiry and not-before are checked against the injected clock with a 60 s skew', () => {
    const { clock, verifier, sign } = setup();
    const r = sign(60_000);
    const early = sign(60_000);
    clock.now += 60_000 + 59_000;
    expect(verifier.verify(r, 'client-secret').op).toBe('client-secret');
    clock.now += 2_000;
    expect(codeOf(() => verifier.verify(early, 'client-secret'))).toBe('expired');
    const { clock: c2, verifier: v2, sign: s2 } = setup();
    const future = s2();
    c2.now -= 61_000;
    expect(codeOf(() => v2.verify(future, 'client-secret'))).toBe('not_yet_valid');
  });

  it('refuses a validity window longer than the configured maximum', () => {
    const { verifier, sign } = setup();
    expect(codeOf(() => verifier.verify(sign(25 * 3_600_000), 'client-secret'))).toBe('lifetime_too_long');
  });

  it('refuses requests for another endpoint, from unknown keys, or with bad signatures', () => {
    const { verifier, sign } = setup();
    expect(codeOf(() => verifier.verify(sign(), 'time-permits'))).toBe('wrong_operation');
    const stranger = generateEnrolmentKey(seededRandom(5));
    const foreign = signRequest(stranger, { op: 'client-secret', hashId: HASH }, { clock: () => 1_800_000_000_000, random: seededRandom(6) });
    expect(codeOf(() => verifier.verify(foreign, 'client-secret'))).toBe('unknown_key');
    const r = sign();
    expect(codeOf(() => verifier.verify({ ...r, request: r.request.replace(HASH, 'cd'.repeat(32)) }, 'client-secret'))).toBe('bad_signature');
    // A signature that is not even a valid encoding (s ≥ L) is a bad signature, not a crash.
    expect(codeOf(() => verifier.verify({ ...r, signature: 'ff'.repeat(64) }, 'client-secret'))).toBe('bad_signature');
  });

  it('keeps at most maxNonces unexpired nonces, prunes expired ones, and answers busy instead of forgetting', () => {
    const { clock, verifier, sign } = setup({ maxNonces: 3 });
    for (let i = 0; i < 3; i++) verifier.verify(sign(60_000), 'client-secret');
    expect(verifier.rememberedNonces).toBe(3);
    const waiting = sign(10 * 60_000);
    expect(codeOf(() => verifier.verify(waiting, 'client-secret'))).toBe('busy');
    clock.now += 2 * 60_000 + 1;
    // The three expired nonces are pruned; the refused request was not remembered and now passes.
    expect(verifier.verify(waiting, 'client-secret').op).toBe('client-secret');
    expect(verifier.rememberedNonces).toBe(1);
  });

  it('rejects malformed trusted keys at construction', () => {
    expect(() => new RequestVerifier({ trustedKeys: ['xyz'], clock: () => 0 })).toThrow(/not 64 lowercase hex/);
  });
});

describe('parseRequest', () => {
  const base = { v: 1, op: 'time-permits', hashId: HASH, nonce: '00'.repeat(16), notBefore: 1, expiresAt: 2 };
  const bad = (o: unknown): string | undefined => codeOf(() => parseRequest(JSON.stringify(o)));

  it('accepts a well-formed request and keeps only known fields', () => {
    expect(parseRequest(JSON.stringify({ ...base, fromDay: 5, toDay: 6 }))).toEqual({ ...base, fromDay: 5, toDay: 6 });
  });

  it('rejects each malformed field', () => {
    expect(codeOf(() => parseRequest('nope'))).toBe('invalid_field');
    expect(bad([base])).toBe('invalid_field');
    expect(bad({ ...base, v: '1' })).toBe('invalid_field');
    expect(bad({ ...base, op: 'steal-master-secret' })).toBe('invalid_field');
    expect(bad({ ...base, nonce: '00' })).toBe('invalid_field');
    expect(bad({ ...base, notBefore: 1.5 })).toBe('invalid_field');
    expect(bad({ ...base, expiresAt: 1 })).toBe('invalid_field');
    expect(bad({ ...base, hashId: undefined })).toBe('missing_field');
    expect(bad({ ...base, hashId: HASH.toUpperCase() })).toBe('invalid_field');
    expect(bad({ ...base, op: 'server-secret' })).toBe('invalid_field');
    expect(bad({ ...base, fromDay: 2 ** 31 })).toBe('invalid_field');
    expect(bad({ ...base, toDay: '7' })).toBe('invalid_field');
    expect(bad({ ...base, withPermits: 'yes' })).toBe('invalid_field');
    expect(bad({ ...base, reason: 'x'.repeat(201) })).toBe('invalid_field');
    expect(bad({ ...base, __proto__x: 1 })).toBe('invalid_field');
  });
});

describe('restart floor', () => {
  it('refuses requests signed before the verifier started (minus skew)', () => {
    const clock = new TestClock(1_800_000_000_000);
    const random = seededRandom(23);
    const key = generateEnrolmentKey(random);
    const early = signRequest(key, { op: 'client-secret', hashId: HASH }, { clock: clock.read, random });
    clock.now += 61_000;
    const verifier = new RequestVerifier({ trustedKeys: [bytesToHex(key.publicKey)], clock: clock.read, signedNotBefore: clock.now - 60_000 });
    expect(() => verifier.verify(early, 'client-secret')).toThrow(/signed before this DTA last started/);
    const fresh = signRequest(key, { op: 'client-secret', hashId: HASH }, { clock: clock.read, random });
    expect(verifier.verify(fresh, 'client-secret').op).toBe('client-secret');
  });
});
