// Fixture for test/support/harness.test.ts, which runs it through bin/test.mjs; not part of `npm test`.
import { expect, test } from 'vitest';
import { requireService } from '../services.ts';

const present = requireService('present-service', async () => null);
const missing = requireService('missing-service', async () => 'not installed on this machine');

present.describe('suite with its service', () => {
  test('runs', () => {
    expect(1 + 1).toBe(2);
  });
  test('fails when asked to', () => {
    expect(process.env.HARNESS_FIXTURE_FAIL ?? '').not.toBe('1');
  });
});

missing.describe('suite without its service', () => {
  test('never runs', () => {
    throw new Error('a skipped suite ran');
  });
  test('never runs either', () => {
    throw new Error('a skipped suite ran');
  });
});
