import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The plugin contract sits at the bottom: plugins, triggers, runners and the validator import it, and
 * it imports nothing of Baton's but itself (and TypeBox), so no cycle can run through it.
 */
describe('engine/contract', () => {
  const dir = import.meta.dirname;
  const files = readdirSync(dir).filter((name) => name.endsWith('.ts') && !name.endsWith('.test.ts'));

  for (const name of files) {
    it(`${name} imports only the contract's own files and TypeBox`, () => {
      const code = readFileSync(join(dir, name), 'utf8');
      const specifiers = [...code.matchAll(/(?:^|\n)\s*(?:import|export)\b[^'"]*?from\s*['"]([^'"]+)['"]/g)].map((m) => m[1]);
      for (const specifier of specifiers) expect(specifier, `${name} imports ${specifier}`).toMatch(/^(\.\/[\w-]+\.ts|@sinclair\/typebox)$/);
    });
  }
});
