export const LOG_LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** One log line, as Kestra's LogEntry (secrets already masked). */
export interface LogEntry {
  executionId: string;
  taskRunId: string | null;
  taskId: string | null;
  attemptNumber: number | null;
  timestamp: string;
  level: LogLevel;
  message: string;
}

export function levelAtLeast(level: LogLevel, min: LogLevel): boolean {
  return LOG_LEVELS.indexOf(level) >= LOG_LEVELS.indexOf(min);
}
