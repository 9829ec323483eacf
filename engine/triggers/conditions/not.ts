import { conditionListSchema } from '../schemas.ts';
import type { ConditionType } from '../types.ts';

/** io.kestra.plugin.core.condition.Not: true when none of `conditions` is. */
export const not: ConditionType = {
  type: 'io.kestra.plugin.core.condition.Not',
  aliases: ['io.kestra.plugin.core.condition.NotCondition', 'io.kestra.core.models.conditions.types.NotCondition'],
  title: 'Allow events when no nested condition holds',
  properties: { conditions: { ...conditionListSchema, minItems: 1 } },
  required: ['conditions'],
  nested: [{ property: 'conditions', shape: 'list' }],
};
