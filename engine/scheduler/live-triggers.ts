import { applyPluginDefaults } from '../flow/index.ts';
import type { FlowDef, TriggerDef } from '../flow/types.ts';
import type { FlowSource } from '../executor/index.ts';
import { findTrigger, scheduleTrigger } from '../triggers/index.ts';
import type { TriggerKey } from './trigger-store.ts';

/**
 * Where the scheduler finds live flows: the newest revision of each flow ever synced (a deleted flow's
 * newest revision records its deletion, so `find` gives nothing for it), and a revision's definition.
 * The sync's FlowStore is one (`latestRevisions()` and `flowSource().find`).
 */
export interface LiveFlowSource {
  /** `namespace/id` → newest revision. Called every tick: it must be cheap. */
  latestRevisions(): Promise<Map<string, number>>;
  find: FlowSource['find'];
}

/** One trigger of a live flow, its plugin defaults applied. */
export interface LiveTrigger {
  key: TriggerKey;
  flow: FlowDef;
  revision: number;
  commitSha: string | null;
  trigger: TriggerDef;
}

interface CachedFlow {
  revision: number;
  /** Undefined for a deleted flow. */
  flow?: FlowDef;
  commitSha: string | null;
}

/** The flow with every trigger's plugin defaults applied (Kestra applies them to triggers too). */
export function withTriggerDefaults(flow: FlowDef): FlowDef {
  if (!flow.triggers?.length || !flow.pluginDefaults?.length) return flow;
  return { ...flow, triggers: flow.triggers.map((t) => applyPluginDefaults(t, flow.pluginDefaults) as TriggerDef) };
}

function isSchedule(trigger: TriggerDef): boolean {
  return findTrigger(trigger.type)?.type === scheduleTrigger.type;
}

/**
 * The triggers of one kind (Schedule by default) of every live flow. Definitions are loaded once per
 * revision: a call costs one query when nothing changed, none when the last one is younger than
 * `maxAgeMs` (the Flow trigger dispatcher asks on every execution state change).
 */
export class LiveTriggers {
  private readonly cache = new Map<string, CachedFlow>();
  private last: { at: number; loading: Promise<LiveTrigger[]> } | undefined;

  /** `accepts` picks the triggers of one kind (Schedule by default; the Flow trigger dispatcher picks its own). */
  constructor(
    private readonly source: LiveFlowSource,
    private readonly accepts: (trigger: TriggerDef) => boolean = isSchedule,
    private readonly maxAgeMs = 0,
  ) {}

  /** Every trigger of the kind of every live flow, disabled ones included (the scheduler records that). */
  load(): Promise<LiveTrigger[]> {
    const now = performance.now();
    if (this.last && now - this.last.at <= this.maxAgeMs) return this.last.loading;
    const loading = this.read();
    this.last = { at: now, loading };
    loading.catch(() => {
      if (this.last?.loading === loading) this.last = undefined;
    });
    return loading;
  }

  /** How many triggers the last load found; undefined before one has completed. */
  private lastCount: number | undefined;

  /**
   * Whether any trigger of the kind may be live, without waiting: the last load's answer (at most
   * `maxAgeMs` old while state changes keep loading it), and yes before any load has completed.
   */
  mayHaveAny(): boolean {
    return this.lastCount === undefined || this.lastCount > 0;
  }

  private async read(): Promise<LiveTrigger[]> {
    const revisions = await this.source.latestRevisions();
    for (const key of this.cache.keys()) if (!revisions.has(key)) this.cache.delete(key);
    const schedules: LiveTrigger[] = [];
    for (const [key, revision] of revisions) {
      let cached = this.cache.get(key);
      if (!cached || cached.revision !== revision) {
        const slash = key.indexOf('/');
        const resolved = await this.source.find(key.slice(0, slash), key.slice(slash + 1), revision);
        cached = { revision, flow: resolved ? withTriggerDefaults(resolved.flow) : undefined, commitSha: resolved?.commitSha ?? null };
        this.cache.set(key, cached);
      }
      const flow = cached.flow;
      if (!flow) continue;
      for (const trigger of flow.triggers ?? []) {
        if (!this.accepts(trigger)) continue;
        schedules.push({
          key: { namespace: flow.namespace, flowId: flow.id, triggerId: trigger.id },
          flow,
          revision,
          commitSha: cached.commitSha,
          trigger,
        });
      }
    }
    this.lastCount = schedules.length;
    return schedules;
  }
}
