import { beforeAll, expect, it } from 'vitest';
import type { Execution } from '../../engine/index.ts';
import { describeEachDatabase } from '../support/databases.ts';
import { openApiHarness, readEvents, type ApiHarness, type SseEvent } from './harness.ts';

const NS = 'api.logs';

/** 40 lines over about a second: several write batches while a follower is connected. */
const CHATTY_FLOW = `id: chatty
namespace: ${NS}
tasks:
  - id: talk
    type: io.kestra.plugin.scripts.shell.Commands
    commands:
      - for i in $(seq 1 40); do echo "line $i"; sleep 0.025; done
  - id: done
    type: io.kestra.plugin.core.log.Log
    level: WARN
    message: all said
`;

/** More lines than one page of the download (1000). */
const BULK_FLOW = `id: bulk
namespace: ${NS}
tasks:
  - id: flood
    type: io.kestra.plugin.scripts.shell.Commands
    commands:
      - seq 1 2500
`;

const LEVELS_FLOW = `id: levels
namespace: ${NS}
tasks:
  - id: quiet
    type: io.kestra.plugin.core.log.Log
    level: DEBUG
    message: a detail
  - id: loud
    type: io.kestra.plugin.core.log.Log
    level: ERROR
    message: "multi\\nline"
  - id: normal
    type: io.kestra.plugin.core.log.Log
    message: "hello {{ execution.id }}"
`;

interface LogJson {
  namespace: string;
  flowId: string;
  executionId: string;
  taskId: string | null;
  taskRunId: string | null;
  attemptNumber: number | null;
  timestamp: string;
  level: string;
  message: string;
}

describeEachDatabase('logs API', (open) => {
  let h: ApiHarness;
  let levels: Execution;

  const start = async (flowId: string, wait = false) => {
    const res = await h.api(`/api/v1/executions/${NS}/${flowId}${wait ? '?wait=true' : ''}`, { method: 'POST' });
    expect(res.status).toBe(200);
    return (await res.json()) as Execution;
  };
  const list = async (id: string, query = '') => {
    const res = await h.api(`/api/v1/logs/${id}${query}`);
    expect(res.status).toBe(200);
    return (await res.json()) as LogJson[];
  };

  beforeAll(async () => {
    h = await openApiHarness(open);
    await h.publish(CHATTY_FLOW, BULK_FLOW, LEVELS_FLOW);
    levels = await start('levels', true);
  });

  it('lists the logs of an execution in order, filtered by level, task and task run', async () => {
    const all = await list(levels.id);
    expect(all.map((l) => [l.taskId, l.level, l.message])).toEqual([
      ['quiet', 'DEBUG', 'a detail'],
      ['loud', 'ERROR', 'multi\nline'],
      ['normal', 'INFO', `hello ${levels.id}`],
    ]);
    expect(all[0]).toMatchObject({ namespace: NS, flowId: 'levels', executionId: levels.id, attemptNumber: 1 });
    expect(all[0].taskRunId).toBe(levels.taskRunList[0].id);
    expect((await list(levels.id, '?minLevel=INFO')).map((l) => l.taskId)).toEqual(['loud', 'normal']);
    expect((await list(levels.id, '?minLevel=error')).map((l) => l.taskId)).toEqual(['loud']);
    expect((await list(levels.id, '?taskId=normal')).map((l) => l.taskId)).toEqual(['normal']);
    expect((await list(levels.id, `?taskRunId=${levels.taskRunList[1].id}`)).map((l) => l.taskId)).toEqual(['loud']);
    expect(await list(levels.id, '?attempt=2')).toEqual([]);

    const bad = await h.api(`/api/v1/logs/${levels.id}?minLevel=LOUD`);
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({ message: "query parameter 'minLevel' must be one of TRACE, DEBUG, INFO, WARN, ERROR, got 'LOUD'", details: null });
    const unknown = await h.api('/api/v1/logs/nope');
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toEqual({ message: 'execution nope not found', details: null });
  });

  it('downloads them as text, one log per line: timestamp level [taskId] message', async () => {
    const res = await h.api(`/api/v1/logs/${levels.id}/download`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(res.headers.get('content-disposition')).toBe(`attachment; filename="${levels.id}.log"; filename*=UTF-8''${levels.id}.log`);
    const text = await res.text();
    const all = await list(levels.id);
    expect(text).toBe(all.map((l) => `${l.timestamp} ${l.level} [${l.taskId}] ${l.message}\n`).join(''));
    expect(text.split('\n')[0]).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z DEBUG \[quiet\] a detail$/);
    const warnings = await (await h.api(`/api/v1/logs/${levels.id}/download?minLevel=WARN`)).text();
    expect(warnings.trim().split('\n')[0]).toMatch(/ ERROR \[loud\] multi$/);
  });

  it('a download longer than a page is streamed page by page, complete and in order', async () => {
    const bulk = await start('bulk', true);
    const text = await (await h.api(`/api/v1/logs/${bulk.id}/download`)).text();
    const lines = text.trim().split('\n').map((line) => line.replace(/^\S+ \S+ \[[^\]]*\] /, ''));
    expect(lines).toEqual((await list(bulk.id)).map((l) => l.message));
    expect(lines.filter((l) => /^\d+$/.test(l))).toEqual(Array.from({ length: 2500 }, (_, i) => String(i + 1)));
  });

  it('follow: stored lines, then live ones; a reconnect with Last-Event-ID resumes with no gap and no duplicate', async () => {
    const execution = await start('chatty');
    // First connection: drop it after a few lines, while the task still talks.
    const first = await readEvents(await h.api(`/api/v1/logs/${execution.id}/follow`), (_, all) => all.length >= 5);
    expect(first).toHaveLength(5);
    // Those lines came live: the task was still talking when the first connection went away.
    expect(((await (await h.api(`/api/v1/executions/${execution.id}`)).json()) as Execution).state.current).toBe('RUNNING');
    const lastSeen = first[first.length - 1].id!;
    // Second connection, as a browser's EventSource would reconnect.
    const second = await readEvents(await h.api(`/api/v1/logs/${execution.id}/follow`, { headers: { 'last-event-id': lastSeen } }));
    const end = second[second.length - 1];
    expect(end.event).toBe('end');
    expect(end.id).toBeUndefined();
    expect(JSON.parse(end.data)).toEqual({ executionId: execution.id, state: 'SUCCESS' });

    const lines: SseEvent[] = [...first, ...second.slice(0, -1)];
    const ids = lines.map((e) => Number(e.id));
    expect(ids.every((id, i) => Number.isInteger(id) && (i === 0 || id > ids[i - 1]))).toBe(true);
    // Exactly what is stored, in order: nothing lost between the two connections, nothing twice.
    const stored = await list(execution.id);
    expect(lines.map((e) => JSON.parse(e.data))).toEqual(stored);
    expect(stored.filter((l) => l.message.startsWith('line '))).toHaveLength(40);
    expect(stored[stored.length - 1]).toMatchObject({ taskId: 'done', message: 'all said' });
    // The row ids are the repository's.
    const rows = await h.engine.resources.repository.findLogs(execution.id);
    expect(ids).toEqual(rows.map((r) => r.id));
  });

  it('follow of a terminated execution sends everything then end; minLevel filters; past the last line only end', async () => {
    const events = await readEvents(await h.api(`/api/v1/logs/${levels.id}/follow`));
    expect(events.map((e) => e.event ?? 'message')).toEqual(['message', 'message', 'message', 'end']);
    expect(events.slice(0, -1).map((e) => JSON.parse(e.data))).toEqual(await list(levels.id));

    const errors = await readEvents(await h.api(`/api/v1/logs/${levels.id}/follow?minLevel=ERROR`));
    expect(errors.slice(0, -1).map((e) => JSON.parse(e.data).taskId)).toEqual(['loud']);

    const after = await readEvents(await h.api(`/api/v1/logs/${levels.id}/follow`, { headers: { 'last-event-id': events[2].id! } }));
    expect(after.map((e) => e.event)).toEqual(['end']);
    // Kestra clients send `progress`: not a row id, so everything is sent again.
    const kestra = await readEvents(await h.api(`/api/v1/logs/${levels.id}/follow`, { headers: { 'last-event-id': 'progress' } }));
    expect(kestra).toHaveLength(4);

    expect((await h.api('/api/v1/logs/nope/follow')).status).toBe(404);
  });
});
