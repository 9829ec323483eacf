/** Schema fragments shared by trigger and condition types. */
import { STATES } from '../state.ts';
import type { JsonSchema } from '../plugins/types.ts';

/** An ISO-8601 duration (`PT1H`) or a template; the `duration` format is registered by the flow validator. */
export const durationSchema: JsonSchema = { type: 'string', format: 'duration' };

/** An execution state name (`SUCCESS`, `FAILED`, …). */
export const stateSchema: JsonSchema = { enum: [...STATES] };

/** Inputs passed to the executions a trigger starts, by input id. */
export const triggerInputsSchema: JsonSchema = { type: 'object' };

/** A nested condition; its own type is checked against the condition registry by the validator. */
export const conditionEntrySchema: JsonSchema = { type: 'object', required: ['type'], properties: { type: { type: 'string' } } };

/** `conditions: [{type: …}, …]`. */
export const conditionListSchema: JsonSchema = { type: 'array', items: conditionEntrySchema };
