#!/usr/bin/env node
// `npm test [-- <vitest args>]`: `vitest run` with its usual console output plus a JSON report,
// then the suites skipped for a missing service, then one last line "N passed, N failed[, N skipped]".
// The exit code is vitest's.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';

/** Must match SKIPPED_SUITE_META in test/support/services.ts. */
const SKIPPED_SUITE_META = 'batonSkippedSuite';

const require = createRequire(import.meta.url);
const vitest = join(dirname(require.resolve('vitest/package.json')), 'vitest.mjs');
const reportDir = mkdtempSync(join(tmpdir(), 'baton-test-'));
const reportFile = join(reportDir, 'report.json');

const args = process.argv.slice(2);
const ownReporter = args.some((arg) => arg === '--reporter' || arg.startsWith('--reporter='));
const reporters = [...(ownReporter ? [] : ['--reporter=default']), '--reporter=json', `--outputFile.json=${reportFile}`];

const exitCode = await new Promise((resolve) => {
  const child = spawn(process.execPath, [vitest, 'run', ...args, ...reporters], { stdio: 'inherit' });
  child.on('error', (error) => {
    console.error(`cannot start vitest: ${error.message}`);
    resolve(1);
  });
  child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
});

let report;
try {
  report = JSON.parse(readFileSync(reportFile, 'utf8'));
} catch {
  report = undefined;
} finally {
  rmSync(reportDir, { recursive: true, force: true });
}

if (!report) {
  console.log(`\nvitest wrote no results (exit code ${exitCode})`);
  console.log('0 passed, 0 failed');
  process.exit(exitCode || 1);
}

const skippedSuites = new Map();
let failedFiles = 0;
for (const file of report.testResults) {
  const tests = file.assertionResults;
  // A file that fails to load or whose hooks throw has no failed test to count: count the file.
  if (file.status === 'failed' && !tests.some((t) => t.status === 'failed')) failedFiles++;
  for (const test of tests) {
    const skipped = test.meta?.[SKIPPED_SUITE_META];
    if (!skipped) continue;
    const suite = `${relative(process.cwd(), file.name)} › ${skipped.suite}`;
    skippedSuites.set(suite, `${skipped.service} unavailable: ${skipped.reason}`);
  }
}

if (skippedSuites.size > 0) {
  console.log('\nskipped suites:');
  for (const [suite, reason] of skippedSuites) console.log(`  ${suite} — ${reason}`);
  console.log('  (set BATON_REQUIRE_ALL=1 to make these fail instead)');
}

const passed = report.numPassedTests;
const failed = report.numFailedTests + failedFiles;
const skipped = report.numPendingTests + report.numTodoTests;
if (exitCode !== 0 && failed === 0) {
  console.log(`\nvitest exited with code ${exitCode} without a failed test (see its output above)`);
}
console.log(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(exitCode);
