import { constants } from 'node:os';
import { dirname } from 'node:path';
import type { Readable } from 'node:stream';
import { LineSplitter } from './line-splitter.ts';
import { HelperSpawner, SpawnError, SpawnerLostError, type CommandSpawner, type SpawnedCommand } from './spawner/index.ts';
import { resolveTaskIsolation, TaskUserError, type TaskIsolation, type TaskUser } from './task-user.ts';
import { RunnerError, type OutputStream, type RunnerJob, type RunnerResult, type TaskRunner } from './types.ts';
import { handOverWorkingDir, unreachableBy } from './working-dir-owner.ts';
import { nextTurn } from '../event-loop-turns.ts';

export const PROCESS_RUNNER_TYPE = 'io.kestra.plugin.core.runner.Process';

/** Time between SIGTERM and SIGKILL when a command is stopped. */
export const DEFAULT_KILL_GRACE_MS = 5_000;

/** Used when the Baton process itself has no PATH (e.g. started by a bare init system). */
const FALLBACK_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** Host variables a script may see. Everything else in Baton's environment stays private. */
const INHERITED_ENV = ['PATH', 'HOME', 'USER', 'LOGNAME', 'SHELL', 'LANG', 'LANGUAGE', 'TZ', 'TMPDIR', 'TERM'];

/** Comma-separated names of further host variables to pass to scripts (e.g. `PYENV_ROOT,JAVA_HOME`). */
export const ENV_PASSTHROUGH_VARIABLE = 'BATON_TASK_ENV_PASSTHROUGH';

/**
 * Baton's own settings and secrets: never passed to a script, even when named in the passthrough list
 * (the list opts into tool settings such as JAVA_HOME, not into Baton's credentials).
 */
export function isBatonPrivateVariable(name: string): boolean {
  return name.startsWith('BATON_') || name.startsWith('SECRET_') || name === 'DATABASE_URL';
}

/**
 * The environment a script starts from, before the task's own `env`.
 * Baton's environment holds its database URL, secrets backend credentials and tokens; a script
 * inheriting all of it could print them. So only what programs need to behave normally is kept:
 * PATH to find tools, HOME/USER for per-user config, locale and TZ for text and dates, TMPDIR.
 * For a command running as the task user, HOME, USER and LOGNAME are that user's (HOME its working
 * directory when the user has no home directory: root's would not be writable).
 */
export function baseEnvironment(
  host: NodeJS.ProcessEnv = process.env,
  runAs?: { user: TaskUser; workingDir: string },
): Record<string, string> {
  const names = new Set(INHERITED_ENV);
  for (const name of (host[ENV_PASSTHROUGH_VARIABLE] ?? '').split(',')) {
    if (name.trim() && !isBatonPrivateVariable(name.trim())) names.add(name.trim());
  }
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(host)) {
    if (value !== undefined && (names.has(name) || name.startsWith('LC_'))) env[name] = value;
  }
  env.PATH ??= FALLBACK_PATH;
  // Without a locale, Python and friends fall back to ASCII and fail on the first non-ASCII character.
  if (!env.LANG && !env.LC_ALL) env.LANG = 'C.UTF-8';
  if (runAs) {
    env.HOME = runAs.user.home ?? runAs.workingDir;
    env.USER = runAs.user.name;
    env.LOGNAME = runAs.user.name;
  }
  return env;
}

export interface ProcessRunnerOptions {
  /** Time between SIGTERM and SIGKILL; default 5 s. */
  killGraceMs?: number;
  /** Host environment the base environment is taken from; default `process.env`. */
  hostEnv?: NodeJS.ProcessEnv;
  /** Starts the commands; default the process-wide helper (see spawner/helper.mjs). */
  spawner?: CommandSpawner;
  /**
   * Who commands run as (see task-user.ts); default decided from `hostEnv` (BATON_TASK_USER) on the
   * first command. A TaskUserError there fails each command with START_FAILED.
   */
  isolation?: TaskIsolation;
}

/** One helper per Baton process, shared by every Process runner in it. */
let sharedSpawner: HelperSpawner | undefined;
function defaultSpawner(): HelperSpawner {
  return (sharedSpawner ??= new HelperSpawner());
}

/**
 * `io.kestra.plugin.core.runner.Process`: runs the command as a child process on this host, in the
 * task's working directory. The command leads its own process group, so stopping it (abort, or
 * leftovers once it has exited) signals everything it started: SIGTERM, then SIGKILL after a grace period.
 */
export class ProcessRunner implements TaskRunner {
  readonly type = PROCESS_RUNNER_TYPE;
  readonly aliases = ['io.kestra.core.models.tasks.runners.types.ProcessTaskRunner'] as const;
  private readonly killGraceMs: number;
  private readonly hostEnv: NodeJS.ProcessEnv;
  private readonly spawner: CommandSpawner | undefined;
  private isolation: TaskIsolation | undefined;

  constructor(options: ProcessRunnerOptions = {}) {
    this.killGraceMs = options.killGraceMs ?? DEFAULT_KILL_GRACE_MS;
    this.hostEnv = options.hostEnv ?? process.env;
    this.spawner = options.spawner;
    this.isolation = options.isolation;
  }

  /** Who commands run as; decided once (it looks the user up). */
  taskIsolation(): TaskIsolation {
    try {
      return (this.isolation ??= resolveTaskIsolation(this.hostEnv));
    } catch (error) {
      if (error instanceof TaskUserError) throw new RunnerError('START_FAILED', error.message, { cause: error });
      throw error;
    }
  }

  async isAvailable(): Promise<boolean> {
    return process.platform !== 'win32';
  }

  async run(job: RunnerJob): Promise<RunnerResult> {
    if (job.command.length === 0 || !job.command[0]) throw new RunnerError('INVALID_JOB', 'the command to run is empty');
    // Nothing is started for a task killed before its command began.
    if (job.signal.aborted) return { exitCode: 128 + constants.signals.SIGTERM, killed: true };

    const isolation = this.taskIsolation();
    const user = isolation.isolated ? isolation.user : undefined;
    let command: SpawnedCommand;
    try {
      if (user) await this.prepareFor(user, job);
      command = await (this.spawner ?? defaultSpawner()).spawn({
        file: job.command[0],
        args: job.command.slice(1),
        cwd: job.workingDir,
        env: { ...baseEnvironment(this.hostEnv, user && { user, workingDir: job.workingDir }), ...job.env },
        ...(user ? { uid: user.uid, gid: user.gid } : {}),
      });
    } catch (error) {
      throw new RunnerError('START_FAILED', `cannot start '${job.command[0]}' in '${job.workingDir}': ${await whyNotStarted(error, user, job.workingDir)}`, { cause: error });
    }
    try {
      return await this.supervise(command, job);
    } catch (error) {
      if (error instanceof SpawnerLostError) throw new RunnerError('SUPERVISION_LOST', `'${job.command[0]}' was stopped: ${error.message}`, { cause: error });
      throw error;
    }
  }

  /**
   * Hands the working directory to the task user. The command starts there even under a folder the user
   * cannot enter (the directory is entered before the user is switched), but then paths through
   * $WORKING_DIR and $OUTPUT_DIR fail: the task's log says which folder is in the way.
   */
  private async prepareFor(user: TaskUser, job: RunnerJob): Promise<void> {
    await handOverWorkingDir(job.workingDir, user, process.getuid!());
    const blocked = await unreachableBy(dirname(job.workingDir), user);
    if (blocked) {
      job.log?.('warn', `the task user '${user.name}' cannot reach the working directory by its path: ${blocked}; ` +
        'the command starts in it, but paths through WORKING_DIR and OUTPUT_DIR fail');
    }
  }

  private async supervise(child: SpawnedCommand, job: RunnerJob): Promise<RunnerResult> {
    const { pid, exit } = child;
    const timers: NodeJS.Timeout[] = [];
    let killed = false;
    let exited = false;

    const stopGroup = () => {
      signalGroup(pid, 'SIGTERM');
      timers.push(setTimeout(() => signalGroup(pid, 'SIGKILL'), this.killGraceMs));
      // A descendant that left the group (setsid) could hold the pipes open forever: stop waiting for it.
      timers.push(setTimeout(() => {
        child.stdout.destroy();
        child.stderr.destroy();
      }, this.killGraceMs + 1_000));
    };
    const onAbort = () => {
      if (killed || exited) return;
      killed = true;
      stopGroup();
    };
    job.signal.addEventListener('abort', onAbort, { once: true });
    // The abort may have landed while the process was starting.
    if (job.signal.aborted) onAbort();

    const ended = exit.then((status) => {
      exited = true;
      // Background jobs the command left behind must not outlive the task (as in a container).
      if (!killed && groupAlive(pid)) stopGroup();
      return status;
    });

    try {
      const [status] = await Promise.all([
        ended,
        pump(child.stdout, 'stdout', job),
        pump(child.stderr, 'stderr', job),
      ]);
      const exitCode = status.code ?? 128 + (status.signal ? constants.signals[status.signal] : 0);
      return status.signal ? { exitCode, killed, signal: status.signal } : { exitCode, killed };
    } finally {
      job.signal.removeEventListener('abort', onAbort);
      for (const timer of timers) clearTimeout(timer);
      // Whatever happened above (a throwing onLine), leave nothing of this command running.
      if (groupAlive(pid)) signalGroup(pid, 'SIGKILL');
    }
  }
}

/** The reason a command did not start, in words: for the task user, which directory it could not enter. */
async function whyNotStarted(error: unknown, user: TaskUser | undefined, workingDir: string): Promise<string> {
  const code = error instanceof SpawnError ? error.code : (error as NodeJS.ErrnoException).code;
  if (user && (code === 'EACCES' || code === 'ENOENT')) {
    const blocked = await unreachableBy(workingDir, user).catch(() => undefined);
    if (blocked) return `the task user '${user.name}' (uid ${user.uid}) cannot enter its working directory: ${blocked}`;
  }
  if (code === 'ENOENT') return 'not found (or the working directory is missing)';
  return (error as Error).message;
}

/** Reads one output stream to its end, handing each line to the job; awaiting async handlers pauses the pipe. */
async function pump(stream: Readable, name: OutputStream, job: RunnerJob): Promise<void> {
  const splitter = new LineSplitter();
  let failure: unknown;
  const deliver = async (lines: string[]) => {
    for (const line of lines) {
      if (failure !== undefined) return;
      try {
        const pending = job.onLine(name, line);
        if (pending) await pending;
      } catch (error) {
        // Keep draining so the command never blocks on a full pipe; report once it has ended.
        failure = error;
      }
    }
  };
  try {
    for await (const chunk of stream) {
      await deliver(splitter.push(chunk as Buffer));
      // Buffered output is read in microtasks: a flood would hold the event loop (and /healthz) until drained.
      await nextTurn();
    }
  } catch (error) {
    // A pipe destroyed after the kill grace period is an expected end, not a failure.
    if (!stream.destroyed) throw error;
  }
  await deliver(splitter.end());
  if (failure !== undefined) throw failure;
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}
