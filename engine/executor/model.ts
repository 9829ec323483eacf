import type { State, StateType } from '../state.ts';

/** One try of a runnable task run. */
export interface Attempt {
  state: State;
}

/** Kestra's TaskRun, as served by the API and `baton run --json`. */
export interface TaskRun {
  id: string;
  executionId: string;
  namespace: string;
  flowId: string;
  taskId: string;
  parentTaskRunId: string | null;
  value: string | null;
  iteration: number | null;
  state: State;
  attempts: Attempt[];
  outputs: Record<string, unknown> | null;
}

export interface Label {
  key: string;
  value: string;
}

/** Kestra's Execution, as served by the API and `baton run --json`. */
export interface Execution {
  id: string;
  namespace: string;
  flowId: string;
  flowRevision: number;
  state: State;
  inputs: Record<string, unknown>;
  outputs: Record<string, unknown> | null;
  labels: Label[];
  variables: Record<string, unknown> | null;
  trigger: Record<string, unknown> | null;
  taskRunList: TaskRun[];
  originalId: string | null;
  parentExecutionId: string | null;
  parentTaskRunId: string | null;
  /** Commit sha of the flow revision, when the flow came from Git. */
  commitSha: string | null;
  /** Restarts count from 1 (Kestra's metadata.attemptNumber). */
  attemptNumber: number;
}

export type FinalState = Extract<StateType, 'SUCCESS' | 'WARNING' | 'FAILED' | 'KILLED' | 'CANCELLED'>;

export function labelsToList(labels: Record<string, string> | undefined): Label[] {
  return Object.entries(labels ?? {}).map(([key, value]) => ({ key, value: String(value) }));
}

export function labelsToMap(labels: Label[]): Record<string, string> {
  return Object.fromEntries(labels.map((l) => [l.key, l.value]));
}
