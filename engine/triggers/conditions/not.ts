import { PluginRefList, Type } from '../../contract/index.ts';
import { defineCondition } from '../types.ts';

/** io.kestra.plugin.core.condition.Not: true when none of `conditions` is. */
export const not = defineCondition({
  type: 'io.kestra.plugin.core.condition.Not',
  aliases: ['io.kestra.plugin.core.condition.NotCondition', 'io.kestra.core.models.conditions.types.NotCondition'],
  title: 'Allow events when no nested condition holds',
  description: 'Holds when none of its nested `conditions` holds.',
  properties: Type.Object({ conditions: PluginRefList('condition', { minItems: 1, description: 'The conditions that must all fail.' }) }),
  outputs: Type.Object({}),
  examples: [{ title: 'Not on Sundays', code: 'type: io.kestra.plugin.core.condition.Not\nconditions:\n  - type: io.kestra.plugin.core.condition.DayWeek\n    dayOfWeek: SUNDAY' }],
});
