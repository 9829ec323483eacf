/**
 * Baton runs as one JavaScript bundle of its TypeScript sources (esbuild), built on demand.
 *
 * Why: loading ~400 TypeScript modules through tsx's loader thread cost ~2 s of start-up and ~30 MB
 * of memory in every process. The bundle is plain ES modules for Node, with the pure-JavaScript
 * dependencies inside (hundreds of small modules of drizzle-orm, hono… load faster as one file); those
 * listed in EXTERNAL stay in node_modules, and lazily imported modules (commands, drivers) stay lazy
 * chunks (`splitting`).
 *
 * When: `bin/baton.mjs` calls `ensureBundle()` at every start. It fingerprints the sources (path, size
 * and mtime of every file under cli/, config/, db/, engine/, server/, sync/, plus package-lock.json: a few
 * milliseconds) and rebuilds (~0.5 s) only when the fingerprint differs from the bundle's, so an edited
 * checkout never runs stale code. Concurrent starts build into their own directory and rename it into
 * place: a process sees either the old bundle or the new one, never half of one.
 *
 * Source locations: code that finds files next to itself (`import.meta.url`, `import.meta.dirname`:
 * migrations, views) would see the bundle's location instead, so each module's `import.meta` is
 * rewritten to its source file's, relative to the bundle (the checkout can still move).
 *
 * `node bin/bundle.mjs` builds it (e.g. in a Dockerfile); BATON_NO_BUNDLE=1 makes bin/baton.mjs run the
 * sources through tsx instead (stack traces in TypeScript).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SOURCE_DIRS = ['cli', 'config', 'db', 'engine', 'server', 'sync'];
const OUT = join(ROOT, 'dist');
const ENTRY = 'cli/main.ts';
const STAMP = 'fingerprint';
const EXTERNAL = [
  '@electric-sql/pglite', // its .wasm and .data files
  'jq-wasm', // its .wasm file
  '@duckdb/node-api', // native
  'dockerode', // loaded on demand (Docker runner)
  '@google-cloud/*', // loaded on demand (GCP plugins)
  'playwright-core',
  'esbuild',
  'tsx',
];

/** Tests, shared test suites and benches are never part of the bundle and never make it stale. */
const isSource = (name) => /\.(ts|json)$/.test(name) && !/\.(test|case|bench)\.ts$/.test(name);

/** A hash of what the bundle is built from: cheap enough to compute at every start. */
export function sourceFingerprint() {
  const hash = createHash('sha256');
  const visit = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) visit(path);
      else if (isSource(entry.name)) {
        const { size, mtimeMs } = statSync(path);
        hash.update(`${relative(ROOT, path)}\0${size}\0${mtimeMs}\n`);
      }
    }
  };
  for (const dir of SOURCE_DIRS) visit(join(ROOT, dir));
  for (const file of ['package-lock.json', 'bin/bundle.mjs']) {
    const { size, mtimeMs } = statSync(join(ROOT, file));
    hash.update(`${file}\0${size}\0${mtimeMs}\n`);
  }
  return hash.digest('hex').slice(0, 24);
}

/** The bundle's entry module URL, built first if it is missing or stale. */
export async function ensureBundle() {
  const fingerprint = sourceFingerprint();
  const entry = join(OUT, 'cli', 'main.js');
  if (readStamp() !== fingerprint || !existsSync(entry)) await build(fingerprint);
  return pathToFileURL(entry).href;
}

function readStamp() {
  try {
    return readFileSync(join(OUT, STAMP), 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** esbuild plugin: each module's import.meta.url / import.meta.dirname name its source file. */
const sourceLocations = (outdir) => ({
  name: 'baton-source-locations',
  setup(build) {
    build.onLoad({ filter: /\.ts$/ }, (args) => {
      let contents = readFileSync(args.path, 'utf8');
      if (contents.includes('import.meta.')) {
        // Relative to dist/, whose URL every output file's banner knows (below).
        const fromOut = relative(outdir, args.path).split(sep).join('/');
        const url = `new URL(${JSON.stringify(fromOut)}, globalThis.__batonBundleRoot).href`;
        contents = contents
          .replaceAll('import.meta.url', url)
          .replaceAll('import.meta.dirname', `__batonFileURLToPath(new URL('.', ${url})).replace(/[\\\\/]$/, '')`);
      }
      return { contents, loader: 'ts' };
    });
  },
});

async function build(fingerprint) {
  const { build: esbuild } = await import('esbuild');
  const staging = `${OUT}.${process.pid}.${Date.now()}`;
  // Made here, not by esbuild: a checkout this user cannot write fails with EACCES (bin/baton.mjs then
  // runs the sources) instead of esbuild's uncoded "Failed to create output directory".
  mkdirSync(staging);
  try {
    await esbuild({
      absWorkingDir: ROOT,
      entryPoints: [ENTRY],
      outbase: ROOT,
      outdir: staging,
      bundle: true,
      splitting: true,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      // Dependencies are bundled too (hundreds of small ES modules of drizzle-orm, hono… load ~0.3 s
      // faster as one file), except those that read files next to themselves, are native, or are
      // only loaded on demand anyway.
      external: EXTERNAL,
      logLevel: 'error',
      // The bundle root (dist/) as a URL, set once by the entry before anything else runs.
      // Every output file sits one level below dist/ (cli/main.js, chunks/*.js), so '../' is dist/.
      // `require` for the CommonJS dependencies inside the ES module bundle.
      banner: {
        js: [
          `import { fileURLToPath as __batonFileURLToPath } from 'node:url';`,
          `import { createRequire as __batonCreateRequire } from 'node:module';`,
          `const require = __batonCreateRequire(import.meta.url);`,
          `globalThis.__batonBundleRoot ??= new URL('../', import.meta.url);`,
        ].join('\n'),
      },
      chunkNames: 'chunks/[name]-[hash]',
      plugins: [sourceLocations(OUT)],
    });
    writeFileSync(join(staging, STAMP), `${fingerprint}\n`);
    // Swap in place. Processes starting together may each build (same sources, same files): whichever
    // rename lands last wins, and a process that finds another's bundle in the way keeps that one.
    const old = `${OUT}.old.${process.pid}.${Date.now()}`;
    try {
      renameSync(OUT, old);
    } catch (error) {
      if (error.code !== 'ENOENT') throw error;
    }
    try {
      renameSync(staging, OUT);
    } catch (error) {
      if (readStamp() !== fingerprint) throw error;
    }
    rmSync(old, { recursive: true, force: true });
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const started = performance.now();
  const fingerprint = sourceFingerprint();
  await build(fingerprint);
  process.stdout.write(`bundle ${fingerprint} built in dist/ in ${Math.round(performance.now() - started)} ms\n`);
}
