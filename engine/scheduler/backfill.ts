/**
 * A backfill: one execution per schedule date in [start, end], oldest first, stored on the trigger row
 * (Kestra's Trigger `backfill`). `currentDate` walks forward; `done` of `total` dates have been evaluated.
 */
import { labelMap, parseZoned, type ScheduleCron } from '../triggers/index.ts';

export interface BackfillState {
  /** ISO-8601 instants. */
  start: string;
  end: string;
  /** The first date not evaluated yet. */
  currentDate: string;
  paused: boolean;
  /** Merged over the trigger's own inputs (rendered the same way). */
  inputs: Record<string, unknown> | null;
  /** Added to the trigger's labels, with `system.backfill: true`. */
  labels: Record<string, string> | null;
  /** Dates evaluated (an execution created, or skipped by conditions or invalid inputs) of `total`. */
  done: number;
  total: number;
  /** The execution of the last date: the next one waits for it to end. */
  executionId: string | null;
  /** Every date has been evaluated. */
  ended: boolean;
}

/** What `PUT /api/v1/triggers` carries in `backfill`. */
export interface BackfillRequest {
  start?: unknown;
  end?: unknown;
  inputs?: unknown;
  labels?: unknown;
  paused?: unknown;
}

/** More dates than this in one backfill is refused: it is almost certainly a mistaken range. */
export const MAX_BACKFILL_DATES = 50_000;

/** Counting dates is CPU work (croner in an IANA zone: ~0.1 ms a date): the event loop gets a turn this often. */
const COUNT_SLICE = 2_000;

/** A backfill that cannot be accepted as asked (HTTP 400); says which field and why. */
export class BackfillRequestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BackfillRequestError';
  }
}

function dateField(value: unknown, name: string, cron: ScheduleCron): Date {
  if (typeof value !== 'string' || value.trim() === '') throw new BackfillRequestError(`backfill.${name} must be an ISO-8601 date-time`);
  const date = parseZoned(value, cron.zone);
  if (!date) throw new BackfillRequestError(`backfill.${name} '${value}' is not an ISO-8601 date or date-time`);
  return date;
}

/** A new backfill from a request; `end` defaults to now. A date without offset is read in the trigger's zone. */
export async function newBackfill(request: BackfillRequest, cron: ScheduleCron, now: Date): Promise<BackfillState> {
  const start = dateField(request.start, 'start', cron);
  const end = request.end === undefined || request.end === null ? now : dateField(request.end, 'end', cron);
  if (end < start) throw new BackfillRequestError(`backfill.end (${end.toISOString()}) is before backfill.start (${start.toISOString()})`);
  if (request.inputs !== undefined && request.inputs !== null && (typeof request.inputs !== 'object' || Array.isArray(request.inputs))) {
    throw new BackfillRequestError('backfill.inputs must be a map of input id to value');
  }
  let total = 0;
  for (let date = cron.atOrAfter(start); date && date <= end; date = cron.next(date)) {
    if (++total > MAX_BACKFILL_DATES) {
      throw new BackfillRequestError(`the backfill covers more than ${MAX_BACKFILL_DATES} schedule dates; choose a shorter range`);
    }
    if (total % COUNT_SLICE === 0) await new Promise<void>((resolve) => setImmediate(resolve));
  }
  const labels = labelMap(request.labels);
  return {
    start: start.toISOString(),
    end: end.toISOString(),
    currentDate: start.toISOString(),
    paused: request.paused === true,
    inputs: (request.inputs as Record<string, unknown> | undefined) ?? null,
    labels: Object.keys(labels).length ? labels : null,
    done: 0,
    total,
    executionId: null,
    ended: total === 0,
  };
}

/** The backfill stored on a trigger row, or null. */
export function readBackfill(value: unknown): BackfillState | null {
  if (!value || typeof value !== 'object') return null;
  const b = value as Partial<BackfillState>;
  if (typeof b.start !== 'string' || typeof b.end !== 'string' || typeof b.currentDate !== 'string') return null;
  return {
    start: b.start,
    end: b.end,
    currentDate: b.currentDate,
    paused: b.paused === true,
    inputs: b.inputs ?? null,
    labels: b.labels ?? null,
    done: typeof b.done === 'number' ? b.done : 0,
    total: typeof b.total === 'number' ? b.total : 0,
    executionId: typeof b.executionId === 'string' ? b.executionId : null,
    ended: b.ended === true,
  };
}

/** True while the scheduler has dates of it to evaluate. */
export function isActive(backfill: BackfillState | null): backfill is BackfillState {
  return backfill !== null && !backfill.paused && !backfill.ended;
}
