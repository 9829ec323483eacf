import { defineConfig } from 'vitest/config';

/** Tests sit next to their source as `*.test.ts`; `npm test` runs them through bin/test.mjs. */
export default defineConfig({
  test: {
    include: ['**/*.test.ts'],
    exclude: ['**/node_modules/**', '**/.baton/**', '**/dist/**', '**/coverage/**', '**/test-artifacts/**'],
    // Integration suites talk to real PostgreSQL, dockerd, git and Chromium.
    testTimeout: 30_000,
    globalSetup: ['test/support/global-setup.ts'],
    hookTimeout: 30_000,
    teardownTimeout: 30_000,
    // test/support/databases.ts relies on afterAll hooks running in reverse order of registration.
    sequence: { hooks: 'stack' },
    // dockerd runs in CI but no registry does: script tasks without a taskRunner stay on this host.
    // Tests of the Docker runner or of the default choice set their runner (or env) explicitly.
    env: { BATON_DEFAULT_TASK_RUNNER: 'io.kestra.plugin.core.runner.Process' },
  },
});
