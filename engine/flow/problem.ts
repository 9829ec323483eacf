/** A problem found in a flow file, pointing at its source. */
export interface FlowProblem {
  file?: string;
  /** 1-based. */
  line: number;
  /** 1-based. */
  column: number;
  /** The property at fault, e.g. `tasks[2].retry.maxAttempt`; empty for the whole document. */
  property: string;
  message: string;
  severity: 'error' | 'warning';
}

/** `path:line:col: error: message`, the shape compilers and editors understand. */
export function formatProblem(p: FlowProblem): string {
  return `${p.file ?? '<flow>'}:${p.line}:${p.column}: ${p.severity}: ${p.message}`;
}

/** Problems in source order (line, then column), errors before warnings at the same place. */
export function sortProblems(problems: FlowProblem[]): FlowProblem[] {
  return [...problems].sort(
    (a, b) =>
      (a.file ?? '').localeCompare(b.file ?? '') ||
      a.line - b.line ||
      a.column - b.column ||
      (a.severity === b.severity ? 0 : a.severity === 'error' ? -1 : 1),
  );
}
