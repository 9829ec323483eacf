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

/**
 * Kestra's `outputs` variable of a walk, kept up to date as its task runs get outputs: the walk reads
 * it before every task, and building it from the whole list each time would make a ForEach over n
 * values cost n² (ten thousand values: minutes). Where two task runs land on the same place, the later
 * one in list order wins, as in buildOutputs. The tree is shared: readers must not change it.
 */
export class LiveOutputs {
  readonly tree: Record<string, unknown> = {};
  /** Place (task id and iteration path) → list position of the task run whose outputs are there. */
  private readonly owners = new Map<string, number>();

  constructor(
    private readonly byId: ReadonlyMap<string, TaskRun>,
    private readonly positionOf: (run: TaskRun) => number,
  ) {}

  /** The task run's outputs (set, or replaced) go to its place. */
  update(run: TaskRun): void {
    if (!run.outputs) return;
    const path = iterationPath(run, this.byId);
    const place = JSON.stringify([run.taskId, ...path]);
    const position = this.positionOf(run);
    const owner = this.owners.get(place);
    if (owner !== undefined && owner > position) return;
    this.owners.set(place, position);
    if (path.length === 0) {
      this.tree[run.taskId] = run.outputs;
      return;
    }
    let node = (this.tree[run.taskId] ??= {}) as Record<string, unknown>;
    for (const value of path.slice(0, -1)) node = (node[value] ??= {}) as Record<string, unknown>;
    node[path[path.length - 1]] = run.outputs;
  }
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
