/**
 * YAML → plain data, keeping where every property came from so that any problem can point at its line
 * and column. Also the two normalisations Kestra applies while reading a flow: `labels` (a list of
 * `{key, value}` or a map) become a map, and the deprecated `taskDefaults` become `pluginDefaults`.
 */
import { Composer, isAlias, isMap, isPair, isScalar, isSeq, Lexer, LineCounter, Parser, type CST, type Document, type Node } from 'yaml';
import { DEFAULT_LIMITS, type Limits } from '../../config/index.ts';
import { yamlDepthLimit, yamlDepthMessage } from './flow-limits.ts';
import { formatPath, type PathSegment } from './path.ts';
import type { FlowProblem } from './problem.ts';

/**
 * Copies aliases (`*name`) may expand to in one document (the `yaml` package's `maxAliasCount`): a few
 * lines of "billion laughs" would otherwise expand to gigabytes.
 */
const MAX_ALIAS_COUNT = 1000;

/** Thrown by the token stream when the YAML nests deeper than allowed, where it does. */
class YamlTooDeepError extends Error {
  constructor(readonly offset: number) {
    super(`YAML nested too deep at offset ${offset}`);
    this.name = 'YamlTooDeepError';
  }
}

export interface SourcePosition {
  line: number;
  column: number;
}

/** A string scalar of the document, kept so templates in it can be checked at their real place. */
export interface StringScalar {
  segments: PathSegment[];
  value: string;
  /** Position of the scalar's first character (the quote or the block indicator included). */
  line: number;
  column: number;
  style: 'plain' | 'quoted' | 'block';
  /** For block scalars: the column (1-based) where content lines start. */
  contentColumn?: number;
}

/** Positions of keys and values by property path; lookups fall back to the nearest ancestor. */
export class SourceMap {
  private readonly values = new Map<string, SourcePosition>();
  private readonly keys = new Map<string, SourcePosition>();

  setValue(segments: readonly PathSegment[], position: SourcePosition): void {
    this.values.set(formatPath(segments), position);
  }

  setKey(segments: readonly PathSegment[], position: SourcePosition): void {
    this.keys.set(formatPath(segments), position);
  }

  /** Where the value at `segments` starts, or the nearest ancestor's when it is not in the source. */
  valueAt(segments: readonly PathSegment[]): SourcePosition {
    for (let n = segments.length; n >= 0; n--) {
      const found = this.values.get(formatPath(segments.slice(0, n)));
      if (found) return found;
    }
    return { line: 1, column: 1 };
  }

  /** Where the key of the property at `segments` is written (falls back like `valueAt`). */
  keyAt(segments: readonly PathSegment[]): SourcePosition {
    return this.keys.get(formatPath(segments)) ?? this.valueAt(segments);
  }

  /** True when the property is written in the source (not merged in from elsewhere). */
  has(segments: readonly PathSegment[]): boolean {
    return this.values.has(formatPath(segments));
  }
}

export interface ParsedSource {
  /** The document as plain data; undefined when the YAML could not be read. */
  value?: unknown;
  sourceMap: SourceMap;
  strings: StringScalar[];
  problems: FlowProblem[];
}

/**
 * Read one YAML document with positions. YAML syntax errors and extra documents become problems, as do
 * YAML nested deeper than the flow nesting limit allows and aliases that expand too much.
 */
export function parseYamlWithPositions(source: string, file?: string, limits: Limits = DEFAULT_LIMITS): ParsedSource {
  const lineCounter = new LineCounter();
  const sourceMap = new SourceMap();
  const strings: StringScalar[] = [];
  const problems: FlowProblem[] = [];
  const at = (offset: number): SourcePosition => {
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };

  let docs: Document.Parsed[];
  try {
    docs = readDocuments(source, lineCounter, yamlDepthLimit(limits));
  } catch (error) {
    if (!(error instanceof YamlTooDeepError)) throw error;
    problems.push({ file, ...at(error.offset), property: '', message: yamlDepthMessage(limits), severity: 'error' });
    return { sourceMap, strings, problems };
  }
  // A file of only comments is one document with no contents.
  const withContent = docs.filter((d) => d.contents !== null || d.errors.length > 0);

  if (withContent.length === 0) {
    problems.push({ file, line: 1, column: 1, property: '', message: 'the file holds no flow (empty YAML document)', severity: 'error' });
    return { sourceMap, strings, problems };
  }
  if (withContent.length > 1) {
    const second = withContent[1];
    const offset = second.range?.[0] ?? 0;
    // Point at the `---` separator when there is one, not at the second document's first key.
    const separator = source.lastIndexOf('---', offset);
    problems.push({
      file,
      ...at(separator >= 0 && separator <= offset ? separator : offset),
      property: '',
      message: `the file holds ${withContent.length} YAML documents; a flow file must hold exactly one flow`,
      severity: 'error',
    });
  }

  const doc = withContent[0];
  let stackOverflow = false;
  for (const error of [...doc.errors, ...doc.warnings]) {
    // The reader reports each level past its stack's end: one problem says it.
    if (error.message.startsWith('Maximum call stack size exceeded')) {
      if (!stackOverflow) problems.push({ file, ...at(error.pos[0]), property: '', message: TOO_DEEP_TO_READ, severity: 'error' });
      stackOverflow = true;
      continue;
    }
    problems.push({
      file,
      ...at(error.pos[0]),
      property: '',
      message: `YAML ${error.name === 'YAMLWarning' ? 'warning' : 'syntax error'}: ${firstLine(error.message)}`,
      severity: error.name === 'YAMLWarning' ? 'warning' : 'error',
    });
  }
  if (doc.errors.length > 0) return { sourceMap, strings, problems };

  let firstAlias: SourcePosition | undefined;
  // An alias inside the very node it names makes a value that contains itself: every reader of the flow
  // (validation, storage as JSON, rendering) would recurse for ever. The collections being recorded:
  const ancestors: Node[] = [];
  let selfReference: { name: string; position: SourcePosition } | undefined;
  const checkAlias = (alias: unknown): void => {
    if (!isAlias(alias) || selfReference) return;
    const range = alias.range;
    const target = alias.resolve(doc);
    if (range && target && ancestors.includes(target)) selfReference = { name: alias.source, position: at(range[0]) };
  };
  const record = (node: unknown, segments: PathSegment[]): void => {
    if (!node || typeof node !== 'object') return;
    const range = (node as Node).range;
    if (range) sourceMap.setValue(segments, at(range[0]));
    if (isAlias(node)) {
      if (range) firstAlias ??= at(range[0]);
      checkAlias(node);
      return;
    }
    if (isScalar(node)) {
      if (typeof node.value === 'string' && range) {
        const style = node.type === 'BLOCK_LITERAL' || node.type === 'BLOCK_FOLDED'
          ? 'block'
          : node.type === 'QUOTE_DOUBLE' || node.type === 'QUOTE_SINGLE' ? 'quoted' : 'plain';
        const position = at(range[0]);
        strings.push({
          segments,
          value: node.value,
          ...position,
          style,
          contentColumn: style === 'block' ? blockContentColumn(source, range[0]) : undefined,
        });
      }
      return;
    }
    if (isMap(node)) {
      ancestors.push(node);
      for (const pair of node.items) {
        if (!isPair(pair)) continue;
        checkAlias(pair.key);
        const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
        if (key === '<<') {
          // Merge keys: the merged properties have no place of their own, but their aliases count.
          const merged = isSeq(pair.value) ? pair.value.items : [pair.value];
          for (const item of merged) {
            const range = (item as Node | null)?.range;
            if (isAlias(item) && range) firstAlias ??= at(range[0]);
            checkAlias(item);
          }
          continue;
        }
        const child = [...segments, key];
        const keyRange = (pair.key as Node | null)?.range;
        if (keyRange) sourceMap.setKey(child, at(keyRange[0]));
        if (pair.value) record(pair.value, child);
        else if (keyRange) sourceMap.setValue(child, at(keyRange[0]));
      }
      ancestors.pop();
      return;
    }
    if (isSeq(node)) {
      ancestors.push(node);
      node.items.forEach((item, index) => record(item, [...segments, index]));
      ancestors.pop();
    }
  };
  let value: unknown;
  try {
    record(doc.contents, []);
    if (selfReference) {
      const { name, position } = selfReference;
      problems.push({
        file, ...position, property: '', severity: 'error',
        message: `the alias *${name} stands inside the value its anchor &${name} names, making a value that contains itself; a flow cannot hold one`,
      });
      return { sourceMap, strings, problems };
    }
    value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (error) {
    problems.push({ file, ...yamlErrorProblem(error, firstAlias) });
    return { sourceMap, strings, problems };
  }
  return { value, sourceMap, strings, problems };
}

const TOO_DEEP_TO_READ = 'the YAML nests too deeply to be read';

/**
 * The documents of `source`, as `parseAllDocuments` reads them, but refused (YamlTooDeepError) as
 * soon as the reader's stack of open collections grows past `maxDepth`: its cost grows with the
 * depth, and a megabyte of `[` would hold the event loop for seconds and exhaust memory.
 */
function readDocuments(source: string, lineCounter: LineCounter, maxDepth: number): Document.Parsed[] {
  const parser = new Parser(lineCounter.addNewLine);
  function* tokens(): Generator<CST.Token> {
    lineCounter.addNewLine(0);
    for (const lexeme of new Lexer().lex(source)) {
      yield* parser.next(lexeme);
      if (parser.stack.length > maxDepth) throw new YamlTooDeepError(parser.offset);
    }
    yield* parser.end();
  }
  // logLevel 'error': what the reader warns about is in each document's warnings, not on the process's stderr.
  return [...new Composer({ merge: true, uniqueKeys: true, logLevel: 'error' }).compose(tokens())];
}

/** What a failure to turn the document into data means to the flow's author, and where. */
function yamlErrorProblem(error: unknown, firstAlias: SourcePosition | undefined): Omit<FlowProblem, 'file'> {
  const whole = { line: 1, column: 1, property: '', severity: 'error' as const };
  if (error instanceof ReferenceError && /alias count/i.test(error.message)) {
    return {
      ...whole,
      ...firstAlias,
      message: `the YAML aliases (*name) expand to too many copies (more than ${MAX_ALIAS_COUNT}): refused as an alias bomb ("billion laughs"); ` +
        'write the repeated parts out, or use fewer aliases',
    };
  }
  if (error instanceof RangeError && /call stack/i.test(error.message)) return { ...whole, message: TOO_DEEP_TO_READ };
  return { ...whole, message: `YAML error: ${(error as Error).message}` };
}

function firstLine(message: string): string {
  return message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '').trim();
}

/** Column where a block scalar's content starts: the indentation of its first non-blank line. */
function blockContentColumn(source: string, headerOffset: number): number {
  const lineEnd = source.indexOf('\n', headerOffset);
  if (lineEnd < 0) return 1;
  for (const line of source.slice(lineEnd + 1).split('\n')) {
    if (line.trim() === '') continue;
    return line.length - line.trimStart().length + 1;
  }
  return 1;
}

/** The shape `labels` may take in YAML: a map, or a list of `{key, value}`. */
export type LabelsSource = Record<string, unknown> | { key?: unknown; value?: unknown }[];

export interface NormalisedFlow {
  /** The flow map with `labels` as a map and `pluginDefaults` in place of `taskDefaults`. */
  flow: Record<string, unknown>;
  /** Where each label was written, for problems about a label. */
  labelPlaces: Map<string, PathSegment[]>;
  /** The key the plugin defaults were written under (`taskDefaults` in older flows). */
  pluginDefaultsKey: 'pluginDefaults' | 'taskDefaults';
  problems: FlowProblem[];
}

/**
 * Kestra's reading-time normalisations. Labels become `{key: value}` (scalar values as strings);
 * `taskDefaults` (deprecated) becomes `pluginDefaults`, with a warning.
 */
export function normaliseFlow(raw: Record<string, unknown>, sourceMap: SourceMap, file?: string): NormalisedFlow {
  const problems: FlowProblem[] = [];
  const flow: Record<string, unknown> = { ...raw };
  const labelPlaces = new Map<string, PathSegment[]>();
  let pluginDefaultsKey: NormalisedFlow['pluginDefaultsKey'] = 'pluginDefaults';
  const problem = (segments: PathSegment[], message: string, severity: FlowProblem['severity'] = 'error', onKey = false) => {
    problems.push({ file, ...(onKey ? sourceMap.keyAt(segments) : sourceMap.valueAt(segments)), property: formatPath(segments), message, severity });
  };

  if ('labels' in raw && raw.labels !== null && raw.labels !== undefined) {
    const labels: Record<string, string> = {};
    const add = (key: unknown, value: unknown, segments: PathSegment[]) => {
      if (typeof key !== 'string' || key.trim() === '') {
        problem(segments, 'a label needs a non-empty string key');
        return;
      }
      if (value === null || value === undefined || typeof value === 'object') {
        problem(segments, `label '${key}' must have a string value`);
        return;
      }
      if (key in labels) problem(segments, `duplicate label '${key}'`);
      labels[key] = String(value);
      labelPlaces.set(key, segments);
    };
    if (Array.isArray(raw.labels)) {
      raw.labels.forEach((entry, i) => {
        if (!entry || typeof entry !== 'object' || Array.isArray(entry)) {
          problem(['labels', i], 'a label in a list must be a map {key, value}');
          return;
        }
        const extra = Object.keys(entry).filter((k) => k !== 'key' && k !== 'value');
        for (const k of extra) problem(['labels', i, k], `unknown property '${k}' in a label (expected key and value)`, 'error', true);
        add((entry as Record<string, unknown>).key, (entry as Record<string, unknown>).value, ['labels', i]);
      });
    } else if (typeof raw.labels === 'object') {
      for (const [key, value] of Object.entries(raw.labels as Record<string, unknown>)) add(key, value, ['labels', key]);
    } else {
      problem(['labels'], "'labels' must be a map or a list of {key, value}");
    }
    flow.labels = labels;
  }

  if ('taskDefaults' in raw) {
    problem(['taskDefaults'], "'taskDefaults' is deprecated, use 'pluginDefaults'", 'warning', true);
    if ('pluginDefaults' in raw) {
      problem(['taskDefaults'], "both 'taskDefaults' and 'pluginDefaults' are set; keep only 'pluginDefaults'", 'error', true);
    } else {
      flow.pluginDefaults = raw.taskDefaults;
      pluginDefaultsKey = 'taskDefaults';
    }
    delete flow.taskDefaults;
  }
  return { flow, labelPlaces, pluginDefaultsKey, problems };
}
