import { Hono } from 'hono';
import { streamSSE } from 'hono/streaming';
import { isTerminal, levelAtLeast, LOG_LEVELS, type Execution, type LogLevel, type StoredLogEntry } from '../../engine/index.ts';
import { readModelOf } from '../../engine/read-model/index.ts';
import type { ServerDeps } from '../deps.ts';
import { HttpError } from '../errors.ts';
import { contentDisposition } from './executions.ts';
import { optionalIntParam } from './params.ts';
import { heartbeat, SSE_HEARTBEAT_MS, Wakeup } from './sse.ts';

/** Rows read from the database per query when streaming (download, follow catch-up). */
const PAGE = 1_000;
/** How often a follower polls the database for an execution that no engine in this process runs. */
const POLL_MS = 1_000;

function levelParam(value: string | undefined): LogLevel | undefined {
  if (value === undefined || value === '') return undefined;
  const level = value.toUpperCase();
  if (!(LOG_LEVELS as readonly string[]).includes(level)) {
    throw new HttpError(400, `query parameter 'minLevel' must be one of ${LOG_LEVELS.join(', ')}, got '${value}'`);
  }
  return level as LogLevel;
}

/** Kestra's LogEntry JSON. */
function logJson(execution: Pick<Execution, 'namespace' | 'flowId'>, entry: StoredLogEntry) {
  return {
    namespace: execution.namespace,
    flowId: execution.flowId,
    executionId: entry.executionId,
    taskId: entry.taskId,
    taskRunId: entry.taskRunId,
    attemptNumber: entry.attemptNumber,
    timestamp: entry.timestamp,
    level: entry.level,
    message: entry.message,
  };
}

/** One line of the text download: `timestamp level [taskId] message`. */
function logLine(entry: StoredLogEntry): string {
  return `${entry.timestamp} ${entry.level} [${entry.taskId ?? ''}] ${entry.message}\n`;
}

/** The row id to resume after, from `Last-Event-ID`; anything else (Kestra's `progress`) starts over. */
function lastEventId(value: string | undefined): number {
  return value !== undefined && /^\d+$/.test(value.trim()) ? Number(value.trim()) : 0;
}

/** Logs of an execution: as JSON, as a text file, and followed live over server-sent events. */
export function logRoutes(deps: ServerDeps): Hono {
  const app = new Hono();
  const engine = deps.engine;
  const reads = readModelOf(deps.db);

  const found = async (id: string): Promise<Execution> => {
    const execution = await engine.findExecution(id);
    if (!execution) throw new HttpError(404, `execution ${id} not found`);
    return execution;
  };

  app.get('/api/v1/logs/:executionId', async (c) => {
    const execution = await found(c.req.param('executionId'));
    const rows = await reads.logs.entries(execution.id, {
      minLevel: levelParam(c.req.query('minLevel')),
      taskId: c.req.query('taskId') || undefined,
      taskRunId: c.req.query('taskRunId') || undefined,
      attemptNumber: optionalIntParam(c.req.query('attempt'), 'attempt'),
    });
    return c.json(rows.map((r) => logJson(execution, r)));
  });

  app.get('/api/v1/logs/:executionId/download', async (c) => {
    const execution = await found(c.req.param('executionId'));
    const filter = {
      minLevel: levelParam(c.req.query('minLevel')),
      taskId: c.req.query('taskId') || undefined,
      taskRunId: c.req.query('taskRunId') || undefined,
      attemptNumber: optionalIntParam(c.req.query('attempt'), 'attempt'),
    };
    const encoder = new TextEncoder();
    let afterId: number | undefined;
    // Page by page, so a million-line execution never sits in memory at once.
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        const rows = await reads.logs.entries(execution.id, { ...filter, afterId, limit: PAGE });
        if (rows.length) {
          afterId = rows[rows.length - 1].id;
          controller.enqueue(encoder.encode(rows.map(logLine).join('')));
        }
        if (rows.length < PAGE) controller.close();
      },
    });
    return c.body(body, 200, {
      'content-type': 'text/plain; charset=utf-8',
      'content-disposition': contentDisposition(`${execution.id}.log`),
      ...(isTerminal(execution.state.current) ? {} : { 'cache-control': 'no-cache' }),
    });
  });

  /**
   * Server-sent events: every stored line (after `Last-Event-ID`, a row id, when reconnecting), then
   * the live ones as they are stored, each with its row id as event id; an `end` event once the
   * execution has terminated and all its lines are stored, then the stream closes.
   *
   * No gap and no duplicate: the listener is registered before the stored lines are read, a line is
   * sent only if its id is above the last one sent, and lines are stored one batch at a time by one
   * writer, so ids grow in the order the listener sees them.
   */
  app.get('/api/v1/logs/:executionId/follow', async (c) => {
    const execution = await found(c.req.param('executionId'));
    const id = execution.id;
    const minLevel = levelParam(c.req.query('minLevel'));
    let lastId = lastEventId(c.req.header('last-event-id'));
    return streamSSE(c, async (stream) => {
      const pending: StoredLogEntry[] = [];
      const wakeup = new Wakeup();
      const stopLogs = engine.onLogsStored((entries) => {
        let mine = false;
        for (const entry of entries) {
          if (entry.executionId !== id) continue;
          pending.push(entry);
          mine = true;
        }
        if (mine) wakeup.wake();
      });
      stream.onAbort(() => wakeup.wake());
      const send = async (entry: StoredLogEntry) => {
        if (entry.id <= lastId) return;
        lastId = entry.id;
        if (minLevel && !levelAtLeast(entry.level, minLevel)) return;
        await stream.writeSSE({ id: String(entry.id), data: JSON.stringify(logJson(execution, entry)) });
      };
      const catchUp = async () => {
        for (;;) {
          const rows = await reads.logs.entries(id, { afterId: lastId, limit: PAGE });
          for (const row of rows) await send(row);
          if (rows.length < PAGE || stream.aborted) return;
        }
      };
      try {
        await catchUp();
        let watching = false;
        let lastBeat = Date.now();
        let state = execution.state.current;
        while (!stream.aborted) {
          while (pending.length && !stream.aborted) await send(pending.shift()!);
          if (engine.isRunningHere(id)) {
            if (!watching) {
              watching = true;
              // Settled: terminal, afterExecution done, every line stored.
              void engine.settled(id).then(() => {
                watching = false;
                wakeup.wake();
              });
            }
            await wakeup.wait(SSE_HEARTBEAT_MS);
          } else {
            // Not (or no longer) run here: what it logged is in the database.
            const now = await reads.executions.state(id);
            if (now) state = now;
            if (!now || isTerminal(now)) break;
            await wakeup.wait(POLL_MS);
            await catchUp();
          }
          if (Date.now() - lastBeat >= SSE_HEARTBEAT_MS) {
            await heartbeat(stream);
            lastBeat = Date.now();
          }
        }
        if (stream.aborted) return;
        await catchUp();
        // No id: a client reconnecting after the end resumes after the last line, not after this event.
        await stream.writeSSE({ event: 'end', data: JSON.stringify({ executionId: id, state }) });
      } finally {
        stopLogs();
      }
    });
  });

  return app;
}
