// Template functions (`{{ kv('KEY') }}`, `{{ render(vars.x) }}`, …), keyed by name. Those that
// touch storage go through the TemplateServices given to the render call.
import { randomBytes, randomInt, randomUUID } from 'node:crypto';
import { parse as parseYaml } from 'yaml';
import { integerArg, stringArg, type Arguments, type RenderScope, type TemplateFunction } from './callables.ts';
import { TemplateError, UndefinedVariableError } from './errors.ts';
import { formatWithArgs, loadJavaDate } from './filters.ts';
import { isMap, isNullish, javaToString, toJson, typeName } from './values.ts';

const fn = (argumentNames: readonly string[], call: TemplateFunction['call']): TemplateFunction => ({ argumentNames, call });

function service<K extends keyof RenderScope['services']>(scope: RenderScope, name: K, fnName: string): NonNullable<RenderScope['services'][K]> {
  const impl = scope.services[name];
  if (!impl) throw new Error(`The '${fnName}' function is not available: no ${name} service was given to the renderer.`);
  return impl as NonNullable<RenderScope['services'][K]>;
}

async function renderTemplateArgument(args: Arguments, scope: RenderScope, name: string, recursive: boolean): Promise<string> {
  if (!Object.hasOwn(args, 'template')) throw new Error(`The '${name}' function expects an argument 'template'.`);
  const template = args.template;
  if (typeof template !== 'string') throw new Error(`The '${name}' function expects an argument 'template' with type string.`);
  try {
    return await scope.renderNested(template, recursive);
  } catch (err) {
    // A missing variable inside the rendered text is a failure of render(), not an undefined
    // attribute of the calling expression: `??` must not swallow it (as in Kestra).
    if (err instanceof UndefinedVariableError) throw new TemplateError(err.message, { expression: err.expression, line: err.line, column: err.column, cause: err });
    throw err;
  }
}

function parseJson(args: Arguments, name: string): unknown {
  const json = args.json;
  if (isNullish(json)) return null;
  if (typeof json !== 'string') throw new Error(`The '${name}' function expects an argument 'json' with type string.`);
  try {
    return JSON.parse(json);
  } catch (err) {
    throw new Error(`Invalid json: ${(err as Error).message}`);
  }
}

/** Navigates `outputs.<task>` down the current ForEach values: parents outermost first, then taskrun.value. */
function currentEachOutput(args: Arguments, scope: RenderScope): unknown {
  if (!Object.hasOwn(args, 'outputs')) throw new Error("The 'currentEachOutput' function expects an argument 'outputs'.");
  let outputs = args.outputs;
  if (!isMap(outputs)) throw new Error("The 'currentEachOutput' function expects an argument 'outputs' with type map.");
  const parents = scope.variables.parents;
  if (Array.isArray(parents)) {
    for (const parent of [...parents].reverse()) {
      const taskrun = isMap(parent) ? parent.taskrun : undefined;
      // Loop levels without a value (a top-level ForEach) add no nesting level.
      if (!isMap(taskrun) || isNullish(taskrun.value)) continue;
      const next: unknown = (outputs as Record<string, unknown>)[javaToString(taskrun.value)];
      if (!isMap(next)) throw new Error('No execution outputs for the current task runs path');
      outputs = next;
    }
  }
  const taskrun = scope.variables.taskrun;
  if (!isMap(taskrun)) throw new Error("The 'currentEachOutput' function needs the 'taskrun' variable.");
  return (outputs as Record<string, unknown>)[javaToString(taskrun.value)] ?? null;
}

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** Kestra's IdUtils.create(): a random 128-bit id in base62 (22 characters). */
function base62Id(): string {
  let n = BigInt(`0x${randomBytes(16).toString('hex')}`);
  let out = '';
  while (n > 0n) {
    out = BASE62[Number(n % 62n)] + out;
    n /= 62n;
  }
  return out.padStart(22, '0');
}

function numbers(args: unknown[], name: string): number[] {
  const values = args.length === 1 && Array.isArray(args[0]) ? args[0] : args;
  return values.map((v) => {
    if (typeof v !== 'number') throw new Error(`The '${name}' function expects numbers, got ${typeName(v)}`);
    return v;
  });
}

/** Every function a template can call, keyed by name. */
export const FUNCTIONS: Record<string, TemplateFunction> = {
  render: fn(['template', 'recursive'], async (args, scope) => {
    const recursive = args.recursive ?? true;
    if (typeof recursive !== 'boolean') throw new Error("The 'render' function expects an optional argument 'recursive' with type boolean.");
    return renderTemplateArgument(args, scope, 'render', recursive);
  }),
  renderOnce: fn(['template'], (args, scope) => renderTemplateArgument(args, scope, 'renderOnce', false)),
  kv: fn(['key', 'namespace', 'errorOnMissing'], async (args, scope) => {
    const key = stringArg(args, 'key', "kv' function", true)!;
    const namespace = stringArg(args, 'namespace', "kv' function");
    const errorOnMissing = args.errorOnMissing ?? true;
    if (typeof errorOnMissing !== 'boolean') throw new Error("The 'kv' function expects 'errorOnMissing' to be a boolean.");
    const value = await service(scope, 'kv', 'kv')(key, namespace, errorOnMissing);
    if (isNullish(value) && errorOnMissing) {
      const flow = scope.variables.flow;
      const ns = namespace ?? (isMap(flow) ? javaToString(flow.namespace) : 'unknown');
      throw new Error(`The key '${key}' does not exist in the namespace '${ns}'.`);
    }
    return value ?? null;
  }),
  secret: fn(['key', 'namespace', 'subkey'], async (args, scope) => {
    const key = stringArg(args, 'key', "secret' function", true)!;
    const secret = await service(scope, 'secret', 'secret')(key);
    if (secret === undefined || secret === null) throw new Error(`secret '${key}' not found`);
    const subkey = stringArg(args, 'subkey', "secret' function");
    if (!subkey) return secret;
    let parsed: unknown;
    try {
      parsed = JSON.parse(secret);
    } catch {
      throw new Error(`Failed to read secret sub-key '${subkey}' from secret '${key}'. Ensure the secret contains valid JSON value.`);
    }
    if (!isMap(parsed) || !Object.hasOwn(parsed, subkey)) throw new Error(`Cannot find secret sub-key '${subkey}' in secret '${key}'.`);
    const value = parsed[subkey];
    return typeof value === 'object' && value !== null ? toJson(value, true) : javaToString(value);
  }),
  read: fn(['path'], async (args, scope) => {
    const path = stringArg(args, 'path', "read' function", true)!;
    // A file's text becomes one string: size an execution file before it is read into memory.
    if (path.startsWith('kestra://') && scope.services.fileSize) {
      scope.budget.checkSize(await scope.services.fileSize(path), `the file read by read('${path}')`);
    }
    return service(scope, 'read', 'read')(path);
  }),
  fileSize: fn(['path'], async (args, scope) => service(scope, 'fileSize', 'fileSize')(stringArg(args, 'path', "fileSize' function", true)!)),
  fromJson: fn(['json'], (args) => parseJson(args, 'fromJson')),
  json: fn(['json'], (args) => parseJson(args, 'json')),
  jsonDecode: fn(['json'], (args) => parseJson(args, 'jsonDecode')),
  yaml: fn(['yaml'], (args) => {
    if (isNullish(args.yaml)) return null;
    if (typeof args.yaml !== 'string') throw new Error("The 'yaml' function expects an argument 'yaml' with type string.");
    return parseYaml(args.yaml) ?? null;
  }),
  now: fn(['format', 'timeZone', 'existingFormat', 'locale'], async (args) => {
    const { now, zoneOf } = await loadJavaDate();
    return formatWithArgs(now(zoneOf(stringArg(args, 'timeZone', "now' function"))), args, "now' function");
  }),
  currentEachOutput: fn(['outputs'], currentEachOutput),
  uuid: fn([], () => randomUUID()),
  id: fn([], () => base62Id()),
  printContext: fn([], (_args, scope) => {
    scope.budget.checkWritten(scope.variables, "the context written by 'printContext'");
    return toJson(scope.variables);
  }),
  randomInt: fn(['lower', 'upper'], (args) => {
    const lower = integerArg(args, 'lower', "randomInt' function", true)!;
    const upper = integerArg(args, 'upper', "randomInt' function", true)!;
    if (upper <= lower) throw new Error("The 'randomInt' function expects 'upper' to be greater than 'lower'.");
    return randomInt(lower, upper);
  }),
  range: fn(['start', 'end', 'increment'], (args) => {
    const start = integerArg(args, 'start', "range' function", true)!;
    const end = integerArg(args, 'end', "range' function", true)!;
    const step = integerArg(args, 'increment', "range' function") ?? 1;
    if (step === 0) throw new Error('The increment of the range function must be different than 0');
    const out: number[] = [];
    for (let i = start; step > 0 ? i <= end : i >= end; i += step) {
      out.push(i);
      if (out.length > 1_000_000) throw new Error('The range function is limited to one million items');
    }
    return out;
  }),
  max: fn(['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'], (args) => Math.max(...numbers(Object.values(args), 'max'))),
  min: fn(['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'], (args) => Math.min(...numbers(Object.values(args), 'min'))),
};
