import { Type } from '../../contract/index.ts';
import { defineCondition } from '../types.ts';

/** io.kestra.plugin.core.condition.ExecutionFlow: true for executions of the flow `namespace`/`flowId`. */
export const executionFlow = defineCondition({
  type: 'io.kestra.plugin.core.condition.ExecutionFlow',
  aliases: ['io.kestra.plugin.core.condition.ExecutionFlowCondition', 'io.kestra.core.models.conditions.types.ExecutionFlowCondition'],
  title: 'Allow executions of one flow',
  description: 'In a Flow trigger: holds for executions of the flow `namespace`.`flowId` only.',
  properties: Type.Object({
    namespace: Type.String({ description: 'The namespace of the flow.' }),
    flowId: Type.String({ description: 'The id of the flow.' }),
  }),
  outputs: Type.Object({}),
  examples: [{ title: 'After the load flow', code: 'type: io.kestra.plugin.core.condition.ExecutionFlow\nnamespace: company.team\nflowId: load' }],
});
