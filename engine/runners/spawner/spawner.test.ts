/**
 * The spawner's helper process beyond the runner contract (which process.test.ts runs through it):
 * commands fork from the helper, not from Baton; the helper's death stops its commands and fails their
 * tasks with a clear error; Baton's death stops the commands the helper started; a reader that does not
 * read holds the command back instead of filling memory.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ProcessRunner } from '../process.ts';
import { isRunnerError } from '../types.ts';
import { HelperSpawner, SpawnError, type SpawnedCommand } from './index.ts';
import { waitFor } from '../../../test/support/wait-for.ts';
import { isRunning } from '../../../test/support/pids.ts';

const env = { PATH: process.env.PATH ?? '/usr/bin:/bin' };

async function collect(command: SpawnedCommand): Promise<{ stdout: string; exit: Awaited<SpawnedCommand['exit']> }> {
  let stdout = '';
  command.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  command.stderr.resume();
  const [exit] = await Promise.all([command.exit, new Promise((r) => command.stdout.once('end', r))]);
  return { stdout, exit };
}

describe('HelperSpawner', () => {
  let dir: string;
  const spawners: HelperSpawner[] = [];
  const make = (options: ConstructorParameters<typeof HelperSpawner>[0] = { fallBack: false }) => {
    const spawner = new HelperSpawner(options);
    spawners.push(spawner);
    return spawner;
  };
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'baton-spawner-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  afterAll(() => {
    for (const s of spawners) s.close();
  });

  it('forks commands from the helper process, not from this one', async () => {
    const spawner = make();
    const { stdout, exit } = await collect(await spawner.spawn({ file: '/bin/sh', args: ['-c', 'echo $PPID'], cwd: dir, env }));
    expect(exit).toEqual({ code: 0, signal: null });
    expect(Number(stdout.trim())).toBe(spawner.helperPid);
    expect(spawner.helperPid).not.toBe(process.pid);
  });

  it('a first command waits for the helper to start: none is forked by this process', async () => {
    const spawner = make({ fallBack: true });
    const first = await collect(await spawner.spawn({ file: '/bin/sh', args: ['-c', 'echo $PPID'], cwd: dir, env }));
    expect(Number(first.stdout.trim())).toBe(spawner.helperPid);
  });

  it('a helper that cannot start: commands spawn directly (fallBack) or fail naming why', async () => {
    const direct = make({ fallBack: true, nodePath: '/no/such/node' });
    const { stdout } = await collect(await direct.spawn({ file: '/bin/sh', args: ['-c', 'echo $PPID'], cwd: dir, env }));
    expect(Number(stdout.trim())).toBe(process.pid);
    expect(direct.unavailableReason).toMatch(/the process spawner could not start: .*ENOENT/);
    const strict = make({ fallBack: false, nodePath: '/no/such/node' });
    await expect(strict.spawn({ file: '/bin/sh', args: ['-c', 'true'], cwd: dir, env })).rejects.toThrow(/the process spawner could not start/);
  });

  it('a helper stopped for idleness, or closed, is replaced by the next command', async () => {
    const spawner = make({ fallBack: false, idleMs: 50 });
    await collect(await spawner.spawn({ file: '/bin/sh', args: ['-c', 'true'], cwd: dir, env }));
    const first = spawner.helperPid!;
    await waitFor(async () => (isRunning(first) ? undefined : true), 'the idle helper gone');
    const again = await collect(await spawner.spawn({ file: '/bin/sh', args: ['-c', 'echo $PPID'], cwd: dir, env }));
    expect(Number(again.stdout.trim())).not.toBe(first);
    spawner.close();
    const right = await collect(await spawner.spawn({ file: '/bin/sh', args: ['-c', 'echo ok'], cwd: dir, env }));
    expect(right.stdout.trim()).toBe('ok');
  });

  it('reports a command that cannot start as a SpawnError with its code', async () => {
    const error = await make().spawn({ file: '/no/such/program', args: [], cwd: dir, env }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SpawnError);
    expect((error as SpawnError).code).toBe('ENOENT');
  });

  it('a helper that dies fails its running commands with SUPERVISION_LOST and stops them; the next command gets a new helper', async () => {
    const spawner = make();
    const runner = new ProcessRunner({ spawner, killGraceMs: 500 });
    let started!: () => void;
    const running = new Promise<void>((r) => (started = r));
    const result = runner
      .run({
        command: ['/bin/sh', '-c', 'echo $$ > leader.pid; echo up; sleep 30'],
        workingDir: dir,
        outputDir: dir,
        env: {},
        signal: new AbortController().signal,
        onLine: () => started(),
        options: {},
      })
      .catch((e: unknown) => e);
    await running;
    const helperPid = spawner.helperPid!;
    process.kill(helperPid, 'SIGKILL');
    const error = await result;
    expect(isRunnerError(error, 'SUPERVISION_LOST')).toBe(true);
    expect((error as Error).message).toMatch(new RegExp(`process spawner \\(pid ${helperPid}\\) exited \\(SIGKILL\\)`));
    const leader = Number(await readFile(join(dir, 'leader.pid'), 'utf8'));
    await waitFor(async () => (isRunning(leader) ? undefined : true), 'the orphaned command stopped');
    const again = await collect(await spawner.spawn({ file: '/bin/sh', args: ['-c', 'echo $PPID'], cwd: dir, env }));
    expect(Number(again.stdout.trim())).toBe(spawner.helperPid);
    expect(spawner.helperPid).not.toBe(helperPid);
  });

  it('when Baton dies, the helper stops the commands it started and exits', async () => {
    // A stand-in for Baton: a process that starts `sleep` through its own helper, then is killed -9.
    const script = `
      import { HelperSpawner } from ${JSON.stringify(new URL('./index.ts', import.meta.url).href)};
      const spawner = new HelperSpawner({ fallBack: false });
      const command = await spawner.spawn({ file: '/bin/sh', args: ['-c', 'sleep 30'], cwd: ${JSON.stringify(dir)}, env: { PATH: process.env.PATH } });
      console.log(JSON.stringify({ helper: spawner.helperPid, command: command.pid }));
      setInterval(() => {}, 1000);
    `;
    const baton = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    const pids = await new Promise<{ helper: number; command: number }>((resolve, reject) => {
      baton.stdout!.setEncoding('utf8').once('data', (line: string) => resolve(JSON.parse(line)));
      baton.once('exit', (code) => reject(new Error(`the stand-in exited early (${code})`)));
    });
    expect(isRunning(pids.command)).toBe(true);
    baton.kill('SIGKILL');
    await waitFor(async () => (isRunning(pids.command) ? undefined : true), 'the command stopped');
    await waitFor(async () => (isRunning(pids.helper) ? undefined : true), 'the helper gone');
  });

  it('holds a command back while its output is not read (no unbounded buffering)', async () => {
    const spawner = make();
    // 8 MB, far past the helper's window, then a marker once everything was written.
    const command = await spawner.spawn({ file: '/bin/sh', args: ['-c', 'head -c 8000000 /dev/zero; echo > written'], cwd: dir, env });
    command.stderr.resume();
    await new Promise((r) => setTimeout(r, 600));
    expect(existsSync(join(dir, 'written'))).toBe(false);
    let bytes = 0;
    command.stdout.on('data', (chunk: Buffer) => (bytes += chunk.length));
    await Promise.all([command.exit, new Promise((r) => command.stdout.once('end', r))]);
    expect(bytes).toBe(8_000_000);
    expect(existsSync(join(dir, 'written'))).toBe(true);
  });
});
