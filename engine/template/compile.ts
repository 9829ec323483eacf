// Compiles the Pebble-dialect nunjucks AST into a tree of async closures. Rendering is async
// because kv(), secret(), read(), fileSize() and render() reach a database or disk; everything
// else resolves immediately. Strict lookups name the full path that was missing. Loops and macro
// calls charge the render's budget, and every string or list an operator, filter or function makes
// is measured against it (render-budget.ts), so no template can run or grow without end.
import { LimitExceededError } from '../../config/index.ts';
import { bindArguments, type RenderScope, type TemplateFilter, type TemplateTest } from './callables.ts';
import { TemplateError, UndefinedVariableError } from './errors.ts';
import { FILTERS } from './filters.ts';
import { FUNCTIONS } from './functions.ts';
import { MISSING, callMethod, resolveAttribute } from './java-methods.ts';
import type { Node, NodeList } from './nunjucks.ts';
import { arithmetic, comparison, contains, isIn, negate, range, type ArithmeticOperator, type ComparisonOperator } from './operators.ts';
import { parseTemplate } from './parser.ts';
import { TESTS } from './predicates.ts';
import { Output } from './render-budget.ts';
import { isMap, isNullish, isTruthy, javaToString, outputString } from './values.ts';

/** Local variables (`set`, loop variables, macro arguments), innermost first. */
interface Frame {
  readonly vars: Map<string, unknown>;
  readonly parent: Frame | null;
  /** Macro calls this frame runs inside of. */
  readonly calls: number;
}

type Evaluate = (scope: RenderScope, frame: Frame) => Promise<unknown>;
type Emit = (scope: RenderScope, frame: Frame, out: Output) => Promise<void>;

/**
 * How deep macro calls may nest. Pebble on the JVM stops a macro that calls itself without end
 * with a StackOverflowError after a few thousand levels; here each level is a pending promise, so
 * without a bound memory would fill first (the time limit would come too late).
 */
const MAX_MACRO_CALLS = 1000;

interface Macro {
  readonly params: readonly string[];
  readonly defaults: ReadonlyMap<string, Evaluate>;
  readonly body: Emit;
}

export interface CompiledTemplate {
  readonly source: string;
  render(scope: RenderScope): Promise<string>;
  /** Set when the whole template is a single `{{ expression }}`: its value, before output formatting. */
  readonly evaluate?: (scope: RenderScope) => Promise<unknown>;
}

/** Parses and compiles; syntax errors and unknown filters/tests are reported here, not at render. */
export function compileTemplate(source: string): CompiledTemplate {
  const root = parseTemplate(source);
  try {
    return new TemplateCompiler(source).compileRoot(root);
  } catch (err) {
    if (err instanceof TemplateError) throw err;
    // nunjucks's parser accepts some malformed input with holes in the tree (`{{ |() }}`); whatever
    // the compiler trips on there is a syntax error of the template, not a failure of Baton.
    throw new TemplateError(`Invalid template syntax (${source}:1)`, { expression: source, line: 1, column: 1, cause: err });
  }
}

const ARITHMETIC: Record<string, ArithmeticOperator> = { Add: '+', Sub: '-', Mul: '*', Div: '/', Mod: '%', FloorDiv: '//', Pow: '**' };
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

class TemplateCompiler {
  private readonly macros = new Map<string, Macro>();

  constructor(private readonly source: string) {}

  compileRoot(root: NodeList): CompiledTemplate {
    const body = this.statements(root.children);
    const newFrame = (): Frame => ({ vars: new Map(), parent: null, calls: 0 });
    const single = root.children.length === 1 ? this.singleExpression(root.children[0]) : undefined;
    return {
      source: this.source,
      async render(scope) {
        const out = new Output(scope.budget);
        await body(scope, newFrame(), out);
        return out.toString();
      },
      evaluate: single && ((scope) => single(scope, newFrame())),
    };
  }

  private singleExpression(node: Node): Evaluate | undefined {
    if (node.typename !== 'Output') return undefined;
    const children = (node as NodeList).children;
    if (children.length !== 1 || children[0].typename === 'TemplateData') return undefined;
    return this.positioned(this.expression(children[0]), children[0]);
  }

  // ---- statements ---------------------------------------------------------------------------

  private statements(list: Node[]): Emit {
    const emits: Emit[] = [];
    let text = '';
    const flushText = () => {
      if (text === '') return;
      const chunk = text;
      emits.push(async (_s, _f, out) => {
        out.push(chunk);
      });
      text = '';
    };
    for (const node of list) {
      if (node.typename === 'Output') {
        for (const child of (node as NodeList).children) {
          if (child.typename === 'TemplateData') {
            text += child.value as string;
          } else {
            flushText();
            emits.push(this.output(child));
          }
        }
      } else if (node.typename === 'RawBlock') {
        text += node.source as string;
      } else {
        flushText();
        emits.push(this.statement(node));
      }
    }
    flushText();
    if (emits.length === 1) return emits[0];
    return async (scope, frame, out) => {
      for (const emit of emits) await emit(scope, frame, out);
    };
  }

  private output(node: Node): Emit {
    const value = this.positioned(this.expression(node), node);
    return async (scope, frame, out) => {
      const v = await value(scope, frame);
      if (typeof v === 'object' && v !== null) scope.budget.checkWritten(v, 'a value written as JSON');
      out.push(outputString(v));
    };
  }

  private statement(node: Node): Emit {
    switch (node.typename) {
      case 'NodeList':
        return this.statements((node as NodeList).children);
      case 'If':
        return this.ifStatement(node);
      case 'For':
        return this.forStatement(node);
      case 'Set':
        return this.setStatement(node);
      case 'Macro':
        this.defineMacro(node);
        return async () => {};
      default:
        throw this.compileError(`Unsupported tag "${node.typename}"`, node);
    }
  }

  private ifStatement(node: Node): Emit {
    const cond = this.positioned(this.expression(node.cond as Node), node);
    const body = this.statement(node.body as Node);
    const otherwise = node.else_ ? this.statement(node.else_ as Node) : undefined;
    return async (scope, frame, out) => {
      if (isTruthy(await cond(scope, frame))) await body(scope, frame, out);
      else if (otherwise) await otherwise(scope, frame, out);
    };
  }

  private forStatement(node: Node): Emit {
    const nameNode = node.name as Node;
    const names = nameNode.typename === 'Array' ? (nameNode as NodeList).children.map((n) => n.value as string) : [nameNode.value as string];
    const arr = this.expression(node.arr as Node);
    const iterable = this.positioned(async (scope, frame) => iterationItems(await arr(scope, frame), names.length), node);
    const body = this.statement(node.body as Node);
    const otherwise = node.else_ ? this.statement(node.else_ as Node) : undefined;
    return async (scope, frame, out) => {
      const items = (await iterable(scope, frame)) as unknown[];
      if (items.length === 0) {
        if (otherwise) await otherwise(scope, frame, out);
        return;
      }
      for (let i = 0; i < items.length; i++) {
        const pause = scope.budget.charge();
        if (pause) await pause;
        const vars = new Map<string, unknown>();
        const item = items[i];
        if (names.length === 1) vars.set(names[0], item);
        else names.forEach((name, j) => vars.set(name, (item as unknown[])[j] ?? null));
        vars.set('loop', { index: i, revindex: items.length - i - 1, first: i === 0, last: i === items.length - 1, length: items.length });
        await body(scope, { vars, parent: frame, calls: frame.calls }, out);
      }
    };
  }

  private setStatement(node: Node): Emit {
    const targets = (node.targets as Node[]).map((t) => {
      if (t.typename !== 'Symbol') throw this.compileError('set expects a variable name', t);
      return t.value as string;
    });
    const value = node.value ? this.positioned(this.expression(node.value as Node), node) : this.capture(node.body as Node);
    return async (scope, frame) => {
      const v = await value(scope, frame);
      for (const name of targets) frame.vars.set(name, v);
    };
  }

  private defineMacro(node: Node): void {
    const name = (node.name as Node).value as string;
    const params: string[] = [];
    const defaults = new Map<string, Evaluate>();
    for (const arg of (node.args as NodeList).children) {
      if (arg.typename === 'Symbol') params.push(arg.value as string);
      else if (arg.typename === 'KeywordArgs') {
        for (const pair of (arg as NodeList).children) {
          const key = (pair.key as Node).value as string;
          params.push(key);
          defaults.set(key, this.expression(pair.value as Node));
        }
      }
    }
    this.macros.set(name, { params, defaults, body: this.statement(node.body as Node) });
  }

  private capture(body: Node): Evaluate {
    const emit = this.statement(body);
    return async (scope, frame) => {
      const out = new Output(scope.budget);
      await emit(scope, frame, out);
      return out.toString();
    };
  }

  // ---- expressions --------------------------------------------------------------------------

  private expression(node: Node | null): Evaluate {
    // nunjucks's parser leaves a hole for some malformed input (`{{ |.x }}`) instead of failing.
    if (!node) throw new TemplateError(`An expression is missing (${this.source})`, { expression: this.source });
    switch (node.typename) {
      case 'Literal': {
        const value = node.value;
        return async () => value;
      }
      case 'Symbol':
        return this.variable(node);
      case 'LookupVal':
        return this.attribute(node);
      case 'Group': {
        const children = (node as NodeList).children;
        if (children.length !== 1) throw this.compileError('unexpected comma in parentheses', node);
        return this.expression(children[0]);
      }
      case 'Array': {
        const items = (node as NodeList).children.map((c) => this.expression(c));
        return async (scope, frame) => {
          const out: unknown[] = [];
          for (const item of items) out.push(await item(scope, frame));
          return out;
        };
      }
      case 'Dict': {
        const pairs = (node as NodeList).children.map((p) => [this.expression(p.key as Node), this.expression(p.value as Node)] as const);
        return async (scope, frame) => {
          const out: Record<string, unknown> = {};
          for (const [key, value] of pairs) out[javaToString(await key(scope, frame))] = await value(scope, frame);
          return out;
        };
      }
      case 'FunCall':
        return this.call(node);
      case 'Filter':
        return this.filter(node);
      case 'Test':
        return this.test(node);
      case 'InlineIf': {
        const cond = this.expression(node.cond as Node);
        const body = this.expression(node.body as Node);
        const otherwise = node.else_ ? this.expression(node.else_ as Node) : async () => null;
        return async (scope, frame) => (isTruthy(await cond(scope, frame)) ? body(scope, frame) : otherwise(scope, frame));
      }
      case 'Or':
      case 'And':
        return this.logical(node);
      case 'Not': {
        const target = this.expression(node.target as Node);
        return async (scope, frame) => !isTruthy(await target(scope, frame));
      }
      case 'Neg': {
        const target = this.expression(node.target as Node);
        return async (scope, frame) => negate(await target(scope, frame));
      }
      case 'Pos': {
        const target = this.expression(node.target as Node);
        return async (scope, frame) => negate(negate(await target(scope, frame)));
      }
      case 'Concat': {
        const [left, right] = this.operands(node);
        return async (scope, frame) => {
          const a = await left(scope, frame);
          const b = await right(scope, frame);
          // Lists and maps are written out by `~`: measure them before their text is built.
          if (typeof a === 'object' && a !== null) scope.budget.checkWritten(a, "the left side of '~'");
          if (typeof b === 'object' && b !== null) scope.budget.checkWritten(b, "the right side of '~'");
          return scope.budget.checkValue((isNullish(a) ? '' : javaToString(a)) + (isNullish(b) ? '' : javaToString(b)), "'~'");
        };
      }
      case 'Comparison': {
        const [left, right] = this.operands(node);
        const op = node.op as ComparisonOperator;
        return async (scope, frame) => comparison(op, await left(scope, frame), await right(scope, frame));
      }
      case 'In': {
        const [left, right] = this.operands(node);
        return async (scope, frame) => isIn(await left(scope, frame), await right(scope, frame));
      }
      case 'Contains': {
        const [left, right] = this.operands(node);
        return async (scope, frame) => contains(await left(scope, frame), await right(scope, frame), scope.budget);
      }
      case 'Range': {
        const [left, right] = this.operands(node);
        return async (scope, frame) => scope.budget.checkValue(range(await left(scope, frame), await right(scope, frame)), "'..'");
      }
      case 'Coalesce':
        return this.coalesce(node);
      case 'Capture':
        return this.capture(node.body as Node);
    }
    const op = ARITHMETIC[node.typename];
    if (op) {
      const [left, right] = this.operands(node);
      return async (scope, frame) => scope.budget.checkValue(arithmetic(op, await left(scope, frame), await right(scope, frame), scope.budget), `'${op}'`);
    }
    throw this.compileError(`Unsupported expression "${node.typename}"`, node);
  }

  private operands(node: Node): [Evaluate, Evaluate] {
    return [this.expression(node.left as Node), this.expression(node.right as Node)];
  }

  private variable(node: Node): Evaluate {
    const name = node.value as string;
    return async (scope, frame) => {
      for (let f: Frame | null = frame; f; f = f.parent) {
        if (f.vars.has(name)) return f.vars.get(name);
      }
      if (Object.hasOwn(scope.variables, name)) return scope.variables[name];
      throw this.undefinedError(name, node);
    };
  }

  private attribute(node: Node): Evaluate {
    const targetNode = node.target as Node;
    const target = this.expression(targetNode);
    const key = this.expression(node.val as Node);
    const targetText = expressionText(targetNode);
    return async (scope, frame) => {
      const obj = await target(scope, frame);
      const k = await key(scope, frame);
      const value = resolveAttribute(obj, k);
      if (value === MISSING) throw this.undefinedError(targetText + accessText(k), node);
      return value;
    };
  }

  private logical(node: Node): Evaluate {
    const [left, right] = this.operands(node);
    const isAnd = node.typename === 'And';
    const opName = isAnd ? 'and' : 'or';
    const asBoolean = (value: unknown) => {
      if (isNullish(value)) throw new Error(`null value used in ${opName} operator and strict variables is set to true`);
      return isTruthy(value);
    };
    return async (scope, frame) => {
      const a = asBoolean(await left(scope, frame));
      if (isAnd ? !a : a) return a;
      return asBoolean(await right(scope, frame));
    };
  }

  private coalesce(node: Node): Evaluate {
    const [left, right] = this.operands(node);
    const undefinedOnly = node.undefinedOnly === true;
    return async (scope, frame) => {
      let value: unknown;
      try {
        value = await left(scope, frame);
      } catch (err) {
        if (err instanceof UndefinedVariableError) return right(scope, frame);
        throw err;
      }
      return isNullish(value) && !undefinedOnly ? right(scope, frame) : value;
    };
  }

  private call(node: Node): Evaluate {
    const callee = node.name as Node;
    const { positional, named } = this.callArguments(node.args as NodeList);
    if (callee.typename === 'LookupVal') {
      const target = this.expression(callee.target as Node);
      const method = this.expression(callee.val as Node);
      return async (scope, frame) => {
        const obj = await target(scope, frame);
        const name = javaToString(await method(scope, frame));
        return scope.budget.checkValue(callMethod(obj, name, await evaluateAll(positional, scope, frame)), `the method '${name}'`);
      };
    }
    if (callee.typename !== 'Symbol') throw this.compileError(`${expressionText(callee)} is not a function`, callee);
    const name = callee.value as string;
    return async (scope, frame) => {
      const macro = this.macros.get(name);
      if (macro) return this.invokeMacro(name, macro, positional, named, scope, frame);
      const fn = Object.hasOwn(FUNCTIONS, name) ? FUNCTIONS[name] : undefined;
      if (!fn) throw new Error(`Function or Macro [${name}] does not exist.`);
      const args = bindArguments('function', name, fn.argumentNames, await evaluateAll(positional, scope, frame), await evaluateNamed(named, scope, frame));
      const result = scope.budget.checkValue(await fn.call(args, scope), `the function '${name}'`);
      // range() and read() do work in proportion to what they return.
      if (typeof result === 'string' || Array.isArray(result)) {
        const pause = scope.budget.charge(result.length);
        if (pause) await pause;
      }
      return result;
    };
  }

  private async invokeMacro(
    name: string,
    macro: Macro,
    positional: Evaluate[],
    named: Map<string, Evaluate>,
    scope: RenderScope,
    frame: Frame,
  ): Promise<string> {
    if (frame.calls >= MAX_MACRO_CALLS) throw new Error(`Macro calls nest more than ${MAX_MACRO_CALLS} deep at '${name}' (a macro that calls itself without end?)`);
    const pause = scope.budget.charge();
    if (pause) await pause;
    const args = bindArguments('macro', name, macro.params, await evaluateAll(positional, scope, frame), await evaluateNamed(named, scope, frame));
    const vars = new Map<string, unknown>();
    for (const param of macro.params) {
      const fallback = macro.defaults.get(param);
      vars.set(param, Object.hasOwn(args, param) ? args[param] : fallback ? await fallback(scope, frame) : null);
    }
    const out = new Output(scope.budget);
    await macro.body(scope, { vars, parent: null, calls: frame.calls + 1 }, out);
    return out.toString();
  }

  private filter(node: Node): Evaluate {
    const name = (node.name as Node).value as string;
    const filter: TemplateFilter | undefined = Object.hasOwn(FILTERS, name) ? FILTERS[name] : undefined;
    if (!filter) throw this.compileError(`Filter [${name}] does not exist.`, node);
    const [inputNode, ...rest] = (node.args as NodeList).children;
    const input = this.expression(inputNode);
    const { positional, named } = this.callArguments(rest);
    // Pebble's `default` sees an undefined input as null instead of failing.
    const tolerant = name === 'default';
    return async (scope, frame) => {
      let value: unknown;
      try {
        value = await input(scope, frame);
      } catch (err) {
        if (!(tolerant && err instanceof UndefinedVariableError)) throw err;
        value = null;
      }
      const args = bindArguments('filter', name, filter.argumentNames, await evaluateAll(positional, scope, frame), await evaluateNamed(named, scope, frame));
      if (filter.writesInput && typeof value === 'object' && value !== null) scope.budget.checkWritten(value, `the input of the filter '${name}'`);
      // A filter's work grows with its input: charge it, so filters in a loop reach the clock.
      const pause = scope.budget.charge(typeof value === 'string' || Array.isArray(value) ? value.length : 1);
      if (pause) await pause;
      return scope.budget.checkValue(await filter.apply(value, args, scope), `the filter '${name}'`);
    };
  }

  private test(node: Node): Evaluate {
    const name = node.name as string;
    const test: TemplateTest | undefined = Object.hasOwn(TESTS, name) ? TESTS[name] : undefined;
    if (!test) throw this.compileError(`Test [${name}] does not exist.`, node);
    const target = this.expression(node.target as Node);
    const { positional, named } = this.callArguments(node.args as NodeList);
    const negated = node.negated === true;
    const isDefinedTest = name === 'defined';
    return async (scope, frame) => {
      let value: unknown;
      try {
        value = await target(scope, frame);
      } catch (err) {
        if (!(isDefinedTest && err instanceof UndefinedVariableError)) throw err;
        return negated;
      }
      const args = bindArguments('test', name, test.argumentNames, await evaluateAll(positional, scope, frame), await evaluateNamed(named, scope, frame));
      return test.test(value, args) !== negated;
    };
  }

  private callArguments(args: NodeList | Node[] | null): { positional: Evaluate[]; named: Map<string, Evaluate> } {
    const children = args === null ? [] : Array.isArray(args) ? args : args.children;
    const positional: Evaluate[] = [];
    const named = new Map<string, Evaluate>();
    for (const child of children) {
      if (child.typename === 'KeywordArgs') {
        for (const pair of (child as NodeList).children) {
          named.set((pair.key as Node).value as string, this.expression(pair.value as Node));
        }
      } else {
        if (named.size > 0) throw this.compileError('positional arguments must come before named arguments', child);
        positional.push(this.expression(child));
      }
    }
    return { positional, named };
  }

  // ---- errors -------------------------------------------------------------------------------

  /** Gives errors thrown below `node` (filter failures, bad operands) the template position. */
  private positioned(evaluate: Evaluate, node: Node): Evaluate {
    return async (scope, frame) => {
      try {
        return await evaluate(scope, frame);
      } catch (err) {
        if (err instanceof TemplateError || err instanceof LimitExceededError) throw err;
        const message = err instanceof Error ? err.message : String(err);
        throw new TemplateError(`${message} (${this.source}:${node.lineno + 1})`, {
          expression: this.source,
          line: node.lineno + 1,
          column: node.colno + 1,
          cause: err,
        });
      }
    };
  }

  private undefinedError(path: string, node: Node): UndefinedVariableError {
    const start = startOf(node);
    return new UndefinedVariableError(path, { expression: this.source, line: start.lineno + 1, column: start.colno + 1 });
  }

  private compileError(message: string, node: Node): TemplateError {
    return new TemplateError(`${message} (${this.source}:${node.lineno + 1})`, {
      expression: this.source,
      line: node.lineno + 1,
      column: node.colno + 1,
    });
  }
}

async function evaluateAll(list: Evaluate[], scope: RenderScope, frame: Frame): Promise<unknown[]> {
  const out: unknown[] = [];
  for (const item of list) out.push(await item(scope, frame));
  return out;
}

async function evaluateNamed(named: Map<string, Evaluate>, scope: RenderScope, frame: Frame): Promise<Map<string, unknown>> {
  const out = new Map<string, unknown>();
  for (const [key, value] of named) out.set(key, await value(scope, frame));
  return out;
}

/** What a `for` loop walks: list items, or a map's entries as {key, value} (pairs with `for k, v`). */
function iterationItems(value: unknown, names: number): unknown[] {
  if (isNullish(value)) return [];
  if (Array.isArray(value)) return value;
  if (typeof value === 'string') return [...value];
  if (isMap(value)) {
    return Object.entries(value).map(([key, v]) => (names > 1 ? [key, v] : { key, value: v }));
  }
  throw new Error(`Cannot iterate over a value of type ${typeof value}`);
}

/** The leftmost node of an access chain (`a` in `a.b[c]`), where an error should point. */
function startOf(node: Node): Node {
  if (node.typename === 'LookupVal') return startOf(node.target as Node);
  if (node.typename === 'FunCall') return startOf(node.name as Node);
  return node;
}

/** `.name` for identifier keys, `['key']` or `[0]` otherwise, for error paths. */
function accessText(key: unknown): string {
  if (typeof key === 'string') return IDENTIFIER.test(key) ? `.${key}` : `['${key}']`;
  return `[${javaToString(key)}]`;
}

/** Prints an expression back as Pebble source, to name what was missing in error messages. */
export function expressionText(node: Node): string {
  switch (node.typename) {
    case 'Symbol':
      return node.value as string;
    case 'Literal':
      return typeof node.value === 'string' ? `'${node.value}'` : javaToString(node.value);
    case 'LookupVal': {
      const key = node.val as Node;
      const target = expressionText(node.target as Node);
      if (key.typename === 'Literal') return target + accessText(key.value);
      return `${target}[${expressionText(key)}]`;
    }
    case 'FunCall':
      return `${expressionText(node.name as Node)}(${argumentsText(node.args as NodeList)})`;
    case 'Filter': {
      const [input, ...args] = (node.args as NodeList).children;
      const name = (node.name as Node).value as string;
      return `${expressionText(input)} | ${name}${args.length ? `(${args.map(expressionText).join(', ')})` : ''}`;
    }
    case 'Concat':
      return `${expressionText(node.left as Node)} ~ ${expressionText(node.right as Node)}`;
    case 'Group':
      return `(${(node as NodeList).children.map(expressionText).join(', ')})`;
    case 'KeywordArgs':
      return (node as NodeList).children.map((p) => `${expressionText(p.key as Node)}=${expressionText(p.value as Node)}`).join(', ');
    default:
      return node.typename;
  }
}

function argumentsText(args: NodeList | null): string {
  return args ? args.children.map(expressionText).join(', ') : '';
}
