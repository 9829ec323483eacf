import type { TaskPlugin } from './types.ts';
import { log } from './core/log.ts';
import { debugReturn } from './core/return.ts';

/**
 * Every task plugin, keyed by its type string. Adding a plugin is one file and one line here.
 */
const PLUGINS: readonly TaskPlugin[] = [log, debugReturn];

const byType = new Map<string, TaskPlugin>();
for (const plugin of PLUGINS) {
  for (const name of [plugin.type, ...(plugin.aliases ?? [])]) {
    if (byType.has(name)) throw new Error(`plugin type registered twice: ${name}`);
    byType.set(name, plugin);
  }
}

/** The plugin for a type string (or one of its aliases), undefined when unknown. */
export function findPlugin(type: string): TaskPlugin | undefined {
  return byType.get(type);
}

/** All plugins, each once. */
export function allPlugins(): readonly TaskPlugin[] {
  return PLUGINS;
}

/** All accepted type strings, aliases included (for "did you mean" hints). */
export function allTypeNames(): string[] {
  return [...byType.keys()];
}
