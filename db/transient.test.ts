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

  it('a statement the database refused is never transient, whatever wraps it (issue #12)', () => {
    const refused = (code: string, message: string) => new Error('Failed query: insert into …', { cause: Object.assign(new Error(message), { code }) });
    // More than 65,535 parameters: the server refuses the bind message as a protocol violation (class 08).
    expect(isTransientDatabaseError(refused('08P01', 'bind message has 12477 parameter formats but 0 parameters'))).toBe(false);
    expect(isTransientDatabaseError(refused('22P05', 'unsupported Unicode escape sequence'))).toBe(false);
    expect(isTransientDatabaseError(refused('22021', 'invalid byte sequence for encoding "UTF8": 0x00'))).toBe(false);
    expect(isTransientDatabaseError(refused('42601', 'syntax error at or near "selec"'))).toBe(false);
    expect(isTransientDatabaseError(refused('54000', 'index row size exceeds maximum'))).toBe(false);
    // postgres.js's own refusal before sending.
    expect(isTransientDatabaseError(Object.assign(new Error('Max number of parameters (65534) exceeded'), { code: 'MAX_PARAMETERS_EXCEEDED' }))).toBe(false);
    // The connection classes stay transient, wrapped or not.
    for (const code of ['08000', '08001', '08003', '08004', '08006', '08007', '57P01', '57P02', '57P03', '53300']) {
      expect(isTransientDatabaseError(refused(code, 'connection'))).toBe(true);
    }
  });

  it('a refused statement is tried once, never retried', async () => {
    let calls = 0;
    await expect(retryTransient(async () => {
      calls++;
      throw new Error('Failed query', { cause: Object.assign(new Error('bind message has 12477 parameter formats but 0 parameters'), { code: '08P01' }) });
    })).rejects.toThrow('Failed query');
    expect(calls).toBe(1);
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
