/**
 * Flow validation as Kestra does it when a flow is saved: the YAML, the flow's own keys, every task of the
 * tree against its plugin's schema (plugin defaults applied first), triggers and their conditions, inputs
 * and outputs, and the cross-cutting rules (unique ids, input dependencies, system labels, cron, templates).
 * Every problem is reported, each at the line and column of the property at fault.
 */
import type { ValidateFunction } from 'ajv/dist/2020.js';
import { DEFAULT_LIMITS, type Limits } from '../../config/index.ts';
import { parseIsoDuration } from '../duration.ts';
import { parseTyped } from '../inputs/index.ts';
import { ENCRYPTION_KEY_VARIABLE } from '../secrets/encryption.ts';
import { nestedPlugins, nestedPluginsOf, type PluginDefinition, type PluginKind } from '../contract/index.ts';
import type { TaskPlugin } from '../plugins/types.ts';
import type { ConditionType, DefinitionIssue, TriggerType } from '../triggers/index.ts';
import { fileSizeProblem, taskTreeProblems } from './flow-limits.ts';
import { parseYamlWithPositions, normaliseFlow, type SourceMap, type StringScalar } from './parse.ts';
import { formatPath, type PathSegment } from './path.ts';
import { applyPluginDefaults } from './plugin-defaults.ts';
import { sortProblems, type FlowProblem } from './problem.ts';
import { describeSchemaErrors, describeValue, type SchemaSubject } from './schema-messages.ts';
import {
  flowValidatorFn, INPUT_TYPES, inputValidatorFn, isTemplate, KINDS, pluginValidatorFn, RESERVED_FLOW_IDS, unknownTaskValidatorFn,
} from './schema.ts';
import { didYouMean } from './suggest.ts';
import { templateProblems } from './template-check.ts';
import type { FlowDef, InputType, PluginDefault } from './types.ts';
import { walkTaskEntries } from './walk.ts';

export { formatProblem, type FlowProblem } from './problem.ts';

export interface FlowValidation {
  /** The flow, normalised (labels as a map, `pluginDefaults`, input `id`s); absent when any error was found. */
  flow?: FlowDef;
  /** Every problem, errors and warnings, in source order. */
  problems: FlowProblem[];
}

type Map_ = Record<string, unknown>;

function isMap(value: unknown): value is Map_ {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Input types a SELECT-like input offers choices for. */
const CHOICE_TYPES: readonly InputType[] = ['SELECT', 'MULTISELECT', 'ENUM'];
/** Item types a MULTISELECT cannot hold (Kestra's MultiselectInputValidator). */
const MULTISELECT_REFUSED_ITEMS: readonly InputType[] = ['ARRAY', 'SECRET', 'MULTISELECT', 'SELECT'];
/** Output types whose literal value is checked when the flow is saved (structured ones are only known at run time). */
const SCALAR_OUTPUT_TYPES: readonly InputType[] = ['STRING', 'INT', 'FLOAT', 'BOOLEAN', 'BOOL', 'DATETIME', 'DATE', 'TIME', 'DURATION', 'URI', 'EMAIL'];

export interface ValidateOptions {
  /** The flow size limits (`flowFileBytes`, `flowTasks`, `flowNestingDepth`); default: config/limits.ts's defaults. */
  limits?: Limits;
  /**
   * Whether SECRET inputs can be stored encrypted here (BATON_ENCRYPTION_KEY is set). When false, each
   * SECRET input gets a warning: executions of the flow are refused until a key is set.
   */
  encryptionKeyConfigured?: boolean;
}

/**
 * Parse and validate one flow file. `file` only labels the problems. The size limits are checked
 * first, each before the work it protects (flow-limits.ts).
 */
export function validateFlowSource(source: string, file?: string, options: ValidateOptions = {}): FlowValidation {
  const limits = options.limits ?? DEFAULT_LIMITS;
  // A string's UTF-8 length is at most 3 bytes per UTF-16 unit: most sources need no count.
  const tooBig = source.length * 3 > limits.flowFileBytes ? fileSizeProblem(Buffer.byteLength(source, 'utf8'), limits, file) : undefined;
  if (tooBig) return { problems: [tooBig] };
  const parsed = parseYamlWithPositions(source, file, limits);
  if (parsed.value === undefined || parsed.problems.some((p) => p.severity === 'error')) {
    return { problems: sortProblems(parsed.problems) };
  }
  if (!isMap(parsed.value)) {
    return {
      problems: sortProblems([
        ...parsed.problems,
        { file, line: 1, column: 1, property: '', message: 'a flow must be a YAML map (id, namespace, tasks, …)', severity: 'error' },
      ]),
    };
  }
  const tooMany = taskTreeProblems(parsed.value, parsed.sourceMap, limits, file);
  if (tooMany.length > 0) return { problems: sortProblems([...parsed.problems, ...tooMany]) };
  const checker = new FlowChecker(parsed.value, parsed.sourceMap, parsed.strings, file);
  checker.run();
  const secretWarnings = options.encryptionKeyConfigured === false ? secretInputWarnings(parsed.value, parsed.sourceMap, file) : [];
  const problems = sortProblems([...parsed.problems, ...checker.problems, ...secretWarnings]);
  const valid = !problems.some((p) => p.severity === 'error');
  return valid ? { flow: checker.flowDef(), problems } : { problems };
}

/** A warning on each SECRET input of a flow, where no key lets Baton store them (see ValidateOptions). */
function secretInputWarnings(flow: Map_, sourceMap: SourceMap, file: string | undefined): FlowProblem[] {
  const inputs = Array.isArray(flow.inputs) ? flow.inputs : [];
  return inputs.flatMap((input, i): FlowProblem[] => {
    if (!isMap(input) || input.type !== 'SECRET') return [];
    const where: PathSegment[] = ['inputs', i, 'type'];
    const message = `SECRET input '${String(input.id ?? input.name)}': ${ENCRYPTION_KEY_VARIABLE} is not set, so Baton cannot store it encrypted and refuses executions of this flow`;
    return [{ file, ...sourceMap.valueAt(where), property: formatPath(where), message, severity: 'warning' }];
  });
}

class FlowChecker {
  readonly problems: FlowProblem[] = [];
  private readonly flow: Map_;
  private readonly labelPlaces: Map<string, PathSegment[]>;
  private readonly defaultsKey: 'pluginDefaults' | 'taskDefaults';
  /** The well-formed pluginDefaults entries, without values already reported as unknown. */
  private pluginDefaults: PluginDefault[];
  private readonly inputsById = new Map<string, { input: Map_; segments: PathSegment[] }>();

  constructor(
    raw: Map_,
    private readonly sourceMap: SourceMap,
    private readonly strings: StringScalar[],
    private readonly file: string | undefined,
  ) {
    const normalised = normaliseFlow(raw, sourceMap, file);
    this.problems.push(...normalised.problems);
    this.flow = normalised.flow;
    this.labelPlaces = normalised.labelPlaces;
    this.defaultsKey = normalised.pluginDefaultsKey;
    this.pluginDefaults = [];
  }

  run(): void {
    this.checkFlowKeys();
    this.checkLabels();
    this.checkInputs();
    this.checkOutputs();
    this.checkPluginDefaults();
    this.checkTasks();
    this.checkTriggers();
    this.problems.push(...templateProblems(this.strings, this.file));
    this.checkDashedReferences();
  }

  /** The validated flow as the engine reads it. */
  flowDef(): FlowDef {
    const flow: Map_ = { ...this.flow };
    if (Array.isArray(flow.inputs)) {
      flow.inputs = flow.inputs.map((input) => {
        if (!isMap(input) || input.id !== undefined || input.name === undefined) return input;
        const { name, ...rest } = input;
        return { id: name, ...rest };
      });
    }
    return flow as unknown as FlowDef;
  }

  // ── reporting ────────────────────────────────────────────────────────────────────────────────────

  /** Segments as written in the source (`pluginDefaults` may have been written `taskDefaults`). */
  private written(segments: PathSegment[]): PathSegment[] {
    return segments[0] === 'pluginDefaults' ? [this.defaultsKey, ...segments.slice(1)] : segments;
  }

  private report(segments: PathSegment[], message: string, options: { onKey?: boolean; severity?: FlowProblem['severity'] } = {}): void {
    const where = this.written(segments);
    const position = options.onKey ? this.sourceMap.keyAt(where) : this.sourceMap.valueAt(where);
    this.problems.push({ file: this.file, ...position, property: formatPath(where), message, severity: options.severity ?? 'error' });
  }

  private warn(segments: PathSegment[], message: string, onKey = false): void {
    this.report(segments, message, { onKey, severity: 'warning' });
  }

  /** Report ajv's errors for a value validated at `base`. */
  private schema(fn: ValidateFunction, value: unknown, base: PathSegment[], subject: SchemaSubject, written?: Map_): boolean {
    if (fn(value)) return true;
    for (const issue of describeSchemaErrors(fn.errors, subject)) {
      const segments = [...base, ...issue.segments];
      // A value that only exists because of pluginDefaults is reported at its owner, and says so.
      const fromDefaults = written !== undefined && typeof issue.segments[0] === 'string' && !(issue.segments[0] in written) && !issue.message.startsWith('missing');
      this.report(segments, fromDefaults ? `${issue.message} (set by pluginDefaults)` : issue.message, { onKey: issue.onKey });
    }
    return false;
  }

  private definitionIssues(issues: DefinitionIssue[], base: PathSegment[]): void {
    for (const issue of issues) {
      if (typeof issue === 'string') this.report(base, issue);
      else this.report([...base, ...issue.path], issue.message);
    }
  }

  private line(segments: PathSegment[]): number {
    return this.sourceMap.valueAt(this.written(segments)).line;
  }

  // ── the flow's own keys ──────────────────────────────────────────────────────────────────────────

  private checkFlowKeys(): void {
    const fn = flowValidatorFn();
    if (!fn(this.flow)) {
      for (const issue of describeSchemaErrors(fn.errors, { describe: '', isFlow: true })) {
        let message = issue.message;
        if (issue.segments.length === 1 && issue.segments[0] === 'listeners') {
          message = "unknown top-level property 'listeners' (Kestra removed listeners: use 'afterExecution' or a Flow trigger)";
        }
        this.report(issue.segments, message, { onKey: issue.onKey });
      }
    }
    if (typeof this.flow.id === 'string' && RESERVED_FLOW_IDS.includes(this.flow.id)) {
      this.report(['id'], `flow id '${this.flow.id}' is reserved (${RESERVED_FLOW_IDS.join(', ')})`);
    }
    this.checkRetry(this.flow.retry, ['retry']);
  }

  /** Kestra's retry rules a schema cannot say: intervals must be shorter than the limits they sit under. */
  private checkRetry(retry: unknown, base: PathSegment[]): void {
    if (!isMap(retry)) return;
    const ms = (key: string): number | undefined => {
      if (typeof retry[key] !== 'string') return undefined;
      try {
        return parseIsoDuration(retry[key] as string);
      } catch {
        return undefined;
      }
    };
    const lessThan = (small: string, large: string) => {
      const a = ms(small);
      const b = ms(large);
      if (a !== undefined && b !== undefined && a >= b) {
        this.report([...base, small], `'${small}' (${retry[small]}) must be less than '${large}' (${retry[large]})`);
      }
    };
    if (retry.type === 'constant' || retry.type === 'exponential') lessThan('interval', 'maxDuration');
    if (retry.type === 'exponential') lessThan('interval', 'maxInterval');
    if (retry.type === 'random') {
      lessThan('minInterval', 'maxInterval');
      lessThan('minInterval', 'maxDuration');
    }
  }

  private checkLabels(): void {
    const labels = this.flow.labels;
    if (!isMap(labels)) return;
    for (const [key, value] of Object.entries(labels)) {
      if (key.startsWith('system.') && key !== 'system.readOnly') {
        this.report(this.labelPlaces.get(key) ?? ['labels'], `system labels can only be set by Kestra itself, offending label: ${key}=${String(value)}`, {
          onKey: true,
        });
      }
    }
  }

  // ── inputs and outputs ───────────────────────────────────────────────────────────────────────────

  private checkInputs(): void {
    const inputs = this.flow.inputs;
    if (!Array.isArray(inputs)) return;
    inputs.forEach((input, i) => {
      const base: PathSegment[] = ['inputs', i];
      if (!isMap(input)) {
        this.report(base, `an input must be a map with id and type, got ${describeValue(input)}`);
        return;
      }
      if (input.name !== undefined) {
        if (input.id !== undefined) this.report([...base, 'name'], "set either 'id' or the deprecated 'name', not both", { onKey: true });
        else this.warn([...base, 'name'], "'name' is deprecated, use 'id'", true);
      }
      const id = input.id ?? input.name;
      if (id === undefined) this.report(base, "missing required property 'id' for an input");
      const type = input.type;
      if (typeof type !== 'string' || !(INPUT_TYPES as readonly string[]).includes(type)) {
        if (type === undefined) this.report(base, `missing required property 'type' for input${typeof id === 'string' ? ` '${id}'` : ''}`);
        else {
          const hint = typeof type === 'string' ? didYouMean(type.toUpperCase(), INPUT_TYPES) ?? (INPUT_TYPES.includes(type.toUpperCase() as InputType) ? type.toUpperCase() : undefined) : undefined;
          this.report([...base, 'type'], `unknown input type ${describeValue(type)}${hint ? ` (did you mean '${hint}'?)` : ''}; known types: ${INPUT_TYPES.join(', ')}`);
        }
        if (typeof id === 'string') this.registerInput(id, input, base);
        return;
      }
      const inputType = type as InputType;
      this.schema(inputValidatorFn(inputType), input, base, { describe: `input type ${inputType}`, noun: 'input' });
      if (typeof id === 'string') this.registerInput(id, input, base);
      this.checkInputType(input, inputType, base, typeof id === 'string' ? id : '?');
    });
    this.checkInputPaths();
    this.checkInputDependencies();
  }

  private registerInput(id: string, input: Map_, base: PathSegment[]): void {
    const first = this.inputsById.get(id);
    if (first) {
      this.report([...base, input.id !== undefined ? 'id' : 'name'], `duplicate input id '${id}': already declared at ${formatPath(first.segments)} (line ${this.line(first.segments)})`);
      return;
    }
    this.inputsById.set(id, { input, segments: base });
  }

  private checkInputType(input: Map_, type: InputType, base: PathSegment[], id: string): void {
    if (type === 'ENUM') this.warn([...base, 'type'], "input type ENUM is deprecated, use SELECT");
    if (type === 'ARRAY') {
      if (input.itemType === undefined) this.report(base, `ARRAY input '${id}' needs an 'itemType'`);
      else if (input.itemType === 'ARRAY') this.report([...base, 'itemType'], "an ARRAY input's 'itemType' cannot be ARRAY");
    }
    if (type === 'MULTISELECT' && MULTISELECT_REFUSED_ITEMS.includes(input.itemType as InputType)) {
      this.report([...base, 'itemType'], `a MULTISELECT input's 'itemType' cannot be ${String(input.itemType)}`);
    }
    if (type === 'MULTISELECT' && input.options !== undefined) {
      if (input.values !== undefined) this.report([...base, 'options'], "set either 'values' or the deprecated 'options', not both", { onKey: true });
      else this.warn([...base, 'options'], "'options' is deprecated, use 'values'", true);
    }
    const choices = input.values ?? input.options;
    if (CHOICE_TYPES.includes(type) && choices === undefined && input.expression === undefined) {
      this.report(base, `${type} input '${id}' needs 'values'${type === 'ENUM' ? '' : " or 'expression'"}`);
    }

    if (input.defaults === undefined || input.defaults === null) return;
    if (input.required === false) {
      this.warn([...base, 'required'], `input '${id}' has a default value, so 'required: false' has no effect (Kestra 1.x refuses this combination)`);
    }
    if (input.prefill !== undefined) this.report([...base, 'prefill'], 'an input with a default value cannot also have a prefill', { onKey: true });
    if (type === 'FILE' || containsTemplate(input.defaults)) return;
    const definition = {
      ...input,
      required: true,
      values: Array.isArray(choices) ? choices : undefined,
      // Choices computed by an expression are only known at run time.
      allowCustomValue: input.allowCustomValue === true || !Array.isArray(choices),
    } as Parameters<typeof parseTyped>[2];
    try {
      parseTyped(type, input.defaults, definition);
    } catch (error) {
      this.report([...base, 'defaults'], `invalid default for input '${id}': ${reason(error)}`);
    }
  }

  /** Dotted ids nest (`a.b` lives under `a`): one id cannot be both a value and a parent of others. */
  private checkInputPaths(): void {
    const ids = [...this.inputsById.keys()];
    for (const parent of ids) {
      for (const child of ids) {
        if (child.startsWith(`${parent}.`)) {
          const { segments } = this.inputsById.get(child)!;
          this.report([...segments, 'id'], `input path '${parent}' conflicts with '${child}'; one cannot be nested under the other`);
        }
      }
    }
  }

  private checkInputDependencies(): void {
    const graph = new Map<string, string[]>();
    for (const [id, { input, segments }] of this.inputsById) {
      const dependsOn = isMap(input.dependsOn) && Array.isArray(input.dependsOn.inputs) ? input.dependsOn.inputs : [];
      const targets: string[] = [];
      dependsOn.forEach((target, j) => {
        if (typeof target !== 'string') return;
        if (!this.inputsById.has(target)) {
          const hint = didYouMean(target, [...this.inputsById.keys()]);
          this.report([...segments, 'dependsOn', 'inputs', j], `input '${id}' depends on a non-existent input '${target}'${hint ? ` (did you mean '${hint}'?)` : ''}`);
        } else targets.push(target);
      });
      graph.set(id, targets);
    }
    const reported = new Set<string>();
    const state = new Map<string, 'visiting' | 'done'>();
    const visit = (id: string, path: string[]): void => {
      if (state.get(id) === 'done') return;
      if (state.get(id) === 'visiting') {
        const cycle = [...path.slice(path.indexOf(id)), id];
        const key = [...cycle.slice(0, -1)].sort().join('|');
        if (!reported.has(key)) {
          reported.add(key);
          const { segments } = this.inputsById.get(id)!;
          this.report([...segments, 'dependsOn', 'inputs'], `cycle in input dependencies: ${cycle.join(' → ')}`);
        }
        return;
      }
      state.set(id, 'visiting');
      for (const next of graph.get(id) ?? []) visit(next, [...path, id]);
      state.set(id, 'done');
    };
    for (const id of graph.keys()) visit(id, []);
  }

  private checkOutputs(): void {
    const outputs = this.flow.outputs;
    if (!Array.isArray(outputs)) return;
    const seen = new Map<string, PathSegment[]>();
    outputs.forEach((output, i) => {
      if (!isMap(output) || typeof output.id !== 'string') return;
      const base: PathSegment[] = ['outputs', i];
      const first = seen.get(output.id);
      if (first) this.report([...base, 'id'], `duplicate output id '${output.id}': already declared at ${formatPath(first)} (line ${this.line(first)})`);
      else seen.set(output.id, base);
      const type = output.type as InputType;
      if (SCALAR_OUTPUT_TYPES.includes(type) && output.value !== undefined && output.value !== null && !containsTemplate(output.value)) {
        try {
          parseTyped(type, output.value, { required: true });
        } catch (error) {
          this.report([...base, 'value'], `invalid value for output '${output.id}': ${reason(error)}`);
        }
      }
    });
  }

  // ── plugin defaults ──────────────────────────────────────────────────────────────────────────────

  private checkPluginDefaults(): void {
    const defaults = this.flow.pluginDefaults;
    if (!Array.isArray(defaults)) return;
    defaults.forEach((entry, i) => {
      if (!isMap(entry) || !isMap(entry.values) || typeof entry.type !== 'string') return;
      const base: PathSegment[] = ['pluginDefaults', i];
      const usable: Map_ = {};
      for (const [key, value] of Object.entries(entry.values)) {
        if (value === null || value === undefined) this.report([...base, 'values', key], `no value provided for key '${key}'`, { onKey: true });
        else usable[key] = value;
      }
      this.pluginDefaults.push({ type: entry.type, forced: entry.forced === true, values: usable });
      // Only an exact type can be checked property by property; a prefix covers many types.
      const kind = (Object.keys(KINDS) as PluginKind[]).find((k) => KINDS[k].registry.find(entry.type as string));
      if (!kind) return;
      const plugin = KINDS[kind].registry.find(entry.type)!;
      const known = [
        ...Object.keys(KINDS[kind].common).filter((k) => k !== 'id' && k !== 'type'),
        ...Object.keys(plugin.properties.properties),
        ...(kind === 'task' && (plugin as TaskPlugin).kind === 'flowable' ? ['errors', 'finally'] : []),
      ];
      for (const key of Object.keys(entry.values)) {
        if (!known.includes(key)) {
          // Reported here once, rather than again at every task the default would reach.
          delete usable[key];
          const hint = didYouMean(key, known);
          this.report([...base, 'values', key], `no property '${key}' exists in plugin '${entry.type}'${hint ? ` (did you mean '${hint}'?)` : ''}`, { onKey: true });
        }
      }
    });
  }

  // ── tasks ────────────────────────────────────────────────────────────────────────────────────────

  private checkTasks(): void {
    const ids = new Map<string, PathSegment[]>();
    walkTaskEntries(this.flow, (entry, segments) => {
      if (!isMap(entry)) {
        this.report(segments, `a task must be a map with at least 'id' and 'type', got ${describeValue(entry)}`);
        return false;
      }
      const { id, type } = entry;
      if (typeof id === 'string') {
        const first = ids.get(id);
        if (first) {
          this.report([...segments, 'id'], `duplicate task id '${id}': already used at ${formatPath(first)} (line ${this.line(first)})`);
        } else ids.set(id, segments);
      }
      if (typeof type !== 'string') {
        this.schema(unknownTaskValidatorFn(), entry, segments, { describe: 'task', noun: 'task' });
        return false;
      }
      const plugin = this.resolveType('task', type, segments) as TaskPlugin | undefined;
      if (!plugin) {
        this.schema(unknownTaskValidatorFn(), entry, segments, { describe: `task type ${type}`, noun: 'task' });
        return false;
      }
      const effective = applyPluginDefaults(entry as Map_ & { type: string }, this.pluginDefaults);
      this.checkPlugin('task', plugin, effective, entry, segments);
      this.checkRetry(effective.retry, [...segments, 'retry']);
      this.checkRecursiveCall(effective, plugin.properties.properties, segments);
      return undefined;
    });
  }

  /** A task that starts this very flow (a Subflow, or any plugin with `namespace` + `flowId`) never ends. */
  private checkRecursiveCall(task: Map_, properties: Record<string, unknown>, segments: PathSegment[]): void {
    if (!('namespace' in properties) || !('flowId' in properties)) return;
    if (task.namespace === this.flow.namespace && task.flowId === this.flow.id && typeof task.flowId === 'string') {
      this.report([...segments, 'flowId'], `recursive call: task '${String(task.id)}' starts this same flow (${String(this.flow.namespace)}.${String(this.flow.id)})`);
    }
  }

  // ── triggers and conditions ──────────────────────────────────────────────────────────────────────

  private checkTriggers(): void {
    const triggers = this.flow.triggers;
    if (!Array.isArray(triggers)) return;
    const ids = new Map<string, PathSegment[]>();
    triggers.forEach((trigger, i) => {
      const base: PathSegment[] = ['triggers', i];
      if (!isMap(trigger)) {
        this.report(base, `a trigger must be a map with at least 'id' and 'type', got ${describeValue(trigger)}`);
        return;
      }
      if (typeof trigger.id === 'string') {
        const first = ids.get(trigger.id);
        if (first) this.report([...base, 'id'], `duplicate trigger id '${trigger.id}': already used at ${formatPath(first)} (line ${this.line(first)})`);
        else ids.set(trigger.id, base);
      }
      const triggerType = typeof trigger.type === 'string' ? this.resolveType('trigger', trigger.type, base) as TriggerType | undefined : undefined;
      if (!triggerType) {
        // Without a known type there is no schema to check `id` against: say it here.
        if (trigger.id === undefined) this.report(base, "missing required property 'id' for a trigger");
        if (typeof trigger.type !== 'string') this.report(base, "missing required property 'type' for a trigger");
        return;
      }
      const effective = applyPluginDefaults(trigger as Map_ & { type: string }, this.pluginDefaults);
      this.checkPlugin('trigger', triggerType, effective, trigger, base);
      if (isMap(effective.inputs)) this.checkTriggerInputs(effective.inputs, [...base, 'inputs'], String(trigger.id));
    });
  }

  // ── any plugin: its type, its schema, its own rules, the plugins nested in it ──────────────────────

  /**
   * The plugin a type string names in `kind`'s registry. An older alias resolves with a warning; an
   * unknown type is an error at the `type` value, with the closest known type as a hint.
   */
  private resolveType(kind: PluginKind, type: string, base: PathSegment[]): PluginDefinition | undefined {
    const { registry, noun } = KINDS[kind];
    const found = registry.lookup(type);
    if (!found) {
      const hint = registry.suggest(type);
      this.report([...base, 'type'], `unknown ${noun} type '${type}'${hint ? ` (did you mean '${hint}'?)` : ''}`);
      return undefined;
    }
    if (found.alias) {
      this.warn([...base, 'type'], `'${found.alias}' is an older name of ${noun} type '${found.plugin.type}': it still works, but write '${found.plugin.type}'`);
    }
    if (found.plugin.deprecated) this.warn([...base, 'type'], `${noun} type '${found.plugin.type}' is deprecated: ${found.plugin.deprecated}`);
    return found.plugin;
  }

  /**
   * One plugin of `kind` at `base`, defaults applied (`effective`) as written (`written`): its schema,
   * deprecated properties, the rules a schema cannot say, then each plugin nested in it (a task's
   * runner, a trigger's conditions, a condition's conditions), checked the same way.
   */
  private checkPlugin(kind: PluginKind, plugin: PluginDefinition, effective: Map_, written: Map_ | undefined, base: PathSegment[]): void {
    const describe = `${KINDS[kind].noun} type ${String(written?.type ?? effective.type)}`;
    this.schema(pluginValidatorFn(kind, plugin), effective, base, { describe, noun: KINDS[kind].noun }, written);
    for (const [name, schema] of Object.entries(plugin.properties.properties as Record<string, Map_>)) {
      if (schema.deprecated === true && written && name in written) {
        const instead = typeof schema.description === 'string' ? `: ${schema.description.replace(/^Deprecated(?: since [^:]+)?:\s*/, '')}` : '';
        this.warn([...base, name], `'${name}' is deprecated${instead}`, true);
      }
    }
    const rules = (plugin as TriggerType | ConditionType).validate;
    if (kind !== 'task' && rules) this.definitionIssues(rules(effective as never), base);
    const nested = [...nestedPluginsOf(KINDS[kind].common), ...nestedPlugins(plugin.properties)].filter((n) => n.kind !== 'task');
    for (const { property, kind: inner, shape } of nested) {
      const value = effective[property];
      const writtenValue = written?.[property];
      if (shape === 'one') this.checkNested(inner, value, writtenValue, [...base, property]);
      else if (shape === 'list' && Array.isArray(value)) {
        value.forEach((item, j) => this.checkNested(inner, item, Array.isArray(writtenValue) ? writtenValue[j] : undefined, [...base, property, j]));
      } else if (shape === 'map' && isMap(value)) {
        for (const [key, item] of Object.entries(value)) this.checkNested(inner, item, isMap(writtenValue) ? writtenValue[key] : undefined, [...base, property, key]);
      }
    }
  }

  /** A plugin nested in another (`taskRunner: {type: …}`, a condition): a map with a known type of `kind`. */
  private checkNested(kind: PluginKind, value: unknown, written: unknown, base: PathSegment[]): void {
    // Not a map (a template, or a shape the owner's schema already refused): nothing more to say.
    if (!isMap(value)) return;
    if (typeof value.type !== 'string') {
      this.report(base, `missing required property 'type' for a ${KINDS[kind].noun}`);
      return;
    }
    const plugin = this.resolveType(kind, value.type, base);
    if (!plugin) return;
    this.checkPlugin(kind, plugin, value, isMap(written) ? written : undefined, base);
  }

  /** Values a trigger passes to inputs: literal ones must fit the input's type, and the input must exist. */
  private checkTriggerInputs(values: Map_, base: PathSegment[], triggerId: string): void {
    for (const [id, value] of Object.entries(values)) {
      const declared = this.inputsById.get(id);
      if (!declared) {
        this.warn([...base, id], `trigger '${triggerId}' passes input '${id}', which the flow does not declare`, true);
        continue;
      }
      const type = declared.input.type as InputType;
      if (!(INPUT_TYPES as readonly string[]).includes(type) || type === 'FILE' || value === null || containsTemplate(value)) continue;
      try {
        const choices = declared.input.values ?? declared.input.options;
        parseTyped(type, value, {
          ...(declared.input as object),
          required: true,
          values: Array.isArray(choices) ? choices : undefined,
          allowCustomValue: declared.input.allowCustomValue === true || !Array.isArray(choices),
        } as Parameters<typeof parseTyped>[2]);
      } catch (error) {
        this.report([...base, id], `invalid value for input '${id}' passed by trigger '${triggerId}': ${reason(error)}`);
      }
    }
  }

  // ── strings: template syntax and dashed references ───────────────────────────────────────────────

  /**
   * `{{ inputs.my-input }}` reads as `inputs.my` minus `input`: Kestra refuses it and asks for
   * `inputs['my-input']`. The same holds for outputs of tasks whose id has a dash.
   */
  private checkDashedReferences(): void {
    const dashedInputs = [...this.inputsById.keys()].filter((id) => id.includes('-'));
    const dashedTasks: string[] = [];
    walkTaskEntries(this.flow, (entry) => {
      if (isMap(entry) && typeof entry.id === 'string' && entry.id.includes('-')) dashedTasks.push(entry.id);
    });
    if (dashedInputs.length === 0 && dashedTasks.length === 0) return;
    const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const inputPatterns = dashedInputs.map((id) => ({ id, re: new RegExp(`\\{\\{\\s*inputs\\.${escape(id)}\\s*\\}\\}`) }));
    const outputPatterns = dashedTasks.map((id) => ({ id, re: new RegExp(`\\{\\{\\s*outputs\\.${escape(id)}\\.[^}]+\\}\\}`) }));
    for (const s of this.strings) {
      if (!['tasks', 'errors', 'finally', 'afterExecution', 'outputs', 'triggers'].includes(String(s.segments[0]))) continue;
      for (const { id, re } of inputPatterns) {
        if (re.test(s.value)) {
          this.problems.push({
            file: this.file, line: s.line, column: s.column, property: formatPath(s.segments), severity: 'error',
            message: `invalid input reference: use inputs['${id}'] instead of inputs.${id} (a dash reads as a subtraction)`,
          });
        }
      }
      for (const { id, re } of outputPatterns) {
        if (re.test(s.value)) {
          this.problems.push({
            file: this.file, line: s.line, column: s.column, property: formatPath(s.segments), severity: 'error',
            message: `invalid output reference: use outputs['${id}'] instead of outputs.${id} (a dash reads as a subtraction)`,
          });
        }
      }
    }
  }
}

function containsTemplate(value: unknown): boolean {
  if (isTemplate(value)) return true;
  if (Array.isArray(value)) return value.some(containsTemplate);
  if (isMap(value)) return Object.values(value).some(containsTemplate);
  return false;
}

function reason(error: unknown): string {
  if (error && typeof error === 'object' && 'reason' in error && typeof (error as { reason: unknown }).reason === 'string') {
    return (error as { reason: string }).reason;
  }
  return error instanceof Error ? error.message : String(error);
}
