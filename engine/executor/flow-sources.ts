import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { validateFlowSource, formatProblem } from '../flow/index.ts';
import type { FlowDef } from '../flow/types.ts';
import type { FlowSource, ResolvedFlow } from './resources.ts';

/** Flows held in memory (one revision each): what `baton run` and tests call subflows from. */
export class StaticFlowSource implements FlowSource {
  private readonly flows = new Map<string, ResolvedFlow>();

  constructor(flows: readonly FlowDef[] = []) {
    for (const flow of flows) this.add(flow);
  }

  add(flow: FlowDef, revision = flow.revision ?? 1): void {
    this.flows.set(`${flow.namespace}/${flow.id}`, { flow, revision });
  }

  async find(namespace: string, id: string, revision?: number): Promise<ResolvedFlow | undefined> {
    const found = this.flows.get(`${namespace}/${id}`);
    if (!found || (revision !== undefined && revision !== found.revision)) return undefined;
    return found;
  }
}

/** Thrown when a folder of flows holds an invalid flow: every problem, `file:line:col: error: message`. */
export class FlowFolderError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid flows:\n${problems.join('\n')}`);
    this.name = 'FlowFolderError';
  }
}

/** Loads every `*.yml`/`*.yaml` under `dir` (recursively), refusing the folder if any is invalid. */
export async function loadFlowFolder(dir: string): Promise<StaticFlowSource> {
  const source = new StaticFlowSource();
  const problems: string[] = [];
  for (const file of await yamlFiles(dir)) {
    const result = validateFlowSource(await readFile(file, 'utf8'), file);
    const errors = result.problems.filter((p) => p.severity === 'error');
    if (errors.length || !result.flow) problems.push(...errors.map(formatProblem));
    else source.add(result.flow);
  }
  if (problems.length) throw new FlowFolderError(problems);
  return source;
}

async function yamlFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await yamlFiles(path)));
    else if (/\.ya?ml$/.test(entry.name)) out.push(path);
  }
  return out.sort();
}
