import { Hono, type Context } from 'hono';
import {
  BackfillRequestError, TriggerAdmin, TriggerBusyError, TriggerNotFoundError, TriggerStateConflictError, type FlowDef,
} from '../../engine/index.ts';
import { FlowNotFoundError } from '../../sync/index.ts';
import type { ServerDeps } from '../deps.ts';
import { HttpError } from '../errors.ts';
import { formBody, jsonBody, pageParams } from './params.ts';

interface TriggerRef {
  namespace: string;
  flowId: string;
  triggerId: string;
}

/** A date-time from an HTML form (`datetime-local`, labelled UTC in the dashboard): read as UTC when it has no offset. */
function formDate(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.trim() === '') return undefined;
  const text = value.trim();
  return /(Z|[+-]\d{2}:?\d{2})$/i.test(text) || !text.includes('T') ? text : `${text}Z`;
}

/**
 * The body of a trigger request, with `namespace`, `flowId` and `triggerId`; 400 naming what is
 * missing. JSON as Kestra's API takes it, or the dashboard's form (`start`, `end` for a backfill).
 */
async function triggerBody(c: Context): Promise<TriggerRef & Record<string, unknown>> {
  const type = c.req.header('content-type') ?? '';
  let body: unknown;
  if (type.startsWith('application/x-www-form-urlencoded') || type.startsWith('multipart/form-data')) {
    const form = await formBody(c);
    const start = formDate(form.start);
    body = {
      namespace: form.namespace,
      flowId: form.flowId,
      triggerId: form.triggerId,
      ...(start ? { backfill: { start, end: formDate(form.end) } } : {}),
      ...(typeof form.disabled === 'string' ? { disabled: form.disabled === 'true' } : {}),
    };
  } else {
    body = await jsonBody(c);
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new HttpError(400, 'request body must be a JSON object');
  const fields = body as Record<string, unknown>;
  const missing = ['namespace', 'flowId', 'triggerId'].filter((f) => typeof fields[f] !== 'string' || fields[f] === '');
  if (missing.length) throw new HttpError(400, `request body needs ${missing.map((f) => `'${f}'`).join(', ')}`);
  return fields as TriggerRef & Record<string, unknown>;
}

/** Maps the scheduler's refusals to HTTP; rethrows the rest. */
function rethrow(err: unknown): never {
  if (err instanceof FlowNotFoundError || err instanceof TriggerNotFoundError) throw new HttpError(404, err.message);
  if (err instanceof BackfillRequestError) throw new HttpError(400, err.message);
  if (err instanceof TriggerStateConflictError || err instanceof TriggerBusyError) throw new HttpError(409, err.message);
  throw err;
}

/**
 * Kestra's triggers API for Schedule triggers: their state (`/search`), backfills (start, pause,
 * unpause, delete) and the API-level `disabled` flag. The scheduler does the work on its next tick.
 */
export function triggerRoutes(deps: ServerDeps): Hono {
  const app = new Hono();
  const admin = new TriggerAdmin(deps.db);
  const liveFlow = async (ref: TriggerRef): Promise<FlowDef> => (await deps.flows.getFlow(ref.namespace, ref.flowId).catch(rethrow)).definition;

  const search = async (c: Context, filter: { namespace?: string; exactNamespace?: boolean; flowId?: string }) =>
    c.json(
      await admin.search({
        ...filter,
        ...pageParams(c),
      }),
    );

  app.get('/api/v1/triggers/search', (c) => search(c, { namespace: c.req.query('namespace') || undefined, flowId: c.req.query('flowId') || undefined }));

  /** `{namespace, flowId, triggerId, backfill: {start, end, inputs, labels}}` starts a backfill; `{…, disabled}` sets the flag. */
  app.put('/api/v1/triggers', async (c) => {
    const body = await triggerBody(c);
    const flow = await liveFlow(body);
    if (body.backfill !== undefined && body.backfill !== null) {
      if (typeof body.backfill !== 'object' || Array.isArray(body.backfill)) throw new HttpError(400, "'backfill' must be an object");
      return c.json(await admin.setBackfill(flow, body.triggerId, body.backfill as Record<string, unknown>).catch(rethrow));
    }
    if (typeof body.disabled !== 'boolean') throw new HttpError(400, "request body needs 'backfill' or 'disabled'");
    return c.json(await admin.setDisabled(flow, body.triggerId, body.disabled).catch(rethrow));
  });

  app.put('/api/v1/triggers/backfill/pause', async (c) => {
    const body = await triggerBody(c);
    return c.json(await admin.setBackfillPaused(await liveFlow(body), body.triggerId, true).catch(rethrow));
  });

  app.put('/api/v1/triggers/backfill/unpause', async (c) => {
    const body = await triggerBody(c);
    return c.json(await admin.setBackfillPaused(await liveFlow(body), body.triggerId, false).catch(rethrow));
  });

  app.post('/api/v1/triggers/backfill/delete', async (c) => {
    const body = await triggerBody(c);
    return c.json(await admin.deleteBackfill(await liveFlow(body), body.triggerId).catch(rethrow));
  });

  // After the literal routes: `search` and `backfill` are not namespaces.
  app.get('/api/v1/triggers/:namespace/:flowId', (c) => search(c, { namespace: c.req.param('namespace'), exactNamespace: true, flowId: c.req.param('flowId') }));

  return app;
}
