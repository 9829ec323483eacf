import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { flowJsonSchema } from '../../engine/index.ts';

/** `baton schema` (cli/schema.ts), run as a user runs it: a real process through bin/baton.mjs. */
const ROOT = join(import.meta.dirname, '..', '..');
const BATON = join(ROOT, 'bin', 'baton.mjs');

function baton(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BATON, 'schema', ...args], { cwd: ROOT, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

describe('baton schema', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'baton-schema-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('prints the flow JSON Schema, every registered type in it', async () => {
    const { code, stdout } = await baton();
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual(flowJsonSchema());
  });

  it('writes it to --out FILE', async () => {
    const file = join(dir, 'flow.schema.json');
    const { code, stderr } = await baton('--out', file);
    expect(code).toBe(0);
    expect(stderr).toContain(file);
    const schema = JSON.parse(await readFile(file, 'utf8'));
    expect(Object.keys(schema.$defs)).toEqual(expect.arrayContaining(['task:io.kestra.plugin.core.log.Log', 'runner:io.kestra.plugin.scripts.runner.docker.Docker']));
  });

  it('exits 2 on a usage or write error', async () => {
    expect((await baton('--bogus')).code).toBe(2);
    expect((await baton('--out')).code).toBe(2);
    const unwritable = await baton('--out', join(dir, 'missing', 'dir', 'flow.schema.json'));
    expect(unwritable.code).toBe(2);
    expect(unwritable.stderr).toContain('cannot write');
  });
});
