import { Enum, PluginRefMap, Type } from '../../contract/index.ts';
import { durationSchema } from '../schemas.ts';
import { defineCondition } from '../types.ts';

const timeWindow = () => Type.Object({
  type: Type.Optional(Enum(['DURATION_WINDOW', 'SLIDING_WINDOW', 'DAILY_TIME_DEADLINE', 'DAILY_TIME_WINDOW'])),
  window: Type.Optional(durationSchema()),
  windowAdvance: Type.Optional(durationSchema()),
  deadline: Type.Optional(Type.String()),
  startTime: Type.Optional(Type.String()),
  endTime: Type.Optional(Type.String()),
}, { additionalProperties: false });

/**
 * io.kestra.plugin.core.condition.MultipleCondition (deprecated by Kestra in favour of Flow trigger
 * `preconditions`): true once every named condition has held inside the time window.
 */
export const multipleCondition = defineCondition({
  type: 'io.kestra.plugin.core.condition.MultipleCondition',
  aliases: ['io.kestra.core.models.conditions.types.MultipleCondition'],
  title: 'Allow events once several conditions held in a time window',
  deprecated: "Kestra replaced it with the Flow trigger's 'preconditions'",
  description: 'In a Flow trigger: holds once each of its named `conditions` has held for some execution inside the time window (24 hours by default), then starts counting again. Kestra deprecated it in favour of the Flow trigger\'s `preconditions`.',
  properties: Type.Object({
    id: Type.Optional(Type.String()),
    window: Type.Optional(durationSchema()),
    windowAdvance: Type.Optional(durationSchema()),
    timeWindow: Type.Optional(timeWindow()),
    sla: Type.Optional(timeWindow()),
    resetOnSuccess: Type.Optional(Type.Boolean()),
    conditions: PluginRefMap('condition', { minProperties: 1, description: 'The conditions, by name.' }),
  }),
  outputs: Type.Object({}),
  examples: [{
    title: 'After two flows succeeded',
    code: 'type: io.kestra.plugin.core.condition.MultipleCondition\nwindow: P1D\nconditions:\n  first:\n    type: io.kestra.plugin.core.condition.ExecutionFlow\n    namespace: company.team\n    flowId: extract\n  second:\n    type: io.kestra.plugin.core.condition.ExecutionFlow\n    namespace: company.team\n    flowId: transform',
  }],
});
