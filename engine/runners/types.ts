/**
 * The task runner contract: one interface, one implementation per place a script can run
 * (Process on this host, Docker in containers), all passing the shared suite in `runner.case.ts`.
 */

export type OutputStream = 'stdout' | 'stderr';

/** One command to run, already fully prepared by the script layer. */
export interface RunnerJob {
  /** argv, interpreter included (e.g. `['/bin/sh', '-c', 'set -e\necho hi']`). */
  command: string[];
  /** The task's working directory (host path); the command starts there. */
  workingDir: string;
  /** A subdirectory of `workingDir` whose files become output files (`OUTPUT_DIR`). */
  outputDir: string;
  /** Task environment; the runner adds its own minimal base (see each runner for which). */
  env: Record<string, string>;
  /** Aborted on kill or timeout: the runner must stop the whole command promptly. */
  signal: AbortSignal;
  /**
   * Called once per complete line, in order per stream, without its line terminator.
   * Returning a promise pauses reading that stream until it settles (backpressure).
   */
  onLine(stream: OutputStream, line: string): void | Promise<void>;
  /** Image for container runners; ignored by Process. */
  containerImage?: string;
  /** The task's `taskRunner` block as written (runner-specific options such as Docker's `pullPolicy`). */
  options: Record<string, unknown>;
  /** Identifies the task on what the runner creates (Docker: container labels such as `baton.task`). */
  labels?: Record<string, string>;
  /** The runner's own messages (pulling an image, a fallback it chose), for the task's log. */
  log?(level: 'debug' | 'info' | 'warn', message: string): void;
}

export interface RunnerResult {
  /** The exit status; a command ended by a signal reports 128 + the signal number, as shells do. */
  exitCode: number;
  /** True when the command was stopped because `job.signal` was aborted. */
  killed: boolean;
  /** The signal that ended the command, if one did. */
  signal?: NodeJS.Signals;
}

export interface TaskRunner {
  /** Kestra type string, e.g. `io.kestra.plugin.core.runner.Process`. */
  readonly type: string;
  /** Older type names meaning the same runner. */
  readonly aliases?: readonly string[];
  /**
   * Whether this runner can work on this machine right now (e.g. a Docker engine answers).
   * Consulted only when choosing the default runner; an explicitly requested runner is used as is.
   */
  isAvailable(): Promise<boolean>;
  /**
   * Runs the job to completion. Rejects only when the command could not be started at all, or when its
   * supervision was lost midway (SUPERVISION_LOST: it was stopped, and its end is unknown).
   */
  run(job: RunnerJob): Promise<RunnerResult>;
}

/** Why a runner could not be chosen or could not start the command. */
export type RunnerErrorCode = 'UNKNOWN_RUNNER' | 'NO_RUNNER_AVAILABLE' | 'START_FAILED' | 'INVALID_JOB' | 'SUPERVISION_LOST';

export class RunnerError extends Error {
  override readonly name = 'RunnerError';

  constructor(
    readonly code: RunnerErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function isRunnerError(error: unknown, code?: RunnerErrorCode): error is RunnerError {
  return error instanceof RunnerError && (code === undefined || error.code === code);
}
