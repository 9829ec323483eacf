import { Type } from '../../contract/index.ts';
import { conditionDate } from '../schemas.ts';
import { defineCondition } from '../types.ts';

/** io.kestra.plugin.core.condition.DateTimeBetween: true when `date` is after `after` and/or before `before`. */
export const dateTimeBetween = defineCondition({
  type: 'io.kestra.plugin.core.condition.DateTimeBetween',
  aliases: ['io.kestra.plugin.core.condition.DateTimeBetweenCondition', 'io.kestra.core.models.conditions.types.DateTimeBetweenCondition'],
  title: 'Allow events between two date-times',
  description: 'Holds when the date (the trigger\'s, or `date`) is after `after` and/or before `before`, both ISO-8601 date-times with an offset.',
  properties: Type.Object({
    date: conditionDate(),
    after: Type.Optional(Type.String({ description: 'The earliest date-time allowed.' })),
    before: Type.Optional(Type.String({ description: 'The latest date-time allowed.' })),
  }),
  outputs: Type.Object({}),
  examples: [{ title: 'Only during 2027', code: "type: io.kestra.plugin.core.condition.DateTimeBetween\nafter: '2027-01-01T00:00:00Z'\nbefore: '2028-01-01T00:00:00Z'" }],
  validate(def) {
    return def.after === undefined && def.before === undefined ? ["a DateTimeBetween condition needs 'after' or 'before'"] : [];
  },
});
