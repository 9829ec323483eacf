import * as git from 'isomorphic-git';
import http from 'isomorphic-git/http/node';
import fs from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRepo, startGitServer } from '/work/main/test/support/git-server.ts';

const server = await startGitServer();
const files: Record<string, string> = {};
for (let i = 0; i < 100; i++) files[`flows/ns${i % 5}/flow${i}.yaml`] = `id: flow${i}\nnamespace: ns${i % 5}\ntasks:\n  - id: t\n    type: io.kestra.plugin.core.log.Log\n    message: hello ${i} ${'x'.repeat(500)}\n`;
// add some history
const repo = await createRepo(server, 'bench', files);
for (let i = 0; i < 20; i++) await repo.commit({ [`flows/ns0/flow${i}.yaml`]: `id: flow${i}\nv: ${i}\n` + 'y'.repeat(400) });

async function strategy(name: string, opts: (first: boolean) => { depth?: number; relative?: boolean }) {
  const dir = await mkdtemp(join(tmpdir(), 'proto-'));
  await git.init({ fs, gitdir: dir, bare: true }); await git.setConfig({ fs, gitdir: dir, path: 'remote.origin.fetch', value: '+refs/heads/*:refs/remotes/origin/*' });
  const cache = {};
  const doFetch = async (first: boolean) => {
    const r = await git.fetch({ fs, http, gitdir: dir, url: repo.url, ref: 'refs/remotes/origin/main', remoteRef: 'refs/heads/main', singleBranch: true, tags: false, cache, ...opts(first) });
    return r.fetchHead!;
  };
  let t = performance.now();
  let head = await doFetch(true);
  const firstMs = performance.now() - t;
  const times: number[] = [];
  for (let k = 0; k < 15; k++) {
    await repo.commit({ [`flows/ns1/flow${k}.yaml`]: `id: changed${k}\n` + 'z'.repeat(300) });
    t = performance.now();
    head = await doFetch(false);
    const { commit } = await git.readCommit({ fs, gitdir: dir, oid: head, cache });
    const walk = async (oid: string, out: string[]) => { const { tree } = await git.readTree({ fs, gitdir: dir, oid, cache }); await Promise.all(tree.map(e => e.type === 'tree' ? walk(e.oid, out) : (out.push(e.oid), undefined))); };
    const oids: string[] = []; await walk(commit.tree, oids);
    for (const oid of oids) await git.readBlob({ fs, gitdir: dir, oid, cache });
    times.push(performance.now() - t);
    if (oids.length < 100) throw new Error('count ' + oids.length);
  }
  times.sort((a, b) => a - b);
  const packs = fs.readdirSync(join(dir, 'objects/pack')).length / 2;
  console.log(name, 'first', firstMs.toFixed(1), 'incremental p50', times[7].toFixed(1), 'min', times[0].toFixed(1), 'max', times[14].toFixed(1), 'packs', packs, 'shallow lines', fs.readFileSync(join(dir, 'shallow'), 'utf8').trim().split('\n').length);
  await rm(dir, { recursive: true });
}
await strategy('warmup', (f) => (f ? { depth: 1 } : {}));
await strategy('depth1 then full-incremental', (f) => (f ? { depth: 1 } : {}));
await strategy('depth1 always', () => ({ depth: 1 }));
await strategy('depth1 then relative depth1', (f) => (f ? { depth: 1 } : { depth: 1, relative: true }));
await strategy('depth1 always again', () => ({ depth: 1 }));
await strategy('depth1 then full-incremental again', (f) => (f ? { depth: 1 } : {}));
await server.close();
