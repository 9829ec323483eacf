import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startServer } from '../../server/index.ts';
import { createRepo, gitService, startGitServer, type GitServer, type TestRepo } from '../support/git-server.ts';

const EVERY_SECOND = `id: ticking
namespace: tests.server
tasks:
  - id: log
    type: io.kestra.plugin.core.log.Log
    message: "{{ trigger.date }}"
triggers:
  - id: every_second
    type: io.kestra.plugin.core.trigger.Schedule
    cron: "* * * * * *"
    withSeconds: true
`;

gitService.describe('baton server runs the scheduler', () => {
  let git: GitServer;
  let repo: TestRepo;

  beforeAll(async () => {
    git = await startGitServer();
    repo = await createRepo(git, 'scheduled', { 'flows/ticking.yaml': EVERY_SECOND });
  });

  afterAll(async () => {
    await git?.close();
  });

  const serverEnv = async (extra: Record<string, string> = {}) => ({
    BATON_GIT_URL: repo.url,
    BATON_GIT_BRANCH: 'main',
    BATON_SYNC_POLL_SECONDS: '0',
    BATON_DATA_DIR: await mkdtemp(join(tmpdir(), 'baton-scheduler-server-')),
    ...extra,
  });

  const scheduled = async (url: string): Promise<{ total: number; results: { trigger: { id: string; date: string } | null }[] }> => {
    const res = await fetch(`${url}/api/v1/executions/search?namespace=tests.server&flowId=ticking`);
    expect(res.status).toBe(200);
    return (await res.json()) as { total: number; results: { trigger: { id: string; date: string } | null }[] };
  };

  it('starts it after the first sync: a schedule of the synced flow fires', async () => {
    const env = await serverEnv();
    const server = await startServer({ env, dataDir: env.BATON_DATA_DIR, port: 0, quiet: true });
    try {
      const deadline = Date.now() + 15_000;
      let found = await scheduled(server.url);
      while (found.total === 0 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 200));
        found = await scheduled(server.url);
      }
      expect(found.total).toBeGreaterThan(0);
      expect(found.results[0].trigger?.id).toBe('every_second');
      const triggers = await fetch(`${server.url}/api/v1/triggers/search?namespace=tests.server`);
      const body = (await triggers.json()) as { results: { triggerId: string; nextExecutionDate: string }[] };
      expect(body.results.map((t) => t.triggerId)).toEqual(['every_second']);
    } finally {
      await server.close();
    }
  });

  it('BATON_SCHEDULER=off leaves schedules to other processes', async () => {
    const env = await serverEnv({ BATON_SCHEDULER: 'off' });
    const server = await startServer({ env, dataDir: env.BATON_DATA_DIR, port: 0, quiet: true });
    try {
      await new Promise((r) => setTimeout(r, 2_500));
      expect((await scheduled(server.url)).total).toBe(0);
      const triggers = (await (await fetch(`${server.url}/api/v1/triggers/search`)).json()) as { total: number };
      expect(triggers.total).toBe(0);
    } finally {
      await server.close();
    }
  });
});
