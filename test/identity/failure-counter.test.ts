import { describe, expect, it } from 'vitest';
import { FailureCounter } from '../../src/identity/server/failure-counter.ts';

describe('FailureCounter (spec §5.7 lockout)', () => {
  it('locks at maxFailures and unlocks on reset', () => {
    const c = new FailureCounter(3, 10);
    expect(c.recordFailure('a')).toBe(1);
    expect(c.recordFailure('a')).toBe(2);
    expect(c.isLocked('a')).toBe(false);
    expect(c.recordFailure('a')).toBe(3);
    expect(c.isLocked('a')).toBe(true);
    c.reset('a');
    expect(c.failures('a')).toBe(0);
    expect(c.isLocked('a')).toBe(false);
  });

  it('when full, forgets the oldest unlocked identity and keeps locked ones', () => {
    const c = new FailureCounter(2, 3);
    c.recordFailure('locked');
    c.recordFailure('locked');
    c.recordFailure('old');
    c.recordFailure('mid');
    c.recordFailure('new');
    expect(c.isLocked('locked')).toBe(true);
    expect(c.failures('old')).toBe(0);
    expect(c.failures('mid')).toBe(1);
    expect(c.failures('new')).toBe(1);
  });

  it('counting an identity already tracked evicts nothing', () => {
    const c = new FailureCounter(5, 2);
    c.recordFailure('x');
    c.recordFailure('y');
    expect(c.recordFailure('x')).toBe(2);
    expect(c.failures('y')).toBe(1);
  });
});
