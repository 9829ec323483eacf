/**
 * Once before any test file: build the bundle `bin/baton.mjs` runs (bin/bundle.mjs), so the suites that
 * spawn real `baton` processes start from it instead of each building it at once.
 */
export default async function setup(): Promise<void> {
  // @ts-expect-error: a plain ES module of bin/, without type declarations
  const { ensureBundle } = (await import('../../bin/bundle.mjs')) as { ensureBundle(): Promise<string> };
  await ensureBundle();
}
