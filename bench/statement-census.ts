/**
 * Counts the SQL statements Baton sends per execution, by role, for the capacity model
 * (docs/capacity.md). Not a benchmark: run it by hand on a machine whose PostgreSQL log you can read.
 *
 *   node --import tsx bench/statement-census.ts [/var/log/postgresql/postgresql-15-main.log]
 *
 * It creates a throwaway database with `log_statement = all` (that database only), starts
 * `baton server`, fires N flow webhooks of the 2-task flow of bench/scale.bench.ts with no worker
 * running (the server's statements), then starts 2 workers that drain them (the workers'
 * statements), and classifies the log lines of that database. Then the same for a flow of 10 Sleep
 * tasks of 20 ms, whose task runs each end in a later write batch than the one that started them:
 * the difference is what a task run costs.
 */
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { createTestPostgresDatabase, TEST_POSTGRES_URL } from '../test/support/databases.ts';
import { createRepo, startGitServer } from '../test/support/git-server.ts';
import { fire, flow, spawnBaton } from './scale.bench.ts';

const EXECUTIONS = 200;
const SLEEP_TASKS = 10;

const sleepyFlow = `id: sleepy
namespace: bench.scale
tasks:
${Array.from({ length: SLEEP_TASKS }, (_, i) => `  - id: sleep${i}\n    type: io.kestra.plugin.core.flow.Sleep\n    duration: PT0.02S\n`).join('')}triggers:
  - id: hook
    type: io.kestra.plugin.core.trigger.Webhook
    key: bench-key
`;
const IN_FLIGHT = 50;
const LOG_FILE = process.argv[2] ?? '/var/log/postgresql/postgresql-15-main.log';
/** Marks this script's own progress queries, which the census leaves out. */
const POLL_MARK = 'census-progress-poll';

/** A statement's kind, from its text: what the capacity model counts. */
function kindOf(text: string): string {
  const t = text.replace(/\s+/g, ' ').trim().toLowerCase();
  // postgres.js looks up array types once per new connection; the text starts on the next log line.
  if (t === '') return 'connection setup (postgres.js type lookup)';
  if (t === 'begin' || t.startsWith('begin ')) return 'BEGIN';
  if (t === 'commit') return 'COMMIT';
  if (t === 'rollback') return 'ROLLBACK';
  if (t.includes('pg_notify')) return `NOTIFY ${/pg_notify\(\$1|'(\w+)'/.exec(t)?.[1] ?? ''}`.trim();
  if (t.includes('pg_advisory')) return 'advisory lock';
  if (t.startsWith('listen') || t.startsWith('unlisten')) return 'LISTEN';
  const table = /^(?:select .*? from|insert into|update|delete from) "?(\w+)"?/.exec(t)?.[1] ?? '?';
  if (t.startsWith('update "executions"') && t.includes('skip locked')) return 'UPDATE executions (claimNext, SKIP LOCKED)';
  if (t.startsWith('update "executions"') && t.includes('"lease_owner" = $1') && t.includes('"lease_token" = ("executions"."lease_token" + 1)')) return 'UPDATE executions (claim)';
  if (t.startsWith('update "executions" set "lease_expires_at"')) return 'UPDATE executions (fence/renew)';
  if (t.startsWith('update "executions" set "lease_owner" = $1, "lease_expires_at" = $2')) return 'UPDATE executions (release)';
  const verb = t.split(' ')[0].toUpperCase();
  return `${verb} ${table}`;
}

interface Census {
  total: number;
  byKind: Map<string, number>;
  /** One statement text per kind, to check the classification. */
  examples: Map<string, string>;
}

/** Statements of `database` logged after byte `offset` of the log. */
async function census(database: string, offset: number): Promise<Census> {
  const text = (await readFile(LOG_FILE)).subarray(offset).toString('utf8');
  const byKind = new Map<string, number>();
  const examples = new Map<string, string>();
  let total = 0;
  // `… [pid] user@db LOG:  statement: …` or `… LOG:  execute <name>: …` (extended protocol).
  const line = new RegExp(`@${database} LOG:\\s+(?:statement|execute [^:]*):\\s(.*)$`);
  for (const raw of text.split('\n')) {
    const match = line.exec(raw);
    if (!match) continue;
    if (match[1].includes(POLL_MARK)) continue;
    total++;
    const kind = kindOf(match[1]);
    byKind.set(kind, (byKind.get(kind) ?? 0) + 1);
    if (!examples.has(kind)) examples.set(kind, match[1].slice(0, 160));
  }
  return { total, byKind, examples };
}

function print(label: string, c: Census): void {
  console.log(`${label}: ${(c.total / EXECUTIONS).toFixed(2)} statements per execution`);
  for (const [kind, n] of [...c.byKind].sort((a, b) => b[1] - a[1])) {
    console.log(`  ${(n / EXECUTIONS).toFixed(2).padStart(6)}  ${kind.padEnd(44)} ${process.env.CENSUS_EXAMPLES ? c.examples.get(kind) : ''}`);
  }
}

async function main(): Promise<void> {
  const database = await createTestPostgresDatabase();
  const admin = postgres(TEST_POSTGRES_URL, { max: 1, onnotice: () => {} });
  const git = await startGitServer();
  const dirs: string[] = [];
  const stops: Array<() => Promise<void>> = [];
  try {
    await admin.unsafe(`alter database "${database.name}" set log_statement = 'all'`);
    const repo = await createRepo(git, 'census', { 'flows/burst.yaml': flow('burst'), 'flows/sleepy.yaml': sleepyFlow });
    const settings = async () => {
      const dir = await mkdtemp(join(tmpdir(), 'baton-census-'));
      dirs.push(dir);
      return { DATABASE_URL: database.url, BATON_DATA_DIR: dir, BATON_GIT_URL: repo.url, BATON_GIT_BRANCH: 'main', BATON_SYNC_POLL_SECONDS: '0' };
    };
    for (const flowId of ['burst', 'sleepy']) {
      const label = flowId === 'burst' ? 'the 2-task flow (Return, Log)' : `a flow of ${SLEEP_TASKS} Sleep tasks`;
      const server = await spawnBaton('server', await settings());
      stops.push(server.stop);
      await new Promise((r) => setTimeout(r, 1000));

      let offset = (await stat(LOG_FILE)).size;
      await fire(server.url, flowId, EXECUTIONS, IN_FLIGHT);
      await new Promise((r) => setTimeout(r, 1000));
      print(`${label}: baton server, ${EXECUTIONS} flow webhooks (${IN_FLIGHT} in flight)`, await census(database.name, offset));

      offset = (await stat(LOG_FILE)).size;
      const workers = await Promise.all([spawnBaton('worker', await settings()), spawnBaton('worker', await settings())]);
      for (const w of workers) stops.push(w.stop);
      const sql = postgres(database.url, { max: 1, onnotice: () => {} });
      try {
        for (;;) {
          const [{ n }] = await sql.unsafe<{ n: number }[]>(`select count(*)::int as n from executions where state = 'SUCCESS' and flow_id = '${flowId}' /* ${POLL_MARK} */`);
          if (n >= EXECUTIONS) break;
          await new Promise((r) => setTimeout(r, 200));
        }
      } finally {
        await sql.end();
      }
      await new Promise((r) => setTimeout(r, 1500));
      print(`${label}: 2 baton workers draining them (BATON_WORKER_THREADS=8)`, await census(database.name, offset));
      for (const stop of stops.splice(0).reverse()) await stop();
    }
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    await git.close();
    await admin.end();
    await database.drop();
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  }
}

await main();
