/**
 * A small YAML highlighter for flow sources: a line tokenizer that wraps keys, strings, comments,
 * literals and `{{ templates }}` in `<span class="y-…">`. Everything else is escaped text, so the
 * output is safe to embed as is, and removing the tags (and unescaping) gives the source back.
 * It colours; it does not validate (the flow parser does).
 */

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** HTML-escapes text for element content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => ESCAPES[ch]);
}

const KEY = /^(?:"(?:[^"\\]|\\.)*"|'(?:[^']|'')*'|[^\s'"#:{}[\],&*!|>%@`-][^:#]*?|-[^\s:#][^:#]*?)(?=[ \t]*:(?:[ \t]|$))/;
const TEMPLATE = /\{\{[\s\S]*?(?:\}\}|$)|\{%[\s\S]*?(?:%\}|$)/g;
const LITERAL = /^(?:true|false|True|False|TRUE|FALSE|null|Null|NULL|~|[-+]?(?:\d[\d_]*(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?|0x[0-9a-fA-F]+|0o[0-7]+|[-+]?\.inf|\.nan)$/;
const BLOCK_INDICATOR = /^[|>][-+0-9]*(?=[ \t]*(?:#.*)?$)/;

interface State {
  /** Inside a block scalar (`|`, `>`): lines indented deeper than this column are its content. */
  blockParent: number | null;
  /** Inside a quoted scalar that continues on the next line. */
  quote: '"' | "'" | null;
  /** Depth of `[`/`{` flow collections left open. */
  flow: number;
}

/** The source as highlighted HTML, one string per line (no newline characters). */
export function highlightYamlLines(source: string): string[] {
  const state: State = { blockParent: null, quote: null, flow: 0 };
  const lines = source.split('\n');
  return lines.map((line) => highlightLine(line, state));
}

/** The whole source as highlighted HTML (lines joined by newlines). */
export function highlightYaml(source: string): string {
  return highlightYamlLines(source).join('\n');
}

function span(cls: string, html: string): string {
  return html === '' ? '' : `<span class="${cls}">${html}</span>`;
}

/** Escaped text with `{{ … }}` and `{% … %}` wrapped as templates. */
function withTemplates(text: string): string {
  let out = '';
  let last = 0;
  for (const match of text.matchAll(TEMPLATE)) {
    if (match[0] === '') continue;
    out += escapeHtml(text.slice(last, match.index)) + span('y-tpl', escapeHtml(match[0]));
    last = match.index + match[0].length;
  }
  return out + escapeHtml(text.slice(last));
}

function indentOf(line: string): number {
  return line.length - line.trimStart().length;
}

function highlightLine(line: string, state: State): string {
  if (state.blockParent !== null) {
    if (line.trim() === '' || indentOf(line) > state.blockParent) return span('y-str', withTemplates(line));
    state.blockParent = null;
  }
  let out = '';
  let i = 0;
  if (state.quote) {
    const end = closingQuote(line, 0, state.quote);
    if (end === -1) return span('y-str', withTemplates(line));
    out += span('y-str', withTemplates(line.slice(0, end + 1)));
    i = end + 1;
    state.quote = null;
    return out + highlightValue(line, i, state, indentOf(line));
  }
  if (/^(?:---|\.\.\.)(?=\s|$)/.test(line)) {
    out += span('y-punct', escapeHtml(line.slice(0, 3)));
    return out + highlightValue(line, 3, state, 0);
  }
  // Indentation and sequence markers.
  let nodeColumn = indentOf(line);
  i = nodeColumn;
  out += escapeHtml(line.slice(0, i));
  while (line[i] === '-' && (i + 1 === line.length || line[i + 1] === ' ' || line[i + 1] === '\t')) {
    nodeColumn = i;
    const rest = line.slice(i + 1);
    const gap = rest.length - rest.trimStart().length;
    out += span('y-punct', '-') + escapeHtml(line.slice(i + 1, i + 1 + gap));
    i += 1 + gap;
  }
  if (state.flow === 0) {
    const key = KEY.exec(line.slice(i));
    if (key) {
      nodeColumn = i;
      out += span('y-key', escapeHtml(key[0]));
      i += key[0].length;
      const colon = line.indexOf(':', i);
      out += escapeHtml(line.slice(i, colon)) + span('y-punct', ':');
      i = colon + 1;
    }
  }
  return out + highlightValue(line, i, state, nodeColumn);
}

/** The rest of a line after any key: scalars, strings, comments, flow punctuation. */
function highlightValue(line: string, start: number, state: State, nodeColumn: number): string {
  let out = '';
  let i = start;
  while (i < line.length) {
    const ch = line[i];
    if (ch === ' ' || ch === '\t') {
      const ws = /^[ \t]+/.exec(line.slice(i))![0];
      out += ws;
      i += ws.length;
      continue;
    }
    if (ch === '#' && (i === 0 || /[ \t]/.test(line[i - 1]))) {
      out += span('y-com', escapeHtml(line.slice(i)));
      break;
    }
    if (ch === '"' || ch === "'") {
      const end = closingQuote(line, i + 1, ch);
      if (end === -1) {
        out += span('y-str', withTemplates(line.slice(i)));
        state.quote = ch;
        break;
      }
      out += span('y-str', withTemplates(line.slice(i, end + 1)));
      i = end + 1;
      continue;
    }
    if (state.flow === 0) {
      const block = BLOCK_INDICATOR.exec(line.slice(i));
      if (block) {
        out += span('y-punct', escapeHtml(block[0]));
        i += block[0].length;
        state.blockParent = nodeColumn;
        continue;
      }
    }
    const template = ch === '{' && (line[i + 1] === '{' || line[i + 1] === '%');
    if (ch === '[' || (ch === '{' && !template)) state.flow += 1;
    if (']}'.includes(ch)) state.flow = Math.max(0, state.flow - 1);
    if ((!template && '[]{},'.includes(ch)) || (ch === ':' && state.flow > 0)) {
      out += span('y-punct', escapeHtml(ch));
      i += 1;
      continue;
    }
    if (ch === '&' || ch === '*' || ch === '!') {
      const meta = /^\S+/.exec(line.slice(i))![0];
      out += span('y-meta', escapeHtml(meta));
      i += meta.length;
      continue;
    }
    // A plain scalar: up to a comment, or a flow indicator inside a flow collection.
    let end = i;
    while (end < line.length) {
      const c = line[end];
      if (c === '#' && /[ \t]/.test(line[end - 1])) break;
      if (state.flow > 0 && (',[]{}'.includes(c) || (c === ':' && /[ \t]/.test(line[end + 1] ?? ' ')))) break;
      if (c === '{' && (line[end + 1] === '{' || line[end + 1] === '%')) {
        // A template inside a plain scalar may hold braces and ' #': keep it whole.
        const close = line.indexOf(line[end + 1] === '{' ? '}}' : '%}', end + 2);
        end = close === -1 ? line.length : close + 2;
        continue;
      }
      end += 1;
    }
    const raw = line.slice(i, end);
    const text = raw.replace(/[ \t]+$/, '');
    out += span(LITERAL.test(text) ? 'y-lit' : 'y-val', withTemplates(text)) + raw.slice(text.length);
    i = end;
  }
  return out;
}

/** Index of the quote closing a scalar that opened before `from`, or -1 when it continues on the next line. */
function closingQuote(line: string, from: number, quote: '"' | "'"): number {
  for (let i = from; i < line.length; i++) {
    if (quote === '"' && line[i] === '\\') {
      i += 1;
      continue;
    }
    if (line[i] === quote) {
      if (quote === "'" && line[i + 1] === "'") {
        i += 1;
        continue;
      }
      return i;
    }
  }
  return -1;
}
