/** `npm run bench`: every benchmark, each printing `BENCH name=… met=yes|no` lines. */
const suites = [
  () => import('./template.bench.ts'),
  () => import('./engine.bench.ts'),
  () => import('./sync.bench.ts'),
  () => import('./ui.bench.ts'),
  () => import('./webhook.bench.ts'),
  () => import('./docker.bench.ts'),
  () => import('./copyin.bench.ts'),
  () => import('./scale.bench.ts'),
  () => import('./chaos.bench.ts'),
];

for (const load of suites) {
  const suite = await load();
  await suite.run();
}
