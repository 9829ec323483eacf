import { PluginRefList, Type } from '../../contract/index.ts';
import { defineCondition } from '../types.ts';

/** io.kestra.plugin.core.condition.Or: true when any of `conditions` is. */
export const or = defineCondition({
  type: 'io.kestra.plugin.core.condition.Or',
  aliases: ['io.kestra.plugin.core.condition.OrCondition', 'io.kestra.core.models.conditions.types.OrCondition'],
  title: 'Allow events when any nested condition holds',
  description: 'Holds when at least one of its nested `conditions` holds.',
  properties: Type.Object({ conditions: PluginRefList('condition', { minItems: 1, description: 'The conditions, one of which must hold.' }) }),
  outputs: Type.Object({}),
  examples: [{ title: 'Weekends', code: 'type: io.kestra.plugin.core.condition.Or\nconditions:\n  - type: io.kestra.plugin.core.condition.DayWeek\n    dayOfWeek: SATURDAY\n  - type: io.kestra.plugin.core.condition.DayWeek\n    dayOfWeek: SUNDAY' }],
});
