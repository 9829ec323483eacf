/**
 * Rendered properties brought to their schema's types, in one place for every plugin. Validation
 * accepted a template wherever a value is constrained; what the template renders to is known only at
 * run time, and is often text ("true", "3", a JSON list). Where the declared type makes the meaning
 * unambiguous, the value is converted; anything else is left as rendered (a plugin whose schema says
 * it takes the text form handles it), so no flow that ran before fails here.
 */
import { DYNAMIC_KEY, type JsonSchema } from './schema.ts';

const NUMBER = /^\s*-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?\s*$/;

function isMap(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** A scalar text as the scalar `type` reads it, or undefined when it does not read as one. */
function scalarFromText(type: unknown, text: string): boolean | number | undefined {
  if (type === 'boolean') {
    const lower = text.trim().toLowerCase();
    return lower === 'true' ? true : lower === 'false' ? false : undefined;
  }
  if ((type === 'integer' || type === 'number') && NUMBER.test(text)) {
    const n = Number(text);
    if (!Number.isFinite(n) || (type === 'integer' && !Number.isInteger(n))) return undefined;
    return n;
  }
  return undefined;
}

function parseJson(text: string, opening: string): unknown {
  if (!text.trimStart().startsWith(opening)) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** One value brought to `schema`'s type where that is unambiguous; otherwise returned unchanged. */
export function coerceValue(schema: JsonSchema | undefined, value: unknown): unknown {
  if (!schema || typeof schema !== 'object' || value === null || value === undefined) return value;
  const type = schema.type;
  if (typeof value === 'string') {
    const scalar = scalarFromText(type, value);
    if (scalar !== undefined) return scalar;
    if (type === 'array') {
      const parsed = parseJson(value, '[');
      return Array.isArray(parsed) ? coerceValue(schema, parsed) : value;
    }
    if (type === 'object') {
      const parsed = parseJson(value, '{');
      return isMap(parsed) ? coerceValue(schema, parsed) : value;
    }
    // A dynamic property (a value or its text): a text that reads as the value's scalar type becomes it.
    // Other unions (`string | number` of an env map) are left alone: there the text is a value too.
    const branches = schema.anyOf as JsonSchema[] | undefined;
    if (schema[DYNAMIC_KEY] === true && Array.isArray(branches)) {
      for (const branch of branches) {
        const converted = scalarFromText(branch?.type, value);
        if (converted !== undefined) return converted;
      }
    }
    return value;
  }
  if ((typeof value === 'number' || typeof value === 'boolean') && type === 'string' && !schema.enum) return String(value);
  if (Array.isArray(value) && schema.items && typeof schema.items === 'object') {
    return value.map((item) => coerceValue(schema.items as JsonSchema, item));
  }
  if (isMap(value) && type === 'object') {
    const properties = (schema.properties ?? {}) as Record<string, JsonSchema>;
    const patterns = Object.values((schema.patternProperties ?? {}) as Record<string, JsonSchema>);
    const rest = isMap(schema.additionalProperties) ? (schema.additionalProperties as JsonSchema) : patterns[0];
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) out[key] = coerceValue(properties[key] ?? rest, item);
    return out;
  }
  return value;
}

/**
 * A plugin's rendered properties brought to the types of its properties schema; `raw` names the ones
 * passed unrendered (child task lists, properties the plugin renders itself), left untouched.
 */
export function coerceProps(schema: JsonSchema, props: Record<string, unknown>, raw: ReadonlySet<string> = new Set()): Record<string, unknown> {
  const properties = (schema.properties ?? {}) as Record<string, JsonSchema>;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(props)) out[key] = raw.has(key) ? value : coerceValue(properties[key], value);
  return out;
}
