// Loads nunjucks's CommonJS internals (lexer, parser, nodes) that the Pebble dialect extends.
// nunjucks has no "exports" map, so its deep modules are reached through require.
import { createRequire } from 'node:module';
import type * as LexerModule from 'nunjucks/src/lexer.js';
import type * as NodesModule from 'nunjucks/src/nodes.js';
import type * as ParserModule from 'nunjucks/src/parser.js';

const require = createRequire(import.meta.url);

export const lexer = require('nunjucks/src/lexer.js') as typeof LexerModule;
export const nodes = require('nunjucks/src/nodes.js') as typeof NodesModule;
export const parserModule = require('nunjucks/src/parser.js') as typeof ParserModule;

export type Node = NodesModule.Node;
export type NodeList = NodesModule.NodeList;
export type Token = LexerModule.Token;
export type Tokenizer = LexerModule.Tokenizer;
