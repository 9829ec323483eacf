// Pebble tests (`x is defined`, `x is not null`, …) plus Kestra's `json` test.
import type { TemplateTest } from './callables.ts';
import { isEmptyValue, isMap, isNullish } from './values.ts';

const noArgs = (test: (input: unknown) => boolean): TemplateTest => ({ argumentNames: [], test });

function isInteger(input: unknown, test: string): number {
  if (typeof input !== 'number' || !Number.isInteger(input)) throw new Error(`Can not perform the "${test}" test on a non-integer value`);
  return input;
}

/** Registry keyed by test name; `defined` is special-cased by the compiler to tolerate undefined input. */
export const TESTS: Record<string, TemplateTest> = {
  defined: noArgs(() => true),
  null: noArgs((input) => isNullish(input)),
  none: noArgs((input) => isNullish(input)),
  empty: noArgs(isEmptyValue),
  even: noArgs((input) => isInteger(input, 'even') % 2 === 0),
  odd: noArgs((input) => Math.abs(isInteger(input, 'odd') % 2) === 1),
  iterable: noArgs((input) => Array.isArray(input)),
  map: noArgs((input) => isMap(input)),
  json: noArgs((input) => {
    if (typeof input !== 'string') return false;
    try {
      JSON.parse(input);
      return true;
    } catch {
      return false;
    }
  }),
};
