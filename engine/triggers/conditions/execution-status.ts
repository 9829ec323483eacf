import { Type } from '../../contract/index.ts';
import { stateSchema } from '../schemas.ts';
import { defineCondition } from '../types.ts';

/** io.kestra.plugin.core.condition.ExecutionStatus: true when the execution's state is in `in` and not in `notIn`. */
export const executionStatus = defineCondition({
  type: 'io.kestra.plugin.core.condition.ExecutionStatus',
  aliases: ['io.kestra.plugin.core.condition.ExecutionStatusCondition', 'io.kestra.core.models.conditions.types.ExecutionStatusCondition'],
  title: 'Allow executions in given states',
  description: "In a Flow trigger: holds when the upstream execution's state is one of `in` and none of `notIn`.",
  properties: Type.Object({
    in: Type.Optional(Type.Array(stateSchema(), { description: 'States allowed.' })),
    notIn: Type.Optional(Type.Array(stateSchema(), { description: 'States refused.' })),
  }),
  outputs: Type.Object({}),
  examples: [{ title: 'On failure', code: 'type: io.kestra.plugin.core.condition.ExecutionStatus\nin: [FAILED, WARNING]' }],
});
