import type { StateType } from '../state.ts';

/** Upper bounds (seconds) of the task-run duration buckets: from quick Log tasks to hour-long scripts. */
export const TASK_RUN_DURATION_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600] as const;

/** One labelled series of a histogram: cumulative bucket counts, as Prometheus exposes them. */
export interface HistogramSeries {
  labels: Record<string, string>;
  /** `[le, count of observations ≤ le]`, ending with `[+Inf, count]`. */
  buckets: [number, number][];
  sum: number;
  count: number;
}

/**
 * Durations of the task runs this process ran, by final state. In-process only: it starts empty
 * at every start, which Prometheus handles (counters reset) and which avoids a write per task run.
 */
export class TaskRunDurations {
  private readonly series = new Map<StateType, { counts: number[]; sum: number; count: number }>();

  observe(state: StateType, seconds: number): void {
    let entry = this.series.get(state);
    if (!entry) this.series.set(state, (entry = { counts: TASK_RUN_DURATION_BUCKETS.map(() => 0), sum: 0, count: 0 }));
    const value = Math.max(seconds, 0);
    // Non-cumulative here; made cumulative when read.
    const index = TASK_RUN_DURATION_BUCKETS.findIndex((le) => value <= le);
    if (index !== -1) entry.counts[index]++;
    entry.sum += value;
    entry.count++;
  }

  snapshot(): HistogramSeries[] {
    return [...this.series.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([state, entry]) => {
        let running = 0;
        const buckets: [number, number][] = TASK_RUN_DURATION_BUCKETS.map((le, i) => [le, (running += entry.counts[i])]);
        buckets.push([Number.POSITIVE_INFINITY, entry.count]);
        return { labels: { state }, buckets, sum: entry.sum, count: entry.count };
      });
  }
}
