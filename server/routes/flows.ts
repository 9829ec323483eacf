import { Hono } from 'hono';
import { formatProblem, validateFlowSource } from '../../engine/flow/index.ts';
import { FlowNotFoundError, type StoredFlow } from '../../sync/index.ts';
import type { ServerDeps } from '../deps.ts';
import { HttpError } from '../errors.ts';
import { intParam, optionalIntParam, pageParams, readOnlyInGit, textBody } from './params.ts';

/** Kestra's flow JSON: the definition plus revision, deletion flag, commit and (on request) source. */
export function flowJson(flow: StoredFlow, withSource: boolean): Record<string, unknown> {
  return {
    ...flow.definition,
    id: flow.id,
    namespace: flow.namespace,
    revision: flow.revision,
    deleted: flow.deleted,
    ...(withSource ? { source: flow.source } : {}),
    commit: flow.commit,
    gitPath: flow.gitPath,
    updated: flow.updated,
  };
}

/** Flows, revisions and diffs: read-only, Git is the source of truth. */
export function flowRoutes(deps: ServerDeps): Hono {
  const app = new Hono();
  const notFound = (err: unknown) => {
    if (err instanceof FlowNotFoundError) throw new HttpError(404, err.message);
    throw err;
  };

  app.get('/api/v1/flows/search', async (c) => {
    const { results, total } = await deps.flows.search({
      q: c.req.query('q') || undefined,
      namespace: c.req.query('namespace') || undefined,
      ...pageParams(c),
    });
    return c.json({ results: results.map((f) => flowJson(f, false)), total });
  });

  app.post('/api/v1/flows/validate', async (c) => {
    const body = await textBody(c);
    // Several flows may be sent as YAML documents separated by '---', as Kestra accepts.
    const documents = body.split(/^---\s*$/m).filter((d) => d.trim() !== '');
    return c.json(
      documents.map((doc) => {
        // A SECRET input without BATON_ENCRYPTION_KEY is flagged: its executions would be refused.
        const { flow, problems } = validateFlowSource(doc, undefined, { encryptionKeyConfigured: deps.engine.resources.encryption !== undefined, limits: deps.engine.resources.limits });
        const errors = problems.filter((p) => p.severity === 'error');
        const warnings = problems.filter((p) => p.severity === 'warning');
        return {
          flow: flow?.id ?? null,
          namespace: flow?.namespace ?? null,
          constraints: errors.length ? errors.map(formatProblem).join('\n') : null,
          problems: errors,
          warnings: warnings.map((w) => w.message),
          deprecationPaths: [],
          infos: [],
        };
      }),
    );
  });

  app.get('/api/v1/flows/:namespace', async (c) => {
    const { results } = await deps.flows.search({ namespace: c.req.param('namespace'), size: 1000 });
    return c.json(results.filter((f) => f.namespace === c.req.param('namespace')).map((f) => flowJson(f, false)));
  });

  app.get('/api/v1/flows/:namespace/:id', async (c) => {
    const flow = await deps.flows
      .getFlow(c.req.param('namespace'), c.req.param('id'), {
        revision: optionalIntParam(c.req.query('revision'), 'revision'),
        allowDeleted: c.req.query('allowDeleted') === 'true',
      })
      .catch(notFound);
    return c.json(flowJson(flow, c.req.query('source') === 'true'));
  });

  app.get('/api/v1/flows/:namespace/:id/revisions', async (c) => {
    const { namespace, id } = c.req.param();
    const revisions = await deps.flows.revisions(namespace, id).catch(notFound);
    return c.json(revisions.map((r) => ({ id, namespace, revision: r.revision, deleted: r.deleted, source: r.source, commit: r.commit, created: r.created })));
  });

  app.get('/api/v1/flows/:namespace/:id/diff', async (c) => {
    const { namespace, id } = c.req.param();
    const from = intParam(c.req.query('from'), 'from');
    const to = intParam(c.req.query('to'), 'to');
    const diff = await deps.flows.diff(namespace, id, from, to).catch(notFound);
    return c.text(diff, 200, { 'content-type': 'text/x-diff; charset=utf-8' });
  });

  // Git is the source of truth: every write answers 409 naming what to change instead.
  const refuse = async (c: { req: { param(name: string): string | undefined } }) => {
    const namespace = c.req.param('namespace');
    const id = c.req.param('id');
    let where = `a file under '${deps.sync.flowsPath}/' in ${deps.repository} (branch ${deps.branch})`;
    if (namespace && id) {
      const flow = await deps.flows.getFlow(namespace, id, { allowDeleted: true }).catch(() => undefined);
      if (flow?.gitPath) where = `'${flow.gitPath}' in ${deps.repository} (branch ${deps.branch})`;
    }
    return readOnlyInGit(`flows are read-only here: change ${where} and push`);
  };
  app.post('/api/v1/flows', (c) => refuse(c));
  app.post('/api/v1/flows/:namespace', (c) => refuse(c));
  app.put('/api/v1/flows/:namespace/:id', (c) => refuse(c));
  app.delete('/api/v1/flows/:namespace/:id', (c) => refuse(c));
  return app;
}
