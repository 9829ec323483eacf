import { spawn } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { createRepo, startGitServer, type GitServer, type TestRepo } from '../support/git-server.ts';

const ROOT = join(import.meta.dirname, '..', '..');

function baton(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(ROOT, 'bin', 'baton.mjs'), ...args], { cwd: ROOT, env: { ...process.env, DATABASE_URL: '', ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

const flow = (id: string, body = 'hello') => `id: ${id}\nnamespace: cli.sync\ntasks:\n  - id: t\n    type: io.kestra.plugin.core.log.Log\n    message: ${body}\n`;

describe('baton sync and baton server', () => {
  let git: GitServer;
  let repo: TestRepo;
  let env: Record<string, string>;

  beforeAll(async () => {
    git = await startGitServer();
    repo = await createRepo(git, 'cli', { 'flows/a.yaml': flow('a'), 'files/cli.sync/q.sql': 'select 1' });
    env = { BATON_DATA_DIR: await mkdtemp(join(tmpdir(), 'baton-cli-sync-')), BATON_GIT_URL: repo.url, BATON_GIT_BRANCH: 'main', BATON_SYNC_POLL_SECONDS: '0' };
    return () => git.close();
  });

  it('baton sync prints what changed; a refused commit exits 1 naming file:line:col', async () => {
    const first = await baton(['sync'], env);
    expect(first.code).toBe(0);
    expect(first.stdout).toContain('APPLIED');
    expect(first.stdout).toContain('added    cli.sync.a');
    expect(first.stdout).toContain('added    file cli.sync:/q.sql');
    const again = await baton(['sync'], env);
    expect(again.stdout).toContain('UNCHANGED');
    await repo.commit({ 'flows/b.yaml': 'id: b\nnamespace: cli.sync\ntasks: []\n' }, 'bad');
    const refused = await baton(['sync'], env);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^flows\/b\.yaml:3:\d+: error: /m);
    expect((await baton(['sync', '--bogus'], env)).code).toBe(2);
  });

  it('baton standalone syncs at start, serves /healthz and the API, stops on SIGTERM', async () => {
    await repo.commit({ 'flows/b.yaml': null }, 'fix');
    const port = 20000 + Math.floor(Math.random() * 20000);
    const child = spawn(process.execPath, [join(ROOT, 'bin', 'baton.mjs'), 'standalone'], {
      cwd: ROOT,
      env: { ...process.env, DATABASE_URL: '', ...env, BATON_DATA_DIR: await mkdtemp(join(tmpdir(), 'baton-cli-srv-')), PORT: String(port) },
    });
    let output = '';
    child.stdout.on('data', (c) => (output += c));
    child.stderr.on('data', (c) => (output += c));
    const deadline = Date.now() + 30_000;
    let health: Response | undefined;
    while (Date.now() < deadline) {
      health = await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined);
      if (health) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(health?.status, output).toBe(200);
    // /healthz answers before the first sync ends; the flow is served once it has.
    let flowRes = await fetch(`http://127.0.0.1:${port}/api/v1/flows/cli.sync/a`);
    while (flowRes.status === 404 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      flowRes = await fetch(`http://127.0.0.1:${port}/api/v1/flows/cli.sync/a`);
    }
    expect(flowRes.status, output).toBe(200);
    // The dashboard's templates and static files are found from the bundle bin/baton.mjs runs.
    const page = await fetch(`http://127.0.0.1:${port}/ui/flows`);
    expect(page.status, output).toBe(200);
    expect(await page.text()).toContain('cli.sync');
    const css = await fetch(`http://127.0.0.1:${port}/static/baton.css`);
    expect(css.status, output).toBe(200);
    const code = await new Promise<number | null>((resolve) => {
      child.on('close', resolve);
      child.kill('SIGTERM');
    });
    expect(code).toBe(0);
  });

  it('baton server, scheduler and worker refuse the embedded database, naming what to do instead', async () => {
    for (const role of ['server', 'scheduler', 'worker']) {
      const r = await baton([role], { ...env, DATABASE_URL: '', BATON_DATA_DIR: await mkdtemp(join(tmpdir(), 'baton-cli-role-')) });
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toContain(`baton ${role}: baton ${role} needs PostgreSQL (DATABASE_URL=postgres://…)`);
      expect(r.stderr).toContain('run `baton standalone`');
    }
  });

  it('baton standalone refuses a public address without credentials', async () => {
    const r = await baton(['standalone'], { ...env, BATON_HOST: '0.0.0.0', BATON_API_TOKEN: '', BATON_ADMIN_USER: '', BATON_ADMIN_PASSWORD: '' });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/refusing to listen on 0\.0\.0\.0/);
  });
});
