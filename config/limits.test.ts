import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS, LimitConfigError, LimitExceededError, limitsFromEnv } from './limits.ts';
import { limitsMarkdownTable } from './limits-table.ts';

describe('limits', () => {
  it('reads BATON_LIMIT_* and keeps the defaults for unset or empty ones', () => {
    const limits = limitsFromEnv({ BATON_LIMIT_FOREACH_ITEMS: '25', BATON_LIMIT_FLOW_TASKS: '' });
    expect(limits.forEachItems).toBe(25);
    expect(limits.flowTasks).toBe(DEFAULT_LIMITS.flowTasks);
  });

  it.each(['0', '-1', '1.5', 'lots', '1e400'])('refuses %s naming the variable', (raw) => {
    expect(() => limitsFromEnv({ BATON_LIMIT_TASK_LOG_BYTES: raw })).toThrow(LimitConfigError);
    expect(() => limitsFromEnv({ BATON_LIMIT_TASK_LOG_BYTES: raw })).toThrow(/BATON_LIMIT_TASK_LOG_BYTES must be a positive whole number/);
  });

  it('says which limit was reached and how to raise it', () => {
    const error = new LimitExceededError('forEachItems', 'ForEach "each" has 100000 items', limitsFromEnv({ BATON_LIMIT_FOREACH_ITEMS: '500' }));
    expect(error.message).toBe('ForEach "each" has 100000 items: exceeds the limit of 500 (raise it with BATON_LIMIT_FOREACH_ITEMS)');
    expect(new LimitExceededError('taskOutputBytes', 'outputs of task "t"').message).toContain('limit of 4194304 bytes');
  });

  it('docs/security.md lists every limit with its default, as generated', () => {
    const page = readFileSync(new URL('../docs/security.md', import.meta.url), 'utf8');
    expect(page, 'regenerate the table with limitsMarkdownTable() (config/limits-table.ts)').toContain(limitsMarkdownTable());
  });
});
