import { Type } from '../../contract/index.ts';
import { defineCondition } from '../types.ts';

/** io.kestra.plugin.core.condition.Expression: true when the template `expression` renders truthy. */
export const expression = defineCondition({
  type: 'io.kestra.plugin.core.condition.Expression',
  aliases: ['io.kestra.plugin.core.condition.ExpressionCondition', 'io.kestra.core.models.conditions.types.VariableCondition'],
  title: 'Allow events when an expression is true',
  description: "Holds when `expression` renders to a truthy value; it sees the trigger's variables (`trigger.*`, `flow.*`).",
  properties: Type.Object({ expression: Type.String({ description: 'The expression to render.' }) }),
  outputs: Type.Object({}),
  examples: [{ title: 'Only for production', code: "type: io.kestra.plugin.core.condition.Expression\nexpression: \"{{ trigger.namespace == 'company.prod' }}\"" }],
});
