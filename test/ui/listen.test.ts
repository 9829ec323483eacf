import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../server/index.ts';
import { CredentialsConfigError, planListen, UnsafeListenError } from '../../server/start.ts';
import { createRepo, startGitServer, type GitServer } from '../support/git-server.ts';
import { HELLO_FLOW } from './dashboard.ts';

describe('listen rule', () => {
  it('keeps a server without credentials on loopback, and says so', () => {
    for (const host of [undefined, '127.0.0.1', 'localhost', '::1']) {
      const plan = planListen({ BATON_HOST: host });
      expect(plan.loopback).toBe(true);
      expect(plan.warnings.join('\n')).toMatch(/no credentials .* listens on loopback only/);
    }
  });

  it('refuses any other address without credentials', () => {
    for (const host of ['0.0.0.0', '::', '192.168.1.10', 'baton.example']) {
      expect(() => planListen({ BATON_HOST: host }), host).toThrow(UnsafeListenError);
    }
    expect(() => planListen({ BATON_HOST: '0.0.0.0' })).toThrow(/BATON_ADMIN_USER and BATON_ADMIN_PASSWORD .* BATON_API_TOKEN/);
  });

  it('lets admin credentials or an API token open other addresses', () => {
    const admin = planListen({ BATON_HOST: '0.0.0.0', BATON_ADMIN_USER: 'admin', BATON_ADMIN_PASSWORD: 'pw' });
    expect(admin).toMatchObject({ host: '0.0.0.0', loopback: false, admin: { user: 'admin', password: 'pw' } });
    expect(admin.warnings.join('\n')).toContain('BATON_SESSION_SECRET');
    const token = planListen({ BATON_HOST: '0.0.0.0', BATON_API_TOKEN: 't' });
    expect(token).toMatchObject({ apiToken: 't', admin: undefined });
    expect(token.warnings.join('\n')).toContain('the dashboard is closed on 0.0.0.0');
    const both = planListen({ BATON_HOST: '0.0.0.0', BATON_API_TOKEN: 't', BATON_ADMIN_USER: 'a', BATON_ADMIN_PASSWORD: 'p', BATON_SESSION_SECRET: 's' });
    expect(both.warnings).toEqual([]);
    expect(both.sessionSecret).toBe('s');
  });

  it('refuses half an admin login', () => {
    expect(() => planListen({ BATON_ADMIN_USER: 'admin' })).toThrow(CredentialsConfigError);
    expect(() => planListen({ BATON_ADMIN_PASSWORD: 'pw' })).toThrow(CredentialsConfigError);
  });
});

describe('startServer and the listen rule', () => {
  let gitServer: GitServer | undefined;
  let server: RunningServer | undefined;
  afterAll(async () => {
    await server?.close();
    await gitServer?.close();
  });

  it('refuses 0.0.0.0 without credentials before opening anything', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'baton-listen-'));
    await expect(startServer({ dataDir, port: 0, quiet: true, env: { BATON_HOST: '0.0.0.0' } })).rejects.toThrow(UnsafeListenError);
  });

  it('serves on loopback with an admin login: the dashboard asks for it, health is open', async () => {
    gitServer = await startGitServer();
    const repo = await createRepo(gitServer, 'listen', { 'flows/hello.yaml': HELLO_FLOW });
    const dataDir = await mkdtemp(join(tmpdir(), 'baton-listen-'));
    server = await startServer({
      dataDir,
      port: 0,
      quiet: true,
      env: { BATON_GIT_URL: repo.url, BATON_SYNC_POLL_SECONDS: '0', BATON_ADMIN_USER: 'admin', BATON_ADMIN_PASSWORD: 'pw' },
    });
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    const flows = await fetch(`${server.url}/ui/flows`, { redirect: 'manual' });
    expect(flows.status).toBe(303);
    expect(flows.headers.get('location')).toBe('/ui/login?next=%2Fui%2Fflows');
    expect((await fetch(`${server.url}/api/v1/flows/search`)).status).toBe(401);
  });
});
