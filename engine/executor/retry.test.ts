import { describe, expect, it } from 'vitest';
import { nextRetryDelay } from './retry.ts';

describe('nextRetryDelay', () => {
  it('no retry block → never retried', () => {
    expect(nextRetryDelay(undefined, 1, 0)).toBeNull();
  });

  it('constant: maxAttempt counts the first attempt', () => {
    const retry = { type: 'constant' as const, interval: 'PT1S', maxAttempt: 3 };
    expect(nextRetryDelay(retry, 1, 0)).toBe(1000);
    expect(nextRetryDelay(retry, 2, 0)).toBe(1000);
    expect(nextRetryDelay(retry, 3, 0)).toBeNull();
  });

  it('exponential doubles by default and is capped by maxInterval', () => {
    const retry = { type: 'exponential' as const, interval: 'PT1S', maxInterval: 'PT5S', maxAttempt: 10 };
    expect([1, 2, 3, 4].map((n) => nextRetryDelay(retry, n, 0))).toEqual([1000, 2000, 4000, 5000]);
    expect(nextRetryDelay({ ...retry, delayFactor: 3 }, 2, 0)).toBe(3000);
  });

  it('random stays within bounds', () => {
    const retry = { type: 'random' as const, minInterval: 'PT1S', maxInterval: 'PT2S', maxAttempt: 5 };
    expect(nextRetryDelay(retry, 1, 0, () => 0)).toBe(1000);
    expect(nextRetryDelay(retry, 1, 0, () => 0.999)).toBeLessThan(2000);
  });

  it('maxDuration stops retries that would end past it', () => {
    const retry = { type: 'constant' as const, interval: 'PT10S', maxDuration: 'PT30S' };
    expect(nextRetryDelay(retry, 1, 15_000)).toBe(10_000);
    expect(nextRetryDelay(retry, 2, 25_000)).toBeNull();
  });

  it('neither bound: three attempts, as Failsafe\'s default', () => {
    const retry = { type: 'constant' as const, interval: 'PT0S' };
    expect(nextRetryDelay(retry, 2, 0)).toBe(0);
    expect(nextRetryDelay(retry, 3, 0)).toBeNull();
  });
});
