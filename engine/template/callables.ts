// The contract shared by filters, functions and tests, and how call arguments are bound to it.
import type { Limits } from '../../config/index.ts';
import type { RenderBudget } from './render-budget.ts';

/** I/O the template functions need; all async (kv, secret and read hit a database or disk). */
export interface TemplateServices {
  kv?(key: string, namespace: string | undefined, errorOnMissing: boolean): Promise<unknown>;
  /** undefined → error "secret 'X' not found" */
  secret?(name: string): Promise<string | undefined>;
  /** kestra:// URI or namespace file path */
  read?(path: string): Promise<string>;
  fileSize?(uri: string): Promise<number>;
  /** The engine's limits (`templateRenderDepth`, `templateOutputChars`, `templateEvalMs`); default DEFAULT_LIMITS. */
  limits?: Readonly<Limits>;
}

/** What a filter or function can reach while a template renders. */
export interface RenderScope {
  /** The variables the render was called with (Pebble's global scope). */
  readonly variables: Record<string, unknown>;
  readonly services: TemplateServices;
  /** What this render may still spend; filters over large values charge their work to it. */
  readonly budget: RenderBudget;
  /** Renders another template with the same variables and services (render()/renderOnce()). */
  renderNested(template: string, recursive: boolean): Promise<string>;
}

export type Arguments = Record<string, unknown>;

export interface TemplateFilter {
  /** Names of the positional arguments, in order; named arguments must use one of them. */
  readonly argumentNames: readonly string[];
  /**
   * The filter writes its input out as text (Java's toString, JSON, YAML): a list or map input is
   * measured against the output limit before the filter runs.
   */
  readonly writesInput?: boolean;
  apply(input: unknown, args: Arguments, scope: RenderScope): unknown;
}

export interface TemplateFunction {
  readonly argumentNames: readonly string[];
  call(args: Arguments, scope: RenderScope): unknown;
}

export interface TemplateTest {
  readonly argumentNames: readonly string[];
  test(input: unknown, args: Arguments): boolean;
}

/** Maps positional and named call arguments onto declared names, as Pebble's ArgumentsNode does. */
export function bindArguments(
  kind: string,
  name: string,
  argumentNames: readonly string[],
  positional: readonly unknown[],
  named: ReadonlyMap<string, unknown>,
): Arguments {
  if (positional.length > argumentNames.length) {
    throw new Error(`The ${kind} '${name}' takes at most ${argumentNames.length} argument(s), got ${positional.length}.`);
  }
  const args: Arguments = {};
  positional.forEach((value, i) => {
    args[argumentNames[i]] = value;
  });
  for (const [key, value] of named) {
    if (!argumentNames.includes(key)) {
      throw new Error(`The argument '${key}' is not supported by the ${kind} '${name}' (expected one of: ${argumentNames.join(', ') || 'none'}).`);
    }
    args[key] = value;
  }
  return args;
}

/** Reads an argument that must be a string (or absent when optional). */
export function stringArg(args: Arguments, name: string, owner: string, required = false): string | undefined {
  const value = args[name];
  if (value === undefined || value === null) {
    if (required) throw new Error(`The '${owner}' expects an argument '${name}'.`);
    return undefined;
  }
  if (typeof value !== 'string') throw new Error(`The '${owner}' expects the argument '${name}' to be a string.`);
  return value;
}

/** Reads an argument that must be an integer (Pebble's Long). */
export function integerArg(args: Arguments, name: string, owner: string, required = false): number | undefined {
  const value = args[name];
  if (value === undefined || value === null) {
    if (required) throw new Error(`The '${owner}' expects an argument '${name}'.`);
    return undefined;
  }
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw new Error(`The '${owner}' expects the argument '${name}' to be an integer.`);
  }
  return value;
}
