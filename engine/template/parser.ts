// The Pebble dialect on top of nunjucks's lexer and parser. nunjucks tokenizes and parses
// statements (if, for, set, macro, filter, raw); the expression grammar is replaced by Pebble's
// operator-precedence table (with Kestra's `??`/`???`), its ternary, tests, `contains` and ranges.
import { TemplateError } from './errors.ts';
import { lexer, nodes, parserModule, type Node, type NodeList, type Token, type Tokenizer } from './nunjucks.ts';

/** `a ?? b` (left null or undefined) and `a ??? b` (left undefined only). */
export const Coalesce = nodes.Node.extend('Coalesce', { fields: ['left', 'right', 'undefinedOnly'] });
/** `a is [not] name(args)`. */
export const Test = nodes.Node.extend('Test', { fields: ['target', 'name', 'args', 'negated'] });
/** `a == b`, `a < b`, … (Pebble compares pairwise, left-associative). */
export const Comparison = nodes.Node.extend('Comparison', { fields: ['op', 'left', 'right'] });
export const Contains = nodes.Node.extend('Contains', { fields: ['left', 'right'] });
export const Range = nodes.Node.extend('Range', { fields: ['left', 'right'] });
/** `{% raw %}…{% endraw %}`, kept verbatim (tags included) until the outermost render strips them. */
export const RawBlock = nodes.Node.extend('RawBlock', { fields: ['source'] });

type OperatorKind = 'binary' | 'test' | 'filter' | 'notIn';
interface BinaryOperator {
  precedence: number;
  kind: OperatorKind;
  build?: (left: Node, right: Node, tok: Token) => Node;
}

const binary = (precedence: number, build: BinaryOperator['build']): BinaryOperator => ({ precedence, kind: 'binary', build });
const compare = (op: string) => binary(30, (l, r, t) => new Comparison(t.lineno, t.colno, op, l, r));

// Pebble's core precedences plus Kestra's extensions; higher binds tighter.
const OPERATORS: Record<string, BinaryOperator> = {
  or: binary(10, (l, r, t) => new nodes.Or(t.lineno, t.colno, l, r)),
  and: binary(15, (l, r, t) => new nodes.And(t.lineno, t.colno, l, r)),
  is: { precedence: 20, kind: 'test' },
  contains: binary(20, (l, r, t) => new Contains(t.lineno, t.colno, l, r)),
  in: binary(30, (l, r, t) => new nodes.In(t.lineno, t.colno, l, r)),
  not: { precedence: 30, kind: 'notIn' },
  '==': compare('=='),
  '===': compare('=='),
  equals: compare('=='),
  '!=': compare('!='),
  '!==': compare('!='),
  '<': compare('<'),
  '>': compare('>'),
  '<=': compare('<='),
  '>=': compare('>='),
  '+': binary(40, (l, r, t) => new nodes.Add(t.lineno, t.colno, l, r)),
  '-': binary(40, (l, r, t) => new nodes.Sub(t.lineno, t.colno, l, r)),
  '*': binary(60, (l, r, t) => new nodes.Mul(t.lineno, t.colno, l, r)),
  '/': binary(60, (l, r, t) => new nodes.Div(t.lineno, t.colno, l, r)),
  '//': binary(60, (l, r, t) => new nodes.FloorDiv(t.lineno, t.colno, l, r)),
  '%': binary(60, (l, r, t) => new nodes.Mod(t.lineno, t.colno, l, r)),
  '**': binary(60, (l, r, t) => new nodes.Pow(t.lineno, t.colno, l, r)),
  '|': { precedence: 100, kind: 'filter' },
  '~': binary(110, (l, r, t) => new nodes.Concat(t.lineno, t.colno, l, r)),
  '..': binary(120, (l, r, t) => new Range(t.lineno, t.colno, l, r)),
  '??': binary(120, (l, r, t) => new Coalesce(t.lineno, t.colno, l, r, false)),
  '???': binary(120, (l, r, t) => new Coalesce(t.lineno, t.colno, l, r, true)),
};
const WORD_OPERATORS = new Set(['or', 'and', 'is', 'contains', 'in', 'not', 'equals']);
const UNARY_PRECEDENCE = 500;

/** Tags Kestra's Pebble engine accepts (it removes include, extends, import, embed, …). */
const STATEMENT_TAGS = new Set(['raw', 'verbatim', 'if', 'for', 'set', 'macro', 'filter']);

/**
 * Token stream over nunjucks's tokenizer that adds the tokens nunjucks does not know:
 * `?`, `??`, `???` (nunjucks glues `?` into symbols) and `..` (nunjucks reads `1..3` as `1.` `.` `3`).
 */
class PebbleTokens {
  readonly tags: Tokenizer['tags'];
  private readonly pending: Token[] = [];
  /** Source offset of the last `{%` seen, for raw blocks. */
  lastBlockStart = 0;
  /** Open brackets in the current tag. */
  private depth = 0;

  constructor(readonly inner: Tokenizer) {
    this.tags = inner.tags;
  }

  nextToken(): Token | null {
    const tok = this.pending.shift() ?? this.read();
    if (!tok) return null;
    if (tok.type === lexer.TOKEN_SYMBOL && tok.value.includes('?')) return this.splitAtQuestionMarks(tok);
    if (tok.type === lexer.TOKEN_FLOAT && tok.value.endsWith('.') && this.peekIs(lexer.TOKEN_OPERATOR, '.')) {
      const dot = this.pending.shift()!;
      this.pending.unshift({ ...dot, value: '..', colno: dot.colno - 1 });
      return { ...tok, type: lexer.TOKEN_INT, value: tok.value.slice(0, -1) };
    }
    if (tok.type === lexer.TOKEN_OPERATOR && tok.value === '.' && this.peekIs(lexer.TOKEN_OPERATOR, '.')) {
      const next = this.pending[0];
      if (next.lineno === tok.lineno && next.colno === tok.colno + 1) {
        this.pending.shift();
        return { ...tok, value: '..' };
      }
    }
    return tok;
  }

  /**
   * nunjucks glues `?` into symbols (`a??'b'` is one symbol): emit the part before the first run
   * of `?`, then that run as an operator, and rewind the tokenizer to lex the rest normally.
   */
  private splitAtQuestionMarks(tok: Token): Token | null {
    const match = /^([^?]*)(\?+)/.exec(tok.value)!;
    const [head, word, marks] = match;
    this.inner.backN(tok.value.length - head.length);
    const operator: Token = { type: lexer.TOKEN_OPERATOR, value: marks, lineno: tok.lineno, colno: tok.colno + word.length };
    if (word === '') return operator;
    this.pending.unshift(operator);
    return { ...tok, type: classifyWord(word), value: word };
  }

  private read(): Token | null {
    const start = this.inner.index;
    let tok = this.inner.nextToken();
    if (!tok) return tok;
    switch (tok.type) {
      case lexer.TOKEN_BLOCK_START:
        this.lastBlockStart = start;
        this.depth = 0;
        break;
      case lexer.TOKEN_VARIABLE_START:
        this.depth = 0;
        break;
      case lexer.TOKEN_LEFT_CURLY:
      case lexer.TOKEN_LEFT_BRACKET:
      case lexer.TOKEN_LEFT_PAREN:
        this.depth++;
        break;
      case lexer.TOKEN_RIGHT_CURLY:
      case lexer.TOKEN_RIGHT_BRACKET:
      case lexer.TOKEN_RIGHT_PAREN:
        this.depth = Math.max(0, this.depth - 1);
        break;
      case lexer.TOKEN_VARIABLE_END:
        // Like Pebble, `}}` only closes the tag outside brackets: in `{{ {'a': {}} }}` it is a brace.
        if (tok.value === '}}' && this.depth > 0) {
          this.inner.backN(1);
          this.inner.in_code = true;
          this.depth--;
          tok = { ...tok, type: lexer.TOKEN_RIGHT_CURLY, value: '}' };
        }
        break;
    }
    return tok;
  }

  private peekIs(type: string, value: string): boolean {
    if (this.pending.length === 0) {
      const tok = this.read();
      if (!tok) return false;
      this.pending.push(tok);
    }
    return this.pending[0].type === type && this.pending[0].value === value;
  }
}

function classifyWord(text: string): string {
  if (/^[0-9]+$/.test(text)) return lexer.TOKEN_INT;
  if (text === 'true' || text === 'false') return lexer.TOKEN_BOOLEAN;
  if (text === 'none' || text === 'null') return lexer.TOKEN_NONE;
  return lexer.TOKEN_SYMBOL;
}

class PebbleParser extends parserModule.Parser {
  private readonly stream: PebbleTokens;

  constructor(stream: PebbleTokens) {
    super(stream as unknown as Tokenizer);
    this.stream = stream;
  }

  override parseExpression(): Node {
    return this.parseBinary(0);
  }

  /** Precedence climbing over OPERATORS, then (at the top level only) Pebble's `?:` ternary. */
  private parseBinary(minPrecedence: number): Node {
    let left = this.parseOperand();
    for (;;) {
      const tok = this.peekToken();
      const op = tok ? operatorFor(tok) : undefined;
      if (!tok || !op || op.precedence < minPrecedence) break;
      this.nextToken();
      switch (op.kind) {
        case 'test':
          left = this.parseTestInvocation(left, tok);
          break;
        case 'filter':
          left = this.parseFilterInvocation(left);
          break;
        case 'notIn': {
          if (!this.skipSymbol('in')) this.fail('expected "in" after "not"', tok.lineno, tok.colno);
          const right = this.parseBinary(op.precedence + 1);
          left = new nodes.Not(tok.lineno, tok.colno, new nodes.In(tok.lineno, tok.colno, left, right));
          break;
        }
        default:
          left = op.build!(left, this.parseBinary(op.precedence + 1), tok);
      }
    }
    if (minPrecedence === 0 && this.skipValue(lexer.TOKEN_OPERATOR, '?')) {
      const body = this.parseBinary(0);
      if (!this.skip(lexer.TOKEN_COLON)) this.fail('expected ":" in ternary expression');
      const otherwise = this.parseBinary(0);
      left = new nodes.InlineIf(left.lineno, left.colno, left, body, otherwise);
    }
    return left;
  }

  private parseOperand(): Node {
    const tok = this.peekToken();
    if (!tok) this.fail('unexpected end of template, expected an expression');
    if (tok.type === lexer.TOKEN_SYMBOL && tok.value === 'not') {
      this.nextToken();
      return new nodes.Not(tok.lineno, tok.colno, this.parseBinary(UNARY_PRECEDENCE));
    }
    if (tok.type === lexer.TOKEN_OPERATOR && (tok.value === '-' || tok.value === '+')) {
      this.nextToken();
      const operand = this.parseBinary(UNARY_PRECEDENCE);
      return new (tok.value === '-' ? nodes.Neg : nodes.Pos)(tok.lineno, tok.colno, operand);
    }
    return this.parsePrimary();
  }

  private parseTestInvocation(target: Node, isTok: Token): Node {
    const negated = this.skipSymbol('not');
    const nameTok = this.nextToken();
    if (!nameTok || (nameTok.type !== lexer.TOKEN_SYMBOL && nameTok.type !== lexer.TOKEN_NONE)) {
      this.fail('expected a test name after "is"', isTok.lineno, isTok.colno);
    }
    const args = this.peekToken()?.type === lexer.TOKEN_LEFT_PAREN ? this.parseSignature() : null;
    return new Test(isTok.lineno, isTok.colno, target, nameTok.value, args ?? new nodes.NodeList(isTok.lineno, isTok.colno), negated);
  }

  private parseFilterInvocation(input: Node): Node {
    const name = this.parseFilterName();
    const args = this.peekToken()?.type === lexer.TOKEN_LEFT_PAREN ? (this.parseSignature() as NodeList).children : [];
    return new nodes.Filter(name.lineno, name.colno, name, new nodes.NodeList(name.lineno, name.colno, [input, ...args]));
  }

  override parseStatement(): Node | null {
    const tok = this.peekToken();
    if (tok && tok.type === lexer.TOKEN_SYMBOL && !this.breakOnBlocks?.includes(tok.value) && !STATEMENT_TAGS.has(tok.value)) {
      this.fail(`Unknown tag "${tok.value}"`, tok.lineno, tok.colno);
    }
    return super.parseStatement();
  }

  /** Raw blocks end at the first `{% endraw %}`; verbatim blocks print their body as is. */
  override parseRaw(tagName = 'raw'): Node {
    const start = this.stream.lastBlockStart;
    const begun = this.advanceAfterBlockEnd();
    const inner = this.stream.inner;
    const end = new RegExp(`\\{%-?\\s*end${tagName}\\s*-?%\\}`, 'g');
    end.lastIndex = inner.index;
    const match = end.exec(inner.str);
    if (!match) this.fail(`expected {% end${tagName} %} before the end of the template`, begun.lineno, begun.colno);
    const body = inner.str.slice(inner.index, match.index);
    const blockEnd = match.index + match[0].length;
    const source = inner.str.slice(start, blockEnd);
    inner.forwardN(blockEnd - inner.index);
    this.dropLeadingWhitespace = match[0].endsWith('-%}');
    if (tagName === 'raw') return new RawBlock(begun.lineno, begun.colno, source);
    return new nodes.Output(begun.lineno, begun.colno, [new nodes.TemplateData(begun.lineno, begun.colno, body)]);
  }
}

function operatorFor(tok: Token): BinaryOperator | undefined {
  switch (tok.type) {
    case lexer.TOKEN_OPERATOR:
    case lexer.TOKEN_TILDE:
    case lexer.TOKEN_PIPE:
      return OPERATORS[tok.value];
    case lexer.TOKEN_SYMBOL:
      return WORD_OPERATORS.has(tok.value) ? OPERATORS[tok.value] : undefined;
    default:
      return undefined;
  }
}

/** Parses a Pebble template into a nunjucks AST; syntax errors carry 1-based line and column. */
export function parseTemplate(source: string): NodeList {
  const parser = new PebbleParser(new PebbleTokens(lexer.lex(source)));
  try {
    return parser.parseAsRoot();
  } catch (err) {
    throw syntaxError(source, err);
  }
}

function syntaxError(source: string, err: unknown): TemplateError {
  const e = err as { message?: string; lineno?: number; colno?: number };
  let line = e.lineno;
  let column = e.colno;
  if (line === undefined || column === undefined) {
    // nunjucks reports no position at the end of input: point just past the last character.
    const lines = source.split('\n');
    line = lines.length;
    column = lines[lines.length - 1].length + 1;
  }
  const message = String(e.message ?? err).replace(/^parse(?:For|Set|Aggregate|Signature|Import|From|Block|Include|If|Switch|Statement): /, '');
  return new TemplateError(`${message} (${source}:${line})`, { expression: source, line, column, cause: err });
}
