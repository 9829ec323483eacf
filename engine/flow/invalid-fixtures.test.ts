import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatProblem, validateFlowSource } from './index.ts';

/**
 * One invalid flow per rule in test/fixtures/invalid/. Each file says what it expects in its header:
 * `# expect: <line>:<col> <substring of the message>`, one line per error. Every expected error must be
 * found at exactly that place, and no other error may be reported.
 */
const DIR = join(import.meta.dirname, '..', '..', 'test', 'fixtures', 'invalid');
const files = readdirSync(DIR).filter((f) => /\.ya?ml$/.test(f)).sort();

describe('invalid fixture flows', () => {
  it('has one fixture per rule', () => {
    expect(files.length).toBeGreaterThanOrEqual(40);
  });

  for (const name of files) {
    it(name, () => {
      const source = readFileSync(join(DIR, name), 'utf8');
      const expected = [...source.matchAll(/^# expect: (\d+):(\d+) (.+)$/gm)].map((m) => ({ line: Number(m[1]), column: Number(m[2]), text: m[3] }));
      expect(expected.length, `${name} has no '# expect:' header`).toBeGreaterThan(0);

      const errors = validateFlowSource(source, name).problems.filter((p) => p.severity === 'error');
      const report = errors.map(formatProblem).join('\n');
      for (const want of expected) {
        const match = errors.find((p) => p.line === want.line && p.column === want.column && p.message.includes(want.text));
        expect(match, `expected ${want.line}:${want.column} "${want.text}" in:\n${report}`).toBeDefined();
      }
      expect(errors.length, `unexpected errors in:\n${report}`).toBe(expected.length);
    });
  }
});
