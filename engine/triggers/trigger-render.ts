/** What a trigger renders before it starts an execution: its key, its inputs, its labels. */
import { lookupServices, type LookupResources } from '../template-lookups.ts';
import type { TemplateServices } from '../template/index.ts';
import { renderTemplate, renderValue } from '../template/index.ts';
import type { FlowDef, TriggerDef } from '../flow/types.ts';

/** The engine resources trigger templates may reach (`secret()`, `kv()`). */
export type TriggerTemplateResources = LookupResources;

/** `secret()` and `kv()` for the templates of a trigger of a flow in `namespace`. */
export function triggerTemplateServices(resources: TriggerTemplateResources, namespace: string): TemplateServices {
  return lookupServices(resources, namespace);
}

/** The `flow` variable trigger templates see. */
export function flowVariable(flow: FlowDef, revision: number): Record<string, unknown> {
  return { id: flow.id, namespace: flow.namespace, revision };
}

/** Labels as a map from Kestra's list of `{key, value}` or a map; anything else gives none. */
export function labelMap(labels: unknown): Record<string, string> {
  if (Array.isArray(labels)) {
    const map: Record<string, string> = {};
    for (const label of labels) {
      if (label && typeof label === 'object' && typeof (label as { key?: unknown }).key === 'string') {
        map[(label as { key: string }).key] = String((label as { value?: unknown }).value ?? '');
      }
    }
    return map;
  }
  if (labels && typeof labels === 'object') {
    return Object.fromEntries(Object.entries(labels as Record<string, unknown>).map(([k, v]) => [k, String(v)]));
  }
  return {};
}

/** Renders label values (Kestra renders them with the trigger's variables). */
export async function renderLabels(labels: Record<string, string>, variables: Record<string, unknown>, services: TemplateServices): Promise<Record<string, string>> {
  const rendered: Record<string, string> = {};
  for (const [key, value] of Object.entries(labels)) rendered[key] = await renderTemplate(value, variables, services);
  return rendered;
}

/** The trigger's own `labels` property, rendered. */
export async function triggerLabels(trigger: TriggerDef, variables: Record<string, unknown>, services: TemplateServices): Promise<Record<string, string>> {
  return renderLabels(labelMap(trigger.labels), variables, services);
}

/** A trigger's `inputs` map rendered with its variables (`{{ trigger.date | date('yyyy') }}`). */
export async function renderTriggerInputs(
  inputs: unknown,
  variables: Record<string, unknown>,
  services: TemplateServices,
): Promise<Record<string, unknown>> {
  if (inputs === undefined || inputs === null) return {};
  if (typeof inputs !== 'object' || Array.isArray(inputs)) throw new Error('trigger inputs must be a map of input id to value');
  return (await renderValue(inputs, variables, services)) as Record<string, unknown>;
}
