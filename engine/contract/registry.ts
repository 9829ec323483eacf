/**
 * One generic registry for every plugin kind: a record of definitions read by type string or alias.
 * Each kind keeps one list (plugins/registry.ts, triggers/registry.ts, …); adding a plugin is one line there.
 */
import type { PluginDefinition } from './definition.ts';
import type { PluginKind } from './schema.ts';
import { didYouMean } from './suggest.ts';

/** A type string found in a registry: the plugin, and whether it was named by an older alias. */
export interface PluginLookup<T> {
  plugin: T;
  /** The alias written, when the current type was not: resolving it is a warning. */
  alias?: string;
}

/** Thrown at start when two plugins of a kind claim the same name: a programming error. */
export class DuplicatePluginError extends Error {
  override readonly name = 'DuplicatePluginError';
}

export class PluginRegistry<T extends Pick<PluginDefinition, 'type' | 'aliases'>> {
  private readonly byName = new Map<string, T>();

  constructor(
    readonly kind: PluginKind,
    private readonly plugins: readonly T[],
  ) {
    for (const plugin of plugins) {
      for (const name of [plugin.type, ...(plugin.aliases ?? [])]) {
        if (this.byName.has(name)) throw new DuplicatePluginError(`${kind} type registered twice: ${name}`);
        this.byName.set(name, plugin);
      }
    }
  }

  /** The plugin for a type string or one of its aliases; undefined when unknown. */
  find(type: string): T | undefined {
    return this.byName.get(type);
  }

  /** The plugin and, when an alias was written, that alias (for the deprecation warning). */
  lookup(type: string): PluginLookup<T> | undefined {
    const plugin = this.byName.get(type);
    if (!plugin) return undefined;
    return plugin.type === type ? { plugin } : { plugin, alias: type };
  }

  /** Every plugin of the kind, each once, in registration order. */
  all(): readonly T[] {
    return this.plugins;
  }

  /** Every accepted type string, aliases included. */
  names(): string[] {
    return [...this.byName.keys()];
  }

  /** The closest known type string to a misspelt one, for a "did you mean" hint. */
  suggest(type: string): string | undefined {
    return didYouMean(type, this.names());
  }
}
