import type { Context } from 'hono';
import { Hono } from 'hono';
import type { Db } from '../../db/index.ts';
import {
  ExecutionNotFoundError, ExecutionOperationError, isState, isTerminal, STATES, type Execution, type ExecutionRun, type StateType,
} from '../../engine/index.ts';
import { readModelOf, type ExecutionListFilter as ReadFilter, type ExecutionSummary } from '../../engine/read-model/index.ts';
import { isKestraUri, isStorageError, isUnderPrefix } from '../../engine/storage/index.ts';
import { redactExecution } from '../../engine/index.ts';
import { FlowNotFoundError, type CommitInfo } from '../../sync/index.ts';
import type { ServerDeps } from '../deps.ts';
import { boundedInt, formBody, instantOrUndefined } from '../routes/params.ts';
import { buildGantt, formatDuration, treeOrder, type Gantt } from './gantt.ts';
import { buildLogView, executionState, logFilterOf, logRoutes } from './logs-view.ts';
import { isHtmx, page, views } from './render.ts';

/** Rows per page of the executions list unless `size` says otherwise. */
const PAGE_SIZE = 25;
const MAX_PAGE_SIZE = 100;
/** What a preview reads at most, and shows at most, of a stored file. */
const PREVIEW_BYTES = 256 * 1024;
const PREVIEW_LINES = 200;
/** Output trees of one page stop here: huge outputs (or thousands of loop iterations) must not make a huge page. */
const MAX_OUTPUT_NODES = 2000;
const MAX_VALUE_CHARS = 2000;

/** Filters of the executions list, from its query string: always paged. */
export interface ExecutionListFilter extends ReadFilter {
  page: number;
  size: number;
}

/** One row of the executions list: only the columns the list shows. */
export interface ExecutionListRow extends ExecutionSummary {
  terminal: boolean;
  /** `YYYY-MM-DD HH:MM:SS` (UTC), what the list shows. */
  startLabel: string;
  duration: string;
}

/** One page of executions, newest first, as the list shows them. */
export async function listExecutions(db: Db, filter: ExecutionListFilter, now = Date.now()): Promise<{ rows: ExecutionListRow[]; hasNext: boolean }> {
  const { rows, hasNext } = await readModelOf(db).executions.list(filter);
  return {
    hasNext,
    rows: rows.map((r) => ({
      ...r,
      terminal: isTerminal(r.state),
      startLabel: dateLabel(r.startDate),
      duration: formatDuration((r.endDate ? Date.parse(r.endDate) : now) - Date.parse(r.startDate)),
    })),
  };
}

/** Reads the list filter from a query string; bad values are dropped and reported, never fatal. */
export function listFilterOf(query: (name: string) => string | undefined): { filter: ExecutionListFilter; form: Record<string, string>; problems: string[] } {
  const problems: string[] = [];
  const text = (name: string) => query(name)?.trim() ?? '';
  const form = { namespace: text('namespace'), flowId: text('flowId'), state: text('state').toUpperCase(), from: text('from'), to: text('to') };
  const filter: ExecutionListFilter = { page: 1, size: PAGE_SIZE };
  if (form.namespace) filter.namespace = form.namespace;
  if (form.flowId) filter.flowId = form.flowId;
  if (form.state) {
    if (isState(form.state)) filter.state = form.state;
    else problems.push(`unknown state '${form.state}'`);
  }
  for (const key of ['from', 'to'] as const) {
    if (!form[key]) continue;
    const iso = instantOf(form[key]);
    if (iso) filter[key] = iso;
    else problems.push(`'${form[key]}' is not a date (${key})`);
  }
  // Bounded, so that no page number makes an offset the database cannot take.
  const page = boundedInt(query('page'));
  if (page !== undefined) filter.page = page;
  const size = boundedInt(query('size'));
  if (size !== undefined) filter.size = Math.min(size, MAX_PAGE_SIZE);
  return { filter, form, problems };
}

/** `2024-05-01`, `2024-05-01T10:00` (a datetime-local field, read as UTC) or a full ISO instant. */
function instantOf(value: string): string | undefined {
  const withZone = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?$/.test(value) ? `${value.length === 10 ? `${value}T00:00` : value}Z` : value;
  return instantOrUndefined(withZone);
}

/** An ISO instant as the pages show it: `2024-05-01 12:00:00` (UTC). */
function dateLabel(iso: string): string {
  return iso.slice(0, 19).replace('T', ' ');
}

/** A node of an output tree: objects and arrays have children; `kestra://` strings are files. */
export interface OutputNode {
  key: string;
  kind: 'object' | 'array' | 'file' | 'value';
  text?: string;
  uri?: string;
  children?: OutputNode[];
}

/** Turns outputs (or inputs) into a tree; `budget`, shared by the trees of one page, counts the nodes left to show. */
export function outputTree(value: unknown, budget = { left: MAX_OUTPUT_NODES }): OutputNode[] {
  const entries: [string, unknown][] = Array.isArray(value)
    ? value.map((v, i) => [String(i), v])
    : value && typeof value === 'object'
      ? Object.entries(value)
      : [['value', value]];
  const nodes: OutputNode[] = [];
  for (const [key, v] of entries) {
    if (budget.left-- <= 0) {
      nodes.push({ key: '…', kind: 'value', text: 'more not shown' });
      break;
    }
    if (typeof v === 'string' && v.startsWith('kestra://') && isKestraUri(v)) nodes.push({ key, kind: 'file', uri: v });
    else if (Array.isArray(v)) nodes.push({ key, kind: 'array', text: `[${v.length}]`, children: outputTree(v, budget) });
    else if (v && typeof v === 'object') nodes.push({ key, kind: 'object', text: `{${Object.keys(v).length}}`, children: outputTree(v, budget) });
    else {
      const text = typeof v === 'string' ? v : JSON.stringify(v) ?? 'null';
      nodes.push({ key, kind: 'value', text: text.length > MAX_VALUE_CHARS ? `${text.slice(0, MAX_VALUE_CHARS)}… (${text.length} chars)` : text });
    }
  }
  return nodes;
}

/** Everything the live region of the execution page shows. */
interface ExecutionRunView {
  execution: Execution & { terminal: boolean; startDate: string; startLabel: string; endDate: string | null; endLabel: string; duration: string };
  /** Still changing: not terminal, or terminal but still running here (afterExecution tasks). The region polls while true. */
  live: boolean;
  revision: { revision: number; commit: CommitInfo | null; commitSha: string | null; flowUrl: string; diffUrl: string | null };
  inputs: OutputNode[];
  gantt: Gantt;
  taskRuns: { id: string; taskId: string; value: string | null; state: StateType; depth: number; attempts: number; duration: string; outputs: string }[];
  outputs: { taskRunId: string; taskId: string; value: string | null; tree: OutputNode[] }[];
  flowOutputs: OutputNode[];
  actions: { kill: boolean; restart: boolean; replay: boolean };
  fileUrl: string;
}

async function buildRunView(deps: ServerDeps, stored: Execution, now = Date.now()): Promise<ExecutionRunView> {
  // SECRET inputs are shown as `******` (issue #12, finding 5).
  const execution = redactExecution(stored);
  const terminal = isTerminal(execution.state.current);
  const flowPath = `/ui/flows/${encodeURIComponent(execution.namespace)}/${encodeURIComponent(execution.flowId)}`;
  let commit: CommitInfo | null = null;
  try {
    commit = (await deps.flows.getFlow(execution.namespace, execution.flowId, { revision: execution.flowRevision, allowDeleted: true })).commit;
  } catch (err) {
    // A flow run from a file, or a revision pruned since: the page still shows what it knows.
    if (!(err instanceof FlowNotFoundError)) throw err;
  }
  const end = execution.state.endDate ?? null;
  const ordered = treeOrder(execution.taskRunList);
  const budget = { left: MAX_OUTPUT_NODES };
  return {
    live: !terminal || deps.engine.isRunningHere(execution.id),
    execution: {
      ...execution,
      terminal,
      startDate: execution.state.startDate,
      startLabel: dateLabel(execution.state.startDate),
      endDate: end,
      endLabel: end ? dateLabel(end) : '',
      duration: formatDuration((end ? Date.parse(end) : now) - Date.parse(execution.state.startDate)),
    },
    revision: {
      revision: execution.flowRevision,
      commit,
      commitSha: commit?.sha ?? execution.commitSha,
      flowUrl: flowPath,
      diffUrl: execution.flowRevision > 1 ? `${flowPath}/diff?from=${execution.flowRevision - 1}&to=${execution.flowRevision}` : null,
    },
    inputs: Object.keys(execution.inputs ?? {}).length ? outputTree(execution.inputs, budget) : [],
    gantt: buildGantt(execution, now),
    taskRuns: ordered.map(({ run, depth }) => {
      const ended = run.state.endDate ? Date.parse(run.state.endDate) : isTerminal(run.state.current) ? Date.parse(run.state.startDate) : now;
      const outputs = run.outputs ? JSON.stringify(run.outputs) : '';
      return {
        id: run.id,
        taskId: run.taskId,
        value: run.value,
        state: run.state.current,
        depth,
        attempts: run.attempts.length,
        duration: formatDuration(ended - Date.parse(run.state.startDate)),
        outputs: outputs.length > 120 ? `${outputs.slice(0, 120)}…` : outputs,
      };
    }),
    outputs: ordered
      .filter(({ run }) => run.outputs && Object.keys(run.outputs).length)
      .map(({ run }) => ({ taskRunId: run.id, taskId: run.taskId, value: run.value, tree: outputTree(run.outputs, budget) })),
    flowOutputs: execution.outputs && Object.keys(execution.outputs).length ? outputTree(execution.outputs, budget) : [],
    actions: { kill: !terminal, restart: terminal, replay: terminal },
    // Downloads go through the REST API, which accepts the dashboard session.
    fileUrl: `/api/v1/executions/${encodeURIComponent(execution.id)}/file`,
  };
}

/** True for htmx swaps; history restores and boosted links want the whole page. */
function wantsFragment(c: Context): boolean {
  return isHtmx(c) && c.req.header('HX-History-Restore-Request') !== 'true' && c.req.header('HX-Boosted') !== 'true';
}

/** A template with the layout's context (user, CSRF token) and a status. */
function render(c: Context, template: string, context: Record<string, unknown>, status: 200 | 403 | 404 | 409 = 200) {
  c.status(status);
  return page(c, template, context);
}

function notFound(c: Context, id: string) {
  const message = `Execution ${id} not found.`;
  return wantsFragment(c)
    ? c.html(views.render('fragments/execution-message.njk', { message }), 404)
    : render(c, 'pages/execution-message.njk', { title: 'Not found', message }, 404);
}

/**
 * The executions dashboard: the filterable list, the execution page (live region, Gantt, task
 * runs, outputs, logs), file previews and the kill / restart / replay actions.
 */
export function executionPages(deps: ServerDeps): Hono {
  const app = new Hono();
  const storage = () => deps.engine.resources.storage;
  /**
   * Files of this execution, and of those whose files it may read (its parent's Subflow inputs, the
   * original of a replay whose copied outputs point there); never any other execution's.
   */
  const readable = async (execution: Execution, uri: string) =>
    (await deps.engine.readablePrefixesOf(execution)).some((prefix) => isUnderPrefix(uri, prefix));

  app.get('/ui/executions', async (c) => {
    const { filter, form, problems } = listFilterOf((name) => c.req.query(name));
    const { rows, hasNext } = await listExecutions(deps.db, filter);
    const query = (page: number) => {
      const params = new URLSearchParams(Object.entries(form).filter(([, v]) => v));
      if (filter.size !== PAGE_SIZE) params.set('size', String(filter.size));
      if (page > 1) params.set('page', String(page));
      const s = params.toString();
      return `/ui/executions${s ? `?${s}` : ''}`;
    };
    const context = {
      rows,
      form,
      problems,
      states: STATES,
      page: filter.page,
      prevUrl: filter.page > 1 ? query(filter.page - 1) : null,
      nextUrl: hasNext ? query(filter.page + 1) : null,
    };
    return wantsFragment(c) ? c.html(views.render('fragments/execution-list.njk', context)) : render(c, 'pages/executions.njk', context);
  });

  app.get('/ui/executions/:id/badge', async (c) => {
    const id = c.req.param('id');
    const state = await executionState(deps, id);
    if (!state) return c.html(views.render('fragments/execution-message.njk', { message: 'not found' }), 404);
    return c.html(views.render('fragments/execution-badge.njk', { badge: { id, state, terminal: isTerminal(state) } }));
  });

  app.get('/ui/executions/:id', async (c) => {
    const id = c.req.param('id');
    const execution = await deps.engine.findExecution(id);
    if (!execution) return notFound(c, id);
    const beforeId = /^\d{1,15}$/.test(c.req.query('beforeId') ?? '') ? Number(c.req.query('beforeId')) : undefined;
    const [run, logView] = await Promise.all([
      buildRunView(deps, execution),
      buildLogView(deps, id, isTerminal(execution.state.current), logFilterOf((name) => c.req.query(name)), { beforeId }),
    ]);
    return render(c, 'pages/execution.njk', { run, logView, olderPage: beforeId !== undefined });
  });

  app.get('/ui/executions/:id/run', async (c) => {
    const id = c.req.param('id');
    const execution = await deps.engine.findExecution(id);
    if (!execution) return notFound(c, id);
    if (!wantsFragment(c)) return c.redirect(`/ui/executions/${encodeURIComponent(id)}`);
    const run = await buildRunView(deps, execution);
    return render(c, 'fragments/execution-run.njk', { run });
  });

  app.get('/ui/executions/:id/file/preview', async (c) => {
    const id = c.req.param('id');
    const execution = await deps.engine.findExecution(id);
    if (!execution) return notFound(c, id);
    const uri = c.req.query('path') ?? '';
    const context = { executionId: id, uri, downloadUrl: `/api/v1/executions/${encodeURIComponent(id)}/file?path=${encodeURIComponent(uri)}` };
    const reply = (extra: Record<string, unknown>, status: 200 | 403 | 404 = 200) =>
      wantsFragment(c)
        ? c.html(views.render('fragments/execution-file-preview.njk', { preview: { ...context, ...extra } }), status)
        : render(c, 'pages/execution-file.njk', { preview: { ...context, ...extra } }, status);
    if (!(await readable(execution, uri))) return reply({ error: 'This file does not belong to this execution.' }, 403);
    try {
      const size = await storage().size(uri);
      const head = await readHead(await storage().get(uri), PREVIEW_BYTES);
      if (head.includes(0)) return reply({ size, binary: true });
      const lines = head.toString('utf8').split('\n');
      const truncated = size > head.length || lines.length > PREVIEW_LINES;
      return reply({ size, text: lines.slice(0, PREVIEW_LINES).join('\n'), truncated, shownLines: Math.min(lines.length, PREVIEW_LINES) });
    } catch (err) {
      if (isStorageError(err, 'NOT_FOUND')) return reply({ error: 'The file is gone (purged or never written).' }, 404);
      throw err;
    }
  });

  app.post('/ui/executions/:id/kill', async (c) => {
    const id = c.req.param('id');
    return engineAction(c, id, async () => {
      await deps.engine.requestKill(id);
      return id;
    });
  });

  app.post('/ui/executions/:id/restart', async (c) => {
    const id = c.req.param('id');
    return engineAction(c, id, async () => {
      const run = await deps.engine.restart(id);
      startInBackground(deps, run);
      return id;
    });
  });

  app.post('/ui/executions/:id/replay', async (c) => {
    const id = c.req.param('id');
    const body = await formBody(c);
    const taskRunId = typeof body.taskRunId === 'string' && body.taskRunId ? body.taskRunId : undefined;
    return engineAction(c, id, async () => {
      const run = await deps.engine.replay(id, { taskRunId });
      startInBackground(deps, run);
      return run.execution.id;
    });
  });

  app.route('/', logRoutes(deps));
  return app;
}

/**
 * Runs a kill, restart or replay and answers POST/redirect/GET to the execution it leads to; a
 * refusal by the engine (not found, wrong state, revision gone) becomes a page saying why.
 */
async function engineAction(c: Context, id: string, action: () => Promise<string>) {
  try {
    const target = await action();
    return c.redirect(`/ui/executions/${encodeURIComponent(target)}`, 303);
  } catch (err) {
    if (!(err instanceof ExecutionOperationError)) throw err;
    const status = err instanceof ExecutionNotFoundError ? 404 : 409;
    return render(c, 'pages/execution-message.njk', { title: 'Not possible', message: err.message, backUrl: `/ui/executions/${encodeURIComponent(id)}` }, status);
  }
}

/** Restart and replay prepare the run; it goes on after the answer, as executions started from the API do. */
function startInBackground(deps: ServerDeps, run: ExecutionRun): void {
  void deps.engine.start(run, (err) => deps.log?.('error', `execution ${run.execution.id} crashed: ${(err as Error).message}`));
}

/** The first `max` bytes of a stream; the rest is never read. */
async function readHead(stream: NodeJS.ReadableStream, max: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let length = 0;
  try {
    for await (const chunk of stream) {
      const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk);
      chunks.push(buf);
      length += buf.length;
      if (length >= max) break;
    }
  } finally {
    (stream as { destroy?: () => void }).destroy?.();
  }
  return Buffer.concat(chunks).subarray(0, max);
}
