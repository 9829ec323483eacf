#!/usr/bin/env node
// Runs the CLI from the bundle of the TypeScript sources, rebuilt first when they changed (bin/bundle.mjs),
// so `npm ci && npx baton …` needs no build step. BATON_NO_BUNDLE=1 runs the sources through tsx instead,
// as does a checkout whose dist/ cannot be written (a read-only install with a stale or missing bundle).
async function fromSources() {
  const { register } = await import('tsx/esm/api');
  register();
  return (await import('../cli/main.ts')).main;
}

async function fromBundle() {
  const { ensureBundle } = await import('./bundle.mjs');
  let entry;
  try {
    entry = await ensureBundle();
  } catch (error) {
    if (!['EACCES', 'EPERM', 'EROFS'].includes(error?.code)) throw error;
    process.stderr.write(`baton: cannot write the bundle (${error.message}); running the sources through tsx\n`);
    return fromSources();
  }
  return (await import(entry)).main;
}

const main = process.env.BATON_NO_BUNDLE === '1' ? await fromSources() : await fromBundle();
process.exitCode = await main(process.argv.slice(2));
