#!/usr/bin/env node
// Runs the CLI from the bundle of the TypeScript sources, rebuilt first when they changed (bin/bundle.mjs),
// so `npm ci && npx baton …` needs no build step. BATON_NO_BUNDLE=1 runs the sources through tsx instead.
let main;
if (process.env.BATON_NO_BUNDLE === '1') {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('../cli/main.ts'));
} else {
  const { ensureBundle } = await import('./bundle.mjs');
  ({ main } = await import(await ensureBundle()));
}
process.exitCode = await main(process.argv.slice(2));
