import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runRunnerContract } from './runner.case.ts';
import { ProcessRunner, baseEnvironment, ENV_PASSTHROUGH_VARIABLE } from './process.ts';
import { isRunnerError } from './types.ts';
import { DirectSpawner, HelperSpawner } from './spawner/index.ts';
import { isRunning, liveGroupMembers } from '../../test/support/pids.ts';

const KILL_GRACE_MS = 700;

// Both ways a command can start: directly from this process, and through the spawner's helper process
// (never falling back to a direct spawn, so every command of the suite goes through it).
const direct = new DirectSpawner();
const helper = new HelperSpawner({ fallBack: false });
afterAll(() => helper.close());
runRunnerContract('Process (direct spawn)', () => new ProcessRunner({ killGraceMs: KILL_GRACE_MS, spawner: direct }), { killGraceMs: KILL_GRACE_MS });
runRunnerContract('Process (through the spawner helper)', () => new ProcessRunner({ killGraceMs: KILL_GRACE_MS, spawner: helper }), { killGraceMs: KILL_GRACE_MS });

describe('ProcessRunner', () => {
  it('rejects with START_FAILED when the program does not exist', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'baton-process-'));
    try {
      const error = await new ProcessRunner()
        .run({
          command: ['/definitely/not/here'],
          workingDir: dir,
          outputDir: dir,
          env: {},
          signal: new AbortController().signal,
          onLine: () => {},
          options: {},
        })
        .catch((e: unknown) => e);
      expect(isRunnerError(error, 'START_FAILED')).toBe(true);
      expect(String((error as Error).message)).toContain('/definitely/not/here');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('rejects an empty command as INVALID_JOB', async () => {
    const error = await new ProcessRunner()
      .run({ command: [], workingDir: '/', outputDir: '/', env: {}, signal: new AbortController().signal, onLine: () => {}, options: {} })
      .catch((e: unknown) => e);
    expect(isRunnerError(error, 'INVALID_JOB')).toBe(true);
  });

  it('leaves no process of the group alive after an abort (children included)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'baton-process-'));
    try {
      const controller = new AbortController();
      const result = await new ProcessRunner({ killGraceMs: KILL_GRACE_MS }).run({
        command: ['/bin/sh', '-c', 'sleep 30 & echo $! > child.pid; echo $$ > leader.pid; echo started; wait'],
        workingDir: dir,
        outputDir: dir,
        env: {},
        signal: controller.signal,
        onLine: () => controller.abort(),
        options: {},
      });
      expect(result.killed).toBe(true);
      const child = Number(await readFile(join(dir, 'child.pid'), 'utf8'));
      const leader = Number(await readFile(join(dir, 'leader.pid'), 'utf8'));
      await new Promise((r) => setTimeout(r, 100));
      expect(isRunning(child)).toBe(false);
      expect(isRunning(leader)).toBe(false);
      expect(liveGroupMembers(leader)).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('rethrows an error thrown by onLine after the command has finished', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'baton-process-'));
    try {
      const error = await new ProcessRunner()
        .run({
          command: ['/bin/sh', '-c', 'echo a; echo b; echo c'],
          workingDir: dir,
          outputDir: dir,
          env: {},
          signal: new AbortController().signal,
          onLine: (_s, line) => {
            if (line === 'b') throw new Error('consumer broke on b');
          },
          options: {},
        })
        .catch((e: unknown) => e);
      expect((error as Error).message).toBe('consumer broke on b');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('baseEnvironment', () => {
  it('keeps only the allow-listed host variables, LC_* and the passthrough list', () => {
    const env = baseEnvironment({
      PATH: '/bin',
      HOME: '/home/u',
      LC_TIME: 'fr_FR.UTF-8',
      DATABASE_URL: 'postgres://secret',
      JAVA_HOME: '/opt/java',
      [ENV_PASSTHROUGH_VARIABLE]: 'JAVA_HOME, ',
    });
    expect(env).toEqual({ PATH: '/bin', HOME: '/home/u', LC_TIME: 'fr_FR.UTF-8', JAVA_HOME: '/opt/java', LANG: 'C.UTF-8' });
  });

  it('supplies a PATH and a UTF-8 locale when the host has none', () => {
    const env = baseEnvironment({});
    expect(env.PATH).toContain('/usr/bin');
    expect(env.LANG).toBe('C.UTF-8');
    expect(baseEnvironment({ LANG: 'de_DE.UTF-8' }).LANG).toBe('de_DE.UTF-8');
  });
});
