import { conditionListSchema } from '../schemas.ts';
import type { ConditionType } from '../types.ts';

/** io.kestra.plugin.core.condition.Or: true when any of `conditions` is. */
export const or: ConditionType = {
  type: 'io.kestra.plugin.core.condition.Or',
  aliases: ['io.kestra.plugin.core.condition.OrCondition', 'io.kestra.core.models.conditions.types.OrCondition'],
  title: 'Allow events when any nested condition holds',
  properties: { conditions: { ...conditionListSchema, minItems: 1 } },
  required: ['conditions'],
  nested: [{ property: 'conditions', shape: 'list' }],
};
