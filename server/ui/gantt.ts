import { isTerminal, type Execution, type StateType, type TaskRun } from '../../engine/index.ts';

/** One coloured piece of a row: an attempt, or the whole task run when it has no attempts (flowable tasks). */
export interface GanttSegment {
  state: StateType;
  /** Percent of the time axis. */
  left: number;
  width: number;
  /** Tooltip: which attempt, its state and how long it took. */
  title: string;
  running: boolean;
}

export interface GanttRow {
  taskRunId: string;
  taskId: string;
  value: string | null;
  /** Nesting level under flowable parents (0 at the top). */
  depth: number;
  state: StateType;
  running: boolean;
  /** The task run's lifetime (created → ended, or now), behind its attempts. */
  left: number;
  width: number;
  attempts: GanttSegment[];
  durationMs: number;
  duration: string;
}

export interface GanttTick {
  left: number;
  label: string;
}

export interface Gantt {
  startDate: string;
  totalMs: number;
  ticks: GanttTick[];
  rows: GanttRow[];
}

/** Narrower bars would vanish: instant tasks still get a visible sliver. */
const MIN_WIDTH = 0.4;
const TICK_STEPS_MS = [
  1, 2, 5, 10, 20, 50, 100, 200, 500, 1_000, 2_000, 5_000, 10_000, 15_000, 30_000, 60_000, 120_000, 300_000, 600_000,
  900_000, 1_800_000, 3_600_000, 7_200_000, 21_600_000, 43_200_000, 86_400_000,
];

/**
 * Lays out an execution's task runs on one time axis: rows in tree order (children right under
 * their parent), each attempt a segment; what still runs extends to `now`.
 */
export function buildGantt(execution: Execution, now: number = Date.now()): Gantt {
  const start = Date.parse(execution.state.startDate);
  let end = execution.state.endDate ? Date.parse(execution.state.endDate) : now;
  for (const run of execution.taskRunList) end = Math.max(end, runEnd(run, now));
  const totalMs = Math.max(end - start, 1);
  const pct = (ms: number) => clamp(((ms - start) / totalMs) * 100, 0, 100);
  const span = (from: number, to: number) => {
    const left = pct(from);
    return { left: round(Math.min(left, 100 - MIN_WIDTH)), width: round(Math.max(pct(to) - left, MIN_WIDTH)) };
  };

  const rows: GanttRow[] = [];
  for (const { run, depth } of treeOrder(execution.taskRunList)) {
    const from = Date.parse(run.state.startDate);
    const to = runEnd(run, now);
    const running = !isTerminal(run.state.current);
    const attempts: GanttSegment[] = run.attempts.length
      ? run.attempts.map((attempt, i) => {
          const aFrom = Date.parse(attempt.state.startDate);
          const aEnd = attempt.state.endDate ? Date.parse(attempt.state.endDate) : running ? now : to;
          const aRunning = !isTerminal(attempt.state.current);
          return {
            state: attempt.state.current,
            ...span(aFrom, aEnd),
            title: `attempt ${i + 1}: ${attempt.state.current}, ${formatDuration(aEnd - aFrom)}${aRunning ? ' so far' : ''}`,
            running: aRunning,
          };
        })
      : [{ state: run.state.current, ...span(from, to), title: `${run.state.current}, ${formatDuration(to - from)}`, running }];
    rows.push({
      taskRunId: run.id,
      taskId: run.taskId,
      value: run.value,
      depth,
      state: run.state.current,
      running,
      ...span(from, to),
      attempts,
      durationMs: to - from,
      duration: formatDuration(to - from),
    });
  }
  return { startDate: execution.state.startDate, totalMs, ticks: ticks(totalMs), rows };
}

/** Task runs depth first: each parent followed by its children, siblings in creation order. */
export function treeOrder(taskRuns: readonly TaskRun[]): { run: TaskRun; depth: number }[] {
  const ids = new Set(taskRuns.map((t) => t.id));
  const children = new Map<string | null, TaskRun[]>();
  for (const run of taskRuns) {
    // A parent that is not in the list (should not happen) must not hide its children.
    const parent = run.parentTaskRunId && ids.has(run.parentTaskRunId) ? run.parentTaskRunId : null;
    let list = children.get(parent);
    if (!list) children.set(parent, (list = []));
    list.push(run);
  }
  const out: { run: TaskRun; depth: number }[] = [];
  const walk = (parent: string | null, depth: number) => {
    for (const run of children.get(parent) ?? []) {
      out.push({ run, depth });
      walk(run.id, depth + 1);
    }
  };
  walk(null, 0);
  return out;
}

/** A short human duration: 850ms, 1.2s, 3m 04s, 2h 05m. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '';
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)}s`;
  const s = Math.floor(ms / 1000);
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

function runEnd(run: TaskRun, now: number): number {
  if (run.state.endDate) return Date.parse(run.state.endDate);
  return isTerminal(run.state.current) ? Date.parse(run.state.histories.at(-1)?.date ?? run.state.startDate) : now;
}

/** Five to ten ticks at a round step (1s, 2s, 5s, …), labelled as offsets from the start. */
function ticks(totalMs: number): GanttTick[] {
  const step = TICK_STEPS_MS.find((s) => totalMs / s <= 8) ?? TICK_STEPS_MS[TICK_STEPS_MS.length - 1];
  const out: GanttTick[] = [];
  for (let t = 0; t <= totalMs; t += step) out.push({ left: round((t / totalMs) * 100), label: tickLabel(t, step) });
  return out;
}

/** One unit per axis, chosen by the step: +200ms, +400ms… or +0.5s, +1s… or +2m, +4m… */
function tickLabel(ms: number, step: number): string {
  if (ms === 0) return '0';
  if (step < 500) return `+${ms}ms`;
  if (step < 60_000) return `+${Number((ms / 1000).toFixed(1))}s`;
  if (step < 3_600_000) return `+${Number((ms / 60_000).toFixed(1))}m`;
  return `+${Number((ms / 3_600_000).toFixed(1))}h`;
}

function clamp(n: number, min: number, max: number): number {
  return Math.min(Math.max(n, min), max);
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}
