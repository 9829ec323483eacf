/**
 * Issue #12, finding 4: whatever bytes a task prints, its lines are stored (escaped where PostgreSQL
 * text cannot hold them), and nothing one execution prints can cost another execution its log lines.
 * Also the per-line limit: a long line is cut with a marker, and kept whole in internal storage when
 * BATON_LOG_FULL_LINES is on. On both databases, through the real engine and real processes.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { DEFAULT_LIMITS } from '../../config/index.ts';
import type { Database } from '../../db/index.ts';
import { LogWriter, type LogWriteError } from '../../engine/executor/log-writer.ts';
import { createEngine, ExecutionRepository, type Engine, type LogEntry } from '../../engine/index.ts';
import { describeEachDatabase } from '../support/databases.ts';
import { parseFlow } from '../support/fixtures.ts';

const shellFlow = (namespace: string, id: string, command: string) =>
  parseFlow(`id: ${id}
namespace: ${namespace}
tasks:
  - id: print
    type: io.kestra.plugin.scripts.shell.Commands
    commands:
      - ${JSON.stringify(command)}
`);

/** Lines a task printed (the runner's own DEBUG line left out), in stored order. */
async function printed(engine: Engine, executionId: string): Promise<string[]> {
  const logs = await engine.resources.repository.findLogs(executionId, { taskId: 'print' });
  return logs.filter((l) => l.level !== 'DEBUG').map((l) => l.message);
}

describeEachDatabase('log lines of any content', (open) => {
  let database: Database;
  let engine: Engine;

  beforeAll(async () => {
    database = await open();
    engine = createEngine({ db: database.db, dataDir: await mkdtemp(join(tmpdir(), 'baton-logs-')), env: {} });
  });

  it('a NUL byte and invalid UTF-8 in one execution cost another execution none of its lines', async () => {
    // Both print over the same time, so their lines share the writer's batches.
    const bad = shellFlow('hardening.one', 'nul', String.raw`for i in $(seq 1 10); do printf 'x\000\n\377\n'; sleep 0.02; done`);
    const good = shellFlow('hardening.two', 'sixty', 'for i in $(seq 1 60); do echo "line $i"; sleep 0.004; done');
    const [badRun, goodRun] = await Promise.all([engine.execute({ flow: bad }), engine.execute({ flow: good })]);

    expect(goodRun.state.current).toBe('SUCCESS');
    expect(await printed(engine, goodRun.id)).toEqual(Array.from({ length: 60 }, (_, i) => `line ${i + 1}`));
    expect(badRun.state.current).toBe('SUCCESS');
    // NUL is spelled \u0000; the byte 0xFF, not UTF-8, is the decoder's U+FFFD.
    expect(await printed(engine, badRun.id)).toEqual(Array.from({ length: 10 }, () => ['x\\u0000', '\uFFFD']).flat());
  });

  it('a line the database refuses is stored escaped, and every other line of its batch is stored', async () => {
    // A real refusal through the real repository: PostgreSQL rejects this timestamp (nothing in the
    // writer checks it), as it would reject anything the writer failed to make storable.
    const writer = new LogWriter(new ExecutionRepository(database.db), (text) => text, { maxBatch: 1_000, flushMs: 60_000 });
    const reported: LogWriteError[] = [];
    writer.onWriteFailure((error) => reported.push(error));
    const base = { taskRunId: null, taskId: null, attemptNumber: null, level: 'INFO' as const };
    for (let i = 1; i <= 30; i++) writer.write({ ...base, executionId: 'refused-b', message: `b ${i}` });
    writer.write({ ...base, executionId: 'refused-a', message: 'when\u0001?', timestamp: 'the day after tomorrow' });
    for (let i = 31; i <= 60; i++) writer.write({ ...base, executionId: 'refused-b', message: `b ${i}` });
    await writer.flush();

    const repository = engine.resources.repository;
    expect((await repository.findLogs('refused-b')).map((l) => l.message)).toEqual(Array.from({ length: 60 }, (_, i) => `b ${i + 1}`));
    const [escaped, ...more] = await repository.findLogs('refused-a');
    expect(more).toEqual([]);
    expect(escaped.message).toMatch(/^when\\u0001\? \[stored escaped: the database refused this line as written: invalid input syntax for type timestamp with time zone: \\"the day after tomorrow\\"\]$/);
    // The reason is the database's, never the statement with the other lines of the batch.
    expect(reported[0].message).not.toContain('refused-b');
    expect(reported).toHaveLength(1);
    expect(reported[0]).toMatchObject({ lost: false, lines: 1 });
    expect(reported[0].message).toContain('refused-a');
  });

  it('lines the database cannot take at all are reported once, and the flush says so', async () => {
    const writer = new LogWriter(new ExecutionRepository(database.db), (text) => text, { maxBatch: 1_000, flushMs: 60_000 });
    const reported: LogWriteError[] = [];
    writer.onWriteFailure((error) => reported.push(error));
    const base = { executionId: 'nowhere', taskRunId: null, taskId: null, attemptNumber: null, level: 'INFO' as const };
    for (let i = 1; i <= 50; i++) writer.write({ ...base, message: `n ${i}` });
    // Not transient (no retry helps): every split part and every escaped retry fails the same way.
    await database.db.execute(sql`alter table logs rename to logs_elsewhere`);
    try {
      await expect(writer.flush()).rejects.toMatchObject({ name: 'LogWriteError', lost: true, lines: 50 });
    } finally {
      await database.db.execute(sql`alter table logs_elsewhere rename to logs`);
    }
    expect(reported).toHaveLength(1);
    expect(reported[0].message).toMatch(/^50 log line\(s\) could not be stored \(the first of execution nowhere\): relation "logs" does not exist$/);
  });

  it('a 100 KB line is cut at the line limit with a marker naming it', async () => {
    const run = await engine.execute({ flow: shellFlow('hardening.one', 'wide', `head -c 102400 /dev/zero | tr '\\0' a; echo; echo after`) });
    expect(run.state.current).toBe('SUCCESS');
    const limit = DEFAULT_LIMITS.logLineChars;
    const [cut, after] = await printed(engine, run.id);
    expect(cut).toBe(`${'a'.repeat(limit)}… [truncated ${102_400 - limit} characters; limit of ${limit} chars (raise it with BATON_LIMIT_LOG_LINE_CHARS)]`);
    expect(after).toBe('after');
  });

  it('with BATON_LOG_FULL_LINES=1 the whole line is in internal storage, its URI in the marker', async () => {
    const full = createEngine({
      db: database.db,
      dataDir: await mkdtemp(join(tmpdir(), 'baton-logs-full-')),
      env: { BATON_LOG_FULL_LINES: '1', SECRET_TOKEN: Buffer.from('hunter2-secret').toString('base64') },
      limits: { ...DEFAULT_LIMITS, logLineChars: 1_000 },
    });
    // The secret is masked in the stored whole line as in the log.
    const flow = parseFlow(`id: wide
namespace: hardening.full
tasks:
  - id: print
    type: io.kestra.plugin.scripts.shell.Commands
    env:
      TOKEN: "{{ secret('TOKEN') }}"
    commands:
      - 'printf "%s" "$TOKEN"; head -c 5000 /dev/zero | tr "\\\\0" b; echo'
`);
    const run = await full.execute({ flow });
    expect(run.state.current).toBe('SUCCESS');
    const [line] = await printed(full, run.id);
    const match = /^(\*+b+)… \[truncated (\d+) characters; whole line: (kestra:\/\/\/hardening\/full\/wide\/executions\/\S+\/tasks\/print\/\S+\/logs\/1-\w+\.txt); limit of 1000 chars \(raise it with BATON_LIMIT_LOG_LINE_CHARS\)\]$/.exec(line);
    expect(match, line.slice(-300)).not.toBeNull();
    const whole = (await full.resources.storage.readBuffer(match![3])).toString('utf8');
    expect(whole).toMatch(/^\*+b{5000}$/);
    expect(whole).not.toContain('hunter2');
    expect(match![1].length + Number(match![2])).toBe(whole.length);
  });

  it('the same line printed by a plain log task is cut too', async () => {
    const flow = parseFlow(`id: logged
namespace: hardening.one
tasks:
  - id: print
    type: io.kestra.plugin.core.log.Log
    message: ${'z'.repeat(40_000)}
`);
    const run = await engine.execute({ flow });
    const entries: LogEntry[] = await engine.resources.repository.findLogs(run.id, { taskId: 'print' });
    expect(entries.map((l) => l.message.length).every((n) => n < DEFAULT_LIMITS.logLineChars + 200)).toBe(true);
    expect(entries.some((l) => l.message.includes('[truncated '))).toBe(true);
  });
});
