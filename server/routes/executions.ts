import { Hono } from 'hono';
import { InputValidationError } from '../../engine/inputs/index.ts';
import { FlowNotFoundError } from '../../sync/index.ts';
import type { ServerDeps } from '../deps.ts';
import { HttpError } from '../errors.ts';
import { intParam } from './params.ts';

/** Kestra's `labels=key:value` query parameters. */
function parseLabels(values: string[]): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const v of values) {
    const colon = v.indexOf(':');
    if (colon <= 0) throw new HttpError(400, `label '${v}' must be key:value`);
    labels[v.slice(0, colon)] = v.slice(colon + 1);
  }
  return labels;
}

/** Starting and reading executions; each records the flow revision and commit it ran with. */
export function executionRoutes(deps: ServerDeps): Hono {
  const app = new Hono();

  app.post('/api/v1/executions/:namespace/:flowId', async (c) => {
    const { namespace, flowId } = c.req.param();
    const revision = c.req.query('revision') ? intParam(c.req.query('revision'), 'revision') : undefined;
    const stored = await deps.flows.getFlow(namespace, flowId, { revision }).catch((err: unknown) => {
      if (err instanceof FlowNotFoundError) throw new HttpError(404, err.message);
      throw err;
    });
    if (stored.definition.disabled) throw new HttpError(409, `flow ${namespace}.${flowId} is disabled`);
    const inputs: Record<string, unknown> = {};
    const type = c.req.header('content-type') ?? '';
    if (type.startsWith('multipart/form-data') || type.startsWith('application/x-www-form-urlencoded')) {
      const form = await c.req.parseBody({ all: true });
      for (const [key, value] of Object.entries(form)) {
        const one = Array.isArray(value) ? value[0] : value;
        inputs[key] = one instanceof File ? { fileName: one.name, data: Buffer.from(await one.arrayBuffer()) } : one;
      }
    } else if (type.startsWith('application/json')) {
      const body = await c.req.json().catch(() => {
        throw new HttpError(400, 'request body is not valid JSON');
      });
      if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new HttpError(400, 'inputs must be a JSON object');
      Object.assign(inputs, body);
    }
    let run;
    try {
      run = await deps.engine.create({
        flow: stored.definition,
        revision: stored.revision,
        commitSha: stored.commit?.sha ?? null,
        inputs,
        labels: parseLabels(c.req.queries('labels') ?? []),
      });
    } catch (err) {
      if (err instanceof InputValidationError) {
        throw new HttpError(422, `invalid inputs for ${namespace}.${flowId}`, err.problems);
      }
      throw err;
    }
    const done = deps.engine.run(run);
    if (c.req.query('wait') === 'true') return c.json(await done);
    done.catch((err) => deps.log?.('error', `execution ${run.execution.id} crashed: ${(err as Error).message}`));
    return c.json(run.execution);
  });

  app.get('/api/v1/executions/:id', async (c) => {
    const id = c.req.param('id');
    const execution = deps.engine.runningExecution(id) ?? (await deps.engine.resources.repository.findExecution(id));
    if (!execution) throw new HttpError(404, `execution ${id} not found`);
    return c.json(execution);
  });
  return app;
}
