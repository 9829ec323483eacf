/**
 * postgres.js 3.4.9 can throw from a `setImmediate` after a connection was closed by the server (a
 * restart, a failover): `nextWrite` dereferences the socket `closed()` already nulled
 * (porsager/postgres#1154, #1208; fixes not released). Thrown from a timer, it escapes every await and
 * would take the whole process down, while the query it belonged to was already rejected with
 * CONNECTION_CLOSED (and is retried by our writers) and the pool reconnects on its own.
 *
 * This guard recognises exactly that error and keeps the process alive; any other uncaught exception
 * ends the process as Node would (unless someone else handles uncaught exceptions, e.g. a test runner).
 */

/** True for the driver's write-after-close TypeError, and nothing else. */
export function isDriverWriteAfterClose(error: unknown): boolean {
  return (
    error instanceof TypeError &&
    /reading 'write'/.test(error.message) &&
    /nextWrite/.test(error.stack ?? '') &&
    /postgres[\\/]src[\\/]connection\.js/.test(error.stack ?? '')
  );
}

let installed = false;

/** Installs the guard once per process. `warn` hears about each swallowed error. */
export function guardDriverWriteAfterClose(warn: (message: string) => void = (m) => process.emitWarning(m)): void {
  if (installed) return;
  installed = true;
  process.on('uncaughtException', (error, origin) => {
    if (isDriverWriteAfterClose(error)) {
      warn('PostgreSQL connection closed under a pending write (postgres.js #1208); the query was rejected and is retried');
      return;
    }
    // Others listen too (a test runner): theirs to decide. Alone, behave as Node does without listeners.
    if (process.listenerCount('uncaughtException') > 1) return;
    process.stderr.write(`${origin === 'unhandledRejection' ? 'Unhandled rejection' : 'Uncaught exception'}: ${error?.stack ?? String(error)}\n`);
    process.exit(1);
  });
}
