/**
 * Flow definitions: reading a flow file with positions, validating it as Kestra does (within the flow
 * size limits), applying plugin defaults, and walking its task tree. Other folders import flows only
 * through this door.
 */
export type {
  FlowDef, TaskDef, InputDef, InputType, TriggerDef, PluginDefault, FlowOutputDef, RetryDef, FlowSlaDef, FlowCheckDef,
} from './types.ts';
export { validateFlowSource, type FlowValidation, type ValidateOptions } from './validate.ts';
export { fileSizeProblem } from './flow-limits.ts';
export { formatProblem, sortProblems, type FlowProblem } from './problem.ts';
export { applyPluginDefaults } from './plugin-defaults.ts';
export { walkTasks, walkTaskEntries, childTaskLists, taskListProperties, tasksById, FLOW_TASK_LISTS, type ChildTaskList } from './walk.ts';
export { formatPath, type PathSegment } from './path.ts';
export { parseYamlWithPositions, SourceMap, type SourcePosition } from './parse.ts';
export { isTemplate } from './schema.ts';
export { flowJsonSchema } from './flow-json-schema.ts';
export {
  pluginCatalogue, findCatalogueEntry, commonProperties, exampleFlow, suggestPluginType, type CatalogueEntry, type CatalogueExample,
} from './plugin-catalogue.ts';
