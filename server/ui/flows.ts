import { Hono, type Context } from 'hono';
import { isTerminal, type StateType } from '../../engine/index.ts';
import { readModelOf } from '../../engine/read-model/index.ts';
import { InputValidationError } from '../../engine/inputs/index.ts';
import { FlowNotFoundError, type CommitInfo, type FlowRevision, type StoredFlow } from '../../sync/index.ts';
import type { ServerDeps } from '../deps.ts';
import { boundedInt, formBody } from '../routes/params.ts';
import { revisionDiff } from './flow-diff.ts';
import { formInputs, inputFields, type SubmittedValues } from './flow-inputs.ts';
import { formatDuration, formatTime } from './formatting.ts';
import { isHtmx, page } from './render.ts';
import { layoutTopology, renderTopologySvg, shortType } from './topology.ts';
import { highlightYamlLines } from './yaml-highlight.ts';

type Tab = 'source' | 'topology' | 'revisions' | 'diff' | 'executions' | 'triggers' | 'execute';

const EXECUTIONS_PAGE_SIZE = 25;

/** A flow row's last execution, as its badge shows it. */
interface ExecutionBadge {
  id: string;
  state: StateType;
  terminal: boolean;
  startDate: string;
}

/**
 * Flows in the dashboard: the list, and one flow's tabs (source, topology, revisions, diff,
 * executions, triggers, execute). Every tab is its own route; htmx gets the tab fragment only.
 */
export function flowPages(deps: ServerDeps, options: { hasRoute(method: string, path: string): boolean }): Hono {
  const app = new Hono();

  app.get('/ui/flows', async (c) => {
    const q = c.req.query('q')?.trim() || undefined;
    const { results, total } = await deps.flows.search({ q, size: 1000 });
    const last = await lastExecutions(deps, results);
    const groups = new Map<string, Record<string, unknown>[]>();
    for (const flow of results) {
      let group = groups.get(flow.namespace);
      if (!group) groups.set(flow.namespace, (group = []));
      group.push({
        ...flowSummary(flow),
        triggers: (flow.definition.triggers ?? []).map((t) => shortType(String(t.type))),
        lastExecution: last.get(`${flow.namespace}/${flow.id}`),
      });
    }
    return page(c, 'pages/flows.njk', { q, total, shown: results.length, namespaces: [...groups].map(([name, flows]) => ({ name, flows })) }, 'fragments/flow-list.njk');
  });

  /** One tab of one flow: loads the flow (404 page when unknown), then the tab's own context. */
  const tab = (name: Tab, build: (c: Context, flow: StoredFlow) => Promise<Record<string, unknown> | Response>) => async (c: Context) => {
    const { namespace, id } = c.req.param() as { namespace: string; id: string };
    const revision = c.req.query('revision');
    if (revision !== undefined && !/^[1-9]\d*$/.test(revision)) return missing(c, 400, `revision must be a positive integer, got '${revision}'`);
    let flow: StoredFlow;
    let live: StoredFlow;
    try {
      live = await deps.flows.getFlow(namespace, id, { allowDeleted: true });
      flow = revision ? await deps.flows.getFlow(namespace, id, { revision: Number(revision), allowDeleted: true }) : live;
    } catch (err) {
      if (err instanceof FlowNotFoundError) return missing(c, 404, err.message);
      throw err;
    }
    const context = await build(c, flow);
    if (context instanceof Response) return context;
    const fragment = `fragments/flow-${name}.njk`;
    const concurrency = await concurrencyView(deps, flow);
    return page(c, 'pages/flow.njk', { flow: { ...flowSummary(flow), liveRevision: live.revision, concurrency }, tab: name, tabTemplate: fragment, ...context }, fragment);
  };

  const source = tab('source', async (_c, flow) => ({ lines: sourceLines(flow.source) }));
  app.get('/ui/flows/:namespace/:id', source);
  app.get('/ui/flows/:namespace/:id/source', source);

  app.get('/ui/flows/:namespace/:id/topology', tab('topology', async (_c, flow) => ({
    svg: renderTopologySvg(layoutTopology(flow.definition), `Topology of ${flow.namespace}.${flow.id}`),
  })));

  app.get('/ui/flows/:namespace/:id/revisions', tab('revisions', async (_c, flow) => {
    const revisions = await deps.flows.revisions(flow.namespace, flow.id);
    const newest = revisions[revisions.length - 1]?.revision ?? 1;
    return {
      revisions: revisions.map(revisionRow).reverse(),
      from: Math.max(newest - 1, 1),
      to: newest,
    };
  }));

  app.get('/ui/flows/:namespace/:id/diff', tab('diff', async (c, flow) => {
    const revisions = await deps.flows.revisions(flow.namespace, flow.id);
    const newest = revisions[revisions.length - 1].revision;
    const from = revisionQuery(c.req.query('from'), Math.max(newest - 1, 1));
    const to = revisionQuery(c.req.query('to'), newest);
    const a = revisions.find((r) => r.revision === from);
    const b = revisions.find((r) => r.revision === to);
    if (from === undefined || to === undefined) return missing(c, 400, "'from' and 'to' must be revision numbers");
    if (!a || !b) return missing(c, 404, `revision ${a ? to : from} of flow ${flow.namespace}.${flow.id} not found`);
    const view = c.req.query('view') === 'split' ? 'split' : 'unified';
    const raw = `/api/v1/flows/${encodeURIComponent(flow.namespace)}/${encodeURIComponent(flow.id)}/diff?from=${from}&to=${to}`;
    return { from: revisionRow(a), to: revisionRow(b), view, diff: revisionDiff(a.source, b.source), raw, revisionNumbers: revisions.map((r) => r.revision).reverse() };
  }));

  app.get('/ui/flows/:namespace/:id/executions', tab('executions', async (c, flow) => {
    const pageNo = boundedInt(c.req.query('page')) ?? 1;
    const { rows, total } = await flowExecutions(deps, flow.namespace, flow.id, pageNo);
    return { executions: rows, total, page: pageNo, pages: Math.max(Math.ceil(total / EXECUTIONS_PAGE_SIZE), 1) };
  }));

  app.get('/ui/flows/:namespace/:id/executions/:executionId/badge', async (c) => {
    const { namespace, id, executionId } = c.req.param();
    const execution = deps.engine.runningExecution(executionId) ?? (await deps.engine.resources.repository.findExecution(executionId));
    if (!execution || execution.namespace !== namespace || execution.flowId !== id) return c.text('execution not found', 404);
    const state = execution.state.current;
    const badge: ExecutionBadge = { id: execution.id, state, terminal: isTerminal(state), startDate: execution.state.startDate };
    return page(c, 'fragments/flow-badge.njk', { namespace, flowId: id, execution: badge });
  });

  app.get('/ui/flows/:namespace/:id/triggers', tab('triggers', async (_c, flow) => ({
    triggers: (flow.definition.triggers ?? []).map((t) => ({
      id: t.id,
      type: t.type,
      shortType: shortType(String(t.type)),
      cron: typeof t.cron === 'string' ? t.cron : undefined,
      timezone: typeof t.timezone === 'string' ? t.timezone : undefined,
      key: typeof t.key === 'string' ? t.key : undefined,
      disabled: t.disabled === true,
      description: t.description,
    })),
    // The backfill form posts to Kestra's PUT /api/v1/triggers (routes/triggers.ts).
    backfillAvailable: options.hasRoute('PUT', '/api/v1/triggers'),
  })));

  app.get('/ui/flows/:namespace/:id/execute', tab('execute', async (_c, flow) => executeForm(flow)));

  app.post('/ui/flows/:namespace/:id/execute', async (c) => {
    const { namespace, id } = c.req.param();
    let flow: StoredFlow;
    try {
      flow = await deps.flows.getFlow(namespace, id);
    } catch (err) {
      if (err instanceof FlowNotFoundError) return missing(c, 404, err.message);
      throw err;
    }
    const render = (status: 409 | 422, context: Record<string, unknown>) => {
      c.status(status);
      const fragment = 'fragments/flow-execute.njk';
      return page(c, 'pages/flow.njk', { flow: { ...flowSummary(flow), liveRevision: flow.revision }, tab: 'execute', tabTemplate: fragment, ...context }, fragment);
    };
    if (flow.definition.disabled) return render(409, { ...executeForm(flow), refused: `Flow ${namespace}.${id} is disabled.` });
    const form = await formBody(c);
    const { inputs, submitted } = await formInputs(flow.definition.inputs, form);
    let run;
    try {
      run = await deps.engine.create({ flow: flow.definition, revision: flow.revision, commitSha: flow.commit?.sha ?? null, inputs });
    } catch (err) {
      if (err instanceof InputValidationError) return render(422, executeForm(flow, submitted, err.problems));
      throw err;
    }
    await deps.engine.start(run, (err) => deps.log?.('error', `execution ${run.execution.id} crashed: ${(err as Error).message}`));
    const target = `/ui/executions/${encodeURIComponent(run.execution.id)}`;
    if (isHtmx(c)) {
      c.header('HX-Redirect', target);
      return c.body(null, 204);
    }
    return c.redirect(target, 303);
  });

  return app;
}

function executeForm(flow: StoredFlow, submitted?: SubmittedValues, problems?: readonly { inputId: string; message: string }[]) {
  const { fields, otherErrors } = inputFields(flow.definition.inputs, submitted, problems);
  return {
    fields,
    otherErrors,
    multipart: fields.some((f) => f.control === 'file'),
    invalid: problems !== undefined && problems.length > 0,
  };
}

function missing(c: Context, status: 400 | 404, message: string) {
  c.status(status);
  return page(c, 'pages/flow-missing.njk', { message, status }, 'fragments/flow-missing.njk');
}

function revisionQuery(value: string | undefined, fallback: number): number | undefined {
  if (value === undefined || value === '') return fallback;
  return /^[1-9]\d*$/.test(value) ? Number(value) : undefined;
}

function sourceLines(source: string): string[] {
  const lines = highlightYamlLines(source);
  if (source.endsWith('\n')) lines.pop();
  return lines;
}

function commitView(commit: CommitInfo | null) {
  if (!commit) return null;
  return { ...commit, subject: commit.message.split('\n')[0], when: formatTime(commit.date) };
}

/** The flow's concurrency limit with how many executions hold a slot and wait for one now. */
async function concurrencyView(deps: ServerDeps, flow: StoredFlow) {
  const limit = flow.definition.concurrency;
  if (!limit) return undefined;
  const slots = await deps.engine.resources.concurrency.slotsOf(flow.namespace, flow.id);
  return {
    limit: limit.limit,
    behavior: limit.behavior ?? 'QUEUE',
    running: slots.filter((s) => s.status === 'RUNNING').length,
    queued: slots.filter((s) => s.status === 'QUEUED').length,
  };
}

function flowSummary(flow: StoredFlow) {
  return {
    namespace: flow.namespace,
    id: flow.id,
    revision: flow.revision,
    description: flow.definition.description,
    labels: Object.entries(flow.definition.labels ?? {}),
    disabled: flow.definition.disabled === true,
    deleted: flow.deleted,
    commit: commitView(flow.commit),
    gitPath: flow.gitPath,
    updated: formatTime(flow.updated),
    inputCount: flow.definition.inputs?.length ?? 0,
  };
}

function revisionRow(r: FlowRevision) {
  return { revision: r.revision, deleted: r.deleted, commit: commitView(r.commit), created: formatTime(r.created) };
}

/** The newest execution of each listed flow. */
async function lastExecutions(deps: ServerDeps, flows: StoredFlow[]): Promise<Map<string, ExecutionBadge>> {
  const latest = await readModelOf(deps.db).executions.latestOfFlows(flows.map((f) => f.namespace));
  return new Map([...latest].map(([key, execution]) => [key, badgeOf(deps, execution)]));
}

/** One flow's executions (exactly this namespace), newest first. */
async function flowExecutions(deps: ServerDeps, namespace: string, flowId: string, pageNo: number) {
  const { rows, total } = await readModelOf(deps.db).executions.ofFlow(namespace, flowId, { page: pageNo, size: EXECUTIONS_PAGE_SIZE });
  return {
    total,
    rows: rows.map((r) => {
      const badge = badgeOf(deps, r);
      const end = r.endDate ?? undefined;
      return {
        ...badge,
        endDate: end,
        started: formatTime(badge.startDate),
        duration: end ? formatDuration(Date.parse(end) - Date.parse(badge.startDate)) : '',
        flowRevision: r.flowRevision,
        commitSha: r.commitSha,
        labels: r.labels,
        triggered: r.triggered ? 'trigger' : 'manual',
      };
    }),
  };
}

/** Rows are written behind the engine: a running execution's state is fresher in memory. */
function badgeOf(deps: ServerDeps, row: { id: string; state: StateType; startDate: string }): ExecutionBadge {
  const state = deps.engine.runningExecution(row.id)?.state.current ?? row.state;
  return { id: row.id, state, terminal: isTerminal(state), startDate: row.startDate };
}
