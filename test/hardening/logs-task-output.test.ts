/**
 * Issue #12, the log limits and the last line: a task printing more than `taskLogBytes` fails naming
 * the limit, its command is stopped and what it printed until then is kept; a final line without a
 * newline is stored whether the task ends, is killed, times out, or is SIGKILLed after ignoring SIGTERM,
 * and it is stored within the attempt (before its end), not after the execution has ended.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import { DEFAULT_LIMITS } from '../../config/index.ts';
import type { Database } from '../../db/index.ts';
import { createEngine, type Engine, type StoredLogEntry } from '../../engine/index.ts';
import { describeEachDatabase } from '../support/databases.ts';
import { parseFlow } from '../support/fixtures.ts';
import { isRunning } from '../support/pids.ts';

const LOG_LIMIT = 64 * 1024;

const flowOf = (id: string, commands: string[], extra = '') =>
  parseFlow(`id: ${id}
namespace: hardening.output
tasks:
  - id: print
    type: io.kestra.plugin.scripts.shell.Commands
${extra}    commands:
${commands.map((c) => `      - ${JSON.stringify(c)}`).join('\n')}
`);

describeEachDatabase('task output limits and last lines', (open) => {
  let database: Database;
  let engine: Engine;

  beforeAll(async () => {
    database = await open();
    engine = createEngine({
      db: database.db,
      dataDir: await mkdtemp(join(tmpdir(), 'baton-logs-')),
      env: {},
      limits: { ...DEFAULT_LIMITS, taskLogBytes: LOG_LIMIT },
    });
  });

  const logsOf = (id: string): Promise<StoredLogEntry[]> => engine.resources.repository.findLogs(id, { taskId: 'print' });

  it('a task printing more than the task log limit fails naming it, is stopped, and keeps its lines', async () => {
    // `yes` never ends on its own: only the limit stops it.
    const run = await engine.execute({ flow: flowOf('flood', ['echo "pid $$"', 'yes flooding']) });
    expect(run.state.current).toBe('FAILED');
    const logs = await logsOf(run.id);
    const failure = logs.find((l) => l.level === 'ERROR');
    expect(failure?.message).toBe(`Command stopped, its log output: exceeds the limit of ${LOG_LIMIT} bytes (raise it with BATON_LIMIT_TASK_LOG_BYTES)`);
    const [first, ...flood] = logs.filter((l) => l.level === 'INFO').map((l) => l.message);
    expect(first).toMatch(/^pid \d+$/);
    // Every line up to the limit is kept: the pid line, then 'flooding\n' lines filling what is left.
    expect(flood).toEqual(Array.from({ length: Math.floor((LOG_LIMIT - first.length - 1) / 9) }, () => 'flooding'));
    expect(isRunning(Number(first.slice(4)))).toBe(false);
  });

  it('output just under the limit is all logged and the task succeeds', async () => {
    const lines = Math.floor(LOG_LIMIT / 9);
    const run = await engine.execute({ flow: flowOf('under', [`yes flooding | head -n ${lines}`]) });
    expect(run.state.current).toBe('SUCCESS');
    expect((await logsOf(run.id)).filter((l) => l.level === 'INFO')).toHaveLength(lines);
  });

  it('keeps a final line without newline when the task ends', async () => {
    const run = await engine.execute({ flow: flowOf('ends', ['echo one; printf "last words"']) });
    expect(run.state.current).toBe('SUCCESS');
    expect((await logsOf(run.id)).filter((l) => l.level === 'INFO').map((l) => l.message)).toEqual(['one', 'last words']);
  });

  /** The task's last line is stored before the line that ends its attempt (`ended`), once the execution has returned. */
  const expectLastLineBefore = (logs: StoredLogEntry[], ended: RegExp) => {
    const last = logs.findIndex((l) => l.message === 'last words');
    const end = logs.findIndex((l) => ended.test(l.message));
    expect(last, logs.map((l) => l.message).join('\n')).toBeGreaterThanOrEqual(0);
    expect(end).toBeGreaterThan(last);
  };

  it('keeps a final line without newline when the task times out', async () => {
    const run = await engine.execute({ flow: flowOf('times-out', ['echo one; printf "last words"; sleep 30'], '    timeout: PT1S\n') });
    expect(run.state.current).toBe('FAILED');
    expectLastLineBefore(await logsOf(run.id), /timed out/);
  });

  it('keeps a final line without newline when a command ignoring SIGTERM is SIGKILLed at the timeout', async () => {
    // The shell and its sleep ignore SIGTERM: the runner's SIGKILL after its grace period ends them.
    const run = await engine.execute({ flow: flowOf('kill-9', ["trap '' TERM; echo one; printf 'last words'; sleep 30"], '    timeout: PT1S\n') });
    expect(run.state.current).toBe('FAILED');
    expectLastLineBefore(await logsOf(run.id), /timed out/);
  }, 30_000);

  it('keeps a final line without newline when the execution is killed', async () => {
    // The command takes a second to stop after SIGTERM: its last line comes well after the kill. It is
    // printed before 'started' (on stderr, a stream of its own), so the kill cannot come before it.
    const created = await engine.create({ flow: flowOf('killed', ["trap 'sleep 1; exit 1' TERM; printf 'last words'; echo started >&2; sleep 30"]) });
    const done = engine.run(created);
    await new Promise<void>((resolve) => {
      const stop = engine.onLog((l) => {
        if (l.executionId === created.execution.id && l.message === 'started') {
          stop();
          resolve();
        }
      });
    });
    expect(await engine.kill(created.execution.id)).toBe(true);
    const run = await done;
    expect(run.state.current).toBe('KILLED');
    expect((await logsOf(run.id)).map((l) => l.message)).toContain('last words');
  });
});
