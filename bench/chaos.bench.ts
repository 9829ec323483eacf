/**
 * Chaos: 1,000 executions started by flow webhooks against one `baton standalone` (on PostgreSQL when
 * one is reachable, else its embedded database), 5% of them hostile, sent open-loop at 25 a second
 * (Kestra OSS's sustained webhook rate, see webhook.bench.ts), while /healthz is probed every 50 ms.
 * CHAOS_RATE, CHAOS_HOSTILE (share) and CHAOS_DB=pglite change the run for investigations.
 * - chaos_crashes: the standalone process must never exit (0).
 * - chaos_healthz_p99_ms: /healthz latency p99 over the whole run (goal ≤ 100 ms).
 * - chaos_benign_ok: share of benign executions that end SUCCESS with every log line they print (goal 1).
 * - chaos_hostile_contained: share of hostile executions that end as expected — FAILED with a reason
 *   naming the limit they hit (render depth, ForEach items, task log bytes, task timeout), or, for
 *   NUL bytes in output, SUCCESS with the bytes stored escaped (goal 1).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRepo, startGitServer } from '../test/support/git-server.ts';
import { createTestPostgresDatabase } from '../test/support/databases.ts';
import { printBench } from './report.ts';
import { spawnBaton } from './scale.bench.ts';

const NAMESPACE = 'bench.chaos';
const TOTAL = 1000;
const HOSTILE_SHARE = Number(process.env.CHAOS_HOSTILE ?? 0.05);
const RATE_PER_S = Number(process.env.CHAOS_RATE ?? 25);
/** Requests in flight at most; the rate, not this, sets the load. */
const IN_FLIGHT = 16;
const HEALTH_PROBE_MS = 50;
const RUN_DEADLINE_MS = 10 * 60_000;
const TERMINAL = new Set(['SUCCESS', 'WARNING', 'FAILED', 'KILLED', 'CANCELLED']);

const webhookTrigger = `triggers:
  - id: hook
    type: io.kestra.plugin.core.trigger.Webhook
    key: chaos-key
`;
const processRunner = `    taskRunner:
      type: io.kestra.plugin.core.runner.Process
`;

interface Kind {
  flow: string;
  source: string;
  body: unknown;
  hostile: boolean;
  /** Checks a terminal execution and its logs; returns what is wrong, or undefined. */
  check(state: string, logs: LogLine[], n: number): string | undefined;
}

interface LogLine {
  message?: string;
  level?: string;
  taskId?: string;
}

const messages = (logs: LogLine[]) => logs.map((l) => l.message ?? '');
const mentions = (logs: LogLine[], pattern: RegExp) => messages(logs).some((m) => pattern.test(m));

function expectSuccessWithLines(state: string, logs: LogLine[], pattern: RegExp, count: number): string | undefined {
  if (state !== 'SUCCESS') return `ended ${state}: ${messages(logs).filter((m) => /error|fail/i.test(m)).slice(0, 2).join(' | ')}`;
  const found = messages(logs).filter((m) => pattern.test(m)).length;
  return found === count ? undefined : `${found} of ${count} log lines stored`;
}

function expectFailedNaming(state: string, logs: LogLine[], reason: RegExp): string | undefined {
  if (state !== 'FAILED') return `ended ${state}, expected FAILED`;
  return mentions(logs, reason) ? undefined : `FAILED without a reason matching ${reason}: ${messages(logs).slice(-3).join(' | ')}`;
}

const KINDS: Kind[] = [
  {
    flow: 'benign_log',
    hostile: false,
    body: {},
    source: `tasks:
  - id: first
    type: io.kestra.plugin.core.log.Log
    message: "benign {{ trigger.body.n }} a"
  - id: second
    type: io.kestra.plugin.core.log.Log
    message: "benign {{ trigger.body.n }} b"
  - id: out
    type: io.kestra.plugin.core.debug.Return
    format: "{{ trigger.body.n }}"
`,
    check: (state, logs, n) => expectSuccessWithLines(state, logs, new RegExp(`^benign ${n} [ab]$`), 2),
  },
  {
    flow: 'benign_shell',
    hostile: false,
    body: {},
    source: `tasks:
  - id: shell
    type: io.kestra.plugin.scripts.shell.Commands
${processRunner}    commands:
      - for i in 1 2 3 4 5 6 7 8 9 10; do echo "shell {{ trigger.body.n }} line $i"; done
`,
    check: (state, logs, n) => expectSuccessWithLines(state, logs, new RegExp(`^shell ${n} line \\d+$`), 10),
  },
  {
    flow: 'benign_foreach',
    hostile: false,
    body: {},
    source: `tasks:
  - id: each
    type: io.kestra.plugin.core.flow.ForEach
    values: [1, 2, 3, 4, 5]
    tasks:
      - id: item
        type: io.kestra.plugin.core.log.Log
        message: "each {{ trigger.body.n }} {{ taskrun.value }}"
`,
    check: (state, logs, n) => expectSuccessWithLines(state, logs, new RegExp(`^each ${n} \\d$`), 5),
  },
  {
    flow: 'hostile_render',
    hostile: true,
    body: { greeting: '{{ render(trigger.body.greeting) }}' },
    source: `tasks:
  - id: greet
    type: io.kestra.plugin.core.log.Log
    message: "{{ render(trigger.body.greeting) }}"
`,
    check: (state, logs) => expectFailedNaming(state, logs, /BATON_LIMIT_TEMPLATE_RENDER_DEPTH/),
  },
  {
    flow: 'hostile_foreach',
    hostile: true,
    body: {},
    source: `tasks:
  - id: each
    type: io.kestra.plugin.core.flow.ForEach
    values: "{{ range(1, 100000) }}"
    tasks:
      - id: item
        type: io.kestra.plugin.core.log.Log
        message: "{{ taskrun.value }}"
`,
    check: (state, logs) => expectFailedNaming(state, logs, /BATON_LIMIT_FOREACH_ITEMS/),
  },
  {
    flow: 'hostile_log_flood',
    hostile: true,
    body: {},
    source: `tasks:
  - id: flood
    type: io.kestra.plugin.scripts.shell.Commands
${processRunner}    commands:
      - head -c 300000 /dev/zero | tr '\\0' 'a'; echo
      - i=0; while [ $i -lt 40000 ]; do echo "flood line $i with some padding to make it longer"; i=$((i+1)); done
`,
    check: (state, logs) => expectFailedNaming(state, logs, /BATON_LIMIT_TASK_LOG_BYTES/),
  },
  {
    flow: 'hostile_nul',
    hostile: true,
    body: {},
    source: `tasks:
  - id: nul
    type: io.kestra.plugin.scripts.shell.Commands
${processRunner}    commands:
      - printf 'nul x\\000y\\n'
      - printf 'bad \\377\\376 bytes\\n'
`,
    check: (state, logs) => {
      if (state !== 'SUCCESS') return `ended ${state}, expected SUCCESS with escaped output`;
      return mentions(logs, /^nul x/) && mentions(logs, /^bad /) ? undefined : 'NUL / invalid UTF-8 lines not stored';
    },
  },
  {
    flow: 'hostile_slow',
    hostile: true,
    body: {},
    source: `tasks:
  - id: slow
    type: io.kestra.plugin.scripts.shell.Commands
    timeout: PT1S
${processRunner}    commands:
      - sleep 30
`,
    check: (state, logs) => expectFailedNaming(state, logs, /timeout|timed out|PT1S/i),
  },
];

/** Which kind the n-th request is: hostile ones spread evenly through the run. */
function plan(): Kind[] {
  const benign = KINDS.filter((k) => !k.hostile);
  const hostile = KINDS.filter((k) => k.hostile);
  const every = Math.round(1 / HOSTILE_SHARE);
  return Array.from({ length: TOTAL }, (_, n) => (HOSTILE_SHARE > 0 && n % every === every - 1 ? hostile[Math.floor(n / every) % hostile.length] : benign[n % benign.length]));
}

function percentile(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] ?? 0;
}

export async function run(): Promise<void> {
  const git = await startGitServer();
  const files = Object.fromEntries(KINDS.map((k) => [`flows/${k.flow}.yaml`, `id: ${k.flow}\nnamespace: ${NAMESPACE}\n${k.source}${webhookTrigger}`]));
  const repo = await createRepo(git, 'chaos', files);
  const dataDir = await mkdtemp(join(tmpdir(), 'baton-bench-chaos-'));
  const postgres = process.env.CHAOS_DB === 'pglite' ? undefined : await createTestPostgresDatabase().catch(() => undefined);
  console.log(`# chaos: baton standalone on ${postgres ? 'PostgreSQL' : 'PGlite'}, ${RATE_PER_S} executions/s`);
  const server = await spawnBaton('standalone', {
    BATON_DATA_DIR: dataDir,
    ...(postgres ? { DATABASE_URL: postgres.url } : {}),
    BATON_GIT_URL: repo.url,
    BATON_GIT_BRANCH: 'main',
    BATON_SYNC_POLL_SECONDS: '0',
    BATON_SCHEDULER: 'off',
    BATON_DEFAULT_TASK_RUNNER: 'io.kestra.plugin.core.runner.Process',
    // Small enough that the flood hits it in a second; far above what the benign flows print.
    BATON_LIMIT_TASK_LOG_BYTES: String(1024 * 1024),
  });
  let exited = false;
  const alive = setInterval(() => {
    try {
      process.kill(server.pid, 0);
    } catch {
      exited = true;
    }
  }, 200);

  const healthLatencies: number[] = [];
  let probing = true;
  const prober = (async () => {
    while (probing) {
      const t0 = performance.now();
      try {
        const res = await fetch(`${server.url}/healthz`, { signal: AbortSignal.timeout(5_000) });
        await res.arrayBuffer();
        healthLatencies.push(res.ok ? performance.now() - t0 : 5_000);
      } catch {
        healthLatencies.push(5_000);
      }
      await new Promise((r) => setTimeout(r, HEALTH_PROBE_MS));
    }
  })();

  const requests = plan();
  const started: { kind: Kind; n: number; id: string }[] = [];
  const problems: string[] = [];
  try {
    const t0 = performance.now();
    let next = 0;
    const sender = async () => {
      while (next < requests.length) {
        const n = next++;
        // Open loop: request n leaves at n / RATE_PER_S seconds, whatever the answers before it.
        const due = t0 + (n * 1000) / RATE_PER_S - performance.now();
        if (due > 0) await new Promise((r) => setTimeout(r, due));
        const kind = requests[n];
        const res = await fetch(`${server.url}/api/v1/executions/webhook/${NAMESPACE}/${kind.flow}/chaos-key`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ n, ...(kind.body as object) }),
        });
        const body = (await res.json().catch(() => ({}))) as { id?: string };
        if (res.status !== 200 || !body.id) problems.push(`${kind.flow} #${n}: webhook answered ${res.status}`);
        else started.push({ kind, n, id: body.id });
      }
    };
    await Promise.all(Array.from({ length: IN_FLIGHT }, sender));

    const states = new Map<string, string>();
    while (states.size < started.length) {
      if (performance.now() - t0 > RUN_DEADLINE_MS) break;
      for (const { id } of started) {
        if (states.has(id)) continue;
        const res = await fetch(`${server.url}/api/v1/executions/${id}`);
        const execution = (await res.json()) as { state?: { current?: string } };
        const state = execution.state?.current ?? '';
        if (TERMINAL.has(state)) states.set(id, state);
      }
      if (states.size < started.length) await new Promise((r) => setTimeout(r, 250));
    }
    const elapsedS = (performance.now() - t0) / 1000;

    let benign = 0;
    let benignOk = 0;
    let hostile = 0;
    let hostileOk = 0;
    for (const { kind, n, id } of started) {
      const state = states.get(id);
      const logs = state ? ((await (await fetch(`${server.url}/api/v1/logs/${id}`)).json()) as LogLine[]) : [];
      const wrong = state ? kind.check(state, logs, n) : 'not terminal by the deadline';
      if (kind.hostile) hostile++;
      else benign++;
      if (wrong) problems.push(`${kind.flow} #${n} (${id}): ${wrong}`);
      else if (kind.hostile) hostileOk++;
      else benignOk++;
    }
    probing = false;
    await prober;

    const p99 = percentile(healthLatencies, 99);
    console.log(`# chaos: ${started.length} of ${TOTAL} executions started (${hostile} hostile), ended in ${elapsedS.toFixed(1)} s; ${healthLatencies.length} health probes, worst ${Math.max(...healthLatencies).toFixed(1)} ms`);
    for (const problem of problems.slice(0, 15)) console.log(`#   ${problem}`);
    if (problems.length > 15) console.log(`#   … and ${problems.length - 15} more`);
    const crashes = exited ? 1 : 0;
    printBench({ name: 'chaos_crashes', ours: crashes, baseline: 0, unit: 'exits', goal: '==0', goalMet: crashes === 0, ratio: crashes });
    printBench({ name: 'chaos_healthz_p99_ms', ours: p99, baseline: 100, unit: 'ms(p99)', goal: '<=100', goalMet: p99 <= 100 });
    const benignShare = benignOk / Math.max(1, TOTAL - TOTAL * HOSTILE_SHARE);
    printBench({ name: 'chaos_benign_ok', ours: benignShare, baseline: 1, unit: 'share', goal: '==1', goalMet: benignOk === benign && benign === TOTAL * (1 - HOSTILE_SHARE) });
    const hostileShare = hostileOk / (TOTAL * HOSTILE_SHARE);
    printBench({ name: 'chaos_hostile_contained', ours: hostileShare, baseline: 1, unit: 'share', goal: '==1', goalMet: hostileOk === hostile && hostile === TOTAL * HOSTILE_SHARE });
  } finally {
    probing = false;
    clearInterval(alive);
    await prober.catch(() => undefined);
    await server.stop();
    await git.close();
    await postgres?.drop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

