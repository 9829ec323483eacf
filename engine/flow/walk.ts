/**
 * The task tree of a flow: `tasks`, `errors`, `finally`, `afterExecution` and, inside each task, the child
 * lists its plugin declares (`taskLists`) plus a flowable's own `errors` and `finally`.
 * Used by validation, by the executor to find tasks and by the topology view.
 */
import { findPlugin } from '../plugins/registry.ts';
import { formatPath, type PathSegment } from './path.ts';
import type { FlowDef, TaskDef } from './types.ts';

/** The flow-level task lists, in the order an execution meets them. */
export const FLOW_TASK_LISTS = ['tasks', 'errors', 'finally', 'afterExecution'] as const;

/** Task lists every flowable may carry besides the ones its plugin declares. */
const FLOWABLE_HANDLER_LISTS = ['errors', 'finally'] as const;

/** One list of child tasks inside a task; `segments` are relative to the task (`['cases', 'FIRST']`). */
export interface ChildTaskList {
  segments: PathSegment[];
  items: unknown[];
}

/**
 * The child task lists of one task, as its plugin declares them. A task of an unknown type has none.
 * Values of the wrong shape (not a list, not a map of lists) are skipped: validation reports them.
 */
export function childTaskLists(task: Record<string, unknown>): ChildTaskList[] {
  const plugin = typeof task.type === 'string' ? findPlugin(task.type) : undefined;
  if (!plugin) return [];
  const lists: ChildTaskList[] = [];
  const declared = plugin.taskLists ?? [];
  for (const { property, shape } of declared) {
    const value = task[property];
    if (shape === 'list') {
      if (Array.isArray(value)) lists.push({ segments: [property], items: value });
    } else if (value && typeof value === 'object' && !Array.isArray(value)) {
      for (const [key, list] of Object.entries(value)) {
        if (Array.isArray(list)) lists.push({ segments: [property, key], items: list });
      }
    }
  }
  if (plugin.kind === 'flowable') {
    for (const property of FLOWABLE_HANDLER_LISTS) {
      if (declared.some((d) => d.property === property)) continue;
      const value = task[property];
      if (Array.isArray(value)) lists.push({ segments: [property], items: value });
    }
  }
  return lists;
}

/** The properties of a task that hold child tasks (declared lists, plus `errors`/`finally` on flowables). */
export function taskListProperties(type: string): { property: string; shape: 'list' | 'map' }[] {
  const plugin = findPlugin(type);
  if (!plugin) return [];
  const declared = [...(plugin.taskLists ?? [])];
  if (plugin.kind === 'flowable') {
    for (const property of FLOWABLE_HANDLER_LISTS) {
      if (!declared.some((d) => d.property === property)) declared.push({ property, shape: 'list' });
    }
  }
  return declared;
}

/**
 * Visit every entry of every task list, depth first, in source order, whatever its shape
 * (validation needs to see entries that are not tasks at all). Return `false` to skip an entry's children.
 */
export function walkTaskEntries(
  root: Record<string, unknown>,
  visit: (entry: unknown, segments: PathSegment[], parent: Record<string, unknown> | undefined) => void | false,
): void {
  const walkList = (items: unknown[], base: PathSegment[], parent: Record<string, unknown> | undefined) => {
    items.forEach((entry, index) => {
      const segments = [...base, index];
      if (visit(entry, segments, parent) === false) return;
      if (!entry || typeof entry !== 'object' || Array.isArray(entry)) return;
      const task = entry as Record<string, unknown>;
      for (const list of childTaskLists(task)) walkList(list.items, [...segments, ...list.segments], task);
    });
  };
  for (const section of FLOW_TASK_LISTS) {
    const items = root[section];
    if (Array.isArray(items)) walkList(items, [section], undefined);
  }
}

/**
 * Visit every task of the flow (all flow-level lists and every nested list), depth first in source order.
 * `path` reads like `tasks[0].then[1]`. Return `false` from `visit` to skip that task's children.
 */
export function walkTasks(
  flow: Pick<FlowDef, 'tasks'> & Partial<Pick<FlowDef, 'errors' | 'finally' | 'afterExecution'>>,
  visit: (task: TaskDef, path: string, parent: TaskDef | undefined) => void | false,
): void {
  walkTaskEntries(flow as unknown as Record<string, unknown>, (entry, segments, parent) => {
    if (!entry || typeof entry !== 'object' || Array.isArray(entry)) return false;
    return visit(entry as TaskDef, formatPath(segments), parent as TaskDef | undefined);
  });
}

/** Every task of the flow by id (the first one wins if ids repeat, which validation refuses). */
export function tasksById(flow: Parameters<typeof walkTasks>[0]): Map<string, TaskDef> {
  const byId = new Map<string, TaskDef>();
  walkTasks(flow, (task) => {
    if (!byId.has(task.id)) byId.set(task.id, task);
  });
  return byId;
}
