import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

/** Runs only the harness fixture (`*.case.ts` here), for test/support/harness.test.ts. */
export default defineConfig({
  test: {
    root: fileURLToPath(new URL('.', import.meta.url)),
    include: ['*.case.ts'],
  },
});
