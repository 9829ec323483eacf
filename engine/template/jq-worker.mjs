// Runs the `jq` filter's queries off the main thread (see jq.ts). jq-wasm runs a query synchronously
// to its end: `until(false; .)` never returns, and a query that fills its WebAssembly memory aborts
// the instance for good. Here the first is ended by terminating this worker, and the second poisons
// only this worker, which is then replaced. Plain JavaScript, so the same file serves the sources
// (tsx) and the bundle (bin/bundle.mjs keeps jq-wasm external).
import { parentPort } from 'node:worker_threads';
import { raw } from 'jq-wasm';

parentPort.on('message', async ({ id, document, expression, maxChars }) => {
  try {
    const output = await raw(document, expression, ['-c']);
    if (output.length > maxChars) parentPort.postMessage({ id, tooLarge: output.length });
    else parentPort.postMessage({ id, output });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    // Emscripten's abort(): the instance refuses every later call, so this worker must go.
    parentPort.postMessage({ id, error: message, aborted: /Aborted\(|already aborted/.test(message) });
  }
});
