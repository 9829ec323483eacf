/**
 * The Execute form of a flow: one field per input (the control fits the input type, defaults
 * prefilled, problems shown next to their input), and the submitted form turned back into inputs
 * for `engine.create`, which types and validates them.
 */
import type { InputDef } from '../../engine/index.ts';

export type Control =
  | 'text' | 'password' | 'email' | 'url' | 'number' | 'checkbox' | 'select' | 'radio' | 'multiselect'
  | 'textarea' | 'file' | 'date' | 'time' | 'datetime-local';

export interface InputOption {
  value: string;
  selected: boolean;
}

export interface InputField {
  id: string;
  label: string;
  type: string;
  control: Control;
  description?: string;
  required: boolean;
  /** Prefilled text (default, or what was submitted). */
  value: string;
  checked: boolean;
  options: InputOption[];
  /** A text control that also suggests these values (allowCustomValue). */
  suggestions: string[];
  min?: string;
  max?: string;
  step?: string;
  placeholder?: string;
  /** How to fill it in, when the control does not say (one item per line, UTC…). */
  note?: string;
  errors: string[];
}

/** What the browser sent, per field: strings (files are not echoed back). */
export type SubmittedValues = Record<string, string[]>;

const TEMPLATE = /\{\{|\{%/;

function text(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value;
  return JSON.stringify(value, null, 2);
}

/** An ISO instant as a datetime-local value in UTC (`2024-01-15T09:30:00`); '' when not an instant. */
function toLocalUtc(value: unknown): string {
  if (typeof value !== 'string' || TEMPLATE.test(value)) return '';
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? '' : date.toISOString().slice(0, 19);
}

function controlOf(def: InputDef): Control {
  switch (def.type) {
    case 'SECRET': return 'password';
    case 'EMAIL': return 'email';
    case 'URI': return 'url';
    case 'INT':
    case 'FLOAT': return 'number';
    case 'BOOLEAN':
    case 'BOOL': return 'checkbox';
    case 'DATE': return 'date';
    case 'TIME': return 'time';
    case 'DATETIME': return 'datetime-local';
    case 'FILE': return 'file';
    case 'SELECT':
    case 'ENUM':
      if (def.allowCustomValue || def.expression) return 'text';
      return def.isRadio ? 'radio' : 'select';
    case 'MULTISELECT': return def.allowCustomValue || def.expression ? 'textarea' : 'multiselect';
    case 'ARRAY':
    case 'JSON':
    case 'YAML': return 'textarea';
    default: return 'text';
  }
}

/** The fields of the Execute form; `submitted` and `problems` come back from a refused submission. */
export function inputFields(
  defs: InputDef[] | undefined,
  submitted?: SubmittedValues,
  problems: readonly { inputId: string; message: string }[] = [],
): { fields: InputField[]; otherErrors: string[] } {
  const known = new Set((defs ?? []).map((d) => d.id));
  const fields = (defs ?? []).map((def) => field(def, submitted, problems.filter((p) => p.inputId === def.id).map((p) => p.message)));
  return { fields, otherErrors: problems.filter((p) => !known.has(p.inputId)).map((p) => p.message) };
}

function field(def: InputDef, submitted: SubmittedValues | undefined, errors: string[]): InputField {
  const control = controlOf(def);
  const sent = submitted?.[def.id];
  const templated = typeof def.defaults === 'string' && TEMPLATE.test(def.defaults);
  const defaults = templated ? undefined : def.defaults;
  const hasDefault = def.defaults !== undefined && def.defaults !== null;
  const f: InputField = {
    id: def.id,
    label: def.displayName || def.id,
    type: def.type,
    control,
    description: def.description,
    required: def.required !== false && !hasDefault,
    value: '',
    checked: false,
    options: [],
    suggestions: [],
    errors,
  };
  if (templated) f.note = `Left empty, the default applies: ${String(def.defaults)}`;
  const choices = (def.values ?? []).filter((v) => v !== null && v !== undefined).map(String);

  switch (control) {
    case 'checkbox':
      f.checked = sent ? sent[sent.length - 1] === 'true' : defaults === true || defaults === 'true';
      f.required = false;
      break;
    case 'select':
    case 'radio': {
      const chosen = sent ? sent[0] : text(defaults);
      f.options = choices.map((value) => ({ value, selected: value === chosen }));
      break;
    }
    case 'multiselect': {
      const chosen = new Set(sent ?? (Array.isArray(defaults) ? defaults.map(String) : defaults === undefined ? [] : [text(defaults)]));
      f.options = choices.map((value) => ({ value, selected: chosen.has(value) }));
      break;
    }
    case 'datetime-local':
      f.value = sent ? sent[0] : toLocalUtc(defaults);
      f.step = '1';
      f.note ??= 'UTC';
      break;
    case 'file':
      if (sent) f.note = 'Choose the file again.';
      else if (typeof defaults === 'string') f.note = `Left empty, the default applies: ${defaults}`;
      f.required = f.required && !sent;
      break;
    case 'password':
      // A secret is never written back into the page.
      if (hasDefault) f.note = 'Left empty, the default applies.';
      break;
    default:
      if (sent) f.value = sent.join('\n');
      else if ((def.type === 'ARRAY' || def.type === 'MULTISELECT') && Array.isArray(defaults)) f.value = defaults.map(text).join('\n');
      else f.value = text(defaults);
  }
  if (def.type === 'INT') f.step = '1';
  if (def.type === 'FLOAT') f.step = 'any';
  if (def.type === 'TIME') f.step = '1';
  if ((def.type === 'INT' || def.type === 'FLOAT') && def.min !== undefined) f.min = String(def.min);
  if ((def.type === 'INT' || def.type === 'FLOAT') && def.max !== undefined) f.max = String(def.max);
  if (def.type === 'DURATION') f.placeholder = 'PT1H30M';
  if (def.type === 'ARRAY') f.note ??= `One ${def.itemType ?? 'item'} per line.`;
  if (def.type === 'MULTISELECT' && control === 'textarea') {
    f.note ??= 'One value per line.';
    f.suggestions = choices;
  }
  if ((def.type === 'SELECT' || def.type === 'ENUM') && control === 'text') {
    f.suggestions = choices;
    if (def.expression) f.note ??= `Values come from ${def.expression}`;
  }
  if (def.type === 'JSON') f.placeholder = '{"key": "value"}';
  return f;
}

type FormValue = string | File;

/**
 * The submitted form as inputs for `engine.create`: empty fields are left out (so defaults apply),
 * checkboxes give true/false, list inputs give arrays, files give `{fileName, data}`.
 * Also returns the strings to refill the form with if the engine refuses them.
 */
export async function formInputs(
  defs: InputDef[] | undefined,
  form: Record<string, FormValue | FormValue[]>,
): Promise<{ inputs: Record<string, unknown>; submitted: SubmittedValues }> {
  const inputs: Record<string, unknown> = {};
  const submitted: SubmittedValues = {};
  for (const def of defs ?? []) {
    const raw = form[def.id];
    const values = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
    const strings = values.filter((v): v is string => typeof v === 'string');
    const control = controlOf(def);
    if (control === 'file') {
      const file = values.find((v): v is File => typeof v !== 'string' && (v.size > 0 || v.name !== ''));
      if (file) {
        inputs[def.id] = { fileName: file.name, data: Buffer.from(await file.arrayBuffer()) };
        submitted[def.id] = [file.name];
      }
      continue;
    }
    if (strings.length) submitted[def.id] = strings;
    if (control === 'checkbox') {
      // A hidden "false" comes first; a ticked box adds "true" after it.
      if (strings.length) inputs[def.id] = strings[strings.length - 1] === 'true';
    } else if (control === 'multiselect') {
      if (strings.length) inputs[def.id] = strings;
    } else if (def.type === 'ARRAY' || def.type === 'MULTISELECT') {
      const items = strings.join('\n').split(/\r?\n/).map((s) => s.trim()).filter((s) => s !== '');
      if (items.length) inputs[def.id] = items;
    } else if (control === 'datetime-local') {
      const value = strings[0]?.trim() ?? '';
      if (value) inputs[def.id] = withUtcZone(value);
    } else {
      const value = strings[0] ?? '';
      if (value.trim() !== '') inputs[def.id] = control === 'textarea' ? value.replace(/\r\n/g, '\n') : value;
    }
  }
  return { inputs, submitted };
}

/** datetime-local has no zone: the form says UTC, so add it (and seconds when the browser left them out). */
function withUtcZone(value: string): string {
  if (/(?:[zZ]|[+-]\d\d:?\d\d)$/.test(value)) return value;
  return /T\d\d:\d\d$/.test(value) ? `${value}:00Z` : `${value}Z`;
}
