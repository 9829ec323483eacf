/** Template (Pebble) syntax errors in a flow's strings, at their real line and column in the file. */
import { checkTemplateSyntax } from '../template/index.ts';
import type { StringScalar } from './parse.ts';
import { formatPath } from './path.ts';
import type { FlowProblem } from './problem.ts';

/** Keys whose strings are documentation, never rendered by Kestra. */
const UNRENDERED_KEYS = new Set(['description', 'displayName']);

/** Where, in the file, a position inside the string (template line/column, 1-based) lies. */
function positionInFile(s: StringScalar, line: number, column: number): { line: number; column: number } {
  // A block scalar's content starts on the line after its `|` or `>` indicator, at its indentation.
  if (s.style === 'block') return { line: s.line + line, column: (s.contentColumn ?? 1) + column - 1 };
  // A quoted or plain scalar starts on its own line (after the quote when quoted).
  if (line === 1) return { line: s.line, column: s.column + (s.style === 'quoted' ? 1 : 0) + column - 1 };
  // Later lines of a folded flow scalar: the column is that of the template's own line.
  return { line: s.line + line - 1, column };
}

/** Pebble-style messages end with `(<template>:<line>)`: the problem already points there. */
function withoutSource(message: string, template: string): string {
  const at = message.lastIndexOf(` (${template}:`);
  const short = at > 0 && /:\d+\)$/.test(message) ? message.slice(0, at) : message;
  return short.split('\n')[0];
}

/** One problem per string whose template does not parse; strings without `{` are never templates. */
export function templateProblems(strings: readonly StringScalar[], file?: string): FlowProblem[] {
  const problems: FlowProblem[] = [];
  for (const s of strings) {
    if (!s.value.includes('{')) continue;
    const key = [...s.segments].reverse().find((segment) => typeof segment === 'string');
    if (typeof key === 'string' && UNRENDERED_KEYS.has(key)) continue;
    const error = checkTemplateSyntax(s.value);
    if (!error) continue;
    problems.push({
      file,
      ...positionInFile(s, error.line, error.column),
      property: formatPath(s.segments),
      message: `template syntax error: ${withoutSource(error.message, s.value)}`,
      severity: 'error',
    });
  }
  return problems;
}
