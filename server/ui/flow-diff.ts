/**
 * The diff between two revisions of a flow, as rows for the unified and side-by-side views:
 * lines highlighted as YAML, long unchanged regions folded, very long diffs cut.
 */
import { diffLines } from 'diff';
import { highlightYamlLines } from './yaml-highlight.ts';

export type LineKind = 'same' | 'add' | 'del';

export interface UnifiedRow {
  kind: LineKind;
  oldNo?: number;
  newNo?: number;
  /** Highlighted, escaped HTML of the line. */
  html: string;
}

export interface SideLine {
  kind: LineKind;
  no: number;
  html: string;
}

export interface SplitRow {
  left?: SideLine;
  right?: SideLine;
}

/** A run of rows shown as is, or an unchanged run folded into a `<details>`. */
export interface Segment<T> {
  folded: boolean;
  rows: T[];
}

export interface RevisionDiff {
  unified: Segment<UnifiedRow>[];
  split: Segment<SplitRow>[];
  added: number;
  removed: number;
  /** Lines of the whole diff (before any cut). */
  total: number;
  /** True when only the first `maxRows` lines are shown. */
  truncated: boolean;
}

/** Unchanged lines kept visible on each side of a change. */
export const DIFF_CONTEXT = 3;
/** Diffs longer than this are cut, with a link to the raw diff. */
export const MAX_DIFF_ROWS = 2000;

function linesOf(source: string): string[] {
  const lines = highlightYamlLines(source);
  // A final newline ends the last line; it does not start another.
  if (source.endsWith('\n')) lines.pop();
  return source === '' ? [] : lines;
}

/** Rows of the diff from `before` to `after`. */
export function revisionDiff(before: string, after: string, options: { context?: number; maxRows?: number } = {}): RevisionDiff {
  const context = options.context ?? DIFF_CONTEXT;
  const maxRows = options.maxRows ?? MAX_DIFF_ROWS;
  const oldLines = linesOf(before);
  const newLines = linesOf(after);
  const rows: UnifiedRow[] = [];
  let o = 0;
  let n = 0;
  let added = 0;
  let removed = 0;
  for (const part of diffLines(before, after)) {
    for (let k = 0; k < part.count; k++) {
      if (part.added) {
        rows.push({ kind: 'add', newNo: n + 1, html: newLines[n] ?? '' });
        n += 1;
        added += 1;
      } else if (part.removed) {
        rows.push({ kind: 'del', oldNo: o + 1, html: oldLines[o] ?? '' });
        o += 1;
        removed += 1;
      } else {
        rows.push({ kind: 'same', oldNo: o + 1, newNo: n + 1, html: newLines[n] ?? '' });
        o += 1;
        n += 1;
      }
    }
  }
  const total = rows.length;
  const shown = rows.slice(0, maxRows);
  return {
    unified: fold(shown, (r) => r.kind === 'same', context),
    split: fold(pairSides(shown), (r) => r.left?.kind === 'same', context),
    added,
    removed,
    total,
    truncated: total > maxRows,
  };
}

/** Side by side: unchanged lines face each other; in a change, removed lines face added ones. */
function pairSides(rows: UnifiedRow[]): SplitRow[] {
  const out: SplitRow[] = [];
  let dels: SideLine[] = [];
  let adds: SideLine[] = [];
  const flush = () => {
    for (let i = 0; i < Math.max(dels.length, adds.length); i++) out.push({ left: dels[i], right: adds[i] });
    dels = [];
    adds = [];
  };
  for (const row of rows) {
    if (row.kind === 'del') dels.push({ kind: 'del', no: row.oldNo!, html: row.html });
    else if (row.kind === 'add') adds.push({ kind: 'add', no: row.newNo!, html: row.html });
    else {
      flush();
      out.push({ left: { kind: 'same', no: row.oldNo!, html: row.html }, right: { kind: 'same', no: row.newNo!, html: row.html } });
    }
  }
  flush();
  return out;
}

/** Folds unchanged runs, keeping `context` lines next to each change visible. */
export function fold<T>(rows: T[], unchanged: (row: T) => boolean, context: number): Segment<T>[] {
  const segments: Segment<T>[] = [];
  const visible = (list: T[]) => {
    if (list.length === 0) return;
    const last = segments[segments.length - 1];
    if (last && !last.folded) last.rows.push(...list);
    else segments.push({ folded: false, rows: [...list] });
  };
  let i = 0;
  while (i < rows.length) {
    if (!unchanged(rows[i])) {
      visible([rows[i]]);
      i += 1;
      continue;
    }
    let end = i;
    while (end < rows.length && unchanged(rows[end])) end += 1;
    const keepBefore = i === 0 ? 0 : context;
    const keepAfter = end === rows.length ? 0 : context;
    const run = rows.slice(i, end);
    if (run.length - keepBefore - keepAfter >= 2) {
      visible(run.slice(0, keepBefore));
      segments.push({ folded: true, rows: run.slice(keepBefore, run.length - keepAfter) });
      visible(run.slice(run.length - keepAfter));
    } else {
      visible(run);
    }
    i = end;
  }
  return segments;
}
