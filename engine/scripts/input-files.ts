import { writeFile } from 'node:fs/promises';
import type { TaskContext } from '../plugins/types.ts';
import { TaskFailure } from '../plugins/types.ts';
import { prepareFileTarget } from './working-dir-paths.ts';

/**
 * `inputFiles` after rendering: a map `{relative/path: content}` or the same map as a JSON string
 * (e.g. produced by an expression). Null values are dropped and other non-strings written as JSON,
 * as Kestra's transformInputFiles does.
 */
export function normalizeInputFiles(value: unknown): Record<string, string> {
  if (value == null) return {};
  let map: unknown = value;
  if (typeof value === 'string') {
    try {
      map = JSON.parse(value);
    } catch (error) {
      throw new TaskFailure(`inputFiles: a string must be a JSON object of {path: content}: ${(error as Error).message}`, { cause: error });
    }
  }
  if (typeof map !== 'object' || map === null || Array.isArray(map)) {
    throw new TaskFailure(`inputFiles must be a map of {path: content}, got ${Array.isArray(map) ? 'a list' : typeof map}`);
  }
  const files: Record<string, string> = {};
  for (const [path, content] of Object.entries(map)) {
    if (content == null) continue;
    files[path] = typeof content === 'string' ? content : JSON.stringify(content);
  }
  return files;
}

/**
 * Writes each input file into the working directory: a `kestra://` value is copied from internal
 * storage, an `nsfile://` value from namespace files, anything else is written as UTF-8 text.
 * Paths must stay inside the working directory. Resolves to the written paths (relative).
 */
export async function writeInputFiles(
  ctx: TaskContext<unknown>,
  workingDir: string,
  files: Record<string, string>,
  property = 'inputFiles',
): Promise<string[]> {
  const written: string[] = [];
  for (const [path, content] of Object.entries(files)) {
    const target = await prepareFileTarget(workingDir, path, property);
    if (content.startsWith('kestra://')) {
      await ctx.storage.download(content, target).catch((error: unknown) => {
        throw new TaskFailure(`${property}: cannot copy '${content}' to '${path}': ${(error as Error).message}`, { cause: error });
      });
    } else if (content.startsWith('nsfile://')) {
      const { namespace, path: nsPath } = parseNamespaceFileUri(content, ctx.execution.namespace);
      const data = await ctx.namespaceFiles.read(namespace, nsPath).catch((error: unknown) => {
        throw new TaskFailure(`${property}: cannot copy '${content}' to '${path}': ${(error as Error).message}`, { cause: error });
      });
      await writeFile(target, data);
    } else {
      await writeFile(target, content, 'utf8');
    }
    written.push(path);
  }
  return written;
}

/** `nsfile:///path` (this flow's namespace) or `nsfile://other.namespace/path`. */
export function parseNamespaceFileUri(uri: string, currentNamespace: string): { namespace: string; path: string } {
  const rest = uri.slice('nsfile://'.length);
  if (rest.startsWith('/')) return { namespace: currentNamespace, path: decodeURIComponent(rest) };
  const slash = rest.indexOf('/');
  if (slash <= 0) throw new TaskFailure(`invalid namespace file URI '${uri}': expected nsfile:///path or nsfile://namespace/path`);
  return { namespace: rest.slice(0, slash), path: decodeURIComponent(rest.slice(slash)) };
}
