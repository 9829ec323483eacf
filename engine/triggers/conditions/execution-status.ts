import { stateSchema } from '../schemas.ts';
import type { ConditionType } from '../types.ts';

/** io.kestra.plugin.core.condition.ExecutionStatus: true when the execution's state is in `in` and not in `notIn`. */
export const executionStatus: ConditionType = {
  type: 'io.kestra.plugin.core.condition.ExecutionStatus',
  aliases: ['io.kestra.plugin.core.condition.ExecutionStatusCondition', 'io.kestra.core.models.conditions.types.ExecutionStatusCondition'],
  title: 'Allow executions in given states',
  properties: {
    in: { type: 'array', items: stateSchema },
    notIn: { type: 'array', items: stateSchema },
  },
};
