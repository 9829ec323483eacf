/**
 * A real git smart-HTTP server for tests: Node's `http` in front of `git http-backend` run as CGI,
 * with optional HTTP basic auth, plus helpers that create bare repositories and push commits to them
 * with the git CLI. Nothing here is a fake: clients (the git CLI, isomorphic-git) speak the real
 * protocol to the real backend.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve, sep } from 'node:path';
import { promisify } from 'node:util';
import { requireService } from './services.ts';

const execFileAsync = promisify(execFile);

export interface GitServer {
  /** `http://127.0.0.1:<port>`, no trailing slash. */
  url: string;
  /** Root folder holding the bare repositories the server exports. */
  root: string;
  /** The clone URL of a repository created with `createRepo(server, name, …)`. */
  repoUrl(name: string): string;
  close(): Promise<void>;
}

export interface GitAuthor {
  name: string;
  email: string;
}

export interface TestRepo {
  name: string;
  bareDir: string;
  workDir: string;
  url: string;
  /** Writes (or, for null, deletes) files, commits and force-pushes the branch; resolves to the new commit's sha. */
  commit(files: Record<string, string | null>, message?: string, options?: { branch?: string; author?: GitAuthor }): Promise<string>;
  /** The sha the bare repository's branch points at (the default branch unless given). */
  head(branch?: string): Promise<string>;
}

/** The author of test commits unless a test names one. */
export const TEST_AUTHOR: GitAuthor = { name: 'Baton Test', email: 'test@baton.invalid' };

/** Author dates of test commits: this instant plus one minute per commit, so shas are reproducible but distinct. */
export const TEST_EPOCH = Date.UTC(2024, 0, 1, 0, 0, 0);

/** Gate for suites that need the git CLI and `git http-backend`. */
export const gitService = requireService('git', async () => {
  try {
    const backend = await gitHttpBackendPath();
    return existsSync(backend) ? null : `${backend} not found`;
  } catch (error) {
    return `git CLI not usable: ${error instanceof Error ? error.message : String(error)}`;
  }
});

let backendPath: Promise<string> | undefined;
function gitHttpBackendPath(): Promise<string> {
  backendPath ??= execFileAsync('git', ['--exec-path']).then(({ stdout }) => join(stdout.trim(), 'git-http-backend'));
  return backendPath;
}

/** Environment for git CLI calls: no user or system config (signing, hooks, aliases), no prompts. */
function isolatedGitEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_TERMINAL_PROMPT: '0',
    GIT_ASKPASS: '',
    SSH_ASKPASS: '',
    ...extra,
  };
}

/** Runs the git CLI in `cwd` and resolves to its trimmed stdout; the error carries stderr. */
export async function runGit(cwd: string, args: string[], env: Record<string, string> = {}): Promise<string> {
  try {
    const { stdout } = await execFileAsync('git', args, { cwd, env: isolatedGitEnv(env), maxBuffer: 64 * 1024 * 1024 });
    return stdout.trim();
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? '';
    throw new Error(`git ${args.join(' ')} failed in ${cwd}: ${stderr.trim() || String(error)}`, { cause: error });
  }
}

/** Starts a smart-HTTP git server on 127.0.0.1 exporting every repository under `root` (a temporary folder by default). */
export async function startGitServer(options: { root?: string; auth?: { username: string; password: string } } = {}): Promise<GitServer> {
  const ownsRoot = options.root === undefined;
  const root = resolve(options.root ?? (await mkdtemp(join(tmpdir(), 'baton-git-server-'))));
  await mkdir(root, { recursive: true });
  const backend = await gitHttpBackendPath();
  const expected = options.auth ? `Basic ${Buffer.from(`${options.auth.username}:${options.auth.password}`).toString('base64')}` : null;

  const server = createServer((request, response) => {
    let remoteUser: string | undefined;
    if (expected !== null) {
      if (request.headers.authorization !== expected) {
        response.writeHead(401, { 'WWW-Authenticate': 'Basic realm="baton test git"', 'Content-Type': 'text/plain' });
        response.end('authentication required\n');
        request.resume();
        return;
      }
      remoteUser = options.auth!.username;
    }
    serveWithBackend(backend, root, request, response, remoteUser);
  });
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolveListen());
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;

  return {
    url,
    root,
    repoUrl: (name) => `${url}/${repoFolderName(name)}`,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolveClose) => server.close(() => resolveClose()));
      if (ownsRoot) await rm(root, { recursive: true, force: true });
    },
  };
}

function repoFolderName(name: string): string {
  return name.endsWith('.git') ? name : `${name}.git`;
}

/** Hands one request to `git http-backend` (CGI/1.1) and relays its response, `Status:` header included. */
function serveWithBackend(backend: string, root: string, request: IncomingMessage, response: ServerResponse, remoteUser: string | undefined): void {
  const requestUrl = new URL(request.url ?? '/', 'http://127.0.0.1');
  let pathInfo: string;
  try {
    pathInfo = decodeURIComponent(requestUrl.pathname);
  } catch {
    response.writeHead(400, { 'Content-Type': 'text/plain' });
    response.end('malformed path\n');
    request.resume();
    return;
  }
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_PROJECT_ROOT: root,
    GIT_HTTP_EXPORT_ALL: '1',
    GATEWAY_INTERFACE: 'CGI/1.1',
    SERVER_PROTOCOL: `HTTP/${request.httpVersion}`,
    SERVER_SOFTWARE: 'baton-test-git-server',
    REQUEST_METHOD: request.method ?? 'GET',
    PATH_INFO: pathInfo,
    QUERY_STRING: requestUrl.search.replace(/^\?/, ''),
    REMOTE_ADDR: request.socket.remoteAddress ?? '127.0.0.1',
  };
  if (request.headers['content-type']) env.CONTENT_TYPE = request.headers['content-type'];
  if (request.headers['content-length']) env.CONTENT_LENGTH = request.headers['content-length'];
  if (remoteUser !== undefined) {
    env.REMOTE_USER = remoteUser;
    env.AUTH_TYPE = 'Basic';
  }
  // CGI passes request headers as HTTP_*; http-backend reads HTTP_CONTENT_ENCODING (gzip bodies the git
  // CLI sends for large negotiations) and HTTP_GIT_PROTOCOL (protocol v2). Credentials stay out, as CGI requires.
  for (const [name, value] of Object.entries(request.headers)) {
    if (value === undefined || name === 'authorization' || name === 'content-type' || name === 'content-length') continue;
    env[`HTTP_${name.toUpperCase().replace(/-/g, '_')}`] = Array.isArray(value) ? value.join(', ') : value;
  }

  const child = spawn(backend, [], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  child.stdin.on('error', () => {
    // The backend may exit (e.g. on a 404) before reading the body; the response still comes from stdout.
  });
  request.pipe(child.stdin);

  let head = Buffer.alloc(0);
  let headersSent = false;
  child.stdout.on('data', (chunk: Buffer) => {
    if (headersSent) {
      response.write(chunk);
      return;
    }
    head = Buffer.concat([head, chunk]);
    const parsed = parseCgiHead(head);
    if (!parsed) return;
    headersSent = true;
    response.writeHead(parsed.status, parsed.statusText, parsed.headers);
    if (parsed.body.length > 0) response.write(parsed.body);
  });
  child.on('error', (error) => {
    if (!headersSent) {
      headersSent = true;
      response.writeHead(500, { 'Content-Type': 'text/plain' });
    }
    response.end(`git http-backend failed: ${error.message}\n`);
  });
  child.on('close', (code) => {
    if (!headersSent) {
      headersSent = true;
      response.writeHead(500, { 'Content-Type': 'text/plain' });
      response.end(`git http-backend exited with ${code} before sending headers: ${stderr}\n`);
      return;
    }
    response.end();
  });
  response.on('close', () => {
    if (child.exitCode === null) child.kill();
  });
}

interface CgiHead {
  status: number;
  statusText: string;
  headers: Record<string, string | string[]>;
  body: Buffer;
}

/** Splits a CGI response at its blank line; null while the header block is still incomplete. */
export function parseCgiHead(buffer: Buffer): CgiHead | null {
  const crlf = buffer.indexOf('\r\n\r\n');
  const lf = buffer.indexOf('\n\n');
  let end: number;
  let separatorLength: number;
  if (crlf !== -1 && (lf === -1 || crlf < lf)) {
    end = crlf;
    separatorLength = 4;
  } else if (lf !== -1) {
    end = lf;
    separatorLength = 2;
  } else {
    return null;
  }
  let status = 200;
  let statusText = 'OK';
  const headers: Record<string, string | string[]> = {};
  for (const line of buffer.subarray(0, end).toString('latin1').split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim();
    const value = line.slice(colon + 1).trim();
    if (name.toLowerCase() === 'status') {
      const match = /^(\d{3})\s*(.*)$/.exec(value);
      if (match) {
        status = Number(match[1]);
        statusText = match[2] || statusText;
      }
      continue;
    }
    const existing = headers[name];
    if (existing === undefined) headers[name] = value;
    else headers[name] = Array.isArray(existing) ? [...existing, value] : [existing, value];
  }
  return { status, statusText, headers, body: buffer.subarray(end + separatorLength) };
}

/**
 * Creates `<root>/<name>.git` (bare) and a work tree next to it, commits `files` and pushes them by path.
 * Later commits go through `TestRepo.commit`, which force-pushes so tests can rewrite history.
 */
export async function createRepo(
  server: GitServer,
  name: string,
  files: Record<string, string>,
  options: { branch?: string; author?: GitAuthor; message?: string } = {},
): Promise<TestRepo> {
  const defaultBranch = options.branch ?? 'main';
  const bareDir = join(server.root, repoFolderName(name));
  if (!resolve(bareDir).startsWith(server.root + sep)) throw new Error(`repository name escapes the server root: ${name}`);
  const workDir = join(server.root, '.work', name.replace(/\.git$/, ''));
  await mkdir(dirname(bareDir), { recursive: true });
  await runGit(server.root, ['init', '--quiet', '--bare', `--initial-branch=${defaultBranch}`, bareDir]);
  await mkdir(workDir, { recursive: true });
  await runGit(workDir, ['init', '--quiet', `--initial-branch=${defaultBranch}`]);
  await runGit(workDir, ['remote', 'add', 'origin', bareDir]);

  let commits = 0;
  const repo: TestRepo = {
    name,
    bareDir,
    workDir,
    url: server.repoUrl(name),
    async commit(changes, message = 'update', commitOptions = {}) {
      const branch = commitOptions.branch ?? defaultBranch;
      const current = await runGit(workDir, ['symbolic-ref', '--short', 'HEAD']);
      if (current !== branch) {
        const exists = await runGit(workDir, ['branch', '--list', branch]);
        await runGit(workDir, exists ? ['switch', '--quiet', branch] : ['switch', '--quiet', '--create', branch]);
      }
      for (const [path, content] of Object.entries(changes)) {
        const target = join(workDir, path);
        if (!resolve(target).startsWith(workDir + sep)) throw new Error(`file path escapes the work tree: ${path}`);
        if (content === null) {
          await rm(target, { force: true });
        } else {
          await mkdir(dirname(target), { recursive: true });
          await writeFile(target, content);
        }
      }
      const author = commitOptions.author ?? options.author ?? TEST_AUTHOR;
      const date = new Date(TEST_EPOCH + commits++ * 60_000).toISOString();
      await runGit(workDir, ['add', '--all']);
      await runGit(workDir, ['commit', '--quiet', '--allow-empty', '--no-verify', '-m', message], {
        GIT_AUTHOR_NAME: author.name,
        GIT_AUTHOR_EMAIL: author.email,
        GIT_AUTHOR_DATE: date,
        GIT_COMMITTER_NAME: author.name,
        GIT_COMMITTER_EMAIL: author.email,
        GIT_COMMITTER_DATE: date,
      });
      await runGit(workDir, ['push', '--quiet', '--force', 'origin', `HEAD:refs/heads/${branch}`]);
      return runGit(workDir, ['rev-parse', 'HEAD']);
    },
    head(branch = defaultBranch) {
      return runGit(bareDir, ['rev-parse', `refs/heads/${branch}`]);
    },
  };
  await repo.commit(files, options.message ?? 'initial commit', { author: options.author });
  return repo;
}
