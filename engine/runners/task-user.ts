/**
 * Who Process-runner commands run as.
 *
 * Baton's environment holds its API token, admin password, webhook secret, database URL and every
 * SECRET_* value, and its memory holds every secret it has decrypted. A command running as Baton's
 * own user reads all of that through /proc/<pid>/environ and /proc/<pid>/mem, and reads Baton's data
 * directory and configuration files. The kernel allows those /proc reads only to the same uid or to a
 * holder of CAP_SYS_PTRACE (ptrace access mode), and a command started as another, unprivileged user
 * has no capabilities left. So commands run as a dedicated user (`baton-task`). Marking Baton's process
 * non-dumpable (prctl(PR_SET_DUMPABLE, 0)) would block the same reads, but Node has no binding for
 * prctl: a different uid is the equal mechanism, and it also keeps the data directory (mode 0700) closed.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { chmod, mkdir } from 'node:fs/promises';

/** The user Process commands run as: a name or a numeric uid. */
export const TASK_USER_VARIABLE = 'BATON_TASK_USER';

/** Used when Baton runs as root and BATON_TASK_USER is unset, if such a user exists. */
export const DEFAULT_TASK_USER = 'baton-task';

/** An account of this host, as the password database has it. */
export interface TaskUser {
  name: string;
  uid: number;
  gid: number;
  /** Its home directory when that exists; commands otherwise get their working directory as HOME. */
  home?: string;
}

/** How Process commands are separated from Baton: by another user, or not at all (and why not). */
export type TaskIsolation =
  | { isolated: true; user: TaskUser }
  | { isolated: false; reason: string };

/** BATON_TASK_USER names a user Baton cannot run commands as: Baton refuses to start (or to run the command). */
export class TaskUserError extends Error {
  override readonly name = 'TaskUserError';
}

/** What the decision needs to know about this host. */
export interface HostAccounts {
  platform: NodeJS.Platform;
  /** Baton's own uid (undefined where there are no uids). */
  uid: number | undefined;
  /** A user by name or numeric uid, undefined when there is none. */
  lookup(user: string): TaskUser | undefined;
}

/** This host: its platform, this process's uid, and its password database (NSS through getent, else /etc/passwd). */
export const thisHost: HostAccounts = {
  platform: process.platform,
  uid: process.getuid?.(),
  lookup: lookupUser,
};

/**
 * Decides who commands run as. BATON_TASK_USER set: that user, which must exist and differ from root,
 * and Baton must be able to switch to it (it runs as root) — otherwise TaskUserError; naming Baton's
 * own user turns isolation off explicitly. Unset: `baton-task` when Baton runs as root and that user
 * exists; otherwise commands run as Baton's user, without isolation, and `reason` says so.
 */
export function resolveTaskIsolation(env: NodeJS.ProcessEnv = process.env, host: HostAccounts = thisHost): TaskIsolation {
  const wanted = env[TASK_USER_VARIABLE]?.trim();
  const root = host.uid === 0;
  if (wanted) {
    const user = host.lookup(wanted);
    if (!user) {
      throw new TaskUserError(
        `${TASK_USER_VARIABLE}='${wanted}' is not a user of this host; create it (useradd --system --no-create-home ${wanted}) or unset ${TASK_USER_VARIABLE}`,
      );
    }
    if (user.uid === host.uid) {
      return { isolated: false, reason: `${TASK_USER_VARIABLE}='${wanted}' is Baton's own user` };
    }
    if (user.uid === 0) throw new TaskUserError(`${TASK_USER_VARIABLE}='${wanted}' is root; name an unprivileged user`);
    if (host.platform !== 'linux') {
      throw new TaskUserError(`${TASK_USER_VARIABLE} is set, but commands can run as another user on Linux only (this host: ${host.platform})`);
    }
    if (!root) {
      throw new TaskUserError(
        `${TASK_USER_VARIABLE}='${wanted}' cannot be used: Baton runs as uid ${host.uid}, not root, so it cannot start commands as another user; run Baton as root or unset ${TASK_USER_VARIABLE}`,
      );
    }
    return { isolated: true, user };
  }
  if (host.platform !== 'linux') return { isolated: false, reason: `commands run as another user on Linux only (this host: ${host.platform})` };
  if (!root) {
    return { isolated: false, reason: `Baton runs as uid ${host.uid}, not root, so commands run as the same user` };
  }
  const user = host.lookup(DEFAULT_TASK_USER);
  if (!user) {
    return { isolated: false, reason: `Baton runs as root and there is no '${DEFAULT_TASK_USER}' user (useradd --system --no-create-home ${DEFAULT_TASK_USER}), so commands run as root` };
  }
  if (user.uid === 0) throw new TaskUserError(`the '${DEFAULT_TASK_USER}' user has uid 0; it must be an unprivileged user`);
  return { isolated: true, user };
}

/** The warning logged at start when commands are not isolated. */
export function isolationWarning(isolation: Extract<TaskIsolation, { isolated: false }>): string {
  return `task isolation is off: ${isolation.reason}. Process-runner tasks can then read Baton's environment ` +
    `(its credentials and SECRET_* values, through /proc), its memory and its data directory; set ${TASK_USER_VARIABLE} ` +
    `to an unprivileged user (default '${DEFAULT_TASK_USER}') and run Baton as root, or run tasks in Docker`;
}

/**
 * Checks the task user at start (TaskUserError stops the start) and, when commands run as another
 * user, makes the data directory Baton's alone (mode 0700): its database, internal storage and Git
 * credentials are then out of a command's reach. Returns what to log.
 */
export async function prepareTaskIsolation(options: { env?: NodeJS.ProcessEnv; dataDir: string }): Promise<{ isolation: TaskIsolation; warnings: string[] }> {
  const isolation = resolveTaskIsolation(options.env ?? process.env);
  if (!isolation.isolated) return { isolation, warnings: [isolationWarning(isolation)] };
  if (!options.dataDir.startsWith('memory://')) {
    await mkdir(options.dataDir, { recursive: true, mode: 0o700 });
    await chmod(options.dataDir, 0o700);
  }
  return { isolation, warnings: [] };
}

/** One line of the password database: `name:x:uid:gid:gecos:home:shell`. */
function parsePasswdLine(line: string): TaskUser | undefined {
  const [name, , uid, gid, , home] = line.split(':');
  if (!name || !/^\d+$/.test(uid ?? '') || !/^\d+$/.test(gid ?? '')) return undefined;
  return { name, uid: Number(uid), gid: Number(gid), home: existingDirectory(home) };
}

function existingDirectory(path: string | undefined): string | undefined {
  if (!path) return undefined;
  try {
    return statSync(path).isDirectory() ? path : undefined;
  } catch {
    return undefined;
  }
}

/** Node has no getpwnam: getent asks NSS (so LDAP or sssd users work too); /etc/passwd where getent is missing. */
function lookupUser(user: string): TaskUser | undefined {
  try {
    const line = execFileSync('getent', ['passwd', user], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 10_000 });
    return parsePasswdLine(line.split('\n')[0]);
  } catch (error) {
    // getent exits 2 for an unknown user; only its absence sends us to the file.
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') return undefined;
  }
  let passwd: string;
  try {
    passwd = readFileSync('/etc/passwd', 'utf8');
  } catch {
    return undefined;
  }
  const byUid = /^\d+$/.test(user);
  for (const line of passwd.split('\n')) {
    const entry = parsePasswdLine(line);
    if (entry && (byUid ? entry.uid === Number(user) : entry.name === user)) return entry;
  }
  return undefined;
}
