import { Cron } from 'croner';
import type { TriggerDef } from '../flow/types.ts';
import { croneriseCron } from './schedule.ts';
import { formatZoned, scheduleZone, type ScheduleZone } from './zones.ts';

/** Thrown when a Schedule's `cron` or `timezone` cannot be used (the flow validator reports the same). */
export class ScheduleDefinitionError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ScheduleDefinitionError';
  }
}

/**
 * The dates of one Schedule trigger: its cron (`withSeconds`, nicknames) read in its `timezone`.
 * Every date is a whole second, as Kestra truncates them.
 */
export class ScheduleCron {
  /** `cron|withSeconds|timezone`: when it changes, dates computed with the old one are stale. */
  readonly signature: string;

  private constructor(
    private readonly cron: Cron,
    readonly zone: ScheduleZone,
    signature: string,
  ) {
    this.signature = signature;
  }

  /** Throws ScheduleDefinitionError for a bad cron or zone. `defaultZone`: Kestra uses the server's. */
  static of(def: TriggerDef, defaultZone?: string): ScheduleCron {
    if (typeof def.cron !== 'string') throw new ScheduleDefinitionError(`trigger '${def.id}' has no cron`);
    const withSeconds = def.withSeconds === true;
    let pattern: string;
    let zone: ScheduleZone;
    try {
      pattern = croneriseCron(def.cron, withSeconds);
      zone = scheduleZone(typeof def.timezone === 'string' ? def.timezone : defaultZone);
    } catch (error) {
      throw new ScheduleDefinitionError(`trigger '${def.id}': ${(error as Error).message}`, { cause: error });
    }
    const cron = new Cron(pattern, {
      paused: true,
      ...(zone.fixedOffsetMinutes !== undefined ? { utcOffset: zone.fixedOffsetMinutes } : { timezone: zone.id }),
    });
    return new ScheduleCron(cron, zone, `${def.cron.trim()}|${withSeconds}|${zone.id}`);
  }

  /** The first date strictly after `date`. */
  next(date: Date): Date | null {
    return this.cron.nextRun(date);
  }

  /** The first date at or after `date`. */
  atOrAfter(date: Date): Date | null {
    return this.cron.nextRun(new Date(date.getTime() - 1));
  }

  /** The last date strictly before `date`. */
  previous(date: Date): Date | null {
    return this.cron.previousRuns(1, date)[0] ?? null;
  }

  /** The last date at or before `date`. */
  atOrBefore(date: Date): Date | null {
    return this.previous(new Date(date.getTime() + 1));
  }

  /** `date` in the trigger's zone, as flows see it (`trigger.date`). */
  format(date: Date): string {
    return formatZoned(date, this.zone);
  }
}
