import { describe, expect, it } from 'vitest';
import { isTransientDatabaseError, retryTransient } from './transient.ts';

describe('transient database errors', () => {
  it('recognises dropped connections and server shutdowns, not statement errors', () => {
    expect(isTransientDatabaseError(Object.assign(new Error('x'), { code: 'ECONNREFUSED' }))).toBe(true);
    expect(isTransientDatabaseError(Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' }))).toBe(true);
    expect(isTransientDatabaseError(Object.assign(new Error('closed'), { code: 'CONNECTION_CLOSED' }))).toBe(true);
    expect(isTransientDatabaseError(new Error('Failed query', { cause: Object.assign(new Error('x'), { code: '08006' }) }))).toBe(true);
    expect(isTransientDatabaseError(new AggregateError([Object.assign(new Error(''), { code: 'ECONNREFUSED' })]))).toBe(true);
    expect(isTransientDatabaseError(Object.assign(new Error('duplicate key'), { code: '23505' }))).toBe(false);
    expect(isTransientDatabaseError(new Error('plain'))).toBe(false);
  });

  it('retries transient failures until the write succeeds, and gives up on the others at once', async () => {
    let calls = 0;
    const result = await retryTransient(async () => {
      if (++calls < 3) throw Object.assign(new Error('down'), { code: 'ECONNRESET' });
      return 'stored';
    });
    expect(result).toBe('stored');
    expect(calls).toBe(3);
    let other = 0;
    await expect(retryTransient(async () => {
      other++;
      throw Object.assign(new Error('bad'), { code: '23505' });
    })).rejects.toThrow('bad');
    expect(other).toBe(1);
    await expect(retryTransient(async () => {
      throw Object.assign(new Error('still down'), { code: 'ECONNREFUSED' });
    }, 250)).rejects.toThrow('still down');
  });
});
