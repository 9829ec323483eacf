/**
 * Turns of the event loop for work that never waits on I/O. A walk of tasks that only render
 * templates (Return, Log, ForEach over thousands of values) resolves promise after promise, and on
 * the embedded database even its writes resolve without a turn: left alone, it runs start to end in
 * microtasks, and meanwhile no timer fires, no request is answered (/healthz), no lease is renewed.
 *
 * `nextTurn()` costs nothing while the loop turns on its own. Once the work has held the loop for
 * BUSY_MS, callers wait, in order, for a later turn; each turn lets only as many of them go on as
 * fit in BUSY_MS (learnt from the last turns), so ten thousand waiting lanes of a ForEach with
 * `concurrencyLimit: 0` cannot all run again in the same turn.
 */

/** How long work may hold the event loop before it lets timers and I/O run. */
const BUSY_MS = 20;
/** Most waiters one turn lets go on (the adaptive batch never grows past it). */
const MAX_BATCH = 1024;

let lastTurn = performance.now();
let markerPending = false;
const waiters: Array<() => void> = [];
let head = 0;
let drainPending = false;
let batch = 8;
let sliceStart = 0;
let released = 0;

/** A turn happened: the loop reached its check phase since the marker was set. */
function turned(): void {
  lastTurn = performance.now();
  markerPending = false;
}

/**
 * Undefined while the loop is free (the common case: no promise, no allocation); otherwise a promise
 * that resolves in a later turn of the event loop. `await nextTurn()` between steps of long work.
 */
export function nextTurn(): Promise<void> | undefined {
  const now = performance.now();
  if (!markerPending) {
    // First call since the loop last turned: the busy period starts now; a marker sees the next turn.
    markerPending = true;
    lastTurn = now;
    setImmediate(turned);
  }
  if (head === waiters.length && now - lastTurn < BUSY_MS) return undefined;
  return new Promise<void>((resolve) => {
    waiters.push(resolve);
    if (!drainPending) {
      drainPending = true;
      setImmediate(drain);
    }
  });
}

/** Lets the next batch of waiters go on, sized by how long the last batch held the loop. */
function drain(): void {
  drainPending = false;
  const now = performance.now();
  if (released > 0) batch = now - sliceStart > BUSY_MS ? Math.max(1, batch >> 1) : Math.min(MAX_BATCH, batch << 1);
  sliceStart = now;
  lastTurn = now;
  released = Math.min(batch, waiters.length - head);
  for (let i = 0; i < released; i++) waiters[head++]();
  if (head === waiters.length) {
    waiters.length = 0;
    head = 0;
    released = 0;
  } else {
    drainPending = true;
    setImmediate(drain);
  }
}

/** Always a later turn: between the statements of one large write, so a long run of them never holds the loop. */
export function laterTurn(): Promise<void> {
  return new Promise<void>((resolve) => setImmediate(resolve));
}
