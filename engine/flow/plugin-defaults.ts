/**
 * Kestra's `pluginDefaults`: default property values for every task (or trigger, condition, task runner…)
 * whose `type` matches an entry exactly or by dotted prefix.
 */
import { findPlugin } from '../plugins/registry.ts';
import { findCondition, findTrigger } from '../triggers/index.ts';
import type { PluginDefault } from './types.ts';

/** Properties a default may never change: they say what the object is. */
const IDENTITY = new Set(['id', 'type']);

/** The names a type is known by: itself and, for a registered type, its canonical name and aliases. */
function namesOf(type: string): string[] {
  const known = findPlugin(type) ?? findTrigger(type) ?? findCondition(type);
  return known ? [...new Set([type, known.type, ...(known.aliases ?? [])])] : [type];
}

/**
 * How specifically `entryType` targets an object of type `type`: Infinity for the same type (or one of its
 * aliases), the prefix length for a dotted prefix (`io.kestra.plugin.jdbc` of `io.kestra.plugin.jdbc.duckdb.Query`),
 * undefined when it does not apply.
 */
function specificity(entryType: string, type: string): number | undefined {
  const targets = namesOf(type);
  const entryNames = namesOf(entryType);
  if (entryNames.some((name) => targets.includes(name))) return Number.POSITIVE_INFINITY;
  if (targets.some((name) => name.startsWith(`${entryType}.`))) return entryType.length;
  return undefined;
}

function isMap(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  if (isMap(a) && isMap(b)) {
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length && keys.every((k) => k in b && deepEqual(a[k], b[k]));
  }
  return false;
}

/**
 * Kestra's deep merge: `over` wins for scalars, maps merge key by key, lists are concatenated (`under`'s
 * items first, then those of `over` not already present), and a null in `over` keeps `under`'s value.
 */
function deepMerge(under: unknown, over: unknown): unknown {
  if (over === null || over === undefined) return under;
  if (under === null || under === undefined) return over;
  if (isMap(under) && isMap(over)) {
    const merged: Record<string, unknown> = { ...under };
    for (const [key, value] of Object.entries(over)) merged[key] = deepMerge(under[key], value);
    return merged;
  }
  if (Array.isArray(under) && Array.isArray(over)) {
    return [...under, ...over.filter((item) => !under.some((existing) => deepEqual(existing, item)))];
  }
  return over;
}

function withoutIdentity(values: Record<string, unknown> | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(values ?? {})) if (!IDENTITY.has(key)) out[key] = value;
  return out;
}

/** Apply the matching defaults to one object with a `type` (not to what it contains). */
function applyToOne<T extends { type: string }>(target: T, defaults: readonly PluginDefault[]): T {
  const matching = defaults
    .map((entry, index) => ({ entry, index, rank: typeof entry?.type === 'string' ? specificity(entry.type, target.type) : undefined }))
    .filter((m): m is { entry: PluginDefault; index: number; rank: number } => m.rank !== undefined && isMap(m.entry.values));
  if (matching.length === 0) return target;

  // Most specific first; at the same specificity the entry written first wins (as in Kestra).
  const byPriority = [...matching].sort((a, b) => b.rank - a.rank || a.index - b.index);
  let result: Record<string, unknown> = { ...target };
  for (const { entry } of byPriority.filter((m) => !m.entry.forced)) {
    result = deepMerge(withoutIdentity(entry.values), result) as Record<string, unknown>;
  }
  // Forced values override; apply the least important first so the most important is applied last.
  for (const { entry } of byPriority.filter((m) => m.entry.forced).reverse()) {
    result = deepMerge(result, withoutIdentity(entry.values)) as Record<string, unknown>;
  }
  return result as T;
}

/** Apply defaults to every nested map with a string `type` (task runners, conditions, child tasks). */
function applyNested(value: unknown, defaults: readonly PluginDefault[]): unknown {
  if (Array.isArray(value)) return value.map((item) => applyNested(item, defaults));
  if (!isMap(value)) return value;
  const withSelf = typeof value.type === 'string' ? applyToOne(value as { type: string }, defaults) : value;
  const out: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(withSelf)) out[key] = applyNested(child, defaults);
  return out;
}

/**
 * The task with the flow's `pluginDefaults` applied, as Kestra does: an entry applies when its `type` is
 * the task's type (or an alias of it) or a dotted prefix of it; non-forced values only fill properties the
 * task does not set (maps merge deeply, lists are concatenated), forced values override the task's own;
 * a more specific entry (exact type, then longer prefix) wins over a less specific one, and at equal
 * specificity the entry written first wins. Nested objects with a `type` (task runners, conditions,
 * child tasks) get their defaults too. The input is not modified; applying twice changes nothing more.
 */
export function applyPluginDefaults<T extends { type: string }>(task: T, defaults: readonly PluginDefault[] | undefined): T {
  if (!defaults || defaults.length === 0 || typeof task?.type !== 'string') return task;
  return applyNested(task, defaults) as T;
}
