import type { TriggerDef } from '../flow/types.ts';
import { findCondition } from './conditions/registry.ts';
import { Type } from '../contract/index.ts';
import { triggerInputsSchema } from './schemas.ts';
import { defineTrigger, type DefinitionIssue } from './types.ts';

const RESPONSE_CONTENT_TYPES = ['application/json', 'text/plain'];

/** io.kestra.plugin.core.trigger.Webhook: start an execution from an HTTP call carrying the secret `key`. */
export const webhook = defineTrigger({
  type: 'io.kestra.plugin.core.trigger.Webhook',
  aliases: ['io.kestra.core.models.triggers.types.Webhook'],
  title: 'Start an execution from an HTTP request',
  description: 'Starts an execution when /api/v1/executions/webhook/{namespace}/{flowId}/{key} is called (GET, POST or PUT) with the secret `key`. The body, headers and query parameters are `trigger.body`, `trigger.headers` and `trigger.parameters`. With `wait` the call answers once the execution ended, with its outputs when `returnOutputs`.',
  properties: Type.Object({
    key: Type.String({ minLength: 1, maxLength: 256, description: 'The secret part of the URL; may be {{ secret(...) }}.' }),
    wait: Type.Optional(Type.Boolean({ description: "Answer once the execution ended." })),
    returnOutputs: Type.Optional(Type.Boolean({ description: "Answer with the flow's outputs (needs wait)." })),
    responseContentType: Type.Optional(Type.String({ description: 'application/json or text/plain.' })),
    inputs: Type.Optional(triggerInputsSchema()),
  }),
  outputs: Type.Object({
    body: Type.Unknown({ description: 'The request body: JSON when it parses, else text.' }),
    headers: Type.Record(Type.String(), Type.Array(Type.String())),
    parameters: Type.Record(Type.String(), Type.Array(Type.String())),
  }),
  examples: [{ title: 'Start from a push', code: "id: hook\ntype: io.kestra.plugin.core.trigger.Webhook\nkey: \"{{ secret('HOOK_KEY') }}\"" }],
  validate(def: TriggerDef): DefinitionIssue[] {
    const issues: DefinitionIssue[] = [];
    if (typeof def.responseContentType === 'string' && !RESPONSE_CONTENT_TYPES.includes(def.responseContentType)) {
      issues.push({ path: ['responseContentType'], message: "responseContentType must be either 'application/json' or 'text/plain'" });
    }
    if (def.returnOutputs === true && def.wait !== true) {
      issues.push({ path: ['returnOutputs'], message: 'returnOutputs needs wait: true' });
    }
    (Array.isArray(def.conditions) ? def.conditions : []).forEach((condition, i) => {
      const type = condition && typeof condition === 'object' ? (condition as Record<string, unknown>).type : undefined;
      if (typeof type === 'string' && findCondition(type)?.type === 'io.kestra.plugin.core.condition.MultipleCondition') {
        issues.push({ path: ['conditions', i, 'type'], message: 'a Webhook trigger cannot use MultipleCondition' });
      }
    });
    return issues;
  },
});
