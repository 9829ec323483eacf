import type { ConditionType } from '../types.ts';

/** io.kestra.plugin.core.condition.ExecutionFlow: true for executions of the flow `namespace`/`flowId`. */
export const executionFlow: ConditionType = {
  type: 'io.kestra.plugin.core.condition.ExecutionFlow',
  aliases: ['io.kestra.plugin.core.condition.ExecutionFlowCondition', 'io.kestra.core.models.conditions.types.ExecutionFlowCondition'],
  title: 'Allow executions of one flow',
  properties: {
    namespace: { type: 'string' },
    flowId: { type: 'string' },
  },
  required: ['namespace', 'flowId'],
};
