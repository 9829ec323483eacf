import type { TriggerDef } from '../flow/types.ts';
import { Enum, Type } from '../contract/index.ts';
import { durationSchema, stateSchema, triggerInputsSchema } from './schemas.ts';
import { defineTrigger, type DefinitionIssue } from './types.ts';

const TIME_WINDOW_TYPES = ['DURATION_WINDOW', 'SLIDING_WINDOW', 'DAILY_TIME_DEADLINE', 'DAILY_TIME_WINDOW'] as const;
type TimeWindowType = (typeof TIME_WINDOW_TYPES)[number];

/** Which `timeWindow` fields each window type refuses and which it needs (Kestra's TimeWindowValidator). */
const TIME_WINDOW_RULES: Record<TimeWindowType, { refused: string[]; needed: string[] }> = {
  DURATION_WINDOW: { refused: ['deadline', 'startTime', 'endTime'], needed: [] },
  SLIDING_WINDOW: { refused: ['deadline', 'startTime', 'endTime', 'windowAdvance'], needed: [] },
  DAILY_TIME_DEADLINE: { refused: ['window', 'windowAdvance', 'startTime', 'endTime'], needed: ['deadline'] },
  DAILY_TIME_WINDOW: { refused: ['window', 'windowAdvance', 'deadline'], needed: ['startTime', 'endTime'] },
};

const timeOfDay = () => Type.Optional(Type.String({ pattern: '^\\d{2}:\\d{2}(:\\d{2}(\\.\\d+)?)?([+-]\\d{2}:\\d{2}|Z)?$' }));

/** io.kestra.plugin.core.trigger.Flow: start an execution when other executions end (or reach given states). */
export const flowTrigger = defineTrigger({
  type: 'io.kestra.plugin.core.trigger.Flow',
  aliases: ['io.kestra.core.models.triggers.types.Flow'],
  title: 'Start an execution when other flows run',
  description: "Starts an execution when an execution of another flow ends (or reaches one of `states`) and its `conditions` hold; with `preconditions`, only once every listed upstream flow matched inside a time window. The upstream execution is `trigger.executionId`, `trigger.namespace`, `trigger.flowId`, `trigger.state` and its outputs `trigger.outputs`.",
  properties: Type.Object({
    inputs: Type.Optional(triggerInputsSchema()),
    states: Type.Optional(Type.Array(stateSchema(), { description: 'States that start it (every terminal state by default).' })),
    preconditions: Type.Optional(Type.Object({
      id: Type.Optional(Type.String()),
      flows: Type.Optional(Type.Array(Type.Object({
        namespace: Type.String(),
        flowId: Type.Optional(Type.String()),
        states: Type.Optional(Type.Array(stateSchema())),
        labels: Type.Optional(Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Array(Type.Unknown())])),
      }, { additionalProperties: false }))),
      where: Type.Optional(Type.Array(Type.Object({
        id: Type.String(),
        operand: Type.Optional(Enum(['AND', 'OR'])),
        filters: Type.Array(Type.Object({
          field: Enum(['FLOW_ID', 'NAMESPACE', 'STATE', 'EXPRESSION']),
          type: Type.String(),
          value: Type.Optional(Type.Unknown()),
          values: Type.Optional(Type.Array(Type.Unknown())),
        }, { additionalProperties: false })),
      }, { additionalProperties: false }))),
      timeWindow: Type.Optional(Type.Object({
        type: Type.Optional(Enum(TIME_WINDOW_TYPES)),
        window: Type.Optional(durationSchema()),
        windowAdvance: Type.Optional(durationSchema()),
        deadline: timeOfDay(),
        startTime: timeOfDay(),
        endTime: timeOfDay(),
      }, { additionalProperties: false })),
      resetOnSuccess: Type.Optional(Type.Boolean()),
    }, { additionalProperties: false })),
  }),
  outputs: Type.Object({
    executionId: Type.String(),
    namespace: Type.String(),
    flowId: Type.String(),
    flowRevision: Type.Integer(),
    state: Type.String(),
    outputs: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  }),
  examples: [{ title: 'After the load flow succeeded', code: 'id: after-load\ntype: io.kestra.plugin.core.trigger.Flow\nstates: [SUCCESS]\npreconditions:\n  id: load-done\n  flows:\n    - namespace: company.team\n      flowId: load' }],
  validate(def: TriggerDef): DefinitionIssue[] {
    const issues: DefinitionIssue[] = [];
    const preconditions = def.preconditions as Record<string, unknown> | undefined;
    const window = preconditions?.timeWindow as Record<string, unknown> | undefined;
    if (window && typeof window === 'object') {
      const type = (typeof window.type === 'string' ? window.type : 'DURATION_WINDOW') as TimeWindowType;
      const rules = TIME_WINDOW_RULES[type];
      if (rules) {
        for (const field of rules.refused) {
          if (window[field] !== undefined) {
            issues.push({ path: ['preconditions', 'timeWindow', field], message: `a time window of type ${type} cannot have '${field}'` });
          }
        }
        for (const field of rules.needed) {
          if (window[field] === undefined) {
            issues.push({ path: ['preconditions', 'timeWindow'], message: `a time window of type ${type} needs '${field}'` });
          }
        }
      }
    }
    return issues;
  },
});
