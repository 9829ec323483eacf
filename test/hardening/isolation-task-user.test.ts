/**
 * Issue #12, finding 5: the pieces of task isolation on their own. Who commands run as (BATON_TASK_USER,
 * root or not), the hand-over of the working directory (which must not be turned into a way to take a
 * host file), the command's identity and environment, and the error when the task user cannot reach
 * its working directory.
 */
import { execFileSync } from 'node:child_process';
import { chmod, link, lstat, mkdir, mkdtemp, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  baseEnvironment, ProcessRunner, resolveTaskIsolation, TaskUserError, type HostAccounts, type TaskUser,
} from '../../engine/runners/index.ts';
import { handOverWorkingDir } from '../../engine/runners/working-dir-owner.ts';
import { taskUser, taskUserService } from '../support/task-user.ts';

describe('resolveTaskIsolation: who commands run as', () => {
  const users: Record<string, TaskUser> = {
    'baton-task': { name: 'baton-task', uid: 999, gid: 995 },
    runner: { name: 'runner', uid: 1500, gid: 1500, home: '/home/runner' },
    root: { name: 'root', uid: 0, gid: 0, home: '/root' },
    alice: { name: 'alice', uid: 1000, gid: 1000 },
  };
  const host = (uid: number, known = users): HostAccounts => ({
    platform: 'linux',
    uid,
    lookup: (name) => known[name] ?? Object.values(known).find((u) => String(u.uid) === name),
  });

  it('Baton as root: baton-task by default, BATON_TASK_USER by name or uid', () => {
    expect(resolveTaskIsolation({}, host(0))).toEqual({ isolated: true, user: users['baton-task'] });
    expect(resolveTaskIsolation({ BATON_TASK_USER: 'runner' }, host(0))).toEqual({ isolated: true, user: users.runner });
    expect(resolveTaskIsolation({ BATON_TASK_USER: '1500' }, host(0))).toEqual({ isolated: true, user: users.runner });
  });

  it('Baton as root without baton-task: commands run as root, and the reason says how to fix it', () => {
    const { 'baton-task': _, ...others } = users;
    const isolation = resolveTaskIsolation({}, host(0, others));
    expect(isolation.isolated).toBe(false);
    expect(!isolation.isolated && isolation.reason).toContain('useradd --system --no-create-home baton-task');
  });

  it('Baton not root (a laptop): the same user, isolation off, said', () => {
    const isolation = resolveTaskIsolation({}, host(1000));
    expect(isolation).toEqual({ isolated: false, reason: 'Baton runs as uid 1000, not root, so commands run as the same user' });
  });

  it('BATON_TASK_USER that cannot be used stops the start', () => {
    const refused = (env: NodeJS.ProcessEnv, uid: number) => {
      try {
        resolveTaskIsolation(env, host(uid));
      } catch (error) {
        expect(error).toBeInstanceOf(TaskUserError);
        return (error as Error).message;
      }
      throw new Error('not refused');
    };
    expect(refused({ BATON_TASK_USER: 'nobody-here' }, 0)).toContain("BATON_TASK_USER='nobody-here' is not a user of this host");
    expect(refused({ BATON_TASK_USER: 'runner' }, 1000)).toContain('Baton runs as uid 1000, not root');
    expect(refused({ BATON_TASK_USER: 'root' }, 1000)).toContain('is root');
  });

  it("naming Baton's own user turns isolation off explicitly", () => {
    expect(resolveTaskIsolation({ BATON_TASK_USER: 'alice' }, host(1000))).toEqual({ isolated: false, reason: "BATON_TASK_USER='alice' is Baton's own user" });
  });
});

describe('baseEnvironment: the passthrough list never passes Baton\'s own variables', () => {
  it('BATON_*, SECRET_* and DATABASE_URL are dropped even when listed; HOME/USER are the task user\'s', () => {
    const env = baseEnvironment(
      { PATH: '/bin', HOME: '/root', USER: 'root', JAVA_HOME: '/opt/jdk', DATABASE_URL: 'postgres://x', SECRET_A: 'c2VjcmV0', BATON_API_TOKEN: 't', BATON_TASK_ENV_PASSTHROUGH: 'JAVA_HOME,DATABASE_URL,SECRET_A,BATON_API_TOKEN' },
      { user: { name: 'baton-task', uid: 999, gid: 995 }, workingDir: '/work/dir' },
    );
    expect(env).toEqual({ PATH: '/bin', HOME: '/work/dir', USER: 'baton-task', LOGNAME: 'baton-task', JAVA_HOME: '/opt/jdk', LANG: 'C.UTF-8' });
  });
});

taskUserService.describe('the working directory is handed to the task user, and nothing else', () => {
  let root: string;
  let user: TaskUser;

  beforeEach(async () => {
    user = taskUser();
    root = await mkdtemp(join(tmpdir(), 'baton-handover-'));
    await chmod(root, 0o755);
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it("gives Baton's files and folders away, never a linked host file, a hard link or a FIFO", async () => {
    const dir = join(root, 'work');
    await mkdir(join(dir, 'sub', 'deeper'), { recursive: true });
    await writeFile(join(dir, 'input.csv'), 'a,b\n');
    await writeFile(join(dir, 'sub', 'deeper', 'script.py'), 'print(1)\n');
    const host = join(root, 'host-secret');
    await writeFile(host, 'BATON_API_TOKEN=x\n', { mode: 0o600 });
    await symlink(host, join(dir, 'link-to-host'));
    await link(host, join(dir, 'hard-link-to-host'));
    execFileSync('mkfifo', [join(dir, 'fifo')]);

    await handOverWorkingDir(dir, user, 0);

    for (const path of [dir, join(dir, 'input.csv'), join(dir, 'sub'), join(dir, 'sub', 'deeper'), join(dir, 'sub', 'deeper', 'script.py')]) {
      expect((await stat(path)).uid, path).toBe(user.uid);
    }
    expect((await stat(host)).uid).toBe(0);
    expect((await lstat(join(dir, 'link-to-host'))).uid).toBe(0);
    expect((await lstat(join(dir, 'fifo'))).uid).toBe(0);
  });

  it('a command runs as the task user, owns what it writes, and gets its HOME and USER', async () => {
    const dir = join(root, 'work');
    await mkdir(join(dir, 'out'), { recursive: true });
    await writeFile(join(dir, 'input.txt'), 'from Baton\n');
    const lines: string[] = [];
    const result = await new ProcessRunner({ isolation: { isolated: true, user } }).run({
      command: ['/bin/sh', '-c', 'id -u; echo "$USER $HOME"; echo appended >> input.txt; echo made > out/result.txt'],
      workingDir: dir,
      outputDir: join(dir, 'out'),
      env: {},
      signal: new AbortController().signal,
      onLine: (_stream, line) => void lines.push(line),
      options: {},
    });
    expect(result.exitCode, lines.join('\n')).toBe(0);
    expect(lines).toEqual([String(user.uid), `baton-task ${user.home ?? dir}`]);
    expect(await readFile(join(dir, 'input.txt'), 'utf8')).toBe('from Baton\nappended\n');
    expect((await stat(join(dir, 'out', 'result.txt'))).uid).toBe(user.uid);
  });

  it('a working directory under a folder the task user cannot enter: it starts there, and the log names that folder', async () => {
    const closed = join(root, 'closed');
    await mkdir(join(closed, 'work'), { recursive: true });
    await chmod(closed, 0o700);
    const lines: string[] = [];
    const warnings: string[] = [];
    const result = await new ProcessRunner({ isolation: { isolated: true, user } }).run({
      command: ['/bin/sh', '-c', 'echo relative > here.txt && cat here.txt; cat "$WORKING_DIR/here.txt" 2>/dev/null || echo "absolute path refused"'],
      workingDir: join(closed, 'work'),
      outputDir: join(closed, 'work'),
      env: { WORKING_DIR: join(closed, 'work') },
      signal: new AbortController().signal,
      onLine: (_stream, line) => void lines.push(line),
      options: {},
      log: (level, message) => void (level === 'warn' && warnings.push(message)),
    });
    expect(result.exitCode).toBe(0);
    expect(lines).toEqual(['relative', 'absolute path refused']);
    expect(warnings).toEqual([
      `the task user 'baton-task' cannot reach the working directory by its path: '${closed}' (owner uid 0, mode 0700) is not searchable by it; ` +
        'the command starts in it, but paths through WORKING_DIR and OUTPUT_DIR fail',
    ]);
  });

  it('the task user cannot signal or trace Baton', async () => {
    const lines: string[] = [];
    const dir = join(root, 'work');
    await mkdir(dir);
    await new ProcessRunner({ isolation: { isolated: true, user } }).run({
      command: ['/bin/sh', '-c', `kill -0 ${process.pid} 2>/dev/null && echo "signal: allowed" || echo "signal: denied"; [ -r /proc/${process.pid}/environ ] && echo "environ: readable" || echo "environ: denied"`],
      workingDir: dir,
      outputDir: dir,
      env: {},
      signal: new AbortController().signal,
      onLine: (_stream, line) => void lines.push(line),
      options: {},
    });
    expect(lines).toEqual(['signal: denied', 'environ: denied']);
  });
});
