/**
 * Flow webhooks against a `baton standalone` process on PostgreSQL, over real HTTP on loopback:
 * - webhook_execs_per_s: a burst of 2-task executions started by flow webhooks (50 requests in flight),
 *   counted until every one is terminal. Anchor: Kestra OSS holds 25/s on 4+4 vCPU (collapses at 33/s).
 * - webhook_latency_p50_ms: one request at a time with `wait: true`, request to terminal state.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { createTestPostgresDatabase } from '../test/support/databases.ts';
import { createRepo, startGitServer } from '../test/support/git-server.ts';
import { median, printBench } from './report.ts';
import { fire, flow, NAMESPACE, spawnBaton } from './scale.bench.ts';

const TOTAL = 1000;
const IN_FLIGHT = 50;
const LATENCY_ROUNDS = 60;
const KESTRA_OSS_EXECS_PER_S = 25;


export async function run(): Promise<void> {
  const database = await createTestPostgresDatabase().catch(() => undefined);
  if (!database) {
    console.log('BENCH name=webhook_execs_per_s skipped=PostgreSQL unavailable');
    return;
  }
  const git = await startGitServer();
  const repo = await createRepo(git, 'webhooks', { 'flows/burst.yaml': flow('burst', false), 'flows/waiting.yaml': flow('waiting', true) });
  // Its own process, as users run it: the load generator here does not share its event loop.
  const dataDir = await mkdtemp(join(tmpdir(), 'baton-bench-webhook-'));
  const server = await spawnBaton('standalone', {
    BATON_DATA_DIR: dataDir,
    DATABASE_URL: database.url, BATON_GIT_URL: repo.url, BATON_GIT_BRANCH: 'main', BATON_SYNC_POLL_SECONDS: '0', BATON_API_TOKEN: '',
    BATON_SCHEDULER: 'off', BATON_LOG_LEVEL: 'info',
  });
  const sql = postgres(database.url, { max: 1, onnotice: () => {} });
  const hook = (flowId: string, n: number) =>
    fetch(`${server.url}/api/v1/executions/webhook/${NAMESPACE}/${flowId}/bench-key`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ n }),
    });
  try {
    // Warm-up: JIT, connection pool, flow cache.
    for (let n = 0; n < 20; n++) await (await hook('waiting', n)).arrayBuffer();

    const started = performance.now();
    await fire(server.url, 'burst', TOTAL, IN_FLIGHT);
    const accepted = performance.now() - started;
    for (;;) {
      const [{ n }] = await sql<{ n: number }[]>`
        select count(*)::int as n from executions where flow_id = 'burst' and state in ('SUCCESS', 'WARNING', 'FAILED', 'KILLED', 'CANCELLED')`;
      if (n >= TOTAL) break;
      if (performance.now() - started > 300_000) throw new Error(`only ${n} of ${TOTAL} executions ended in 5 minutes`);
      await new Promise((r) => setTimeout(r, 5));
    }
    const elapsedS = (performance.now() - started) / 1000;
    const [{ failed }] = await sql<{ failed: number }[]>`select count(*)::int as failed from executions where flow_id = 'burst' and state <> 'SUCCESS'`;
    if (failed) throw new Error(`${failed} burst executions did not succeed`);
    const perSecond = TOTAL / elapsedS;
    console.log(`# webhook burst: ${TOTAL} executions, ${IN_FLIGHT} requests in flight, all accepted in ${(accepted / 1000).toFixed(2)} s, all ended in ${elapsedS.toFixed(2)} s`);
    printBench({ name: 'webhook_execs_per_s', ours: perSecond, baseline: KESTRA_OSS_EXECS_PER_S, unit: 'execs/s', goal: '>=100', goalMet: perSecond >= 100 });

    const latencies: number[] = [];
    for (let n = 0; n < LATENCY_ROUNDS; n++) {
      const t0 = performance.now();
      const res = await hook('waiting', n);
      const body = (await res.json()) as { state?: { current?: string } };
      if (body.state?.current !== 'SUCCESS') throw new Error(`waiting webhook ended ${JSON.stringify(body.state)}`);
      latencies.push(performance.now() - t0);
    }
    const p50 = median(latencies);
    printBench({ name: 'webhook_latency_p50_ms', ours: p50, baseline: 50, unit: 'ms(p50)', goal: '<=50', goalMet: p50 <= 50, ratio: p50 / 50 });
  } finally {
    await sql.end({ timeout: 5 });
    await server.stop();
    await git.close();
    await database.drop();
    await rm(dataDir, { recursive: true, force: true });
  }
}
