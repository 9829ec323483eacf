import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/** `baton validate` (cli/validate.ts), run as a user runs it: a real process through bin/baton.mjs. */
const ROOT = join(import.meta.dirname, '..', '..');
const BATON = join(ROOT, 'bin', 'baton.mjs');

function baton(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return batonWith({}, ...args);
}

function batonWith(env: Record<string, string>, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BATON, 'validate', ...args], { cwd: ROOT, env: { ...process.env, ...env } }, (error, stdout, stderr) => {
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

const flow = (id: string, extra = '') =>
  `id: ${id}\nnamespace: company.team\ntasks:\n  - id: hello\n    type: io.kestra.plugin.core.log.Log\n    message: hi\n${extra}`;

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'baton-validate-'));
  await mkdir(join(dir, 'valid', 'nested'), { recursive: true });
  await mkdir(join(dir, 'valid', '.hidden'), { recursive: true });
  await writeFile(join(dir, 'valid', 'a.yaml'), flow('a'));
  await writeFile(join(dir, 'valid', 'nested', 'b.yml'), flow('b'));
  await writeFile(join(dir, 'valid', 'notes.txt'), 'not a flow');
  await writeFile(join(dir, 'valid', '.hidden', 'broken.yaml'), 'id: [');
  await writeFile(join(dir, 'invalid.yaml'), flow('bad', 'foo: 1\n').replace('message: hi', 'mesage: hi'));
  await writeFile(join(dir, 'same-as-a.yaml'), flow('a'));
  await writeFile(join(dir, 'deprecated.yaml'), flow('d', 'taskDefaults:\n  - type: io.kestra.plugin.core.log.Log\n    values: {level: WARN}\n'));
  await mkdir(join(dir, 'dangling'));
  await symlink(join(dir, 'nowhere.yaml'), join(dir, 'dangling', 'gone.yaml'));
}, 30_000);
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('baton validate', () => {
  it('exits 0 for valid files and folders (recursive, *.yml and *.yaml, hidden folders skipped)', async () => {
    const result = await baton(join(dir, 'valid'));
    expect(result).toMatchObject({ code: 0, stdout: '' });
    expect(result.stderr).toContain('2 flow files: all valid');
  });

  it('exits 1 and prints path:line:col: error: message per problem', async () => {
    const file = join(dir, 'invalid.yaml');
    const result = await baton(file);
    expect(result.code).toBe(1);
    expect(result.stdout.trim().split('\n')).toEqual([
      `${file}:4:5: error: missing required property 'message' for task type io.kestra.plugin.core.log.Log`,
      `${file}:6:5: error: unknown property 'mesage' for task type io.kestra.plugin.core.log.Log (did you mean 'message'?)`,
      `${file}:7:1: error: unknown top-level property 'foo'`,
    ]);
  });

  it('refuses two files defining the same namespace and id', async () => {
    const result = await baton(join(dir, 'valid', 'a.yaml'), join(dir, 'same-as-a.yaml'));
    expect(result.code).toBe(1);
    expect(result.stdout.trim()).toBe(`${join(dir, 'same-as-a.yaml')}:1:1: error: flow company.team.a is also defined in ${join(dir, 'valid', 'a.yaml')}:1`);
  });

  it('prints warnings but still exits 0', async () => {
    const result = await baton(join(dir, 'deprecated.yaml'));
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("deprecated.yaml:7:1: warning: 'taskDefaults' is deprecated, use 'pluginDefaults'");
  });

  it('--format json prints one JSON array of problems', async () => {
    const result = await baton('--format', 'json', join(dir, 'invalid.yaml'), join(dir, 'valid'));
    expect(result.code).toBe(1);
    const problems = JSON.parse(result.stdout);
    expect(problems).toHaveLength(3);
    expect(problems[0]).toEqual({
      file: join(dir, 'invalid.yaml'),
      line: 4,
      column: 5,
      property: 'tasks[0].message',
      message: "missing required property 'message' for task type io.kestra.plugin.core.log.Log",
      severity: 'error',
    });
    expect(JSON.parse((await baton('--format=json', join(dir, 'valid'))).stdout)).toEqual([]);
  });

  it('--format github prints workflow commands', async () => {
    const result = await baton('--format=github', join(dir, 'invalid.yaml'));
    expect(result.code).toBe(1);
    expect(result.stdout.split('\n')[2]).toBe(`::error file=${join(dir, 'invalid.yaml')},line=7,col=1::unknown top-level property 'foo'`);
  });

  it('exits 2 on a missing path or an unreadable file, still validating the rest', async () => {
    const missing = await baton(join(dir, 'nope.yaml'), join(dir, 'invalid.yaml'));
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain(`cannot read ${join(dir, 'nope.yaml')}: no such file or directory`);
    expect(missing.stdout).toContain('invalid.yaml:4:5');
    const dangling = await baton(join(dir, 'dangling'));
    expect(dangling.code).toBe(2);
    expect(dangling.stderr).toContain(`cannot read ${join(dir, 'dangling', 'gone.yaml')}`);
  });

  it('holds flows to the size limits, raised by the same BATON_LIMIT_* variables as the server', async () => {
    const many = join(dir, 'limits', 'many.yaml');
    const big = join(dir, 'limits', 'big.yaml');
    await mkdir(join(dir, 'limits'), { recursive: true });
    const tasks = Array.from({ length: 1_001 }, (_, i) => `  - id: t${i}\n    type: io.kestra.plugin.core.log.Log\n    message: hi\n`).join('');
    await writeFile(many, `id: many\nnamespace: company.team\ntasks:\n${tasks}`);
    const bigSource = flow('big').replace('message: hi', `message: ${'x'.repeat(1024 * 1024)}`);
    await writeFile(big, bigSource);
    const refused = await baton(join(dir, 'limits'));
    expect(refused.code).toBe(1);
    expect(refused.stdout.trim().split('\n')).toEqual([
      `${big}:1:1: error: flow file is ${Buffer.byteLength(bigSource)} bytes: exceeds the limit of 1048576 bytes (raise it with BATON_LIMIT_FLOW_FILE_BYTES)`,
      `${many}:1:1: error: flow has 1001 tasks: exceeds the limit of 1000 (raise it with BATON_LIMIT_FLOW_TASKS)`,
    ]);
    const raised = await batonWith({ BATON_LIMIT_FLOW_TASKS: '2000', BATON_LIMIT_FLOW_FILE_BYTES: String(2 * 1024 * 1024) }, join(dir, 'limits'));
    expect(raised).toMatchObject({ code: 0, stdout: '' });
    const bad = await batonWith({ BATON_LIMIT_FLOW_TASKS: 'many' }, join(dir, 'limits'));
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("BATON_LIMIT_FLOW_TASKS must be a positive whole number, got 'many'");
  });

  it('exits 2 on usage errors', async () => {
    const none = await baton();
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('no flow file or folder given');
    expect((await baton('--format', 'xml', dir)).code).toBe(2);
    expect((await baton('--strict', dir)).stderr).toContain("unknown option '--strict'");
    const help = await baton('--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('usage: baton validate');
  });
});
