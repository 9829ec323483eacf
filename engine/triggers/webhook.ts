import type { TriggerDef } from '../flow/types.ts';
import { findCondition } from './conditions/registry.ts';
import { triggerInputsSchema } from './schemas.ts';
import type { DefinitionIssue, TriggerType } from './types.ts';

const RESPONSE_CONTENT_TYPES = ['application/json', 'text/plain'];

/** io.kestra.plugin.core.trigger.Webhook: start an execution from an HTTP call carrying the secret `key`. */
export const webhook: TriggerType = {
  type: 'io.kestra.plugin.core.trigger.Webhook',
  aliases: ['io.kestra.core.models.triggers.types.Webhook'],
  title: 'Start an execution from an HTTP request',
  properties: {
    key: { type: 'string', minLength: 1, maxLength: 256 },
    wait: { type: 'boolean' },
    returnOutputs: { type: 'boolean' },
    responseContentType: { type: 'string' },
    inputs: triggerInputsSchema,
  },
  required: ['key'],
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
};
