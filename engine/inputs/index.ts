/** Typed flow inputs (and typed flow outputs) as Kestra's FlowInputOutput. */
export { InputValidationError, TypedValueError, type InputProblem } from './errors.ts';
export { parseTyped } from './parse-typed.ts';
export { resolveInputs, type FileUpload, type InputContext } from './resolve-inputs.ts';
export { encryptSecretInputs, decryptingInputs, redactSecretInputs, redactExecution } from './secret-inputs.ts';
