/** Schema fragments shared by trigger and condition types. */
import { Enum, Type } from '../contract/index.ts';
import { STATES } from '../state.ts';

/** An ISO-8601 duration (`PT1H`) or a template; the `duration` format is registered by the flow validator. */
export const durationSchema = () => Type.String({ format: 'duration' });

/** An execution state name (`SUCCESS`, `FAILED`, …). */
export const stateSchema = () => Enum(STATES);

/** Inputs passed to the executions a trigger starts, by input id. */
export const triggerInputsSchema = () => Type.Record(Type.String(), Type.Unknown(), { description: 'Inputs of the executions it starts, by input id.' });

/** Where a condition reads the date it checks; the trigger's date by default. */
export const conditionDate = () => Type.Optional(Type.String({ description: "The date to check; the trigger's date by default." }));
