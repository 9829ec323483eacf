/**
 * The engine's one door: flow model and validation, templating, the executor and its parts.
 * Other folders (cli, server, sync) import only from here.
 */
export * from './state.ts';
export * from './executor/index.ts';
export { createEngine, type EngineOptions } from './create-engine.ts';
export type { FlowDef, TaskDef, InputDef, TriggerDef } from './flow/types.ts';
export type { LogEntry, LogLevel } from './logs/types.ts';
export { LOG_LEVELS, levelAtLeast } from './logs/types.ts';
export { findPlugin, allPlugins } from './plugins/registry.ts';
export { flowJsonSchema, pluginCatalogue, findCatalogueEntry, commonProperties, suggestPluginType, type CatalogueEntry, type CatalogueExample } from './flow/index.ts';
export type { PluginKind } from './contract/index.ts';
export { allTriggers, allConditions } from './triggers/index.ts';
export * from './scheduler/index.ts';
export { WorkQueue, LeaseLostError, DEFAULT_LEASE_MS, type Lease } from './queue/index.ts';
export { Worker, newWorkerId, type WorkerOptions } from './worker/index.ts';
export { ConcurrencyGate } from './concurrency/index.ts';
export { prepareTaskIsolation, resolveTaskIsolation, TaskUserError, TASK_USER_VARIABLE, type TaskIsolation } from './runners/index.ts';
export { redactExecution } from './inputs/index.ts';
export { ENCRYPTION_KEY_VARIABLE, EncryptionKeyError } from './secrets/index.ts';
