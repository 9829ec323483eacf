import type { Context } from 'hono';
import { Hono } from 'hono';
import { streamSSE, type SSEStreamingApi } from 'hono/streaming';
import type { Db } from '../../db/index.ts';
import { isTerminal, LOG_LEVELS, type LogLevel, type StateType } from '../../engine/index.ts';
import { readModelOf, type LogFilter as ReadLogFilter, type LogLine } from '../../engine/read-model/index.ts';
import type { ServerDeps } from '../deps.ts';
import { isHtmx, views } from './render.ts';

/** Lines rendered at once: the tail on the page, and each "load older" page. */
export const LOG_PAGE = 500;
/** Rows per query while streaming: large bursts go out in chunks, never as one huge read. */
const STREAM_BATCH = 500;
/** Without any stored-lines signal, look again this often (lines written by another process, a state change). */
const IDLE_POLL_MS = 1000;
const KEEPALIVE_MS = 15_000;

/** The panel's filter: a lowest level and a message search (the read model's filter without a task). */
export type LogFilter = Pick<ReadLogFilter, 'minLevel' | 'q'>;

export type { LogLine };

/** What `fragments/logs-view.njk` renders: the tail (or an older page), the filter and the live stream URL. */
export interface LogView {
  executionId: string;
  lines: LogLine[];
  /** Older lines exist: the "load older" link asks for those before `lines[0].id`. */
  more: boolean;
  oldestId: number | null;
  filter: { level: string; q: string };
  levels: readonly LogLevel[];
  /** SSE URL continuing after the last line shown; absent once the execution ended. */
  streamUrl: string | null;
  downloadUrl: string;
  /** Query string (level, q) for links that keep the filter. */
  filterQuery: string;
}

/** Parses `level` and `q` query parameters; an unknown level means all levels. */
export function logFilterOf(query: (name: string) => string | undefined): LogFilter {
  const level = query('level')?.toUpperCase();
  const q = query('q')?.trim();
  return {
    minLevel: (LOG_LEVELS as readonly string[]).includes(level ?? '') ? (level as LogLevel) : undefined,
    q: q ? q.slice(0, 200) : undefined,
  };
}

/** The newest `limit` matching lines before `beforeId` (or the newest of all), oldest first. */
export async function logTail(
  db: Db,
  executionId: string,
  filter: LogFilter,
  options: { beforeId?: number; limit?: number } = {},
): Promise<{ lines: LogLine[]; more: boolean }> {
  return readModelOf(db).logs.tail(executionId, filter, { beforeId: options.beforeId, limit: options.limit ?? LOG_PAGE });
}

/** Matching lines after `afterId`, oldest first: what the stream sends next. */
export async function logsAfter(db: Db, executionId: string, filter: LogFilter, afterId: number, limit = STREAM_BATCH): Promise<LogLine[]> {
  return readModelOf(db).logs.after(executionId, filter, afterId, limit);
}

/** Builds the log panel of an execution page. */
export async function buildLogView(
  deps: ServerDeps,
  executionId: string,
  terminal: boolean,
  filter: LogFilter,
  options: { beforeId?: number } = {},
): Promise<LogView> {
  const { beforeId } = options;
  const { lines, more } = await logTail(deps.db, executionId, filter, { beforeId });
  const filterQuery = filterQueryOf(filter);
  let streamUrl: string | null = null;
  // An older page is history: only the tail continues live. A terminal execution still running here
  // (afterExecution tasks, its last lines being stored) has lines to come.
  if ((!terminal || deps.engine.isRunningHere(executionId)) && beforeId === undefined) {
    const after = lines.at(-1)?.id ?? (await readModelOf(deps.db).logs.lastId(executionId));
    streamUrl = `/ui/executions/${encodeURIComponent(executionId)}/logs/stream?after=${after}${filterQuery ? `&${filterQuery}` : ''}`;
  }
  return {
    executionId,
    lines,
    more,
    oldestId: lines[0]?.id ?? null,
    filter: { level: filter.minLevel ?? '', q: filter.q ?? '' },
    levels: LOG_LEVELS,
    streamUrl,
    downloadUrl: `/api/v1/logs/${encodeURIComponent(executionId)}/download`,
    filterQuery,
  };
}

function filterQueryOf(filter: LogFilter): string {
  const params = new URLSearchParams();
  if (filter.minLevel) params.set('level', filter.minLevel);
  if (filter.q) params.set('q', filter.q);
  return params.toString();
}

function nonNegativeInt(value: string | undefined): number | undefined {
  if (value === undefined || !/^\d{1,15}$/.test(value)) return undefined;
  return Number(value);
}

/** Current state of an execution: in memory while it runs here, else its row's state column. */
export async function executionState(deps: ServerDeps, id: string): Promise<StateType | undefined> {
  const running = deps.engine.runningExecution(id);
  if (running) return running.state.current;
  return readModelOf(deps.db).executions.state(id);
}

/**
 * The log routes of the execution page: the panel and "load older" fragments and the live stream.
 * The stream is the dashboard's own (not `/api/v1/logs/{id}/follow`): it starts after the last line
 * the page rendered (`?after=`, which a first EventSource request cannot send as Last-Event-ID) and
 * applies the panel's level and text filters. The download is the API's.
 */
export function logRoutes(deps: ServerDeps): Hono {
  const app = new Hono();
  const query = (c: Context) => (name: string) => c.req.query(name);

  app.get('/ui/executions/:id/logs', async (c) => {
    const id = c.req.param('id');
    const filter = logFilterOf(query(c));
    if (!isHtmx(c)) return c.redirect(pageUrl(id, filterQueryOf(filter)));
    const state = await executionState(deps, id);
    if (!state) return c.html(views.render('fragments/logs-missing.njk', { id }), 404);
    return c.html(views.render('fragments/logs-view.njk', { logView: await buildLogView(deps, id, isTerminal(state), filter) }));
  });

  app.get('/ui/executions/:id/logs/older', async (c) => {
    const id = c.req.param('id');
    const filter = logFilterOf(query(c));
    const beforeId = nonNegativeInt(c.req.query('beforeId'));
    const filterQuery = filterQueryOf(filter);
    if (!isHtmx(c)) return c.redirect(pageUrl(id, [filterQuery, beforeId !== undefined ? `beforeId=${beforeId}` : ''].filter(Boolean).join('&')));
    const { lines, more } = await logTail(deps.db, id, filter, { beforeId });
    return c.html(views.render('fragments/logs-older.njk', { logView: { executionId: id, lines, more, oldestId: lines[0]?.id ?? null, filterQuery } }));
  });

  app.get('/ui/executions/:id/logs/stream', (c) => {
    const id = c.req.param('id');
    const filter = logFilterOf(query(c));
    // EventSource sends Last-Event-ID when it reconnects: resume after the last line it received.
    const after = Math.max(nonNegativeInt(c.req.query('after')) ?? 0, nonNegativeInt(c.req.header('Last-Event-ID')) ?? 0);
    return streamSSE(c, (stream) => followLogs(deps, stream, id, filter, after));
  });

  return app;
}

/**
 * No line will be added: terminal and not running here any more (a run here stores its last lines,
 * and runs `afterExecution` tasks, after the terminal state), or gone.
 */
async function ended(deps: ServerDeps, id: string): Promise<boolean> {
  if (deps.engine.isRunningHere(id)) return false;
  const state = await executionState(deps, id);
  return state === undefined || isTerminal(state);
}

function pageUrl(id: string, query: string): string {
  return `/ui/executions/${encodeURIComponent(id)}${query ? `?${query}` : ''}#logs`;
}

/**
 * Stored lines after `after`, then live ones, with no gap and no repeat: every line is read from
 * the database by id (its SSE id); `onLogsStored` only says when to read again. Once the execution
 * has ended here (every line stored), one last read, then `event: end` and the stream closes.
 */
async function followLogs(deps: ServerDeps, stream: SSEStreamingApi, id: string, filter: LogFilter, after: number): Promise<void> {
  let last = after;
  let wake: (() => void) | undefined;
  const unsubscribe = deps.engine.onLogsStored((batch) => {
    if (batch.some((line) => line.executionId === id)) wake?.();
  });
  stream.onAbort(() => wake?.());
  let quietSince = Date.now();
  try {
    if (!(await executionState(deps, id))) {
      await stream.writeSSE({ event: 'end', data: 'not found' });
      return;
    }
    let final = await ended(deps, id);
    while (!stream.aborted && !stream.closed) {
      const lines = await logsAfter(deps.db, id, filter, last);
      for (const line of lines) {
        await stream.writeSSE({ id: String(line.id), data: JSON.stringify(line) });
        last = line.id;
      }
      if (lines.length === STREAM_BATCH) continue;
      // `final` was decided before this read, so this read had every line there will be.
      if (final) {
        await stream.writeSSE({ event: 'end', data: '' });
        return;
      }
      if (lines.length) quietSince = Date.now();
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, IDLE_POLL_MS);
        wake = done;
        function done() {
          clearTimeout(timer);
          wake = undefined;
          resolve();
        }
      });
      if (Date.now() - quietSince > KEEPALIVE_MS) {
        // Proxies drop connections that stay silent too long.
        await stream.write(': keep-alive\n\n');
        quietSince = Date.now();
      }
      final = await ended(deps, id);
    }
  } finally {
    unsubscribe();
  }
}
