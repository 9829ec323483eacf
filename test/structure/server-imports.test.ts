import { readdir, readFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { is } from 'drizzle-orm';
import { PgTable } from 'drizzle-orm/pg-core';
import { describe, expect, it } from 'vitest';
import * as schema from '../../db/schema.ts';

/**
 * Issue #13: the server reads executions and logs through the read model (engine/read-model/) and
 * the other stores, never through tables. No file under server/ may import drizzle-orm, db/schema.ts,
 * or a table through the db door (db/index.ts re-exports the schema).
 */
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const SCHEMA = join(ROOT, 'db/schema.ts');
const DB_DOOR = join(ROOT, 'db/index.ts');
const TABLES = new Set(Object.entries(schema).filter(([, value]) => is(value, PgTable)).map(([name]) => name));

const STATIC = /(?:^|[;\n])\s*(?:import|export)\s+(?:type\s+)?((?:[\w$]+\s*,\s*)?(?:\{[^}]*\}|\*(?:\s+as\s+[\w$]+)?|[\w$]+))\s+from\s*['"]([^'"]+)['"]/g;
const BARE = /(?:^|[;\n])\s*import\s*['"]([^'"]+)['"]/g;
const DYNAMIC = /\bimport\s*\(\s*([^)]*?)\s*\)(?:\s*\.\s*([\w$]+))?/g;

/**
 * Every `import`/`export … from`/`import()` of a file with the names it takes (`*` for all of the
 * module). TypeScript 7 has no JavaScript API to parse with, so this reads the statements with
 * patterns, after dropping comments (a commented-out import is no import).
 */
function importsOf(text: string): { specifier: string; names: string[] }[] {
  const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  const found: { specifier: string; names: string[] }[] = [];
  for (const [, clause, specifier] of code.matchAll(STATIC)) {
    const names: string[] = [];
    const braces = /\{([^}]*)\}/.exec(clause);
    if (braces) {
      for (const part of braces[1].split(',')) {
        const name = part.trim().replace(/^type\s+/, '').split(/\s+as\s+/)[0].trim();
        if (name) names.push(name);
      }
    }
    if (clause.includes('*')) names.push('*');
    if (/^[\w$]+(\s*,|$)/.test(clause.trim())) names.push('default');
    found.push({ specifier, names });
  }
  for (const [, specifier] of code.matchAll(BARE)) found.push({ specifier, names: [] });
  for (const [, argument, member] of code.matchAll(DYNAMIC)) {
    const literal = /^(['"`])([^'"`$]+)\1$/.exec(argument);
    found.push({ specifier: literal ? literal[2] : '(computed)', names: [member ?? '*'] });
  }
  return found;
}

/** What in one file breaks the rule, as `path: reason` lines. */
export function tableImports(path: string, text: string): string[] {
  const problems: string[] = [];
  const where = relative(ROOT, path);
  for (const { specifier, names } of importsOf(text)) {
    if (specifier === '(computed)') problems.push(`${where}: a computed import() cannot be checked`);
    if (specifier === 'drizzle-orm' || specifier.startsWith('drizzle-orm/')) problems.push(`${where}: imports ${specifier}`);
    if (!specifier.startsWith('.')) continue;
    const target = resolve(dirname(path), specifier);
    if (target === SCHEMA) problems.push(`${where}: imports db/schema.ts`);
    if (target === DB_DOOR) {
      for (const name of names) {
        if (TABLES.has(name)) problems.push(`${where}: imports the table '${name}' from db/index.ts`);
        if (name === '*') problems.push(`${where}: imports all of db/index.ts (tables included)`);
      }
    }
  }
  return problems;
}

async function serverFiles(dir: string): Promise<string[]> {
  const files: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...(await serverFiles(path)));
    else if (/\.(ts|mts|tsx)$/.test(entry.name)) files.push(path);
  }
  return files;
}

describe('server imports', () => {
  it('knows the schema tables it guards', () => {
    expect(TABLES).toContain('executions');
    expect(TABLES).toContain('logs');
    expect(TABLES).toContain('dashboardSessions');
  });

  it('flags drizzle-orm, db/schema.ts and tables through db/index.ts, and lets the Db type and stores through', () => {
    const file = join(ROOT, 'server/ui/example.ts');
    const text = [
      "import { and, eq } from 'drizzle-orm';",
      "import type { PgColumn } from 'drizzle-orm/pg-core';",
      "import { logs } from '../../db/schema.ts';",
      "import { executions as rows, type Db, DashboardSessionRows } from '../../db/index.ts';",
      "export { syncRequests } from '../../db/index.ts';",
      "type Row = typeof import('../../db/index.ts').flows;",
      "const lazy = () => import('../../db/schema.ts');",
    ].join('\n');
    expect(tableImports(file, text)).toEqual([
      'server/ui/example.ts: imports drizzle-orm',
      'server/ui/example.ts: imports drizzle-orm/pg-core',
      'server/ui/example.ts: imports db/schema.ts',
      "server/ui/example.ts: imports the table 'executions' from db/index.ts",
      "server/ui/example.ts: imports the table 'syncRequests' from db/index.ts",
      "server/ui/example.ts: imports the table 'flows' from db/index.ts",
      'server/ui/example.ts: imports db/schema.ts',
    ]);
    expect(tableImports(join(ROOT, 'server/deps.ts'), "import type { Db } from '../db/index.ts';\nimport { readModelOf } from '../engine/read-model/index.ts';")).toEqual([]);
  });

  it('no file under server/ reads tables directly: it goes through the read model and the stores', async () => {
    const problems: string[] = [];
    for (const file of await serverFiles(join(ROOT, 'server'))) problems.push(...tableImports(file, await readFile(file, 'utf8')));
    expect(problems).toEqual([]);
  });
});
