// Kestra's VariableRenderer: compiled-template cache, single and recursive passes, raw blocks,
// deep rendering of maps and lists, and typed rendering of a lone `{{ expression }}`.
import type { RenderScope, TemplateServices } from './callables.ts';
import { compileTemplate, type CompiledTemplate } from './compile.ts';
import { TemplateError } from './errors.ts';
import { LruCache } from './lru-cache.ts';
import { isMap } from './values.ts';

/** Kestra's VariableRenderer.MAX_RENDERING_AMOUNT. */
const MAX_RENDERING_AMOUNT = 100;
/** Raw blocks survive every pass verbatim; only the outermost render removes their tags. */
const RAW_BLOCK = /\{%-*\s*raw\s*-*%\}([\s\S]*?)\{%-*\s*endraw\s*-*%\}/g;

const templates = new LruCache<string, CompiledTemplate>(1000);

function compiled(template: string): CompiledTemplate {
  let entry = templates.get(template);
  if (!entry) {
    entry = compileTemplate(template);
    templates.set(template, entry);
  }
  return entry;
}

function scopeFor(variables: Record<string, unknown>, services: TemplateServices): RenderScope {
  return {
    variables,
    services,
    renderNested: (template, recursive) =>
      recursive ? renderRecursively(template, variables, services) : renderOnce(template, variables, services),
  };
}

/** One pass, raw blocks kept with their tags. */
async function renderOnce(template: string, variables: Record<string, unknown>, services: TemplateServices): Promise<string> {
  if (!template.includes('{')) return template;
  return compiled(template).render(scopeFor(variables, services));
}

/** Renders until the output stops changing (Kestra's renderRecursively). */
async function renderRecursively(template: string, variables: Record<string, unknown>, services: TemplateServices): Promise<string> {
  let current = template;
  for (let pass = 0; pass <= MAX_RENDERING_AMOUNT; pass++) {
    const next = await renderOnce(current, variables, services);
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
  return stripRawTags(await renderOnce(template, variables, services));
}

/** Deep render: strings rendered, arrays/objects walked (object keys rendered too), other scalars kept. */
export async function renderValue(value: unknown, variables: Record<string, unknown>, services: TemplateServices = {}): Promise<unknown> {
  if (typeof value === 'string') return renderTemplate(value, variables, services);
  if (Array.isArray(value)) {
    const out: unknown[] = [];
    for (const item of value) out.push(await renderValue(item, variables, services));
    return out;
  }
  if (isMap(value)) {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      const renderedKey = await renderTemplate(key, variables, services);
      // Like Kestra's putIfAbsent: when two keys render the same, the first wins.
      if (!Object.hasOwn(out, renderedKey)) out[renderedKey] = await renderValue(item, variables, services);
    }
    return out;
  }
  return value;
}

/** Keeps the native type when the whole string is one `{{ expression }}`; else like renderTemplate. */
export async function renderTyped(template: string, variables: Record<string, unknown>, services: TemplateServices = {}): Promise<unknown> {
  if (!template.includes('{')) return template;
  const entry = compiled(template);
  if (entry.evaluate) return (await entry.evaluate(scopeFor(variables, services))) ?? null;
  return stripRawTags(await entry.render(scopeFor(variables, services)));
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
