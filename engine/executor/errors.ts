import type { StateType } from '../state.ts';

/** Any refusal of an engine operation on an existing or missing execution; subclasses say which kind. */
export class ExecutionOperationError extends Error {
  constructor(
    message: string,
    readonly executionId: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ExecutionOperationError';
  }
}

/** No execution has this id. */
export class ExecutionNotFoundError extends ExecutionOperationError {
  constructor(executionId: string) {
    super(`execution ${executionId} not found`, executionId);
    this.name = 'ExecutionNotFoundError';
  }
}

/**
 * The execution is not in a state that allows the operation: restart and replay need a terminated
 * execution, kill one that has not terminated. `reason` replaces the default explanation.
 */
export class ExecutionStateError extends ExecutionOperationError {
  constructor(
    executionId: string,
    readonly state: StateType,
    readonly operation: 'restart' | 'replay' | 'kill',
    reason?: string,
  ) {
    super(`execution ${executionId} is ${state}: ${reason ?? defaultReason(operation)}`, executionId);
    this.name = 'ExecutionStateError';
  }
}

function defaultReason(operation: 'restart' | 'replay' | 'kill'): string {
  switch (operation) {
    case 'restart':
      return 'only terminated executions can be restarted';
    case 'replay':
      return 'only terminated executions can be replayed';
    case 'kill':
      return 'it has already terminated, there is nothing to kill';
  }
}

/** The flow revision an execution ran with is gone, so it cannot run again. */
export class FlowRevisionNotFoundError extends ExecutionOperationError {
  constructor(
    executionId: string,
    readonly namespace: string,
    readonly flowId: string,
    readonly revision: number,
  ) {
    super(
      `revision ${revision} of flow ${namespace}.${flowId}, which execution ${executionId} ran with, is not available: it cannot run again`,
      executionId,
    );
    this.name = 'FlowRevisionNotFoundError';
  }
}

/** A replay from a task run that the execution does not have. */
export class TaskRunNotFoundError extends ExecutionOperationError {
  constructor(
    executionId: string,
    readonly taskRunId: string,
  ) {
    super(`task run ${taskRunId} not found in execution ${executionId}`, executionId);
    this.name = 'TaskRunNotFoundError';
  }
}
