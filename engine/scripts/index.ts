/** Script tasks' shared machinery (Kestra's AbstractExecScript / ScriptService), used by shell, Python and later dbt. */
export { runScript, asStringList, type ScriptSpec, type ScriptOutputs, type ScriptResult } from './run-script.ts';
export { parseProtocolLine, type ProtocolLine, type ProtocolMessage, type ScriptMetric } from './output-protocol.ts';
export { ScriptLogConsumer, STDERR_LOG_LEVEL } from './log-consumer.ts';
export { DEFAULT_INTERPRETER, buildCommandLine, shellQuote, type CommandLineParts } from './command-line.ts';
export { normalizeInputFiles, writeInputFiles } from './input-files.ts';
export { uploadOutputFiles, outputFilesMatcher } from './output-files.ts';
export { copyNamespaceFiles, type NamespaceFilesSpec } from './namespace-files.ts';
export { UnsafePathError, resolveInside } from './working-dir-paths.ts';
