// Types for the parts of nunjucks's CommonJS internals that the Pebble dialect builds on.
// @types/nunjucks only describes the public Environment API.

declare module 'nunjucks/src/lexer.js' {
  export interface Token {
    type: string;
    value: string;
    lineno: number;
    colno: number;
  }
  export interface Tokenizer {
    str: string;
    index: number;
    lineno: number;
    colno: number;
    in_code: boolean;
    tags: Record<'BLOCK_START' | 'BLOCK_END' | 'VARIABLE_START' | 'VARIABLE_END' | 'COMMENT_START' | 'COMMENT_END', string>;
    nextToken(): Token | null;
    forwardN(n: number): void;
    backN(n: number): void;
    _extractRegex(regex: RegExp): RegExpMatchArray | null;
  }
  export function lex(src: string, opts?: Record<string, unknown>): Tokenizer;
  export const TOKEN_STRING: string;
  export const TOKEN_WHITESPACE: string;
  export const TOKEN_DATA: string;
  export const TOKEN_BLOCK_START: string;
  export const TOKEN_BLOCK_END: string;
  export const TOKEN_VARIABLE_START: string;
  export const TOKEN_VARIABLE_END: string;
  export const TOKEN_COMMENT: string;
  export const TOKEN_LEFT_PAREN: string;
  export const TOKEN_RIGHT_PAREN: string;
  export const TOKEN_LEFT_BRACKET: string;
  export const TOKEN_RIGHT_BRACKET: string;
  export const TOKEN_LEFT_CURLY: string;
  export const TOKEN_RIGHT_CURLY: string;
  export const TOKEN_OPERATOR: string;
  export const TOKEN_COMMA: string;
  export const TOKEN_COLON: string;
  export const TOKEN_TILDE: string;
  export const TOKEN_PIPE: string;
  export const TOKEN_INT: string;
  export const TOKEN_FLOAT: string;
  export const TOKEN_BOOLEAN: string;
  export const TOKEN_NONE: string;
  export const TOKEN_SYMBOL: string;
  export const TOKEN_REGEX: string;
}

declare module 'nunjucks/src/nodes.js' {
  /** Every nunjucks AST node: `typename` names its kind, `fields` its child slots. */
  export class Node {
    constructor(lineno: number, colno: number, ...fields: unknown[]);
    readonly typename: string;
    readonly fields: string[];
    lineno: number;
    colno: number;
    [field: string]: unknown;
    static extend(name: string, props?: { fields?: string[] }): typeof Node;
  }
  export class NodeList extends Node {
    children: Node[];
    addChild(node: Node): void;
  }
  export const Root: typeof NodeList;
  export const Output: typeof NodeList;
  export const Literal: typeof Node;
  export const TemplateData: typeof Node;
  export const Symbol: typeof Node;
  export const Group: typeof NodeList;
  export const Array: typeof NodeList;
  export const Dict: typeof NodeList;
  export const Pair: typeof Node;
  export const LookupVal: typeof Node;
  export const FunCall: typeof Node;
  export const Filter: typeof Node;
  export const KeywordArgs: typeof NodeList;
  export const InlineIf: typeof Node;
  export const Not: typeof Node;
  export const Neg: typeof Node;
  export const Pos: typeof Node;
  export const Or: typeof Node;
  export const And: typeof Node;
  export const In: typeof Node;
  export const Add: typeof Node;
  export const Concat: typeof Node;
  export const Sub: typeof Node;
  export const Mul: typeof Node;
  export const Div: typeof Node;
  export const FloorDiv: typeof Node;
  export const Mod: typeof Node;
  export const Pow: typeof Node;
  export const Compare: typeof Node;
  export const CompareOperand: typeof Node;
}

declare module 'nunjucks/src/parser.js' {
  import type { Node, NodeList } from 'nunjucks/src/nodes.js';
  import type { Token, Tokenizer } from 'nunjucks/src/lexer.js';

  /** nunjucks's recursive-descent parser; its methods are meant to be overridden by subclasses. */
  export class Parser {
    constructor(tokens: Tokenizer);
    tokens: Tokenizer;
    peeked: Token | null;
    breakOnBlocks: string[] | null;
    dropLeadingWhitespace: boolean;
    nextToken(withWhitespace?: boolean): Token | null;
    peekToken(): Token | null;
    pushToken(tok: Token | null): void;
    error(msg: string, lineno?: number, colno?: number): Error & { lineno?: number; colno?: number };
    fail(msg: string, lineno?: number, colno?: number): never;
    skip(type: string): boolean;
    expect(type: string): Token;
    skipValue(type: string, val: string): boolean;
    skipSymbol(val: string): boolean;
    advanceAfterBlockEnd(name?: string): Token;
    parseExpression(): Node;
    parsePrimary(noPostfix?: boolean): Node;
    parsePostfix(node: Node): Node;
    parseAggregate(): Node | null;
    parseSignature(tolerant?: boolean, noParens?: boolean): NodeList | null;
    parseFilterName(): Node;
    parseStatement(): Node | null;
    parseRaw(tagName?: string): Node;
    parseUntilBlocks(...names: string[]): NodeList;
    parseAsRoot(): NodeList;
  }
}
