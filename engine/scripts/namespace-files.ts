import { access, writeFile } from 'node:fs/promises';
import picomatch from 'picomatch';
import type { TaskContext } from '../plugins/types.ts';
import { TaskFailure } from '../plugins/types.ts';
import type { ScriptMetric } from './output-protocol.ts';
import { toPicomatchGlob } from './output-files.ts';
import { prepareFileTarget } from './working-dir-paths.ts';

/** A task's `namespaceFiles` block (Kestra's NamespaceFiles). */
export interface NamespaceFilesSpec {
  /** Default true: writing the block is enough to enable it, as in Kestra. */
  enabled?: boolean;
  include?: string[];
  exclude?: string[];
  /** Namespaces to copy from; default the flow's own. */
  namespaces?: string[];
  /** Put each namespace's files under a folder named after it. */
  folderPerNamespace?: boolean;
  /** What to do when the file already exists in the working directory. */
  ifExists?: 'OVERWRITE' | 'FAIL' | 'WARN' | 'IGNORE';
}

/**
 * Copies the matching namespace files into the working directory (paths kept, leading `/` dropped).
 * Include/exclude globs match the path with or without its leading `/`. Resolves to the metrics
 * Kestra records for it (`namespacefiles.count`, `namespacefiles.duration`).
 */
export async function copyNamespaceFiles(
  ctx: TaskContext<unknown>,
  workingDir: string,
  spec: NamespaceFilesSpec,
): Promise<ScriptMetric[]> {
  const started = Date.now();
  const namespaces = spec.namespaces?.length ? spec.namespaces : [ctx.execution.namespace];
  const included = globMatcher(spec.include, true);
  const excluded = globMatcher(spec.exclude, false);
  const ifExists = spec.ifExists ?? 'OVERWRITE';
  let count = 0;
  for (const namespace of namespaces) {
    for (const path of await ctx.namespaceFiles.list(namespace)) {
      const rel = path.replace(/^\/+/, '');
      if (!included(rel) || excluded(rel)) continue;
      const destination = spec.folderPerNamespace ? `${namespace}/${rel}` : rel;
      const target = await prepareFileTarget(workingDir, destination, 'namespaceFiles');
      if (ifExists !== 'OVERWRITE' && (await exists(target))) {
        if (ifExists === 'FAIL') throw new TaskFailure(`namespaceFiles: '${destination}' already exists in the working directory`);
        if (ifExists === 'WARN') ctx.logger.warn(`Namespace file '${destination}' already exists in the working directory, kept as is`);
        continue;
      }
      await writeFile(target, await ctx.namespaceFiles.read(namespace, path));
      count++;
    }
  }
  const seconds = (Date.now() - started) / 1000;
  ctx.logger.info(`Loaded ${count} namespace files from '${namespaces.join(', ')}' in ${seconds.toFixed(3)}s`);
  return [
    { name: 'namespacefiles.count', type: 'counter', value: count },
    { name: 'namespacefiles.duration', type: 'timer', value: seconds },
  ];
}

function globMatcher(patterns: string[] | undefined, whenEmpty: boolean): (rel: string) => boolean {
  if (!patterns?.length) return () => whenEmpty;
  const globs = patterns.map((p) => toPicomatchGlob(p.replace(/^\/+/, '')));
  const match = picomatch(globs, { dot: true });
  return (rel) => match(rel);
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}
