import { flowTrigger } from './flow.ts';
import { schedule } from './schedule.ts';
import type { TriggerType } from './types.ts';
import { webhook } from './webhook.ts';

/** Every trigger type, keyed by its type string. Adding one is one file and one line here. */
const TRIGGERS: readonly TriggerType[] = [schedule, webhook, flowTrigger];

const byType = new Map<string, TriggerType>();
for (const trigger of TRIGGERS) {
  for (const name of [trigger.type, ...(trigger.aliases ?? [])]) {
    if (byType.has(name)) throw new Error(`trigger type registered twice: ${name}`);
    byType.set(name, trigger);
  }
}

/** The trigger type for a type string (or one of its aliases), undefined when unknown. */
export function findTrigger(type: string): TriggerType | undefined {
  return byType.get(type);
}

/** All trigger types, each once. */
export function allTriggers(): readonly TriggerType[] {
  return TRIGGERS;
}

/** All accepted trigger type strings, aliases included (for "did you mean" hints). */
export function allTriggerTypeNames(): string[] {
  return [...byType.keys()];
}
