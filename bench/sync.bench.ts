import { execFile } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startServer } from '../server/index.ts';
import { createRepo, startGitServer } from '../test/support/git-server.ts';
import { median, printBench } from './report.ts';

const run = promisify(execFile);
const FLOWS = 100;
const ROUNDS = 15;
const SECRET = 'bench-secret';

const flowYaml = (i: number, version: number) =>
  `id: flow-${i}\nnamespace: bench.sync\ntasks:\n  - id: t\n    type: io.kestra.plugin.core.log.Log\n    message: "flow ${i} v${version}"\n`;

/**
 * push_to_live_ms: from webhook receipt to the new revision served by the API, on a repo of 100
 * flows, over real HTTP. Baseline: the git CLI's own `git fetch` of the same push.
 */
export async function run_(): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), 'baton-bench-sync-'));
  const git = await startGitServer();
  const files: Record<string, string> = {};
  for (let i = 0; i < FLOWS; i++) files[`flows/flow-${i}.yaml`] = flowYaml(i, 0);
  const repo = await createRepo(git, 'bench', files);
  const clone = join(dataDir, 'clone');
  await run('git', ['clone', '-q', '--single-branch', '--branch', 'main', repo.url, clone]);
  const server = await startServer({
    dataDir,
    port: 0,
    quiet: true,
    env: { ...process.env, DATABASE_URL: '', BATON_GIT_URL: repo.url, BATON_GIT_BRANCH: 'main', BATON_GIT_WEBHOOK_SECRET: SECRET, BATON_SYNC_POLL_SECONDS: '0', BATON_API_TOKEN: '' },
  });
  try {
    const ours: number[] = [];
    const baseline: number[] = [];
    for (let round = 1; round <= ROUNDS + 2; round++) {
      const flow = round % FLOWS;
      const sha = await repo.commit({ [`flows/flow-${flow}.yaml`]: flowYaml(flow, round) }, `round ${round}`);
      const body = JSON.stringify({ ref: 'refs/heads/main', after: sha });
      const signature = `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`;
      const started = performance.now();
      const res = await fetch(`${server.url}/hooks/git`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-github-event': 'push', 'x-github-delivery': `d-${round}`, 'x-hub-signature-256': signature },
        body,
      });
      if (res.status !== 202) throw new Error(`webhook answered ${res.status}`);
      for (;;) {
        const flowRes = await fetch(`${server.url}/api/v1/flows/bench.sync/flow-${flow}`);
        const json = (await flowRes.json()) as { commit?: { sha: string } };
        if (json.commit?.sha === sha) break;
        if (performance.now() - started > 30_000) throw new Error('the push never went live');
        await new Promise((r) => setTimeout(r, 2));
      }
      const elapsed = performance.now() - started;
      const fetchStarted = performance.now();
      await run('git', ['-C', clone, 'fetch', '-q', 'origin', 'main']);
      const fetchMs = performance.now() - fetchStarted;
      if (round > 2) {
        // The first rounds warm caches (JIT, validation cache, pack files).
        ours.push(elapsed);
        baseline.push(fetchMs);
      }
    }
    const p50 = median(ours);
    printBench({ name: 'push_to_live_ms', ours: p50, baseline: median(baseline), unit: 'ms(p50)', goal: '<=200', goalMet: p50 <= 200 });
  } finally {
    await server.close();
    await git.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

export { run_ as run };
