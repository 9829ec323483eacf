// Kestra's VariableRenderer: compiled-template cache, single and recursive passes, raw blocks,
// deep rendering of maps and lists, and typed rendering of a lone `{{ expression }}`. Every public
// call renders within one RenderBudget built from the engine's limits (DEFAULT_LIMITS when none).
import { LRUCache } from 'lru-cache';
import { DEFAULT_LIMITS } from '../../config/index.ts';
import type { RenderScope, TemplateServices } from './callables.ts';
import { compileTemplate, type CompiledTemplate } from './compile.ts';
import { TemplateError } from './errors.ts';
import { RenderBudget } from './render-budget.ts';
import { isMap } from './values.ts';

/** Kestra's VariableRenderer.MAX_RENDERING_AMOUNT: passes of one recursive render (kept for compatibility). */
const MAX_RENDERING_AMOUNT = 100;
/** Raw blocks survive every pass verbatim; only the outermost render removes their tags. */
const RAW_BLOCK = /\{%-*\s*raw\s*-*%\}([\s\S]*?)\{%-*\s*endraw\s*-*%\}/g;

const templates = new LRUCache<string, CompiledTemplate>({ max: 1000 });

function compiled(template: string): CompiledTemplate {
  let entry = templates.get(template);
  if (!entry) {
    entry = compileTemplate(template);
    templates.set(template, entry);
  }
  return entry;
}

/** What one render carries down to the render() calls nested in it. */
interface RenderState {
  readonly variables: Record<string, unknown>;
  readonly services: TemplateServices;
  readonly budget: RenderBudget;
  /** 0 for the template itself, n for text rendered by n nested render() calls. */
  readonly depth: number;
}

function budgetFor(services: TemplateServices, template: string): RenderBudget {
  return new RenderBudget(services.limits ?? DEFAULT_LIMITS, template);
}

function scopeFor(state: RenderState): RenderScope {
  return {
    variables: state.variables,
    services: state.services,
    budget: state.budget,
    async renderNested(template, recursive) {
      // Rendered text may call render() on itself (a webhook body that renders itself): without
      // this bound each level waits on the next and memory grows until the process dies.
      const nested = { ...state, depth: state.depth + 1 };
      state.budget.enter(nested.depth);
      return recursive ? renderRecursively(template, nested) : renderOnce(template, nested);
    },
  };
}

/** One pass, raw blocks kept with their tags. */
async function renderOnce(template: string, state: RenderState): Promise<string> {
  if (!template.includes('{')) return template;
  const pause = state.budget.charge(template.length);
  if (pause) await pause;
  return compiled(template).render(scopeFor(state));
}

/** Renders until the output stops changing (Kestra's renderRecursively). */
async function renderRecursively(template: string, state: RenderState): Promise<string> {
  let current = template;
  for (let pass = 0; pass <= MAX_RENDERING_AMOUNT; pass++) {
    const next = await renderOnce(current, state);
    if (next === current) return next;
    current = next;
  }
  throw new TemplateError('Too many rendering attempts', { expression: template });
}

function stripRawTags(text: string): string {
  return text.includes('raw') ? text.replace(RAW_BLOCK, '$1') : text;
}

/** Renders a template string once, as Kestra renders a property. */
export async function renderTemplate(template: string, variables: Record<string, unknown>, services: TemplateServices = {}): Promise<string> {
  if (!template.includes('{')) return template;
  return renderTemplateWithin(template, { variables, services, budget: budgetFor(services, template), depth: 0 });
}

async function renderTemplateWithin(template: string, state: RenderState): Promise<string> {
  if (!template.includes('{')) return template;
  state.budget.template = template;
  return stripRawTags(await renderOnce(template, state));
}

/** Deep render: strings rendered, arrays/objects walked (object keys rendered too), other scalars kept. */
export async function renderValue(value: unknown, variables: Record<string, unknown>, services: TemplateServices = {}): Promise<unknown> {
  if (typeof value === 'string') return renderTemplate(value, variables, services);
  if (!Array.isArray(value) && !isMap(value)) return value;
  // One budget for the whole value: a map of a thousand templates gets the time of one render.
  return renderValueWithin(value, { variables, services, budget: budgetFor(services, ''), depth: 0 });
}

async function renderValueWithin(value: unknown, state: RenderState): Promise<unknown> {
  if (typeof value === 'string') return renderTemplateWithin(value, state);
  if (Array.isArray(value)) {
    const out: unknown[] = [];
    for (const item of value) out.push(await renderValueWithin(item, state));
    return out;
  }
  if (isMap(value)) {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      const renderedKey = await renderTemplateWithin(key, state);
      // Like Kestra's putIfAbsent: when two keys render the same, the first wins.
      if (!Object.hasOwn(out, renderedKey)) out[renderedKey] = await renderValueWithin(item, state);
    }
    return out;
  }
  return value;
}

/** Keeps the native type when the whole string is one `{{ expression }}`; else like renderTemplate. */
export async function renderTyped(template: string, variables: Record<string, unknown>, services: TemplateServices = {}): Promise<unknown> {
  if (!template.includes('{')) return template;
  const entry = compiled(template);
  const scope = scopeFor({ variables, services, budget: budgetFor(services, template), depth: 0 });
  if (entry.evaluate) return (await entry.evaluate(scope)) ?? null;
  return stripRawTags(await entry.render(scope));
}

/** Syntax check without rendering; null when fine. line/column are 1-based within the template string. */
export function checkTemplateSyntax(template: string): { message: string; line: number; column: number } | null {
  if (!template.includes('{')) return null;
  try {
    compiled(template);
    return null;
  } catch (err) {
    if (!(err instanceof TemplateError)) throw err;
    return { message: err.message, line: err.line ?? 1, column: err.column ?? 1 };
  }
}
