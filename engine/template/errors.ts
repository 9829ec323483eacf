/** Where in a template something went wrong; line and column are 1-based. */
export interface TemplateErrorDetails {
  expression?: string;
  line?: number;
  column?: number;
  cause?: unknown;
}

/** Thrown for syntax errors, undefined variables, bad filter arguments, missing secrets/KV keys… */
export class TemplateError extends Error {
  readonly expression?: string;
  readonly line?: number;
  readonly column?: number;

  constructor(message: string, details: TemplateErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'TemplateError';
    this.expression = details.expression;
    this.line = details.line;
    this.column = details.column;
  }
}

/**
 * A variable or attribute that does not exist (Pebble's strictVariables). `??`, `???`,
 * `is defined` and `default` recover from this one kind of error and no other.
 */
export class UndefinedVariableError extends TemplateError {
  readonly path: string;

  constructor(path: string, details: TemplateErrorDetails) {
    const where = details.line === undefined ? '' : ` at line ${details.line}`;
    super(`Unable to find \`${path}\` used in the expression \`${details.expression ?? path}\`${where}`, details);
    this.name = 'UndefinedVariableError';
    this.path = path;
  }
}
