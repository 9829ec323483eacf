import { PluginRegistry } from '../contract/index.ts';
import { flowTrigger } from './flow.ts';
import { schedule } from './schedule.ts';
import type { TriggerType } from './types.ts';
import { webhook } from './webhook.ts';

/** Every trigger type. Adding one is one file and one line here. */
const TRIGGERS: readonly TriggerType[] = [schedule, webhook, flowTrigger];

/** Every trigger type, read by type string or alias. */
export const TRIGGERS_REGISTRY = new PluginRegistry<TriggerType>('trigger', TRIGGERS);

/** The trigger type for a type string (or one of its aliases), undefined when unknown. */
export function findTrigger(type: string): TriggerType | undefined {
  return TRIGGERS_REGISTRY.find(type);
}

/** All trigger types, each once. */
export function allTriggers(): readonly TriggerType[] {
  return TRIGGERS_REGISTRY.all();
}

/** All accepted trigger type strings, aliases included (for "did you mean" hints). */
export function allTriggerTypeNames(): string[] {
  return TRIGGERS_REGISTRY.names();
}
