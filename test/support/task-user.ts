/**
 * Suites that start commands as the unprivileged task user (engine/runners/task-user.ts) need to run
 * as root, and need the user: it is created here when missing, as .ci/run does.
 */
import { execFileSync } from 'node:child_process';
import { DEFAULT_TASK_USER, thisHost, type TaskUser } from '../../engine/runners/index.ts';
import { requireService } from './services.ts';

/** Gate: `taskUserService.describe(name, () => …)`; root, with the `baton-task` user (created if missing). */
export const taskUserService = requireService(`the '${DEFAULT_TASK_USER}' user (tests run as root)`, async () => {
  if (process.platform !== 'linux') return `commands run as another user on Linux only (this host: ${process.platform})`;
  if (process.getuid?.() !== 0) {
    return `these tests start commands as '${DEFAULT_TASK_USER}', which needs root; this process runs as uid ${process.getuid?.()}`;
  }
  if (!thisHost.lookup(DEFAULT_TASK_USER)) {
    try {
      execFileSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', DEFAULT_TASK_USER], { stdio: 'pipe' });
    } catch (error) {
      return `cannot create the '${DEFAULT_TASK_USER}' user: ${(error as Error).message}`;
    }
  }
  return thisHost.lookup(DEFAULT_TASK_USER) ? null : `the '${DEFAULT_TASK_USER}' user cannot be looked up after useradd`;
});

/** The task user (call inside a gated suite). */
export function taskUser(): TaskUser {
  const user = thisHost.lookup(DEFAULT_TASK_USER);
  if (!user) throw new Error(`no '${DEFAULT_TASK_USER}' user (use taskUserService.describe)`);
  return user;
}
