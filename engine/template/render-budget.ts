// What one render may spend (config/limits.ts): how deep render() may nest, how many characters
// (or list items) a value or an output may hold, and how long it may run. Rendering runs in this
// process, so it cannot be killed from outside: loops, passes and nested renders charge work here
// and the clock is read every so often, and every string or list an expression makes is measured
// where it is made, before anything larger is built from it.
import { setImmediate as nextTurn } from 'node:timers/promises';
import { DEFAULT_LIMITS, LimitExceededError, type Limits } from '../../config/index.ts';
import { isMap } from './values.ts';

/** Units of work (loop iterations, list items, characters scanned) between two reads of the clock. */
const WORK_PER_CLOCK_CHECK = 1024;
/**
 * A render that only computes never waits on I/O, so it would hold the event loop for its whole
 * time; it hands the loop back this often so the server keeps answering while it runs.
 */
const YIELD_EVERY_MS = 20;
/** How much of the template a limit message quotes. */
const EXCERPT_CHARS = 80;

/** One render's limits and what it has spent so far; shared by the render() calls nested in it. */
export class RenderBudget {
  /** The template whose render this is, as the user wrote it (quoted in limit messages). */
  template: string;
  private readonly deadline: number;
  private lastYield: number;
  private work = 0;

  constructor(readonly limits: Readonly<Limits> = DEFAULT_LIMITS, template = '') {
    this.template = template;
    this.lastYield = performance.now();
    this.deadline = this.lastYield + limits.templateEvalMs;
  }

  /**
   * Counts `units` of work; reads the clock once enough has been done. Returns a promise when the
   * render should hand the event loop back (await it), else undefined — the common case costs an
   * addition and a comparison.
   */
  charge(units = 1): Promise<void> | undefined {
    this.work += units;
    if (this.work < WORK_PER_CLOCK_CHECK) return undefined;
    this.work = 0;
    return this.checkClock();
  }

  /**
   * `charge` for synchronous loops (a filter or operator over a large list), which cannot hand the
   * event loop back: only the deadline is checked.
   */
  spend(units: number): void {
    this.work += units;
    if (this.work < WORK_PER_CLOCK_CHECK) return;
    this.work = 0;
    this.checkDeadline(performance.now());
  }

  /** Reads the clock now: throws past the deadline, or returns a pause when the loop is due back. */
  checkClock(): Promise<void> | undefined {
    const now = performance.now();
    this.checkDeadline(now);
    if (now - this.lastYield < YIELD_EVERY_MS) return undefined;
    this.lastYield = now;
    return nextTurn();
  }

  /** Milliseconds left before the deadline (negative once past it), for work done elsewhere (jq). */
  remainingMs(): number {
    return this.deadline - performance.now();
  }

  /** The error of a render past its deadline. */
  timeExceeded(): LimitExceededError {
    const took = Math.round(performance.now() - this.deadline + this.limits.templateEvalMs);
    return this.exceeded('templateEvalMs', `rendering ${this.quote()} took ${took} ms`);
  }

  private checkDeadline(now: number): void {
    if (now > this.deadline) throw this.timeExceeded();
  }

  /** Throws when a render() at `depth` (1 for one called by the template itself) nests too deep. */
  enter(depth: number): void {
    if (depth > this.limits.templateRenderDepth) {
      throw this.exceeded('templateRenderDepth', `render() nested ${depth} deep in ${this.quote()} (rendered text that calls render() again)`);
    }
  }

  /** Throws when an output buffer grows past the output limit. */
  checkOutput(chars: number): void {
    if (chars > this.limits.templateOutputChars) throw this.exceeded('templateOutputChars', `the output of ${this.quote()} reached ${chars} characters`);
  }

  /**
   * Throws when a string or list made by an expression is larger than the output limit (a list item
   * takes at least one character of output). Returns the value, to wrap a result in place.
   */
  checkValue<T>(value: T, what: string): T {
    if (typeof value === 'string' || Array.isArray(value)) this.checkSize(value.length, what);
    return value;
  }

  /** Throws when something about to be built (a joined string, an indentation) would be too large. */
  checkSize(size: number, what: string): void {
    if (size > this.limits.templateOutputChars) {
      throw this.exceeded('templateOutputChars', `${what} in ${this.quote()} would hold ${size} characters or items`);
    }
  }

  /**
   * Throws when writing `value` out (as JSON or Java's toString) would take more characters than
   * the limit. Counts a lower bound of the text and stops as soon as it is over, so the check costs
   * at most the limit's worth of walking, and nothing for a value that is not a list or map.
   */
  checkWritten(value: unknown, what: string): void {
    if (typeof value === 'string') return this.checkSize(value.length, what);
    if (!Array.isArray(value) && !isMap(value)) return;
    const max = this.limits.templateOutputChars;
    const size = writtenSize(value, max);
    if (size > max) this.checkSize(size, what);
  }

  private quote(): string {
    const text = this.template.length > EXCERPT_CHARS ? `${this.template.slice(0, EXCERPT_CHARS)}…` : this.template;
    return `the template '${text}'`;
  }

  private exceeded(limit: keyof Limits, what: string): LimitExceededError {
    return new LimitExceededError(limit, what, this.limits);
  }
}

/** A lower bound of the characters `value` takes when written out; stops counting past `max`. */
function writtenSize(value: unknown, max: number): number {
  let size = 0;
  const pending: unknown[] = [value];
  while (pending.length > 0) {
    const item = pending.pop();
    if (typeof item === 'string') size += item.length;
    else if (Array.isArray(item)) {
      // Brackets and one separator per item, counted before the items are walked.
      size += item.length + 1;
      if (size > max) return size;
      for (const element of item) pending.push(element);
    } else if (isMap(item)) {
      const entries = Object.entries(item);
      size += entries.length + 1;
      for (const [key, element] of entries) {
        size += key.length;
        pending.push(element);
      }
    } else size += 1;
    if (size > max) return size;
  }
  return size;
}

/** A render's output text, checked against the output limit as it grows. */
export class Output {
  private readonly parts: string[] = [];
  private length = 0;

  constructor(private readonly budget: RenderBudget) {}

  push(text: string): void {
    this.length += text.length;
    if (this.length > this.budget.limits.templateOutputChars) this.budget.checkOutput(this.length);
    this.parts.push(text);
  }

  toString(): string {
    return this.parts.join('');
  }
}
