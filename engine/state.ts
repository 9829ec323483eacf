/**
 * The whole execution and task-run state model, as Kestra's `State.Type`.
 * Nobody compares raw state strings elsewhere: ask this file.
 */

export const STATES = [
  'CREATED',
  'QUEUED',
  'RUNNING',
  'PAUSED',
  'RESTARTED',
  'KILLING',
  'RETRYING',
  'SUCCESS',
  'WARNING',
  'FAILED',
  'KILLED',
  'CANCELLED',
  'RETRIED',
  'SKIPPED',
  'RESUBMITTED',
] as const;

export type StateType = (typeof STATES)[number];

const TERMINAL: ReadonlySet<StateType> = new Set([
  'SUCCESS',
  'WARNING',
  'FAILED',
  'KILLED',
  'CANCELLED',
  'RETRIED',
  'SKIPPED',
  'RESUBMITTED',
]);

/** Allowed transitions. A terminal state may only move on through restart (→ RESTARTED). */
const TRANSITIONS: Record<StateType, readonly StateType[]> = {
  CREATED: ['QUEUED', 'RUNNING', 'SKIPPED', 'CANCELLED', 'FAILED', 'KILLING', 'KILLED'],
  QUEUED: ['RUNNING', 'CANCELLED', 'KILLING', 'KILLED', 'FAILED'],
  // RESUBMITTED: an attempt whose worker lost its lease (crash, stop); the task run runs again elsewhere.
  RUNNING: ['SUCCESS', 'WARNING', 'FAILED', 'KILLING', 'KILLED', 'PAUSED', 'RETRYING', 'RUNNING', 'RESUBMITTED'],
  PAUSED: ['RUNNING', 'KILLING', 'KILLED', 'FAILED'],
  // SKIPPED: a task run that runs again after a restart and whose runIf is now false.
  RESTARTED: ['RUNNING', 'QUEUED', 'KILLING', 'KILLED', 'CANCELLED', 'FAILED', 'SKIPPED'],
  KILLING: ['KILLED', 'FAILED', 'SUCCESS', 'WARNING'],
  RETRYING: ['RUNNING', 'RETRIED', 'KILLING', 'KILLED', 'FAILED'],
  SUCCESS: ['RESTARTED'],
  WARNING: ['RESTARTED'],
  FAILED: ['RESTARTED', 'RETRIED'],
  KILLED: ['RESTARTED'],
  CANCELLED: ['RESTARTED'],
  RETRIED: [],
  SKIPPED: [],
  RESUBMITTED: [],
};

export function isState(value: unknown): value is StateType {
  return typeof value === 'string' && (STATES as readonly string[]).includes(value);
}

/** Terminated: nothing more will happen without a restart. */
export function isTerminal(state: StateType): boolean {
  return TERMINAL.has(state);
}

/** Created but not started yet (Kestra's `isCreated`). */
export function isCreated(state: StateType): boolean {
  return state === 'CREATED' || state === 'RESTARTED';
}

/** Running or being killed: counts against concurrency limits. */
export function isRunning(state: StateType): boolean {
  return state === 'RUNNING' || state === 'KILLING' || state === 'PAUSED';
}

/** A state that fails the parent: FAILED or KILLED. */
export function isFailure(state: StateType): boolean {
  return state === 'FAILED' || state === 'KILLED';
}

/** A successful end: SUCCESS, WARNING or SKIPPED. */
export function isSuccessful(state: StateType): boolean {
  return state === 'SUCCESS' || state === 'WARNING' || state === 'SKIPPED';
}

/** Exit code of `baton run` for a final state. */
export function exitCodeOf(state: StateType): number {
  return state === 'SUCCESS' || state === 'WARNING' ? 0 : 1;
}

export function canTransition(from: StateType, to: StateType): boolean {
  return TRANSITIONS[from].includes(to);
}

export class IllegalTransitionError extends Error {
  constructor(
    readonly from: StateType,
    readonly to: StateType,
    readonly subject: string,
  ) {
    super(`illegal state transition ${from} → ${to} for ${subject}`);
    this.name = 'IllegalTransitionError';
  }
}

export interface StateHistoryEntry {
  state: StateType;
  date: string;
}

/** Kestra's `State`: the current state plus its timed history. */
export interface State {
  current: StateType;
  histories: StateHistoryEntry[];
  startDate: string;
  endDate?: string;
  duration?: string;
}

export function newState(initial: StateType = 'CREATED', at: Date = new Date()): State {
  const date = at.toISOString();
  return { current: initial, histories: [{ state: initial, date }], startDate: date };
}

/** Returns a new State moved to `to`, checking the transition is allowed. */
export function transition(state: State, to: StateType, subject: string, at: Date = new Date()): State {
  if (!canTransition(state.current, to)) throw new IllegalTransitionError(state.current, to, subject);
  const date = at.toISOString();
  const next: State = {
    current: to,
    histories: [...state.histories, { state: to, date }],
    startDate: state.startDate,
  };
  if (isTerminal(to)) {
    next.endDate = date;
    next.duration = isoDuration(Date.parse(date) - Date.parse(state.startDate));
  }
  return next;
}

/**
 * The state a parent takes from its children, as Kestra's `guessFinalState`:
 * any FAILED → FAILED, else any KILLED → KILLED, else any WARNING → WARNING, else SUCCESS.
 */
export function mergeChildStates(children: Iterable<StateType>): StateType {
  let result: StateType = 'SUCCESS';
  for (const s of children) {
    if (s === 'FAILED') return 'FAILED';
    if (s === 'KILLED') result = 'KILLED';
    else if (s === 'WARNING' && result === 'SUCCESS') result = 'WARNING';
  }
  return result;
}

/** ISO-8601 duration of milliseconds, e.g. PT1.234S, as Kestra prints Java Durations. */
export function isoDuration(ms: number): string {
  const neg = ms < 0;
  let rest = Math.abs(ms);
  const h = Math.floor(rest / 3_600_000);
  rest -= h * 3_600_000;
  const m = Math.floor(rest / 60_000);
  rest -= m * 60_000;
  const s = rest / 1000;
  let out = 'PT';
  if (h) out += `${h}H`;
  if (m) out += `${m}M`;
  if (s || (!h && !m)) out += `${Number(s.toFixed(3))}S`;
  return neg ? `-${out}` : out;
}
