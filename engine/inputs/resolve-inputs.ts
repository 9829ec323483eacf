/**
 * Resolves a flow's inputs for one execution, as Kestra's `FlowInputOutput.resolveInputs`:
 * submitted value, else the default; typed and validated; `dependsOn` inputs first, and an input
 * whose condition is not `true` left out. Every problem is collected and thrown at once.
 */
import type { InputDef, InputType } from '../flow/types.ts';
import { InputValidationError, TypedValueError, type InputProblem } from './errors.ts';
import { isUploadShaped, parseTyped } from './parse-typed.ts';

export interface InputContext {
  /** Renders Pebble (for dependsOn.condition, SELECT expression, dynamic defaults); given by the engine. */
  render?(template: string, variables: Record<string, unknown>): Promise<unknown>;
  /** Stores FILE uploads; returns the kestra:// URI. */
  storeFile?(inputId: string, fileName: string, data: Buffer | { file: string }): Promise<string>;
}

/** A FILE input's upload as submitted: the browser's file name and its bytes, text or a local file. */
export interface FileUpload {
  fileName: string;
  data: Buffer | Uint8Array | string | { file: string };
}

type Outcome =
  | { kind: 'value'; value: unknown }
  /** dependsOn condition not true, or a dependency disabled: left out of the result. */
  | { kind: 'disabled' }
  /** Its own problem was reported. */
  | { kind: 'failed' }
  /** A dependency failed; that dependency's problem explains it. */
  | { kind: 'blocked' };

const TEMPLATE = /\{\{|\{%/;
const SELECTS: ReadonlySet<InputType> = new Set(['SELECT', 'ENUM', 'MULTISELECT']);

/**
 * The typed inputs of an execution, nested by dotted id (`a.b` → `{a: {b: …}}`), in declaration order.
 * Absent optional inputs are present as `null` (as in Kestra); disabled ones are absent.
 * Submitted keys that match no input are ignored, as Kestra does (it only logs a warning).
 * Throws InputValidationError listing every bad input.
 */
export async function resolveInputs(
  defs: InputDef[] | undefined,
  submitted: Record<string, unknown>,
  ctx: InputContext = {},
): Promise<Record<string, unknown>> {
  if (!defs || defs.length === 0) return {};
  const resolver = new Resolver(defs, submitted ?? {}, ctx);
  return resolver.run();
}

class Resolver {
  private readonly byId = new Map<string, InputDef>();
  private readonly order = new Map<string, number>();
  private readonly outcomes = new Map<string, Outcome>();
  private readonly resolving = new Set<string>();
  private readonly problems: Array<InputProblem & { index: number }> = [];

  constructor(
    private readonly defs: InputDef[],
    private readonly submitted: Record<string, unknown>,
    private readonly ctx: InputContext,
  ) {}

  async run(): Promise<Record<string, unknown>> {
    this.defs.forEach((def, index) => {
      if (this.byId.has(def.id)) {
        this.problems.push({ inputId: def.id, index, message: `Duplicate input id '${def.id}'` });
        return;
      }
      this.byId.set(def.id, def);
      this.order.set(def.id, index);
    });
    for (const def of this.byId.values()) await this.resolve(def, []);

    const result = this.nested((id) => {
      this.problem(id, `Invalid input '${id}': its id clashes with another input's nested id`);
    });
    if (this.problems.length) {
      const sorted = [...this.problems].sort((a, b) => a.index - b.index);
      throw new InputValidationError(sorted.map(({ inputId, message }) => ({ inputId, message })));
    }
    return result;
  }

  private async resolve(def: InputDef, chain: string[]): Promise<void> {
    const id = def.id;
    if (this.outcomes.has(id)) return;
    if (this.resolving.has(id)) {
      const cycle = [...chain.slice(chain.indexOf(id)), id].join(' -> ');
      this.fail(id, `Invalid input '${id}': dependsOn cycle ${cycle}`);
      return;
    }
    this.resolving.add(id);
    try {
      this.outcomes.set(id, await this.evaluate(def, [...chain, id]));
    } finally {
      this.resolving.delete(id);
    }
  }

  private async evaluate(def: InputDef, chain: string[]): Promise<Outcome> {
    const id = def.id;
    // Unknown ids in dependsOn.inputs are ignored, as Kestra does; a self-reference is no dependency.
    const dependencies = (def.dependsOn?.inputs ?? []).filter((dep) => dep !== id && this.byId.has(dep));
    for (const dep of dependencies) await this.resolve(this.byId.get(dep)!, chain);
    const cycleOutcome = this.outcomes.get(id);
    if (cycleOutcome) return cycleOutcome; // this input closed a cycle and was reported meanwhile

    const kinds = dependencies.map((dep) => this.outcomes.get(dep)?.kind);
    if (kinds.some((kind) => kind === 'failed' || kind === 'blocked')) return { kind: 'blocked' };
    if (kinds.includes('disabled')) return { kind: 'disabled' };

    const condition = def.dependsOn?.condition;
    if (condition !== undefined && condition !== null && condition !== '') {
      const rendered = await this.render(id, 'dependsOn.condition', String(condition));
      if (!rendered.ok) return { kind: 'failed' };
      // Kestra keeps the input only when the condition renders to Boolean TRUE; a renderer that
      // returns text gives "true".
      const enabled = rendered.value === true || (typeof rendered.value === 'string' && rendered.value.trim() === 'true');
      if (!enabled) return { kind: 'disabled' };
    }

    let effective: InputDef = def;
    if (def.expression && SELECTS.has(def.type)) {
      const rendered = await this.render(id, 'expression', def.expression);
      if (!rendered.ok) return { kind: 'failed' };
      if (!Array.isArray(rendered.value)) {
        return this.fail(id, `Invalid input '${id}': expression must render to a list, got ${typeof rendered.value}`);
      }
      effective = { ...def, values: rendered.value.filter((v) => v !== null && v !== undefined).map(String) };
    }

    let value = this.submittedValue(id);
    if (value === null || value === undefined) {
      if (def.defaults !== undefined && def.defaults !== null) {
        const resolved = await this.defaultValue(def);
        if (!resolved.ok) return { kind: 'failed' };
        value = resolved.value;
      }
    }
    if (value === null || value === undefined) {
      if (def.required === false) return { kind: 'value', value: null };
      return this.fail(id, `Missing required input '${id}'`);
    }

    if (def.type === 'FILE' && isUploadShaped(value)) {
      const stored = await this.storeUpload(def, value);
      if (!stored.ok) return { kind: 'failed' };
      value = stored.value;
    }

    try {
      return { kind: 'value', value: parseTyped(def.type, value, effective) };
    } catch (error) {
      if (error instanceof TypedValueError) return this.fail(id, `Invalid input '${id}': ${error.reason}`);
      throw error;
    }
  }

  /** The submitted value by its flat id (`a.b` as one key, as Kestra reads it), else by nested path. */
  private submittedValue(id: string): unknown {
    if (Object.hasOwn(this.submitted, id)) return this.submitted[id];
    if (!id.includes('.')) return undefined;
    let current: unknown = this.submitted;
    for (const part of id.split('.')) {
      if (current === null || typeof current !== 'object' || Array.isArray(current) || !Object.hasOwn(current, part)) {
        return undefined;
      }
      current = (current as Record<string, unknown>)[part];
    }
    return current;
  }

  /** Defaults go through the type parser like submitted values; a templated string default is rendered first (Kestra 1.0). */
  private async defaultValue(def: InputDef): Promise<{ ok: true; value: unknown } | { ok: false }> {
    const defaults = def.defaults;
    if (typeof defaults === 'string' && TEMPLATE.test(defaults) && this.ctx.render) {
      return this.render(def.id, 'defaults', defaults);
    }
    return { ok: true, value: defaults };
  }

  private async storeUpload(def: InputDef, upload: FileUpload): Promise<{ ok: true; value: string } | { ok: false }> {
    const id = def.id;
    if (!this.ctx.storeFile) {
      this.fail(id, `Invalid input '${id}': file uploads cannot be stored here`);
      return { ok: false };
    }
    // Browsers send a bare name, but a multipart filename is caller-controlled: keep its last part only.
    let fileName = upload.fileName.split(/[/\\]/).pop() ?? '';
    if (fileName === '' || fileName === '.' || fileName === '..') fileName = `${id}${extensionOf(def)}`;
    const data = typeof upload.data === 'string' ? Buffer.from(upload.data)
      : upload.data instanceof Uint8Array ? Buffer.from(upload.data.buffer, upload.data.byteOffset, upload.data.byteLength)
        : upload.data;
    try {
      return { ok: true, value: await this.ctx.storeFile(id, fileName, data) };
    } catch (error) {
      this.fail(id, `Invalid input '${id}': cannot store the uploaded file '${fileName}': ${(error as Error).message}`);
      return { ok: false };
    }
  }

  private async render(id: string, what: string, template: string): Promise<{ ok: true; value: unknown } | { ok: false }> {
    if (!this.ctx.render) {
      this.fail(id, `Invalid input '${id}': ${what} needs a template renderer`);
      return { ok: false };
    }
    try {
      return { ok: true, value: await this.ctx.render(template, { inputs: this.nested() }) };
    } catch (error) {
      this.fail(id, `Invalid input '${id}': cannot render ${what}: ${(error as Error).message}`);
      return { ok: false };
    }
  }

  private fail(id: string, message: string): Outcome {
    this.problem(id, message);
    const outcome: Outcome = { kind: 'failed' };
    this.outcomes.set(id, outcome);
    return outcome;
  }

  private problem(id: string, message: string): void {
    this.problems.push({ inputId: id, index: this.order.get(id) ?? this.defs.length, message });
  }

  /** The values resolved so far, nested by dotted id, in declaration order. */
  private nested(onClash?: (id: string) => void): Record<string, unknown> {
    const result: Record<string, unknown> = {};
    const created = new WeakSet<object>();
    for (const def of this.byId.values()) {
      const outcome = this.outcomes.get(def.id);
      if (outcome?.kind !== 'value') continue;
      if (!setNested(result, def.id, outcome.value, created)) onClash?.(def.id);
    }
    return result;
  }
}

/**
 * Sets `a.b.c` in `target`; false when a value already sits where a map is needed, or the reverse.
 * `created` holds the maps made for nesting, so a JSON input's own object is never merged into.
 */
function setNested(target: Record<string, unknown>, id: string, value: unknown, created: WeakSet<object>): boolean {
  const parts = id.split('.');
  let current = target;
  for (const part of parts.slice(0, -1)) {
    const existing = current[part];
    if (existing === undefined) {
      const child: Record<string, unknown> = {};
      created.add(child);
      current[part] = child;
      current = child;
    } else if (typeof existing === 'object' && existing !== null && created.has(existing)) {
      current = existing as Record<string, unknown>;
    } else {
      return false;
    }
  }
  const leaf = parts[parts.length - 1];
  if (Object.hasOwn(current, leaf)) return false;
  current[leaf] = value;
  return true;
}

function extensionOf(def: InputDef): string {
  const ext = def.extension ?? '.upl';
  return ext.startsWith('.') ? ext : `.${ext}`;
}
