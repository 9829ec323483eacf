/** When executions ran, for tests of concurrency: never more RUNNING at once than allowed. */
import type { Execution } from '../../engine/index.ts';

/** The interval an execution held a slot: from its first RUNNING to its end. Throws when it never ran or did not end. */
export function runningInterval(execution: Execution): [number, number] {
  const start = execution.state.histories.find((h) => h.state === 'RUNNING');
  if (!start || !execution.state.endDate) throw new Error(`execution ${execution.id} never ran or did not end (${execution.state.current})`);
  return [Date.parse(start.date), Date.parse(execution.state.endDate)];
}

/** The most intervals open at one time (an end and a start at the same instant do not overlap). */
export function maxOverlap(intervals: ReadonlyArray<readonly [number, number]>): number {
  const events = intervals.flatMap(([s, e]) => [[s, 1], [e, -1]] as const).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let open = 0;
  let max = 0;
  for (const [, delta] of events) max = Math.max(max, (open += delta));
  return max;
}
