/**
 * SQL text split into statements the way PostgreSQL's lexer sees semicolons: not inside quotes
 * ('…', E'…', "…"), dollar quotes ($$…$$, $tag$…$tag$) or comments (line comments, nested block comments).
 */

export interface SqlStatement {
  /** The statement without its terminating semicolon, trimmed. */
  text: string;
  /** Offset of `text` in the whole SQL, to turn an error position into a line of the whole SQL. */
  offset: number;
}

/** The statements of `sql`, in order; empty ones (only whitespace or comments) are left out. */
export function splitStatements(sql: string): SqlStatement[] {
  const statements: SqlStatement[] = [];
  let start = 0;
  let onlyTrivia = true;
  const push = (end: number) => {
    if (!onlyTrivia) {
      const raw = sql.slice(start, end);
      const lead = raw.length - raw.trimStart().length;
      statements.push({ text: raw.trim(), offset: start + lead });
    }
    onlyTrivia = true;
  };
  let i = 0;
  while (i < sql.length) {
    const c = sql[i];
    const next = sql[i + 1];
    if (c === '-' && next === '-') {
      i = lineEnd(sql, i);
      continue;
    }
    if (c === '/' && next === '*') {
      i = blockCommentEnd(sql, i);
      continue;
    }
    if (c === ';') {
      push(i);
      start = i + 1;
      i++;
      continue;
    }
    if (!/\s/.test(c)) onlyTrivia = false;
    if (c === "'") i = quotedEnd(sql, i, "'", isEscapeString(sql, i));
    else if (c === '"') i = quotedEnd(sql, i, '"', false);
    else if (c === '$') i = dollarQuoteEnd(sql, i);
    else i++;
  }
  push(sql.length);
  return statements;
}

/**
 * Kestra's named parameters: `:name` outside quotes and comments (never the `::` of a cast) becomes
 * `$1`, `$2`, … in order of first use. Returns the SQL for postgres.js and the parameter values.
 * A name absent from `values` is refused with the list of names given.
 */
export function bindNamedParameters(sql: string, values: Record<string, unknown>): { text: string; args: unknown[] } {
  const order: string[] = [];
  let out = '';
  let i = 0;
  while (i < sql.length) {
    const c = sql[i];
    const next = sql[i + 1];
    let end = i + 1;
    if (c === '-' && next === '-') end = lineEnd(sql, i);
    else if (c === '/' && next === '*') end = blockCommentEnd(sql, i);
    else if (c === "'") end = quotedEnd(sql, i, "'", isEscapeString(sql, i));
    else if (c === '"') end = quotedEnd(sql, i, '"', false);
    else if (c === '$') end = dollarQuoteEnd(sql, i);
    else if (c === ':' && next === ':') end = i + 2;
    else if (c === ':' && /[A-Za-z_]/.test(next ?? '') && sql[i - 1] !== ':') {
      const name = /^[A-Za-z_]\w*/.exec(sql.slice(i + 1))![0];
      if (!(name in values)) {
        const known = Object.keys(values);
        throw new MissingParameterError(`':${name}' has no value (given: ${known.length ? known.join(', ') : 'none'})`);
      }
      let index = order.indexOf(name);
      if (index === -1) index = order.push(name) - 1;
      out += `$${index + 1}`;
      i += name.length + 1;
      continue;
    }
    out += sql.slice(i, end);
    i = end;
  }
  return { text: out, args: order.map((name) => values[name]) };
}

/** A `:name` in the SQL that `parameters` does not define. */
export class MissingParameterError extends Error {
  override readonly name = 'MissingParameterError';
}

/** 1-based line and column of a 0-based offset in `text`. */
export function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, Math.max(0, offset));
  const lines = before.split('\n');
  return { line: lines.length, column: lines[lines.length - 1].length + 1 };
}

function lineEnd(sql: string, i: number): number {
  const nl = sql.indexOf('\n', i);
  return nl === -1 ? sql.length : nl + 1;
}

function blockCommentEnd(sql: string, i: number): number {
  let depth = 0;
  while (i < sql.length) {
    if (sql[i] === '/' && sql[i + 1] === '*') {
      depth++;
      i += 2;
    } else if (sql[i] === '*' && sql[i + 1] === '/') {
      depth--;
      i += 2;
      if (depth === 0) return i;
    } else i++;
  }
  return sql.length;
}

/** `E'…'` strings take backslash escapes; an identifier character before the E means it is not one. */
function isEscapeString(sql: string, quoteAt: number): boolean {
  const prev = sql[quoteAt - 1];
  return (prev === 'E' || prev === 'e') && !/[\w$]/.test(sql[quoteAt - 2] ?? '');
}

function quotedEnd(sql: string, i: number, quote: string, backslashEscapes: boolean): number {
  i++;
  while (i < sql.length) {
    const c = sql[i];
    if (backslashEscapes && c === '\\') i += 2;
    else if (c === quote && sql[i + 1] === quote) i += 2;
    else if (c === quote) return i + 1;
    else i++;
  }
  return sql.length;
}

/** `$tag$…$tag$`; a `$` that does not open a dollar quote (`$1`, `a$b`) is one character. */
function dollarQuoteEnd(sql: string, i: number): number {
  if (/[\w$]/.test(sql[i - 1] ?? '')) return i + 1;
  const tag = /^\$(?:[A-Za-z_\u0080-\uffff][\w\u0080-\uffff]*)?\$/.exec(sql.slice(i, i + 64));
  if (!tag) return i + 1;
  const close = sql.indexOf(tag[0], i + tag[0].length);
  return close === -1 ? sql.length : close + tag[0].length;
}
