import type { ConditionType } from '../types.ts';

/** io.kestra.plugin.core.condition.Expression: true when the template `expression` renders truthy. */
export const expression: ConditionType = {
  type: 'io.kestra.plugin.core.condition.Expression',
  aliases: ['io.kestra.plugin.core.condition.ExpressionCondition', 'io.kestra.core.models.conditions.types.VariableCondition'],
  title: 'Allow events when an expression is true',
  properties: { expression: { type: 'string' } },
  required: ['expression'],
};
