/**
 * A call to a flow webhook (`/api/v1/executions/webhook/{namespace}/{flowId}/{key}`), decided without
 * HTTP: which Webhook trigger the key opens, what `trigger.*` holds, whether the conditions hold, and the
 * inputs and labels of the execution to start. The HTTP route only reads the request and answers.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FlowDef, TriggerDef } from '../flow/types.ts';
import { renderTemplate } from '../template/index.ts';
import { ConditionEvaluationError, conditionsHold } from './condition-evaluators.ts';
import { findTrigger } from './registry.ts';
import {
  flowVariable, renderTriggerInputs, triggerLabels, triggerTemplateServices, type TriggerTemplateResources,
} from './trigger-render.ts';
import { webhook } from './webhook.ts';

/** Request bodies above this are refused with 413: 10 MiB, the same cap as the Git push hook. */
export const MAX_WEBHOOK_TRIGGER_BODY_BYTES = 10 * 1024 * 1024;

/** The parts of an HTTP request a Webhook trigger reads. */
export interface WebhookCall {
  /** Header values by lower-cased name, in the order received. */
  headers: Record<string, string[]>;
  /** Query parameters, each with all its values. */
  parameters: Record<string, string[]>;
  /** The raw body; null when the request has none. */
  body: Buffer | null;
}

export type WebhookDecision =
  /** No live, enabled flow with an enabled Webhook trigger whose key is this one. */
  | { outcome: 'not-found' }
  /** The trigger's conditions do not hold: no execution (HTTP 204). */
  | { outcome: 'conditions-false'; trigger: TriggerDef }
  /** The trigger's inputs or conditions could not be rendered (HTTP 422). */
  | { outcome: 'unprocessable'; trigger: TriggerDef; message: string }
  /** Start an execution with these. */
  | {
      outcome: 'start';
      trigger: TriggerDef;
      /** The `trigger` variable of the execution: `{id, type, body, headers, parameters}`. */
      variables: Record<string, unknown>;
      inputs: Record<string, unknown>;
      labels: Record<string, string>;
    };

/** Content types whose bodies are text; any other body is handed to the flow base64-encoded, as Kestra does. */
function isTextual(contentType: string | undefined): boolean {
  if (!contentType) return true;
  const type = contentType.split(';')[0].trim().toLowerCase();
  return (
    type.startsWith('text/') ||
    /[/+](json|xml|yaml|x-yaml|csv)$/.test(type) ||
    type === 'application/x-www-form-urlencoded' ||
    type === 'application/javascript'
  );
}

/** `trigger.body`: a JSON object, else a JSON array, else the text itself (a JSON scalar stays text). */
export function webhookBody(body: Buffer | null, contentType: string | undefined): unknown {
  if (body === null || body.length === 0) return null;
  if (!isTextual(contentType)) return body.toString('base64');
  const text = body.toString('utf8');
  const trimmed = text.trim();
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    try {
      const parsed: unknown = JSON.parse(trimmed);
      if (parsed !== null && typeof parsed === 'object') return parsed;
    } catch {
      // not JSON: the raw text below
    }
  }
  return text;
}

/** Same-length digests compared in constant time: neither the key nor its length leaks through timing. */
function sameKey(a: string, b: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();
  return timingSafeEqual(digest(a), digest(b));
}

function isWebhook(trigger: TriggerDef): boolean {
  return findTrigger(trigger.type)?.type === webhook.type;
}

/**
 * The enabled Webhook trigger of `flow` whose rendered `key` is `key`, if any. `flow.triggers` must have
 * their plugin defaults applied already. A key that fails to render never matches (Kestra ignores that
 * trigger).
 */
export async function findWebhookTrigger(flow: FlowDef, revision: number, key: string, resources: TriggerTemplateResources): Promise<TriggerDef | undefined> {
  const services = triggerTemplateServices(resources, flow.namespace);
  const variables = { flow: flowVariable(flow, revision) };
  let found: TriggerDef | undefined;
  for (const trigger of flow.triggers ?? []) {
    if (!isWebhook(trigger)) continue;
    if (trigger.disabled === true || typeof trigger.key !== 'string') continue;
    let rendered: string;
    try {
      rendered = (await renderTemplate(trigger.key, variables, services)).trim();
    } catch {
      continue;
    }
    // Every candidate is compared, so the time taken does not say which one matched.
    if (sameKey(rendered, key) && !found) found = trigger;
  }
  return found;
}

/**
 * Decides what a webhook call does. `flow` is the live revision (undefined when there is none), its
 * triggers with their plugin defaults applied; a disabled flow or trigger is not found, as an unknown
 * one is.
 */
export async function decideWebhookCall(input: {
  flow: FlowDef | undefined;
  revision: number;
  key: string;
  call: WebhookCall;
  resources: TriggerTemplateResources;
  now: Date;
}): Promise<WebhookDecision> {
  const { flow, call } = input;
  if (!flow || flow.disabled === true) return { outcome: 'not-found' };
  const trigger = await findWebhookTrigger(flow, input.revision, input.key, input.resources);
  if (!trigger) return { outcome: 'not-found' };

  const contentType = call.headers['content-type']?.[0];
  const variables: Record<string, unknown> = {
    id: trigger.id,
    type: webhook.type,
    body: webhookBody(call.body, contentType),
    headers: call.headers,
    parameters: call.parameters,
  };
  const services = triggerTemplateServices(input.resources, flow.namespace);
  const scope = { flow: flowVariable(flow, input.revision), trigger: variables };
  try {
    const holds = await conditionsHold(trigger.conditions, {
      variables: scope,
      services,
      kind: 'execution',
      execution: { namespace: flow.namespace, flowId: flow.id, state: 'CREATED' },
      now: input.now,
    });
    if (!holds) return { outcome: 'conditions-false', trigger };
  } catch (error) {
    const reason = error instanceof ConditionEvaluationError ? error.message : (error as Error).message;
    return { outcome: 'unprocessable', trigger, message: `conditions of trigger '${trigger.id}' could not be evaluated: ${reason}` };
  }
  try {
    const inputs = await renderTriggerInputs(trigger.inputs, scope, services);
    const labels = await triggerLabels(trigger, scope, services);
    return { outcome: 'start', trigger, variables, inputs, labels };
  } catch (error) {
    return { outcome: 'unprocessable', trigger, message: `inputs of trigger '${trigger.id}' could not be rendered: ${(error as Error).message}` };
  }
}
