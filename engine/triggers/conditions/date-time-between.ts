import type { ConditionType } from '../types.ts';

/** io.kestra.plugin.core.condition.DateTimeBetween: true when `date` is after `after` and/or before `before`. */
export const dateTimeBetween: ConditionType = {
  type: 'io.kestra.plugin.core.condition.DateTimeBetween',
  aliases: ['io.kestra.plugin.core.condition.DateTimeBetweenCondition', 'io.kestra.core.models.conditions.types.DateTimeBetweenCondition'],
  title: 'Allow events between two date-times',
  properties: {
    date: { type: 'string' },
    after: { type: 'string' },
    before: { type: 'string' },
  },
  validate(def) {
    return def.after === undefined && def.before === undefined ? ["a DateTimeBetween condition needs 'after' or 'before'"] : [];
  },
};
