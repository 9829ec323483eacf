import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const FIXTURE_CONFIG = 'test/support/harness-fixture/vitest.config.ts';

/** Runs bin/test.mjs (what `npm test` runs) on the harness fixture. */
function runHarness(env: Record<string, string>) {
  const result = spawnSync(process.execPath, ['bin/test.mjs', '--config', FIXTURE_CONFIG], {
    cwd: ROOT,
    env: { ...process.env, BATON_REQUIRE_ALL: '', HARNESS_FIXTURE_FAIL: '', NO_COLOR: '1', ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
  const output = `${result.stdout}${result.stderr}`;
  const lines = result.stdout.trimEnd().split('\n');
  return { status: result.status, output, lastLine: lines[lines.length - 1] };
}

describe('bin/test.mjs and requireService', () => {
  test('skips a suite whose service is missing, says why, and counts', () => {
    const run = runHarness({});
    expect(run.lastLine).toBe('2 passed, 0 failed, 2 skipped');
    expect(run.status).toBe(0);
    expect(run.output).toContain('skipping "suite without its service": missing-service unavailable — not installed on this machine');
    expect(run.output).toMatch(
      /skipped suites:\n {2}test\/support\/harness-fixture\/gated\.case\.ts › suite without its service — missing-service unavailable: not installed on this machine\n/,
    );
    expect(run.output).not.toContain('a skipped suite ran');
  });

  test('reports failures in the last line and exits with vitest code', () => {
    const run = runHarness({ HARNESS_FIXTURE_FAIL: '1' });
    expect(run.lastLine).toBe('1 passed, 1 failed, 2 skipped');
    expect(run.status).toBe(1);
  });

  test('BATON_REQUIRE_ALL=1 fails the suite instead of skipping it', () => {
    const run = runHarness({ BATON_REQUIRE_ALL: '1' });
    expect(run.lastLine).toBe('2 passed, 1 failed');
    expect(run.status).toBe(1);
    expect(run.output).toContain('missing-service is required (BATON_REQUIRE_ALL=1) but unavailable: not installed on this machine');
    expect(run.output).not.toContain('skipped suites:');
  });
});
