import type { ConditionType } from '../types.ts';

const DAYS = ['MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY', 'SATURDAY', 'SUNDAY'];

/** io.kestra.plugin.core.condition.DayWeek: true when `date` falls on `dayOfWeek`. */
export const dayWeek: ConditionType = {
  type: 'io.kestra.plugin.core.condition.DayWeek',
  aliases: ['io.kestra.plugin.core.condition.DayWeekCondition', 'io.kestra.core.models.conditions.types.DayWeekCondition'],
  title: 'Allow events on a given day of the week',
  properties: {
    date: { type: 'string' },
    dayOfWeek: { enum: DAYS },
  },
  required: ['dayOfWeek'],
};
