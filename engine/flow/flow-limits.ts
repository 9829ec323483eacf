/**
 * The size limits of one flow (config/limits.ts), each checked before the work it protects: the file's
 * bytes before its YAML is read, the YAML's nesting while it is read, the number and nesting of tasks
 * before any task is checked against its plugin's schema. A 10 MB or 10,000-task flow then costs a
 * byte count or one walk of its task lists, not seconds of parsing and checking.
 */
import { LIMIT_SPECS, LimitExceededError, type Limits } from '../../config/index.ts';
import { formatPath, type PathSegment } from './path.ts';
import type { FlowProblem } from './problem.ts';
import type { SourceMap } from './parse.ts';
import { childTaskLists, FLOW_TASK_LISTS } from './walk.ts';

/** YAML levels allowed per level of flowable nesting: a task level takes two or three (a list, the task, a map of lists), its properties a few more. */
const YAML_LEVELS_PER_FLOW_LEVEL = 6;

/** Counting stops this many times past the limit: with aliases the task tree can be far larger than its source. */
const COUNT_CAP_FACTOR = 10;

/** The problem of a flow file larger than `flowFileBytes`, or undefined. */
export function fileSizeProblem(bytes: number, limits: Limits, file?: string): FlowProblem | undefined {
  if (bytes <= limits.flowFileBytes) return undefined;
  const { message } = new LimitExceededError('flowFileBytes', `flow file is ${bytes} bytes`, limits);
  return { file, line: 1, column: 1, property: '', message, severity: 'error' };
}

/**
 * How deep the YAML of a flow may nest. Without a bound, deeply nested YAML costs the reader seconds
 * and gigabytes (500,000 `[` in a 1 MB file) or overflows its stack (~900 block levels).
 */
export function yamlDepthLimit(limits: Limits): number {
  return limits.flowNestingDepth * YAML_LEVELS_PER_FLOW_LEVEL;
}

/** The message for YAML nested deeper than `yamlDepthLimit`. */
export function yamlDepthMessage(limits: Limits): string {
  const max = yamlDepthLimit(limits);
  return `the YAML nests more than ${max} levels deep: exceeds the limit of ${max} levels (${YAML_LEVELS_PER_FLOW_LEVEL} per level ` +
    `of the flow nesting limit of ${limits.flowNestingDepth}; raise it with ${LIMIT_SPECS.flowNestingDepth.variable})`;
}

/**
 * The task count and nesting problems of a parsed flow (empty when within the limits). One walk of the
 * task lists that stops once the count is far past its limit.
 */
export function taskTreeProblems(flow: Record<string, unknown>, sourceMap: SourceMap, limits: Limits, file?: string): FlowProblem[] {
  const problems: FlowProblem[] = [];
  const cap = limits.flowTasks * COUNT_CAP_FACTOR;
  let count = 0;
  let tooDeep: { segments: PathSegment[]; id: unknown; depth: number } | undefined;
  // Depth = the number of flowable tasks an entry sits in; a stack, not recursion, whatever the depth.
  const pending: { items: unknown[]; base: PathSegment[]; depth: number }[] = [];
  for (const section of [...FLOW_TASK_LISTS].reverse()) {
    const items = flow[section];
    if (Array.isArray(items)) pending.push({ items, base: [section], depth: 0 });
  }
  walk: while (pending.length > 0) {
    const { items, base, depth } = pending.pop()!;
    for (let index = 0; index < items.length; index++) {
      if (++count > cap) break walk;
      const entry = items[index];
      const segments = [...base, index];
      // Reported once, at the first entry too deep; the walk goes on to count every task (the YAML's
      // own nesting limit bounds how deep it goes).
      if (depth > limits.flowNestingDepth) tooDeep ??= { segments, id: isMap(entry) ? entry.id : undefined, depth };
      if (!isMap(entry)) continue;
      const children = childTaskLists(entry);
      for (let i = children.length - 1; i >= 0; i--) {
        pending.push({ items: children[i].items, base: [...segments, ...children[i].segments], depth: depth + 1 });
      }
    }
  }
  if (count > limits.flowTasks) {
    const what = count > cap ? `flow has more than ${cap} tasks` : `flow has ${count} tasks`;
    problems.push({ file, line: 1, column: 1, property: '', message: new LimitExceededError('flowTasks', what, limits).message, severity: 'error' });
  }
  if (tooDeep) {
    const name = typeof tooDeep.id === 'string' ? `task '${tooDeep.id}'` : `the task at ${formatPath(tooDeep.segments)}`;
    problems.push({
      file,
      ...sourceMap.valueAt(tooDeep.segments),
      property: formatPath(tooDeep.segments),
      message: new LimitExceededError('flowNestingDepth', `${name} is nested in ${tooDeep.depth} flowable tasks`, limits).message,
      severity: 'error',
    });
  }
  return problems;
}

function isMap(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
