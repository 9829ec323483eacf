// The `jq` filter runs real jq (compiled to WebAssembly by jq-wasm) so expressions behave as in
// jq 1.6+ (Kestra uses jackson-jq), including `//`, errors on bad indexing, and every builtin.
import { toJson } from './values.ts';

// Loaded at the first `jq` filter: the module and its WebAssembly instance take ~2 MB that most
// processes never need.
let jq: Promise<typeof import('jq-wasm')> | undefined;

/** Applies `expression` to `input` and returns every output, as Kestra's JqFilter does (always a list). */
export async function applyJq(input: unknown, expression: string): Promise<unknown[]> {
  // Strings are JSON documents for Kestra's filter; other values are serialized as they are.
  const document = typeof input === 'string' ? input : toJson(input, true);
  let output: string;
  try {
    jq ??= import('jq-wasm');
    output = await (await jq).raw(document, expression, ['-c']);
  } catch (err) {
    const reason = err instanceof Error ? err.message.replace(/^Failed to execute raw query: /, '') : String(err);
    throw new Error(`Failed to resolve JQ expression '${expression}' and value '${document}': ${reason.trim()}`);
  }
  return output
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as unknown);
}
