/**
 * What a restart keeps and what a replay copies. Both produce a task-run list that an
 * ExecutionRun then walks: task runs that ended are reused as they are, the others run (again).
 */
import { tasksById, walkTasks } from '../flow/index.ts';
import type { FlowDef, TaskDef } from '../flow/types.ts';
import { findPlugin } from '../plugins/registry.ts';
import { workingDirectory } from '../plugins/flow/working-directory.ts';
import { isSuccessful, isTerminal, transition } from '../state.ts';
import { newId } from '../ids.ts';
import { TaskRunNotFoundError } from './errors.ts';
import type { TaskRun } from './model.ts';

/** The task runs of an execution depth first (a parent before its children), siblings in creation order. */
export function treeOrder(runs: readonly TaskRun[]): TaskRun[] {
  const ids = new Set(runs.map((r) => r.id));
  const children = new Map<string | null, TaskRun[]>();
  for (const run of runs) {
    const parent = run.parentTaskRunId !== null && ids.has(run.parentTaskRunId) ? run.parentTaskRunId : null;
    const list = children.get(parent);
    if (list) list.push(run);
    else children.set(parent, [run]);
  }
  const ordered: TaskRun[] = [];
  const visit = (parent: string | null) => {
    for (const child of children.get(parent) ?? []) {
      ordered.push(child);
      visit(child.id);
    }
  };
  visit(null);
  return ordered;
}

export interface RestartPlan {
  /** The task runs the restarted execution starts with, in their original order. */
  taskRuns: TaskRun[];
  /** Ids of the task runs dropped: error branches, finally and afterExecution, stale children. */
  removedIds: string[];
}

/**
 * Restart, as Kestra's: FAILED and KILLED task runs and their ancestors go back to RESTARTED (they run
 * again, keeping their id and earlier attempts); SUCCESS, WARNING and SKIPPED ones are kept; error
 * branches are removed so they run again only if the restarted attempt fails again. `finally` and
 * `afterExecution` task runs are removed too: they belong to the end of an attempt, and the new
 * attempt ends again (Kestra keeps them; cleaning up after a re-run is what they are for).
 */
export function planRestart(flow: FlowDef, runs: readonly TaskRun[]): RestartPlan {
  const handlers = handlerTaskIds(flow);
  const removed = new Set<string>();
  for (const run of treeOrder(runs)) {
    if (handlers.has(run.taskId) || (run.parentTaskRunId !== null && removed.has(run.parentTaskRunId))) removed.add(run.id);
  }
  const remaining = runs.filter((r) => !removed.has(r.id));
  const byId = new Map(remaining.map((r) => [r.id, r]));
  const rerun = new Set<string>();
  for (const run of remaining) {
    if (isSuccessful(run.state.current)) continue;
    for (let r: TaskRun | undefined = run; r && !rerun.has(r.id); r = r.parentTaskRunId ? byId.get(r.parentTaskRunId) : undefined) {
      rerun.add(r.id);
    }
  }
  for (const id of sharedDirectoryDescendants(flow, remaining, rerun)) removed.add(id);
  return {
    taskRuns: runs.filter((r) => !removed.has(r.id)).map((r) => (rerun.has(r.id) ? reset(r) : r)),
    removedIds: runs.filter((r) => removed.has(r.id)).map((r) => r.id),
  };
}

/**
 * Replay from one task run, as Kestra's: the task runs before it (depth first) are copied as they are,
 * it and its ancestors are copied reset (they run again), everything after it is dropped. Copies get
 * new ids and belong to `executionId`.
 */
export function planReplay(flow: FlowDef, original: { id: string; taskRunList: readonly TaskRun[] }, taskRunId: string, executionId: string): TaskRun[] {
  const runs = original.taskRunList;
  const ordered = treeOrder(runs);
  const position = ordered.findIndex((r) => r.id === taskRunId);
  if (position === -1) throw new TaskRunNotFoundError(original.id, taskRunId);
  const byId = new Map(runs.map((r) => [r.id, r]));
  const rerun = new Set<string>();
  for (let r: TaskRun | undefined = ordered[position]; r; r = r.parentTaskRunId ? byId.get(r.parentTaskRunId) : undefined) rerun.add(r.id);
  // Before the target in depth-first order: its earlier siblings, its ancestors and their earlier children.
  const kept = new Set(ordered.slice(0, position + 1).map((r) => r.id));
  for (const id of sharedDirectoryDescendants(flow, runs.filter((r) => kept.has(r.id)), rerun)) kept.delete(id);
  const newIds = new Map([...kept].map((id) => [id, newId()]));
  return runs
    .filter((r) => kept.has(r.id))
    .map((r) => {
      const copy: TaskRun = {
        ...(rerun.has(r.id) ? reset(r) : r),
        id: newIds.get(r.id)!,
        executionId,
        parentTaskRunId: r.parentTaskRunId === null ? null : (newIds.get(r.parentTaskRunId) ?? null),
        attempts: r.attempts.map((a) => ({ ...a })),
      };
      return copy;
    });
}

/** A task run that will run again: RESTARTED, outputs cleared, earlier attempts kept as its history. */
function reset(run: TaskRun): TaskRun {
  let state = run.state;
  // Only a crash leaves an unterminated task run in a terminated execution; it was killed with it.
  if (!isTerminal(state.current)) state = transition(state, 'KILLED', `task run ${run.id}`);
  return { ...run, state: transition(state, 'RESTARTED', `task run ${run.id}`), outputs: null };
}

/**
 * Ids of the tasks that handle the end of something: flow and flowable `errors` (and `finally`), flow
 * `finally` and `afterExecution`, with everything nested in them. Task ids are unique in a flow.
 */
function handlerTaskIds(flow: FlowDef): Set<string> {
  const ids = new Set<string>();
  const addAll = (list: unknown) => {
    if (Array.isArray(list)) walkTasks({ tasks: list as TaskDef[] }, (task) => void ids.add(task.id));
  };
  addAll(flow.errors);
  addAll(flow.finally);
  addAll(flow.afterExecution);
  walkTasks(flow, (task) => {
    if (findPlugin(task.type)?.kind !== 'flowable') return;
    addAll(task.errors);
    addAll(task.finally);
  });
  return ids;
}

/**
 * Task runs under a WorkingDirectory that runs again. Its children share a directory that is gone, so
 * reusing the first ones would leave the others without their files: they all run again (as Kestra's).
 */
function sharedDirectoryDescendants(flow: FlowDef, runs: readonly TaskRun[], rerun: ReadonlySet<string>): string[] {
  const tasks = tasksById(flow);
  const roots = new Set(
    runs.filter((r) => rerun.has(r.id) && findPlugin(tasks.get(r.taskId)?.type ?? '') === workingDirectory).map((r) => r.id),
  );
  if (roots.size === 0) return [];
  const byId = new Map(runs.map((r) => [r.id, r]));
  const under = (run: TaskRun): boolean => {
    for (let p = run.parentTaskRunId ? byId.get(run.parentTaskRunId) : undefined; p; p = p.parentTaskRunId ? byId.get(p.parentTaskRunId) : undefined) {
      if (roots.has(p.id)) return true;
    }
    return false;
  };
  return runs.filter(under).map((r) => r.id);
}
