/**
 * The deployment files parse and agree with Baton: no cluster or registry is reachable here, so this
 * is what can be checked — YAML that parses into well-formed objects, settings Baton actually reads,
 * grace periods longer than the drain they must allow, probes on the server's /healthz.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments, parse } from 'yaml';

const ROOT = join(import.meta.dirname, '..');
const KUBERNETES = join(import.meta.dirname, 'kubernetes');

interface Manifest {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string };
  data?: Record<string, string>;
  stringData?: Record<string, string>;
  spec?: Record<string, unknown>;
}

interface Container {
  args?: string[];
  env?: Array<{ name: string; value?: string }>;
  startupProbe?: { httpGet?: { path?: string } };
  readinessProbe?: { httpGet?: { path?: string } };
  livenessProbe?: { httpGet?: { path?: string } };
}

interface PodSpec {
  terminationGracePeriodSeconds?: number;
  containers: Container[];
}

function manifests(): Array<{ file: string; doc: Manifest }> {
  return readdirSync(KUBERNETES)
    .filter((f) => f.endsWith('.yaml'))
    .flatMap((file) =>
      parseAllDocuments(readFileSync(join(KUBERNETES, file), 'utf8')).map((document) => {
        if (document.errors.length) throw new Error(`${file}: ${document.errors.map((e) => e.message).join('; ')}`);
        return { file, doc: document.toJS() as Manifest };
      }),
    );
}

function find(kind: string, name: string): Manifest {
  const found = manifests().find(({ doc }) => doc.kind === kind && doc.metadata?.name === name);
  if (!found) throw new Error(`no ${kind} ${name} in deploy/kubernetes`);
  return found.doc;
}

function podOf(deployment: Manifest): PodSpec {
  return (deployment.spec as { template: { spec: PodSpec } }).template.spec;
}

/** Source files Baton runs (not tests): where a setting must be read for it to mean anything. */
function sourceText(): string {
  const texts: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts')) texts.push(readFileSync(path, 'utf8'));
    }
  };
  for (const dir of ['cli', 'db', 'engine', 'server', 'sync']) walk(join(ROOT, dir));
  return texts.join('\n');
}

describe('deploy/kubernetes', () => {
  it('parses into objects with apiVersion, kind and a name', () => {
    const all = manifests();
    expect(all.length).toBeGreaterThanOrEqual(9);
    for (const { file, doc } of all) {
      expect(doc.apiVersion, file).toBeTruthy();
      expect(doc.kind, file).toBeTruthy();
      if (doc.kind !== 'Kustomization') expect(doc.metadata?.name, file).toBeTruthy();
    }
  });

  it('lists in kustomization.yaml only files that exist', () => {
    const kustomization = manifests().find(({ doc }) => doc.kind === 'Kustomization')?.doc as { resources?: string[] } | undefined;
    expect(kustomization?.resources?.length).toBeGreaterThan(0);
    const files = new Set(readdirSync(KUBERNETES));
    for (const resource of kustomization?.resources ?? []) expect(files.has(resource), resource).toBe(true);
  });

  it('runs one Deployment per role with the matching command', () => {
    for (const role of ['server', 'scheduler', 'worker']) {
      const [container] = podOf(find('Deployment', `baton-${role}`)).containers;
      expect(container.args).toEqual(['node', 'bin/baton.mjs', role]);
    }
  });

  it('probes the server on /healthz', () => {
    const [server] = podOf(find('Deployment', 'baton-server')).containers;
    for (const probe of [server.startupProbe, server.readinessProbe, server.livenessProbe]) expect(probe?.httpGet?.path).toBe('/healthz');
  });

  it('gives workers longer than BATON_SHUTDOWN_GRACE_SECONDS before SIGKILL', () => {
    const grace = Number(find('ConfigMap', 'baton').data?.BATON_SHUTDOWN_GRACE_SECONDS);
    expect(grace).toBeGreaterThan(0);
    expect(podOf(find('Deployment', 'baton-worker')).terminationGracePeriodSeconds).toBeGreaterThan(grace);
  });

  it('scales the worker Deployment in the HPA example', () => {
    const hpa = find('HorizontalPodAutoscaler', 'baton-worker');
    expect((hpa.spec as { scaleTargetRef: { name: string } }).scaleTargetRef.name).toBe('baton-worker');
  });

  it('sets only settings Baton reads', () => {
    const source = sourceText();
    const keys = [
      ...Object.keys(find('ConfigMap', 'baton').data ?? {}),
      ...Object.keys(find('Secret', 'baton').stringData ?? {}),
      ...podOf(find('Deployment', 'baton-worker')).containers.flatMap((c) => (c.env ?? []).map((e) => e.name)),
    ];
    for (const key of keys) expect(source.includes(key), `${key} is not read anywhere in Baton`).toBe(true);
  });
});

describe('docker-compose.yml, profile multi-node', () => {
  const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8')) as {
    services: Record<string, { profiles?: string[]; command?: string[]; environment?: Record<string, string>; stop_grace_period?: string; deploy?: { replicas?: unknown } }>;
  };

  it('adds a scheduler and workers only under the profile; baton stays standalone by default', () => {
    const profiled = Object.entries(compose.services).filter(([, s]) => s.profiles?.includes('multi-node')).map(([name]) => name);
    expect(profiled.sort()).toEqual(['baton_scheduler', 'baton_worker']);
    expect(compose.services.baton_scheduler.command).toEqual(['node', 'bin/baton.mjs', 'scheduler']);
    expect(compose.services.baton_worker.command).toEqual(['node', 'bin/baton.mjs', 'worker']);
    expect(compose.services.baton.profiles).toBeUndefined();
    // Standalone unless BATON_ROLE=server is set for the split.
    expect(compose.services.baton.command).toEqual(['node', 'bin/baton.mjs', '${BATON_ROLE:-standalone}']);
  });

  it('lets workers drain before Docker kills them', () => {
    const worker = compose.services.baton_worker;
    const grace = Number(/:-(\d+)\}$/.exec(worker.environment?.BATON_SHUTDOWN_GRACE_SECONDS ?? '')?.[1]);
    expect(Number.parseInt(worker.stop_grace_period ?? '0', 10)).toBeGreaterThan(grace);
  });
});
