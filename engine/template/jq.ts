// The `jq` filter runs real jq (compiled to WebAssembly by jq-wasm) so expressions behave as in
// jq 1.6+ (Kestra uses jackson-jq), including `//`, errors on bad indexing, and every builtin.
// jq-wasm runs a query synchronously to its end, so queries run in a worker thread (jq-worker.mjs)
// that is terminated when a query outlives its render's time limit, and replaced after an abort.
// jq-wasm 1.0.1 also aborts on the 313th query of an instance whatever the query (upstream
// owenthereal/jq-wasm#2), after which every query fails: a worker is replaced well before that.
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { LimitExceededError } from '../../config/index.ts';
import type { RenderBudget } from './render-budget.ts';
import { toJson } from './values.ts';

const WORKER_PATH = fileURLToPath(new URL('./jq-worker.mjs', import.meta.url));
/** Queries one worker serves before it is replaced (jq-wasm's instance breaks at 313). */
const QUERIES_PER_WORKER = 250;

interface Query {
  readonly document: string;
  readonly expression: string;
  readonly budget: RenderBudget;
  /** Already sent again after an abort of a worker that had served other queries. */
  retried?: boolean;
  resolve(output: string): void;
  reject(error: Error): void;
}

type Reply = { id: number; output: string } | { id: number; tooLarge: number } | { id: number; error: string; aborted: boolean };

/**
 * One worker runs one query at a time; the others wait here, not in the worker's inbox, so a query
 * whose time is up before it starts never runs and a terminated worker loses nothing queued.
 */
class JqRunner {
  private worker: Worker | undefined;
  /** Queries the current worker has answered. */
  private served = 0;
  private readonly waiting: Query[] = [];
  private current: { id: number; query: Query; timer: NodeJS.Timeout } | undefined;
  private nextId = 1;

  run(document: string, expression: string, budget: RenderBudget): Promise<string> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ document, expression, budget, resolve, reject });
      this.next();
    });
  }

  private next(): void {
    if (this.current) return;
    const query = this.waiting.shift();
    if (!query) {
      // An idle worker must not keep the process alive.
      this.worker?.unref();
      return;
    }
    const remaining = query.budget.remainingMs();
    if (remaining <= 0) {
      query.reject(query.budget.timeExceeded());
      return this.next();
    }
    const worker = this.started();
    worker.ref();
    const id = this.nextId++;
    const timer = setTimeout(() => this.timedOut(id), Math.ceil(remaining));
    this.current = { id, query, timer };
    worker.postMessage({ id, document: query.document, expression: query.expression, maxChars: query.budget.limits.templateOutputChars });
  }

  private started(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(WORKER_PATH);
    this.served = 0;
    worker.on('message', (reply: Reply) => this.replied(reply));
    // A worker that dies (it should not) fails its query; the next query gets a new one.
    worker.on('error', (error) => this.lost(worker, error));
    worker.on('exit', (code) => this.lost(worker, new Error(`the jq worker exited with code ${code}`)));
    this.worker = worker;
    return worker;
  }

  private replied(reply: Reply): void {
    const current = this.current;
    if (!current || current.id !== reply.id) return;
    clearTimeout(current.timer);
    this.current = undefined;
    const { query } = current;
    const servedBefore = this.served++;
    if (this.served >= QUERIES_PER_WORKER) this.discard();
    if ('output' in reply) query.resolve(reply.output);
    else if ('tooLarge' in reply) {
      try {
        query.budget.checkSize(reply.tooLarge, "the output of the 'jq' filter");
      } catch (error) {
        query.reject(error as Error);
      }
    } else if (reply.aborted && servedBefore > 0 && !query.retried) {
      // The instance may have broken on its own (see above): the query gets one fresh worker.
      this.discard();
      query.retried = true;
      this.waiting.unshift(query);
    } else {
      if (reply.aborted) this.discard();
      query.reject(new Error(reply.error));
    }
    this.next();
  }

  private timedOut(id: number): void {
    const current = this.current;
    if (!current || current.id !== id) return;
    this.current = undefined;
    this.discard();
    current.query.reject(current.query.budget.timeExceeded());
    this.next();
  }

  private lost(worker: Worker, error: Error): void {
    if (this.worker !== worker) return;
    this.worker = undefined;
    const current = this.current;
    if (!current) return;
    clearTimeout(current.timer);
    this.current = undefined;
    current.query.reject(error);
    this.next();
  }

  /** Stops the worker (a query that runs for ever, or an aborted jq instance); the next query starts another. */
  private discard(): void {
    const worker = this.worker;
    this.worker = undefined;
    void worker?.terminate();
  }
}

const runner = new JqRunner();

/** Applies `expression` to `input` and returns every output, as Kestra's JqFilter does (always a list). */
export async function applyJq(input: unknown, expression: string, budget: RenderBudget): Promise<unknown[]> {
  // Strings are JSON documents for Kestra's filter; other values are serialized as they are.
  const document = typeof input === 'string' ? input : toJson(input, true);
  let output: string;
  try {
    output = await runner.run(document, expression, budget);
  } catch (err) {
    if (err instanceof LimitExceededError) throw err;
    const reason = err instanceof Error ? err.message.replace(/^Failed to execute raw query: /, '') : String(err);
    throw new Error(`Failed to resolve JQ expression '${expression}' and value '${document}': ${reason.trim()}`);
  }
  return output
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as unknown);
}
