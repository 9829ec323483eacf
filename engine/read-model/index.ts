/**
 * The read model: how the server reads executions and logs, without knowing their tables. Writers
 * (the engine's repository, the log writer) own the rows; this side only pages and counts them.
 */
import type { Db } from '../../db/index.ts';
import { ExecutionReadModel } from './executions.ts';
import { LogReadModel } from './logs.ts';

export { ExecutionReadModel, type ExecutionListFilter, type ExecutionSummary, type FlowExecutionSummary, type LatestExecution } from './executions.ts';
export { LogReadModel, type LogFilter, type LogLine } from './logs.ts';

/** Both halves of the read model over one database. */
export interface ReadModel {
  executions: ExecutionReadModel;
  logs: LogReadModel;
}

const models = new WeakMap<Db, ReadModel>();

/** The read model of `db`, made once per database (it holds nothing but the handle). */
export function readModelOf(db: Db): ReadModel {
  let model = models.get(db);
  if (!model) models.set(db, (model = { executions: new ExecutionReadModel(db), logs: new LogReadModel(db) }));
  return model;
}
