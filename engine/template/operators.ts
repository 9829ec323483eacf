// Pebble's operators on JavaScript values (OperatorUtils plus Kestra's `in` and string comparison).
// Operators whose work grows with their operands take the render's budget, to measure what they
// build before building it and to stop at the time limit inside their own loops.
import type { RenderBudget } from './render-budget.ts';
import { isMap, isNullish, javaCompare, javaEquals, javaToString, typeName } from './values.ts';

export type ArithmeticOperator = '+' | '-' | '*' | '/' | '%' | '//' | '**';

const OPERATION_NAMES: Record<ArithmeticOperator, string> = {
  '+': 'ADD',
  '-': 'SUBTRACT',
  '*': 'MULTIPLICATION',
  '/': 'DIVISION',
  '%': 'MODULUS',
  '//': 'DIVISION',
  '**': 'MULTIPLICATION',
};

/**
 * `+` concatenates when either side is a string and appends to a list on the left; otherwise
 * both sides must be numbers. Two integers follow Java's long arithmetic (10 / 4 is 2).
 */
export function arithmetic(op: ArithmeticOperator, a: unknown, b: unknown, budget?: RenderBudget): unknown {
  if (op === '+') {
    if (typeof a === 'string' || typeof b === 'string') {
      if (budget && typeof a === 'object' && a !== null) budget.checkWritten(a, "the left side of '+'");
      if (budget && typeof b === 'object' && b !== null) budget.checkWritten(b, "the right side of '+'");
      return javaToString(a) + javaToString(b);
    }
    if (Array.isArray(a)) {
      budget?.checkSize(a.length + (Array.isArray(b) ? b.length : 1), "'+'");
      return Array.isArray(b) ? [...a, ...b] : [...a, b];
    }
  }
  if (op === '-' && Array.isArray(a)) {
    const removed = Array.isArray(b) ? b : [b];
    return a.filter((item) => {
      budget?.spend(removed.length);
      return !removed.some((r) => javaEquals(item, r));
    });
  }
  if (typeof a !== 'number' || typeof b !== 'number') {
    throw new Error(`invalid operands for mathematical operation [${OPERATION_NAMES[op]}]: ${typeName(a)} and ${typeName(b)}`);
  }
  const integers = Number.isInteger(a) && Number.isInteger(b);
  switch (op) {
    case '+':
      return a + b;
    case '-':
      return a - b;
    case '*':
      return a * b;
    case '**':
      return a ** b;
    case '/':
    case '//':
      if (integers || op === '//') {
        if (b === 0) throw new Error('/ by zero');
        return op === '//' ? Math.floor(a / b) : Math.trunc(a / b);
      }
      return a / b;
    case '%':
      if (integers && b === 0) throw new Error('/ by zero');
      return a % b;
  }
}

export function negate(value: unknown): number {
  if (typeof value !== 'number') throw new Error(`invalid operand for unary minus: ${typeName(value)}`);
  return -value;
}

export type ComparisonOperator = '==' | '!=' | '<' | '>' | '<=' | '>=';

/** Ordering comparisons are false when either side is null, as in Pebble. */
export function comparison(op: ComparisonOperator, a: unknown, b: unknown): boolean {
  switch (op) {
    case '==':
      return javaEquals(a, b);
    case '!=':
      return !javaEquals(a, b);
  }
  if (isNullish(a) || isNullish(b)) return false;
  const names = { '<': 'LESS_THAN', '>': 'GREATER_THAN', '<=': 'LESS_THAN_EQUALS', '>=': 'GREATER_THAN_EQUALS' } as const;
  const result = javaCompare(a, b, names[op]);
  switch (op) {
    case '<':
      return result < 0;
    case '>':
      return result > 0;
    case '<=':
      return result <= 0;
    case '>=':
      return result >= 0;
  }
}

/** Pebble's `contains`: list membership (or all of a list), map key, substring. */
export function contains(container: unknown, item: unknown, budget?: RenderBudget): boolean {
  if (isNullish(container)) return false;
  if (Array.isArray(container)) {
    if (Array.isArray(item)) {
      return item.every((i) => {
        budget?.spend(container.length);
        return container.some((c) => javaEquals(c, i));
      });
    }
    return container.some((c) => javaEquals(c, item));
  }
  if (container instanceof Map) return container.has(item);
  if (isMap(container)) return Object.hasOwn(container, javaToString(item));
  if (typeof container === 'string') return container.includes(javaToString(item));
  throw new Error(`Contains operator can only be used on Collections, Maps and arrays. Actual type was: ${typeName(container)}`);
}

/** Kestra's `in`: compares string forms against list items, or map keys and values. */
export function isIn(item: unknown, container: unknown): boolean {
  if (isNullish(item) || isNullish(container)) return false;
  const needle = javaToString(item);
  if (Array.isArray(container)) return container.some((c) => javaToString(c) === needle);
  if (isMap(container)) {
    return Object.entries(container).some(([k, v]) => k === needle || javaToString(v) === needle);
  }
  return false;
}

/** `a..b`: the integers from a to b inclusive (empty when b < a). */
export function range(start: unknown, end: unknown): number[] {
  if (typeof start !== 'number' || typeof end !== 'number' || !Number.isInteger(start) || !Number.isInteger(end)) {
    throw new Error(`The range operator expects integers, got ${typeName(start)} and ${typeName(end)}`);
  }
  if (end - start > 1_000_000) throw new Error('The range operator is limited to one million items');
  const out: number[] = [];
  for (let i = start; i <= end; i++) out.push(i);
  return out;
}
