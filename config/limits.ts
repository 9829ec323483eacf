// Every resource limit Baton enforces, with its safe default and the variable that raises it.
// One table so docs/security.md, the start-up check and the code that enforces a limit agree:
// a limit's error message names its variable (`limitHint`) so a user knows how to raise it.

/** The limits, by name. Sizes in bytes, times in milliseconds, counts as plain numbers. */
export interface Limits {
  /** Nested `render()` / recursive rendering passes in one expression. */
  templateRenderDepth: number;
  /** Characters one template render may produce. */
  templateOutputChars: number;
  /** Wall-clock time one template render may take (loops, filters over huge lists). */
  templateEvalMs: number;
  /** Bytes of one flow file (sync, validate, API). */
  flowFileBytes: number;
  /** Tasks of one flow, nested ones included. */
  flowTasks: number;
  /** Nesting depth of flowable tasks in one flow. */
  flowNestingDepth: number;
  /** Items one ForEach / EachSequential / EachParallel / ForEachItem may expand to. */
  forEachItems: number;
  /** Task runs one execution may hold in all. */
  executionTaskRuns: number;
  /** Bytes of one task run's outputs, as JSON. */
  taskOutputBytes: number;
  /** Characters of one stored log line; longer lines are cut with a marker. */
  logLineChars: number;
  /** Bytes of log output one task run may print before it fails. */
  taskLogBytes: number;
  /** Times an execution may crash or hang the process that runs it before it is failed for good. */
  executionCrashes: number;
  /** Bytes of one request body (JSON, form, webhook); uploads have their own limit. */
  requestBodyBytes: number;
  /** Bytes of one uploaded file (FILE inputs, multipart). */
  uploadBytes: number;
  /** Failed logins or API tokens from one address before it is locked out for `authLockoutMs`. */
  authFailures: number;
  /** How long a locked-out address waits. */
  authLockoutMs: number;
}

interface LimitSpec {
  variable: string;
  default: number;
  unit: 'bytes' | 'chars' | 'ms' | 'count';
  /** One line for docs/security.md. */
  doc: string;
}

const MiB = 1024 * 1024;

/** The table: variable, default, unit and meaning of every limit. */
export const LIMIT_SPECS: { readonly [K in keyof Limits]: LimitSpec } = {
  templateRenderDepth: { variable: 'BATON_LIMIT_TEMPLATE_RENDER_DEPTH', default: 10, unit: 'count', doc: 'nested render() calls and recursive rendering passes of one expression' },
  templateOutputChars: { variable: 'BATON_LIMIT_TEMPLATE_OUTPUT_CHARS', default: 16 * MiB, unit: 'chars', doc: 'characters one template render may produce' },
  templateEvalMs: { variable: 'BATON_LIMIT_TEMPLATE_EVAL_MS', default: 10_000, unit: 'ms', doc: 'time one template render may take' },
  flowFileBytes: { variable: 'BATON_LIMIT_FLOW_FILE_BYTES', default: 1 * MiB, unit: 'bytes', doc: 'size of one flow file' },
  flowTasks: { variable: 'BATON_LIMIT_FLOW_TASKS', default: 1_000, unit: 'count', doc: 'tasks in one flow, nested ones included' },
  flowNestingDepth: { variable: 'BATON_LIMIT_FLOW_NESTING_DEPTH', default: 20, unit: 'count', doc: 'nesting depth of flowable tasks' },
  forEachItems: { variable: 'BATON_LIMIT_FOREACH_ITEMS', default: 10_000, unit: 'count', doc: 'items one ForEach (or EachSequential, EachParallel, ForEachItem) expands to' },
  executionTaskRuns: { variable: 'BATON_LIMIT_EXECUTION_TASK_RUNS', default: 50_000, unit: 'count', doc: 'task runs one execution may hold' },
  taskOutputBytes: { variable: 'BATON_LIMIT_TASK_OUTPUT_BYTES', default: 4 * MiB, unit: 'bytes', doc: "size of one task run's outputs as JSON" },
  logLineChars: { variable: 'BATON_LIMIT_LOG_LINE_CHARS', default: 32 * 1024, unit: 'chars', doc: 'characters of one stored log line (longer lines are cut with a marker)' },
  taskLogBytes: { variable: 'BATON_LIMIT_TASK_LOG_BYTES', default: 64 * MiB, unit: 'bytes', doc: 'log output one task run may print before it fails' },
  executionCrashes: { variable: 'BATON_LIMIT_EXECUTION_CRASHES', default: 3, unit: 'count', doc: 'times an execution may crash or hang its process before it is failed for good' },
  requestBodyBytes: { variable: 'BATON_LIMIT_REQUEST_BODY_BYTES', default: 10 * MiB, unit: 'bytes', doc: 'size of one request body (JSON, form, webhook)' },
  uploadBytes: { variable: 'BATON_LIMIT_UPLOAD_BYTES', default: 1024 * MiB, unit: 'bytes', doc: 'size of one uploaded file' },
  authFailures: { variable: 'BATON_LIMIT_AUTH_FAILURES', default: 10, unit: 'count', doc: 'failed logins or API tokens from one address before a lockout' },
  authLockoutMs: { variable: 'BATON_LIMIT_AUTH_LOCKOUT_MS', default: 15 * 60_000, unit: 'ms', doc: 'how long a locked-out address waits' },
};

/** The defaults, as a Limits value. */
export const DEFAULT_LIMITS: Readonly<Limits> = Object.freeze(
  Object.fromEntries(Object.entries(LIMIT_SPECS).map(([name, spec]) => [name, spec.default])) as unknown as Limits,
);

/** A BATON_LIMIT_* variable that is not a positive whole number. */
export class LimitConfigError extends Error {
  constructor(readonly variable: string, readonly value: string) {
    super(`${variable} must be a positive whole number, got '${value}'`);
    this.name = 'LimitConfigError';
  }
}

/** Reads every BATON_LIMIT_* variable (unset or empty: the default). Throws LimitConfigError. */
export function limitsFromEnv(env: Record<string, string | undefined>): Limits {
  const limits = { ...DEFAULT_LIMITS } as Limits;
  for (const [name, spec] of Object.entries(LIMIT_SPECS) as [keyof Limits, LimitSpec][]) {
    const raw = env[spec.variable];
    if (raw === undefined || raw.trim() === '') continue;
    const value = Number(raw);
    if (!Number.isSafeInteger(value) || value < 1) throw new LimitConfigError(spec.variable, raw);
    limits[name] = value;
  }
  return limits;
}

/** "limit N (BATON_LIMIT_X)": the tail of every message about a limit reached. */
export function limitHint(name: keyof Limits, limits: Limits = DEFAULT_LIMITS): string {
  const spec = LIMIT_SPECS[name];
  const unit = spec.unit === 'count' ? '' : ` ${spec.unit}`;
  return `limit of ${limits[name]}${unit} (raise it with ${spec.variable})`;
}

/** Thrown where a limit is reached; its message names the limit and the variable that raises it. */
export class LimitExceededError extends Error {
  constructor(readonly limit: keyof Limits, what: string, limits: Limits = DEFAULT_LIMITS) {
    super(`${what}: exceeds the ${limitHint(limit, limits)}`);
    this.name = 'LimitExceededError';
  }
}
