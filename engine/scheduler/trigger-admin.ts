/**
 * What the triggers API changes on a trigger's state: backfills (set, pause, unpause, delete) and the
 * API-level `disabled` flag, each under the same claim the scheduler takes, and the state as served.
 */
import type { Db } from '../../db/index.ts';
import type { FlowDef, TriggerDef } from '../flow/types.ts';
import { findTrigger, ScheduleCron, ScheduleDefinitionError, scheduleTrigger, systemZoneId } from '../triggers/index.ts';
import { BackfillRequestError, newBackfill, readBackfill, type BackfillRequest, type BackfillState } from './backfill.ts';
import { withTriggerDefaults } from './live-triggers.ts';
import { keyOf, rowDate, TriggerStore, type TriggerKey, type TriggerPatch, type TriggerRow, type TriggerSearch } from './trigger-store.ts';

/** The flow has no trigger of that id (HTTP 404). */
export class TriggerNotFoundError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TriggerNotFoundError';
  }
}

/** The trigger's state forbids the change (HTTP 409): a backfill already runs. */
export class TriggerStateConflictError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TriggerStateConflictError';
  }
}

/** A trigger's state as the API serves it (Kestra's Trigger context, trimmed). */
export interface TriggerView {
  namespace: string;
  flowId: string;
  triggerId: string;
  /** The last schedule date evaluated. */
  date: string | null;
  nextExecutionDate: string | null;
  /** Disabled through the API. */
  disabled: boolean;
  /** The last execution the trigger created. */
  executionId: string | null;
  updatedDate: string;
  backfill: BackfillState | null;
}

/** A trigger row as the API serves it. */
export function triggerView(row: TriggerRow): TriggerView {
  return {
    namespace: row.namespace,
    flowId: row.flowId,
    triggerId: row.triggerId,
    date: rowDate(row.lastDate)?.toISOString() ?? null,
    nextExecutionDate: rowDate(row.nextDate)?.toISOString() ?? null,
    disabled: row.disabled,
    executionId: row.executionId,
    updatedDate: rowDate(row.updatedAt)!.toISOString(),
    backfill: readBackfill(row.backfill),
  };
}

export class TriggerAdmin {
  private readonly store: TriggerStore;
  private readonly now: () => Date;
  private readonly defaultTimeZone: string;

  constructor(db: Db, options: { now?: () => Date; defaultTimeZone?: string } = {}) {
    this.store = new TriggerStore(db);
    this.now = options.now ?? (() => new Date());
    this.defaultTimeZone = options.defaultTimeZone ?? systemZoneId();
  }

  /** Trigger states of a namespace (and those below it, unless `exactNamespace`) and/or a flow, paged from 1. */
  async search(filter: TriggerSearch): Promise<{ results: TriggerView[]; total: number }> {
    const { rows, total } = await this.store.search(filter);
    return { results: rows.map(triggerView), total };
  }

  /** Starts a backfill of the Schedule trigger `triggerId` of `flow` (the live revision). */
  async setBackfill(flow: FlowDef, triggerId: string, request: BackfillRequest): Promise<TriggerView> {
    const trigger = this.scheduleOf(flow, triggerId, 'backfill');
    let cron: ScheduleCron;
    try {
      cron = ScheduleCron.of(trigger, this.defaultTimeZone);
    } catch (error) {
      if (error instanceof ScheduleDefinitionError) throw new BackfillRequestError(error.message);
      throw error;
    }
    const backfill = await newBackfill(request, cron, this.now());
    return this.change(flow, triggerId, async (row) => {
      const current = readBackfill(row.backfill);
      if (current && !current.ended) {
        throw new TriggerStateConflictError(
          `trigger ${keyOf(row)} already has a backfill (${current.done}/${current.total} done); delete it before starting another`,
        );
      }
      return { backfill };
    });
  }

  /** Pauses (or resumes) the trigger's backfill; the date in progress finishes. */
  async setBackfillPaused(flow: FlowDef, triggerId: string, paused: boolean): Promise<TriggerView> {
    this.scheduleOf(flow, triggerId, 'backfill');
    return this.change(flow, triggerId, async (row) => ({ backfill: { ...this.backfillOf(row), paused } }));
  }

  /** Drops the trigger's backfill: no further date of it is created. */
  async deleteBackfill(flow: FlowDef, triggerId: string): Promise<TriggerView> {
    this.scheduleOf(flow, triggerId, 'backfill');
    return this.change(flow, triggerId, async (row) => {
      this.backfillOf(row);
      return { backfill: null };
    });
  }

  /** Disables (or enables) the trigger without touching the flow; enabling it recovers missed dates. */
  async setDisabled(flow: FlowDef, triggerId: string, disabled: boolean): Promise<TriggerView> {
    this.scheduleOf(flow, triggerId, 'disable');
    return this.change(flow, triggerId, async () => ({ disabled }));
  }

  private backfillOf(row: TriggerRow): BackfillState {
    const backfill = readBackfill(row.backfill);
    // Kestra answers 400 here too.
    if (!backfill) throw new BackfillRequestError(`No backfill found for trigger ${keyOf(row)}`);
    return backfill;
  }

  private scheduleOf(flow: FlowDef, triggerId: string, what: 'backfill' | 'disable'): TriggerDef {
    const trigger = withTriggerDefaults(flow).triggers?.find((t) => t.id === triggerId);
    if (!trigger) throw new TriggerNotFoundError(`flow ${flow.namespace}.${flow.id} has no trigger '${triggerId}'`);
    if (findTrigger(trigger.type)?.type !== scheduleTrigger.type) {
      throw new BackfillRequestError(
        what === 'backfill'
          ? `trigger '${triggerId}' is a ${trigger.type}; only Schedule triggers can be backfilled`
          : `trigger '${triggerId}' is a ${trigger.type}; only Schedule triggers can be disabled through the API (edit the flow in Git)`,
      );
    }
    return trigger;
  }

  private async change(flow: FlowDef, triggerId: string, patchOf: (row: TriggerRow) => Promise<TriggerPatch>): Promise<TriggerView> {
    const key: TriggerKey = { namespace: flow.namespace, flowId: flow.id, triggerId };
    await this.store.ensure([key]);
    const result = await this.store.claim(key, 'wait', async (claimed) => claimed.update(await patchOf(claimed.row)));
    // The scheduler removed the row in between (the trigger left Git): as if it never existed.
    if (!result.claimed) throw new TriggerNotFoundError(`trigger ${keyOf(key)} not found`);
    return triggerView(result.value);
  }
}
