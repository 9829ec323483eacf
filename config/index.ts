// Configuration shared by every role: the one door of config/. It imports nothing of Baton's.
export { DEFAULT_LIMITS, LIMIT_SPECS, LimitConfigError, LimitExceededError, limitHint, limitsFromEnv, type Limits } from './limits.ts';
export { LOG_FULL_LINES_VARIABLE, SwitchConfigError, logFullLinesFromEnv } from './log-lines.ts';
