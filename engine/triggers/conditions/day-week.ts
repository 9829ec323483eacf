import { Enum, Type } from '../../contract/index.ts';
import { conditionDate } from '../schemas.ts';
import { defineCondition } from '../types.ts';

const DAYS = ['MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY', 'SATURDAY', 'SUNDAY'] as const;

/** io.kestra.plugin.core.condition.DayWeek: true when `date` falls on `dayOfWeek`. */
export const dayWeek = defineCondition({
  type: 'io.kestra.plugin.core.condition.DayWeek',
  aliases: ['io.kestra.plugin.core.condition.DayWeekCondition', 'io.kestra.core.models.conditions.types.DayWeekCondition'],
  title: 'Allow events on a given day of the week',
  description: "Holds when the date (the trigger's, or `date`) falls on `dayOfWeek`.",
  properties: Type.Object({
    date: conditionDate(),
    dayOfWeek: Enum(DAYS, { description: 'MONDAY … SUNDAY.' }),
  }),
  outputs: Type.Object({}),
  examples: [{ title: 'Mondays only', code: 'type: io.kestra.plugin.core.condition.DayWeek\ndayOfWeek: MONDAY' }],
});
