import type { TaskRun } from './model.ts';

/**
 * Kestra's `outputs` variable: `outputs.<taskId>` for plain task runs, nested by iteration value
 * inside loops (`outputs.<taskId>[<value>]`, `outputs.<taskId>[<outer>][<inner>]`).
 */
export function buildOutputs(taskRuns: readonly TaskRun[]): Record<string, unknown> {
  const byId = new Map(taskRuns.map((t) => [t.id, t]));
  const result: Record<string, unknown> = {};
  for (const run of taskRuns) {
    if (!run.outputs) continue;
    const path = iterationPath(run, byId);
    if (path.length === 0) {
      result[run.taskId] = run.outputs;
      continue;
    }
    let node = (result[run.taskId] ??= {}) as Record<string, unknown>;
    for (const value of path.slice(0, -1)) node = (node[value] ??= {}) as Record<string, unknown>;
    node[path[path.length - 1]] = run.outputs;
  }
  return result;
}

/** Iteration values from the outermost loop to this run: a value counts where it differs from the parent's. */
export function iterationPath(run: TaskRun, byId: ReadonlyMap<string, TaskRun>): string[] {
  const chain: TaskRun[] = [];
  for (let r: TaskRun | undefined = run; r; r = r.parentTaskRunId ? byId.get(r.parentTaskRunId) : undefined) chain.unshift(r);
  const path: string[] = [];
  let previous: string | null = null;
  for (const r of chain) {
    if (r.value !== null && r.value !== previous) path.push(r.value);
    previous = r.value;
  }
  return path;
}
