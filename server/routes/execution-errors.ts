import {
  ExecutionNotFoundError, ExecutionStateError, FlowRevisionNotFoundError, TaskRunNotFoundError,
} from '../../engine/index.ts';
import { HttpError } from '../errors.ts';

/**
 * Maps the engine's typed refusals to HTTP: unknown execution or task run 404, wrong state or a
 * missing flow revision 409 (the request is fine, the server's state forbids it). Rethrows the rest.
 */
export function rethrowAsHttp(err: unknown): never {
  if (err instanceof ExecutionNotFoundError || err instanceof TaskRunNotFoundError) throw new HttpError(404, err.message);
  if (err instanceof ExecutionStateError) throw new HttpError(409, err.message, { state: err.state });
  if (err instanceof FlowRevisionNotFoundError) {
    throw new HttpError(409, err.message, { namespace: err.namespace, flowId: err.flowId, revision: err.revision });
  }
  throw err;
}
