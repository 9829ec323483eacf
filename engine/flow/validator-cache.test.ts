import { execFileSync } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));

const INVALID_FLOW = `id: cache
namespace: test.cache
inputs:
  - id: n
    type: INT
    defaults: many
tasks:
  - id: log
    type: io.kestra.plugin.core.log.Log
    message: 3
    level: LOUD
  - id: pause
    type: io.kestra.plugin.core.flow.Pause
    delay: soon
triggers:
  - id: every
    type: io.kestra.plugin.core.trigger.Schedule
    cron: 5
`;

describe('validators cached across processes', () => {
  let temp: string;
  beforeAll(async () => {
    temp = await mkdtemp(join(tmpdir(), 'baton-ajv-cache-test-'));
    await writeFile(join(temp, 'flow.yaml'), INVALID_FLOW);
  });
  afterAll(async () => {
    await rm(temp, { recursive: true, force: true });
  });

  /** Validates the flow in a fresh process whose temp dir is `temp`; its problems as text. */
  const validateInChild = () =>
    execFileSync(
      process.execPath,
      ['--import', 'tsx', '-e', `
        const { validateFlowSource, formatProblem } = await import(${JSON.stringify(join(ROOT, 'engine/flow/index.ts'))});
        const { readFileSync } = await import('node:fs');
        const result = validateFlowSource(readFileSync(${JSON.stringify(join(temp, 'flow.yaml'))}, 'utf8'), 'flow.yaml');
        console.log(JSON.stringify(result.problems.map((p) => formatProblem(p))));`],
      { cwd: ROOT, env: { ...process.env, TMPDIR: temp }, encoding: 'utf8' },
    );

  test('a process that finds the validators cached reports the same problems as the one that compiled them', async () => {
    const compiled = validateInChild();
    const cached = await readdir(join(temp, `baton-ajv-${userInfo().uid}`));
    expect(cached.filter((name) => name.endsWith('.cjs')).length).toBeGreaterThan(3);
    const problems = JSON.parse(compiled) as string[];
    expect(problems.length).toBeGreaterThan(3);
    expect(validateInChild()).toBe(compiled);
  });
});
