import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { isFailure, withTriggerDefaults, type ExecutionRun } from '../../engine/index.ts';
import { InputValidationError } from '../../engine/inputs/index.ts';
// SECRET inputs leave the server as `******` (issue #12, finding 5).
import { redactExecution } from '../../engine/index.ts';
import { decideWebhookCall, MAX_WEBHOOK_TRIGGER_BODY_BYTES, type WebhookCall } from '../../engine/triggers/index.ts';
import { FlowNotFoundError, type StoredFlow } from '../../sync/index.ts';
import type { ServerDeps } from '../deps.ts';
import { HttpError } from '../errors.ts';
import { refuseUnstorable } from './params.ts';

/**
 * One body for an unknown flow, an unknown (or disabled) trigger and a wrong key, so a caller cannot
 * tell which of the three it got wrong.
 */
const NOT_FOUND = { message: 'webhook not found', details: null } as const;

/** Header values by lower-cased name, every value of a repeated header kept (Kestra's `Map<String, List<String>>`). */
function headersOf(c: Context): Record<string, string[]> {
  const headers = new Map<string, string[]>();
  const add = (name: string, value: string) => {
    const key = name.toLowerCase();
    const values = headers.get(key);
    if (values) values.push(value);
    else headers.set(key, [value]);
  };
  // Behind @hono/node-server the raw header list is at hand; fetch Headers join repeated ones.
  const raw = (c.env as { incoming?: { rawHeaders?: string[] } } | undefined)?.incoming?.rawHeaders;
  if (raw) {
    for (let i = 0; i + 1 < raw.length; i += 2) add(raw[i], raw[i + 1]);
  } else {
    c.req.raw.headers.forEach((value, name) => add(name, value));
  }
  return Object.fromEntries(headers);
}

/**
 * The body becomes `trigger.body`, stored with the execution: PostgreSQL text cannot hold a NUL
 * character (raw or as a JSON `\\u0000` escape) nor an unpaired surrogate (a JSON `\\ud800` escape
 * alone), so such a body is a 400 rather than a failed insert.
 */
function refuseUnstorableBody(body: Buffer): void {
  if (body.includes(0)) throw new HttpError(400, 'the request body contains a NUL byte, which cannot be stored');
  // Only a body holding one of these escapes can decode to such text: no second parse otherwise.
  if (!body.includes('\\u')) return;
  const text = body.toString('utf8');
  if (!/\\u(?:0000|[dD][89a-fA-F])/.test(text)) return;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return;
  }
  refuseUnstorable(value, 'the request body');
}

function parametersOf(url: string): Record<string, string[]> {
  const parameters = new Map<string, string[]>();
  for (const [name, value] of new URL(url).searchParams) {
    const values = parameters.get(name);
    if (values) values.push(value);
    else parameters.set(name, [value]);
  }
  return Object.fromEntries(parameters);
}

/**
 * Flow webhooks (`io.kestra.plugin.core.trigger.Webhook`): `GET|POST|PUT
 * /api/v1/executions/webhook/{namespace}/{flowId}/{key}`. Open, like Kestra's: the rendered `key`
 * (compared in constant time) is the credential, so the app registers this before the API token guard.
 * 200 with the execution (with `wait: true` once it ended; with `returnOutputs: true` its outputs),
 * 204 when the trigger's conditions do not hold, 404 alike for an unknown flow, trigger or key,
 * 413 above 10 MiB, 422 when the trigger's inputs or conditions cannot be rendered.
 */
export function webhookTriggerRoutes(deps: ServerDeps): Hono {
  const app = new Hono();
  const { engine } = deps;

  app.on(
    ['GET', 'POST', 'PUT'],
    '/api/v1/executions/webhook/:namespace/:flowId/:key',
    bodyLimit({
      maxSize: MAX_WEBHOOK_TRIGGER_BODY_BYTES,
      onError: () => {
        throw new HttpError(413, `request body over ${MAX_WEBHOOK_TRIGGER_BODY_BYTES} bytes (10 MiB)`);
      },
    }),
    async (c) => {
      const { namespace, flowId, key } = c.req.param();
      let stored: StoredFlow;
      try {
        stored = await deps.flows.getFlow(namespace, flowId);
      } catch (err) {
        if (err instanceof FlowNotFoundError) return c.json(NOT_FOUND, 404);
        throw err;
      }
      const body = Buffer.from(await c.req.arrayBuffer());
      refuseUnstorableBody(body);
      const call: WebhookCall = { headers: headersOf(c), parameters: parametersOf(c.req.url), body: body.length ? body : null };
      const decision = await decideWebhookCall({
        flow: withTriggerDefaults(stored.definition),
        revision: stored.revision,
        key,
        call,
        resources: engine.resources,
        now: new Date(),
      });
      switch (decision.outcome) {
        case 'not-found':
          return c.json(NOT_FOUND, 404);
        case 'conditions-false':
          return c.body(null, 204);
        case 'unprocessable':
          throw new HttpError(422, decision.message);
        case 'start':
          break;
      }

      let run: ExecutionRun;
      try {
        run = await engine.create({
          flow: stored.definition,
          revision: stored.revision,
          commitSha: stored.commit?.sha ?? null,
          inputs: decision.inputs,
          labels: decision.labels,
          trigger: decision.variables,
        });
      } catch (err) {
        if (err instanceof InputValidationError) throw new HttpError(422, `invalid inputs for ${namespace}.${flowId}`, err.problems);
        throw err;
      }
      const id = run.execution.id;
      // Stored before this answers: a crash after the 200 loses nothing (a worker or a restart runs it).
      await engine.start(run, (err: unknown) => deps.log?.('error', `execution ${id} crashed: ${(err as Error).message}`));
      const { trigger } = decision;
      if (trigger.wait !== true) return c.json(redactExecution(run.execution));
      const execution = (await engine.awaitTerminal(id, c.req.raw.signal)) ?? run.execution;
      // As Kestra's: a failed execution answers 500, whatever the body.
      const status = isFailure(execution.state.current) ? 500 : 200;
      if (trigger.returnOutputs !== true) return c.json(redactExecution(execution), status);
      const outputs = execution.outputs ?? {};
      if (trigger.responseContentType === 'text/plain') return c.text(typeof outputs === 'string' ? outputs : JSON.stringify(outputs), status);
      return c.json(outputs, status);
    },
  );
  return app;
}
