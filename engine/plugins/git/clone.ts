import { Enum, Type, type Static } from '../../contract/index.ts';
import fs from 'node:fs';
import { mkdir, readFile, stat } from 'node:fs/promises';
import { dirname, join, posix } from 'node:path';
import * as git from 'isomorphic-git';
import nodeHttp from 'isomorphic-git/http/node';
import { stripCredentials } from '../../../sync/git/index.ts';
import { resolveInside } from '../../scripts/index.ts';
import { TaskFailure, defineTask, type TaskContext } from '../types.ts';

interface Remote {
  /** The URL without user-info: what is fetched, written to `.git/config` and shown. */
  url: string;
  headers: Record<string, string>;
  /** Texts that must never appear in a message. */
  secrets: string[];
}

const CloneProperties = Type.Object({
  url: Type.String({minLength: 1}),
  branch: Type.Optional(Type.String()),
  tag: Type.Optional(Type.String()),
  commit: Type.Optional(Type.String()),
  depth: Type.Optional(Type.Union([Type.Integer({minimum: 1}), Type.String()])),
  directory: Type.Optional(Type.String()),
  username: Type.Optional(Type.String()),
  password: Type.Optional(Type.String()),
  privateKey: Type.Optional(Type.String()),
  passphrase: Type.Optional(Type.String()),
  cloneSubmodules: Type.Optional(Type.Union([Type.Boolean(), Type.String()])),
  gitConfig: Type.Optional(Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.String()])),
  connectTimeout: Type.Optional(Type.Union([Type.Integer(), Type.String()])),
  noProxy: Type.Optional(Type.Union([Type.Boolean(), Type.String()])),
  trustedCaPemPath: Type.Optional(Type.String()),
});
type CloneProps = Static<typeof CloneProperties>;

/**
 * io.kestra.plugin.git.Clone: clones an http(s) repository into the task's working directory (the
 * shared one inside a WorkingDirectory, so later tasks see the files), or into `directory` under it.
 * Shallow (`depth`, default 1) unless a `tag` or `commit` is asked for, as in Kestra. Credentials go
 * in a header, never to disk, and are kept out of every log line and error.
 */
export const gitClone = defineTask({
  type: 'io.kestra.plugin.git.Clone',
  kind: 'runnable',
  title: 'Clone a Git repository',
  properties: CloneProperties,
  description: "Clones an http(s) Git repository into the task's working directory (the shared one inside a WorkingDirectory, so later tasks see the files), or into `directory` under it. Shallow (`depth`, default 1) unless a `tag` or `commit` is asked for; credentials go in a header, never to disk, and never into a log line.",
  outputs: Type.Object({ directory: Type.String({ description: 'Where the repository was cloned.' }) }),
  examples: [{ title: 'Example', code: 'id: clone\ntype: io.kestra.plugin.git.Clone\nurl: https://github.com/kestra-io/examples\nbranch: main' }],
  async run(ctx) {
    const { props } = ctx;
    if (props.privateKey) throw new TaskFailure('privateKey: SSH remotes are not supported by Baton; clone over https with username and password (a token)');
    const remote = parseRemote(ctx, props);
    const depth = shallowDepth(props);
    const dir = await targetDirectory(ctx, props.directory);
    if (await exists(join(dir, '.git'))) {
      throw new TaskFailure(`directory: '${props.directory ?? '.'}' already holds a Git repository; clone into another \`directory\``);
    }

    const ref = props.tag ?? props.branch;
    ctx.logger.info(`Start cloning from '${remote.url}'`);
    const http = { request: (request: Parameters<typeof nodeHttp.request>[0]) => nodeHttp.request({ ...request, signal: ctx.signal }) };
    try {
      await git.clone({
        fs, http, dir, url: remote.url, ref, depth, headers: remote.headers,
        singleBranch: true,
        noTags: props.tag === undefined,
        noCheckout: props.commit !== undefined,
      });
      if (props.commit) await git.checkout({ fs, dir, ref: props.commit, force: true });
      if (props.gitConfig) await applyGitConfig(ctx, dir, props.gitConfig);
      if (flag(props.cloneSubmodules)) await cloneSubmodules(ctx, dir, remote, http);
    } catch (error) {
      throw cloneFailure(error, remote, ref, ctx.signal);
    }
    const head = await git.resolveRef({ fs, dir, ref: 'HEAD' });
    ctx.logger.info(`Cloned '${remote.url}'${ref ? ` (${ref})` : ''} at commit ${head}`);
    return { outputs: { directory: dir } };
  },
});

/** The URL to fetch and the Basic header: explicit username/password win over user-info in the URL. */
function parseRemote(ctx: TaskContext<CloneProps>, props: CloneProps): Remote {
  const raw = String(props.url).trim();
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    if (/^[^/\\@:\s]+@[^/\\:\s]+:/.test(raw)) throw new TaskFailure(`url: SSH remotes are not supported by Baton (${raw}); use an https URL`);
    throw new TaskFailure(`url: '${stripCredentials(raw)}' is not a valid URL`);
  }
  const url = stripCredentials(raw);
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new TaskFailure(`url: only http(s) remotes are supported by Baton, got '${parsed.protocol}' in ${url}`);
  }
  const fromUrl = parsed.username || parsed.password ? { username: decodeURIComponent(parsed.username), password: decodeURIComponent(parsed.password) } : undefined;
  const username = props.username ?? fromUrl?.username;
  const password = props.password ?? fromUrl?.password;
  const secrets = [password, parsed.password, fromUrl && !fromUrl.password ? fromUrl.username : undefined].filter((s): s is string => !!s);
  for (const secret of secrets) ctx.maskSecret(secret);
  const headers: Record<string, string> = {};
  if (username !== undefined || password !== undefined) {
    const basic = Buffer.from(`${username ?? ''}:${password ?? ''}`).toString('base64');
    secrets.push(basic);
    // Sent up front rather than after a 401 challenge: one round trip less per request.
    headers.Authorization = `Basic ${basic}`;
  }
  return { url, headers, secrets };
}

/** Kestra clones shallow (depth 1 by default) unless a tag or a commit is asked for. */
function shallowDepth(props: CloneProps): number | undefined {
  if (props.tag !== undefined || props.commit !== undefined) return undefined;
  const depth = props.depth == null ? 1 : Number(props.depth);
  if (!Number.isInteger(depth) || depth < 1) throw new TaskFailure(`depth must be a whole number ≥ 1, got '${props.depth}'`);
  return depth;
}

async function targetDirectory(ctx: TaskContext<CloneProps>, directory: string | undefined): Promise<string> {
  const workingDir = await ctx.workingDirectory();
  const relative = directory == null ? '' : posix.normalize(directory.replace(/\\/g, '/')).replace(/\/+$/, '');
  if (relative === '' || relative === '.') return workingDir;
  const dir = resolveInside(workingDir, relative, 'directory');
  await mkdir(dir, { recursive: true });
  return dir;
}

/** Kestra's `gitConfig`: `section.name` (or `section.sub.name`) keys; null or empty unsets. */
async function applyGitConfig(ctx: TaskContext<CloneProps>, dir: string, gitConfig: Record<string, unknown> | string): Promise<void> {
  const entries = typeof gitConfig === 'string' ? (JSON.parse(gitConfig) as Record<string, unknown>) : gitConfig;
  for (const [path, value] of Object.entries(entries)) {
    if (!path.includes('.')) {
      ctx.logger.warn(`invalid git config key format: ${path}; expected 'section.name' or 'section.subsection.name'`);
      continue;
    }
    const unset = value == null || (typeof value === 'string' && value.trim() === '');
    const configValue = unset ? undefined : Array.isArray(value) ? value.map(String).join(',') : typeof value === 'string' ? value.trim() : (value as boolean | number);
    await git.setConfig({ fs, dir, path, value: configValue });
    ctx.logger.info(unset ? `Unset git config ${path}` : `Applied git config ${path} = ${String(configValue)}`);
  }
}

/**
 * Submodules one level deep, each at the commit its parent records. isomorphic-git has no submodule
 * support, so each is cloned whole (the recorded commit need not be any branch's head) and checked out.
 * Relative URLs resolve against the parent's; the parent's credentials go only to the same origin.
 */
async function cloneSubmodules(ctx: TaskContext<CloneProps>, dir: string, parent: Remote, http: git.HttpClient): Promise<void> {
  const text = await readFile(join(dir, '.gitmodules'), 'utf8').catch(() => undefined);
  if (text === undefined) return;
  const head = await git.resolveRef({ fs, dir, ref: 'HEAD' });
  for (const { path, url } of parseGitmodules(text)) {
    const target = resolveInside(dir, path, '.gitmodules');
    const submoduleUrl = stripCredentials(new URL(url, parent.url.endsWith('/') ? parent.url : `${parent.url}/`).href);
    const { tree } = await git.readTree({ fs, dir, oid: head, filepath: dirname(path) === '.' ? undefined : dirname(path) });
    const entry = tree.find((e) => e.path === posix.basename(path) && e.type === 'commit');
    if (!entry) {
      ctx.logger.warn(`Submodule '${path}' is listed in .gitmodules but not recorded in the commit; skipped`);
      continue;
    }
    const sameOrigin = new URL(submoduleUrl).origin === new URL(parent.url).origin;
    ctx.logger.info(`Cloning submodule '${path}' from '${submoduleUrl}' at ${entry.oid}`);
    await mkdir(target, { recursive: true });
    await git.clone({ fs, http, dir: target, url: submoduleUrl, headers: sameOrigin ? parent.headers : {}, noCheckout: true, noTags: true });
    await git.checkout({ fs, dir: target, ref: entry.oid, force: true });
  }
}

/** `[submodule "x"] path = … url = …` sections of a .gitmodules file. */
export function parseGitmodules(text: string): Array<{ path: string; url: string }> {
  const modules: Array<{ path?: string; url?: string }> = [];
  for (const line of text.split(/\r?\n/)) {
    const trimmed = line.trim();
    if (/^\[submodule\s/.test(trimmed)) modules.push({});
    const match = /^(path|url)\s*=\s*(.+)$/.exec(trimmed);
    if (match && modules.length > 0) modules[modules.length - 1][match[1] as 'path' | 'url'] = match[2].trim();
  }
  return modules.filter((m): m is { path: string; url: string } => !!m.path && !!m.url);
}

/** What went wrong, in words a flow author can act on, with every credential removed. */
function cloneFailure(error: unknown, remote: Remote, ref: string | undefined, signal: AbortSignal): TaskFailure {
  if (error instanceof TaskFailure) return error;
  const redact = (text: string) => {
    let out = text;
    for (const secret of remote.secrets) out = out.split(secret).join('***');
    return out.replace(/([a-z][a-z0-9+.-]*:\/\/)[^\s/?#@]*@/gi, '$1');
  };
  const record = (error ?? {}) as { code?: string; message?: string; data?: { statusCode?: number; what?: string } };
  const detail = redact(record.message ?? String(error));
  // The cause keeps only redacted text: isomorphic-git errors can carry request details.
  const fail = (message: string) => new TaskFailure(redact(message), { cause: new Error(detail) });
  if (signal.aborted) return fail(`cloning ${remote.url} stopped: ${signal.reason instanceof Error ? signal.reason.message : 'killed'}`);
  const status = record.data?.statusCode;
  if (record.code === 'HttpError' && status !== undefined) {
    if (status === 401 || status === 403) return fail(`authentication failed for ${remote.url} (HTTP ${status}); check username and password`);
    if (status === 404) return fail(`repository not found: ${remote.url} (HTTP 404)`);
    return fail(`the git server answered HTTP ${status} for ${remote.url}`);
  }
  if (record.code === 'NotFoundError' && ref !== undefined) return fail(`'${ref}' not found in ${remote.url}: ${detail}`);
  if (record.code === 'SmartHttpError') return fail(`${remote.url} does not answer as a git smart-HTTP server`);
  const errno = (error as NodeJS.ErrnoException).code;
  if (errno && /^(ECONNREFUSED|ECONNRESET|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH)$/.test(errno)) {
    return fail(`cannot reach ${remote.url}: ${detail}`);
  }
  return fail(`cloning ${remote.url} failed: ${detail}`);
}

function flag(value: unknown): boolean {
  return value === true || (typeof value === 'string' && value.trim().toLowerCase() === 'true');
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
