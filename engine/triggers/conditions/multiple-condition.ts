import { conditionEntrySchema, durationSchema } from '../schemas.ts';
import type { ConditionType } from '../types.ts';

const timeWindow = {
  type: 'object',
  properties: {
    type: { enum: ['DURATION_WINDOW', 'SLIDING_WINDOW', 'DAILY_TIME_DEADLINE', 'DAILY_TIME_WINDOW'] },
    window: durationSchema,
    windowAdvance: durationSchema,
    deadline: { type: 'string' },
    startTime: { type: 'string' },
    endTime: { type: 'string' },
  },
  additionalProperties: false,
};

/**
 * io.kestra.plugin.core.condition.MultipleCondition (deprecated by Kestra in favour of Flow trigger
 * `preconditions`): true once every named condition has held inside the time window.
 */
export const multipleCondition: ConditionType = {
  type: 'io.kestra.plugin.core.condition.MultipleCondition',
  aliases: ['io.kestra.core.models.conditions.types.MultipleCondition'],
  title: 'Allow events once several conditions held in a time window',
  properties: {
    id: { type: 'string' },
    window: durationSchema,
    windowAdvance: durationSchema,
    timeWindow,
    sla: timeWindow,
    resetOnSuccess: { type: 'boolean' },
    conditions: { type: 'object', additionalProperties: conditionEntrySchema, minProperties: 1 },
  },
  required: ['conditions'],
  nested: [{ property: 'conditions', shape: 'map' }],
};
