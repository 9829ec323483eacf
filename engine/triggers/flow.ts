import type { TriggerDef } from '../flow/types.ts';
import { durationSchema, stateSchema, triggerInputsSchema } from './schemas.ts';
import type { DefinitionIssue, TriggerType } from './types.ts';

const TIME_WINDOW_TYPES = ['DURATION_WINDOW', 'SLIDING_WINDOW', 'DAILY_TIME_DEADLINE', 'DAILY_TIME_WINDOW'] as const;
type TimeWindowType = (typeof TIME_WINDOW_TYPES)[number];

/** Which `timeWindow` fields each window type refuses and which it needs (Kestra's TimeWindowValidator). */
const TIME_WINDOW_RULES: Record<TimeWindowType, { refused: string[]; needed: string[] }> = {
  DURATION_WINDOW: { refused: ['deadline', 'startTime', 'endTime'], needed: [] },
  SLIDING_WINDOW: { refused: ['deadline', 'startTime', 'endTime', 'windowAdvance'], needed: [] },
  DAILY_TIME_DEADLINE: { refused: ['window', 'windowAdvance', 'startTime', 'endTime'], needed: ['deadline'] },
  DAILY_TIME_WINDOW: { refused: ['window', 'windowAdvance', 'deadline'], needed: ['startTime', 'endTime'] },
};

const TIME_OF_DAY = { type: 'string', pattern: '^\\d{2}:\\d{2}(:\\d{2}(\\.\\d+)?)?([+-]\\d{2}:\\d{2}|Z)?$' };

/** io.kestra.plugin.core.trigger.Flow: start an execution when other executions end (or reach given states). */
export const flowTrigger: TriggerType = {
  type: 'io.kestra.plugin.core.trigger.Flow',
  aliases: ['io.kestra.core.models.triggers.types.Flow'],
  title: 'Start an execution when other flows run',
  properties: {
    inputs: triggerInputsSchema,
    states: { type: 'array', items: stateSchema },
    preconditions: {
      type: 'object',
      properties: {
        id: { type: 'string' },
        flows: {
          type: 'array',
          items: {
            type: 'object',
            properties: {
              namespace: { type: 'string' },
              flowId: { type: 'string' },
              states: { type: 'array', items: stateSchema },
              labels: { type: ['object', 'array'] },
            },
            required: ['namespace'],
            additionalProperties: false,
          },
        },
        where: {
          type: 'array',
          items: {
            type: 'object',
            properties: {
              id: { type: 'string' },
              operand: { enum: ['AND', 'OR'] },
              filters: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: {
                    field: { enum: ['FLOW_ID', 'NAMESPACE', 'STATE', 'EXPRESSION'] },
                    type: { type: 'string' },
                    value: {},
                    values: { type: 'array' },
                  },
                  required: ['field', 'type'],
                  additionalProperties: false,
                },
              },
            },
            required: ['id', 'filters'],
            additionalProperties: false,
          },
        },
        timeWindow: {
          type: 'object',
          properties: {
            type: { enum: [...TIME_WINDOW_TYPES] },
            window: durationSchema,
            windowAdvance: durationSchema,
            deadline: TIME_OF_DAY,
            startTime: TIME_OF_DAY,
            endTime: TIME_OF_DAY,
          },
          additionalProperties: false,
        },
        resetOnSuccess: { type: 'boolean' },
      },
      additionalProperties: false,
    },
  },
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
};
