import type { Db, DatabaseDriver } from '../../db/index.ts';
import { parseIsoDuration } from '../duration.ts';
import type { Engine, ExecutionRun } from '../executor/index.ts';
import { InputValidationError } from '../inputs/index.ts';
import { isTerminal } from '../state.ts';
import { TemplateError } from '../template/index.ts';
import {
  conditionsHold, flowVariable, hasScheduleConditions, renderLabels, renderTriggerInputs, ScheduleCron, scheduleTrigger,
  systemZoneId, triggerLabels, triggerTemplateServices,
} from '../triggers/index.ts';
import { isActive, readBackfill, type BackfillState } from './backfill.ts';
import { LiveTriggers, type LiveFlowSource, type LiveTrigger } from './live-triggers.ts';
import { keyOf, rowDate, TriggerStore, type ClaimedTrigger, type TriggerPatch, type TriggerRow } from './trigger-store.ts';

export type SchedulerLog = (level: 'info' | 'warn' | 'error', message: string, data?: unknown) => void;

export interface SchedulerOptions {
  database: { db: Db; driver?: DatabaseDriver };
  engine: Engine;
  flows: LiveFlowSource;
  /** The scheduler's clock (tests move it by hand). Default: the system clock. */
  now?: () => Date;
  /** Between two ticks of `start()`. Default 1 s. */
  intervalMs?: number;
  /** Zone of Schedules without `timezone`. Default: this process's zone, as Kestra uses the server's. */
  defaultTimeZone?: string;
  /**
   * A date is "missed" (recoverMissedSchedules applies to it) when it was due this long before the
   * scheduler first looked at the trigger. Default: two intervals, so a date that fell due between
   * the ticks of another scheduler on the same database is never taken for a missed one.
   */
  missedAfterMs?: number;
  /** Dates of one trigger evaluated per tick at most; a longer backlog continues on the next ticks. Default 100. */
  maxDatesPerTick?: number;
  log?: SchedulerLog;
}

/** How many schedule dates are tried to find the next (previous) one whose conditions hold. */
const CONDITION_LOOKAROUND = 500;

type RecoverMissedSchedules = 'ALL' | 'LAST' | 'NONE';

/**
 * Evaluates the Schedule triggers of every live flow and creates their executions: scheduled dates,
 * missed dates after downtime (`recoverMissedSchedules`), and backfills.
 *
 * State lives in the `triggers` table, one row per trigger, and is read, changed and written under a
 * claim on that row, so several schedulers on one PostgreSQL database evaluate each trigger once. The
 * execution of a date is created while the claim is held; on PostgreSQL the new state commits just
 * after it. Should the process die between the two, the next claim finds the execution of that date
 * (by `trigger.id` and `trigger.date`) and records it instead of creating another: no date fires twice
 * and none is skipped.
 */
export class Scheduler {
  private readonly store: TriggerStore;
  private readonly live: LiveTriggers;
  private readonly now: () => Date;
  private readonly intervalMs: number;
  private readonly missedAfterMs: number;
  private readonly maxDatesPerTick: number;
  private readonly defaultTimeZone: string;
  private readonly log: SchedulerLog;
  /** Triggers this instance has evaluated: the first evaluation applies recoverMissedSchedules. */
  private readonly seen = new Set<string>();
  private readonly crons = new Map<string, { revision: number; cron?: ScheduleCron; error?: string }>();
  private readonly runs = new Set<Promise<void>>();
  private current: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(private readonly options: SchedulerOptions) {
    this.store = new TriggerStore(options.database.db);
    this.live = new LiveTriggers(options.flows);
    this.now = options.now ?? (() => new Date());
    this.intervalMs = options.intervalMs ?? 1_000;
    this.missedAfterMs = options.missedAfterMs ?? 2 * this.intervalMs;
    this.maxDatesPerTick = options.maxDatesPerTick ?? 100;
    this.defaultTimeZone = options.defaultTimeZone ?? systemZoneId();
    this.log = options.log ?? (() => {});
  }

  /** Ticks now, then every interval until `stop()`. */
  start(): void {
    if (this.timer || this.stopped) return;
    const loop = async () => {
      await this.tick().catch((error: unknown) => this.log('error', `scheduler tick failed: ${(error as Error).message}`));
      if (!this.stopped) this.timer = setTimeout(() => void loop(), this.intervalMs);
    };
    this.timer = setTimeout(() => void loop(), 0);
  }

  /** Stops ticking and waits for the tick in progress. Executions already started go on. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.current?.catch(() => {});
  }

  /** Resolves once every execution this scheduler started has ended. */
  async idle(): Promise<void> {
    while (this.runs.size) await Promise.allSettled([...this.runs]);
  }

  /**
   * One pass over every live Schedule trigger at `now()`: creates the executions of due dates and
   * advances backfills. A tick already in progress is waited for instead of overlapped.
   */
  tick(): Promise<void> {
    this.current ??= this.runTick().finally(() => {
      this.current = undefined;
    });
    return this.current;
  }

  private async runTick(): Promise<void> {
    const now = this.now();
    const schedules = await this.live.load();
    const liveKeys = new Set(schedules.map((s) => keyOf(s.key)));
    const rows = new Map<string, TriggerRow>();
    for (const row of await this.store.all()) {
      const key = keyOf(row);
      if (liveKeys.has(key)) {
        rows.set(key, row);
      } else {
        // Its flow was deleted or no longer declares it (in Git): it stops, and its state goes.
        await this.store.remove(row);
        this.seen.delete(key);
      }
    }
    await this.store.ensure(schedules.filter((s) => !rows.has(keyOf(s.key))).map((s) => s.key));
    for (const schedule of schedules) {
      const row = rows.get(keyOf(schedule.key));
      if (row && !this.needsClaim(schedule, row, now)) continue;
      try {
        await this.store.claim(schedule.key, 'skip', (claimed) => this.evaluate(schedule, claimed, now));
      } catch (error) {
        this.log('error', `trigger ${keyOf(schedule.key)} could not be evaluated: ${(error as Error).message}`, { error });
      }
    }
  }

  /** The cron of a trigger, built once per flow revision; undefined (reported once) when it cannot be used. */
  private cronOf(schedule: LiveTrigger): ScheduleCron | undefined {
    const key = keyOf(schedule.key);
    let entry = this.crons.get(key);
    if (!entry || entry.revision !== schedule.revision) {
      try {
        entry = { revision: schedule.revision, cron: ScheduleCron.of(schedule.trigger, this.defaultTimeZone) };
      } catch (error) {
        entry = { revision: schedule.revision, error: (error as Error).message };
        this.log('error', `trigger ${key} is not evaluated: ${entry.error}`);
      }
      this.crons.set(key, entry);
    }
    return entry.cron;
  }

  private isInactive(schedule: LiveTrigger, row: TriggerRow): boolean {
    return schedule.flow.disabled === true || schedule.trigger.disabled === true || row.disabled;
  }

  /** Cheap look at the row read for the whole tick: only triggers with something to do are claimed. */
  private needsClaim(schedule: LiveTrigger, row: TriggerRow, now: Date): boolean {
    const cron = this.cronOf(schedule);
    if (!cron) return false;
    if (this.isInactive(schedule, row)) return !row.suspended;
    if (row.suspended || !this.seen.has(keyOf(schedule.key))) return true;
    if (row.nextDate === null || row.schedule !== cron.signature) return true;
    if (rowDate(row.nextDate)! <= now) return true;
    return isActive(readBackfill(row.backfill));
  }

  /** Under the claim: brings the trigger's state up to `now`, firing what is due. */
  private async evaluate(schedule: LiveTrigger, claimed: ClaimedTrigger, now: Date): Promise<void> {
    const key = keyOf(schedule.key);
    const cron = this.cronOf(schedule);
    if (!cron) return;
    const row = claimed.row;
    const patch: TriggerPatch = {};
    let next = rowDate(row.nextDate);
    let last = rowDate(row.lastDate);
    const fresh = next === null || row.schedule !== cron.signature;
    if (fresh) {
      // New trigger, or its cron/zone changed: the dates before now are not owed (Kestra starts from now).
      next = cron.next(last && last > now ? last : now);
      patch.schedule = cron.signature;
      patch.nextDate = next?.toISOString() ?? null;
    }
    if (this.isInactive(schedule, row)) {
      // Its state starts now even while disabled, so that enabling it knows which dates were missed.
      if (!row.suspended || fresh) await claimed.update({ ...patch, suspended: true });
      return;
    }
    if (!fresh && next) {
      // Enabled again, or first look since this scheduler started: dates may have been missed.
      if (row.suspended) next = this.recover(schedule, cron, next, now, 'enabled');
      else if (!this.seen.has(key)) next = this.recover(schedule, cron, next, now, 'downtime');
    }
    if (row.suspended) patch.suspended = false;

    let executionId = row.executionId;
    const lateMs = this.lateMaximumDelay(schedule);
    for (let count = 0; next && next <= now && count < this.maxDatesPerTick; count++) {
      const date = next;
      next = cron.next(date);
      last = date;
      if (lateMs !== undefined && date.getTime() + lateMs < now.getTime()) {
        this.log('warn', `trigger ${key}: ${cron.format(date)} is later than lateMaximumDelay (${String(schedule.trigger.lateMaximumDelay)}); skipped`);
        continue;
      }
      executionId = (await this.fire(schedule, cron, date, null)) ?? executionId;
    }
    patch.nextDate = next?.toISOString() ?? null;
    patch.lastDate = last?.toISOString() ?? null;
    patch.executionId = executionId;

    const backfill = readBackfill(row.backfill);
    if (isActive(backfill)) {
      const stepped = await this.stepBackfill(schedule, cron, backfill);
      if (stepped) {
        patch.backfill = stepped;
        if (stepped.executionId) patch.executionId = stepped.executionId;
      }
    }
    await claimed.update(patch);
    this.seen.add(key);
  }

  /**
   * The first date to evaluate when dates were missed, per `recoverMissedSchedules` (default ALL):
   * after the scheduler was down, ALL fires every missed date, LAST the latest, NONE none. After the
   * trigger (or its flow) was disabled, as in Kestra, only LAST fires one: the dates of a disabled
   * trigger are not owed.
   */
  private recover(schedule: LiveTrigger, cron: ScheduleCron, next: Date, now: Date, after: 'downtime' | 'enabled'): Date | null {
    const missedBefore = new Date(now.getTime() - this.missedAfterMs);
    if (next > missedBefore) return next;
    const policy = (schedule.trigger.recoverMissedSchedules ?? 'ALL') as RecoverMissedSchedules;
    if (policy === 'LAST') return cron.atOrBefore(missedBefore) ?? next;
    if (policy === 'NONE' || after === 'enabled') return cron.next(missedBefore);
    return next;
  }

  private lateMaximumDelay(schedule: LiveTrigger): number | undefined {
    const value = schedule.trigger.lateMaximumDelay;
    if (typeof value !== 'string') return undefined;
    try {
      return parseIsoDuration(value);
    } catch (error) {
      this.log('warn', `trigger ${keyOf(schedule.key)}: lateMaximumDelay ignored: ${(error as Error).message}`);
      return undefined;
    }
  }

  /**
   * One backfill date: waits for the execution of the previous one to end (the seed's pipelines share
   * a staging table, and the flow's `concurrency` is not enforced yet, so dates never overlap), then
   * creates the next date's execution. Dates whose conditions do not hold are passed over in the same
   * step. Undefined when nothing changed.
   */
  private async stepBackfill(schedule: LiveTrigger, cron: ScheduleCron, backfill: BackfillState): Promise<BackfillState | undefined> {
    if (backfill.executionId && !(await this.hasEnded(backfill.executionId))) return undefined;
    const end = new Date(backfill.end);
    let state: BackfillState = { ...backfill, executionId: null };
    for (let count = 0; count < this.maxDatesPerTick; count++) {
      const date = cron.atOrAfter(new Date(state.currentDate));
      if (!date || date > end) return { ...state, ended: true };
      const executionId = await this.fire(schedule, cron, date, backfill);
      const after = cron.next(date);
      state = {
        ...state,
        done: state.done + 1,
        currentDate: (after ?? new Date(date.getTime() + 1000)).toISOString(),
        executionId: executionId ?? null,
        ended: !after || after > end,
      };
      if (executionId || state.ended) return state;
    }
    return state;
  }

  private async hasEnded(executionId: string): Promise<boolean> {
    if (this.options.engine.runningExecution(executionId)) return false;
    const state = await this.options.engine.resources.repository.findState(executionId);
    return state === undefined || isTerminal(state);
  }

  /**
   * Creates (and starts) the execution of one schedule date, unless its conditions do not hold or it
   * cannot be created (invalid inputs: reported, and the date is passed over as Kestra fails it).
   * Resolves to the execution id: a new one, or the one a previous claim already created for the date.
   */
  private async fire(schedule: LiveTrigger, cron: ScheduleCron, date: Date, backfill: BackfillState | null): Promise<string | undefined> {
    const { engine } = this.options;
    const key = keyOf(schedule.key);
    const services = triggerTemplateServices(engine.resources, schedule.flow.namespace);
    const flow = flowVariable(schedule.flow, schedule.revision);
    const dates = (at: Date, next: Date | null, previous: Date | null): Record<string, unknown> => ({
      id: schedule.trigger.id,
      type: scheduleTrigger.type,
      date: cron.format(at),
      ...(next ? { next: cron.format(next) } : {}),
      ...(previous ? { previous: cron.format(previous) } : {}),
    });
    let variables = dates(date, cron.next(date), cron.previous(date));
    const conditions = schedule.trigger.conditions;
    try {
      if (hasScheduleConditions(conditions)) {
        const holds = async (at: Date) => {
          const trigger = dates(at, cron.next(at), cron.previous(at));
          return conditionsHold(conditions, { variables: { flow, trigger, schedule: trigger }, services, kind: 'schedule', now: at });
        };
        if (!(await holds(date))) return undefined;
        // Kestra's next and previous are the dates whose conditions hold too.
        variables = dates(date, await this.neighbour(cron, date, 'next', holds), await this.neighbour(cron, date, 'previous', holds));
      }
    } catch (error) {
      this.log('error', `trigger ${key}: conditions could not be evaluated for ${cron.format(date)}; date skipped: ${(error as Error).message}`);
      return undefined;
    }

    const existing = await this.store.executionFor(schedule.key, scheduleTrigger.type, String(variables.date), backfill !== null);
    if (existing) return existing;

    const scope = { flow, trigger: variables, schedule: variables };
    let run: ExecutionRun;
    try {
      const inputs = {
        ...(await renderTriggerInputs(schedule.trigger.inputs, scope, services)),
        ...(backfill?.inputs ? await renderTriggerInputs(backfill.inputs, scope, services) : {}),
      };
      const labels = {
        ...(await triggerLabels(schedule.trigger, scope, services)),
        ...(backfill?.labels ? await renderLabels(backfill.labels, scope, services) : {}),
        ...(backfill ? { 'system.backfill': 'true' } : {}),
      };
      run = await engine.create({
        flow: schedule.flow,
        revision: schedule.revision,
        commitSha: schedule.commitSha,
        inputs,
        labels,
        trigger: variables,
      });
    } catch (error) {
      if (error instanceof InputValidationError || error instanceof TemplateError) {
        this.log('error', `trigger ${key}: no execution for ${String(variables.date)}: ${(error as Error).message}`, { error });
        return undefined;
      }
      throw error;
    }
    this.launch(run);
    return run.execution.id;
  }

  private async neighbour(cron: ScheduleCron, date: Date, direction: 'next' | 'previous', holds: (at: Date) => Promise<boolean>): Promise<Date | null> {
    let at: Date | null = date;
    for (let i = 0; i < CONDITION_LOOKAROUND; i++) {
      at = direction === 'next' ? cron.next(at) : cron.previous(at);
      if (!at) return null;
      if (await holds(at)) return at;
    }
    return direction === 'next' ? cron.next(date) : cron.previous(date);
  }

  private launch(run: ExecutionRun): void {
    const { engine } = this.options;
    // In a scheduler-only process the execution goes to the workers; elsewhere it runs here.
    const done = (engine.role.runsExecutions ? engine.run(run) : engine.start(run)).then(
      () => undefined,
      (error: unknown) => this.log('error', `execution ${run.execution.id} crashed: ${(error as Error).message}`, { error }),
    );
    this.runs.add(done);
    void done.finally(() => this.runs.delete(done));
  }
}
