import { createTwoFilesPatch } from 'diff';
import { and, asc, count, eq, ilike, like, or, sql, type SQL } from 'drizzle-orm';
import type { Db } from '../db/index.ts';
import { flowRevisions, flows, namespaceFiles, toIsoTimestamp } from '../db/index.ts';
import type { FlowDef, FlowSource, ResolvedFlow } from '../engine/index.ts';
import type { NamespaceFiles } from '../engine/namespace-files/types.ts';
import { escapeLike, inNamespaceOrBelow, pageWindow } from '../db/index.ts';

/** `{sha, author, email, message, date}` of the commit a revision came from. */
export interface CommitInfo {
  sha: string;
  author: string;
  email: string;
  message: string;
  date: string;
}

export interface StoredFlow {
  namespace: string;
  id: string;
  revision: number;
  source: string;
  definition: FlowDef;
  deleted: boolean;
  commit: CommitInfo | null;
  /** The file in Git that defines this revision. */
  gitPath: string | null;
  updated: string;
}

export interface FlowRevision {
  revision: number;
  source: string;
  deleted: boolean;
  commit: CommitInfo | null;
  created: string;
}

/** Not found: the message names what was asked for. */
export class FlowNotFoundError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FlowNotFoundError';
  }
}

/** The read side of synced flows, revisions and namespace files (the write side is `apply.ts`). */
export class FlowStore {
  constructor(private readonly db: Db) {}

  /**
   * The live flow, or one revision of it; deleted flows only with `allowDeleted`. One query (the live
   * row joined to the revision asked for, its own by default): every flow webhook and API start reads it.
   */
  async getFlow(namespace: string, id: string, options: { revision?: number; allowDeleted?: boolean } = {}): Promise<StoredFlow> {
    const wanted = options.revision === undefined ? flows.revision : sql`${options.revision}::int`;
    const [found] = await this.db
      .select({ live: { revision: flows.revision, deleted: flows.deleted, gitPath: flows.gitPath }, row: flowRevisions })
      .from(flows)
      .leftJoin(flowRevisions, and(eq(flowRevisions.namespace, flows.namespace), eq(flowRevisions.flowId, flows.id), eq(flowRevisions.revision, wanted)))
      .where(and(eq(flows.namespace, namespace), eq(flows.id, id)));
    if (!found || (found.live.deleted && !options.allowDeleted)) throw new FlowNotFoundError(`flow ${namespace}.${id} not found`);
    const { live, row } = found;
    const revision = options.revision ?? live.revision;
    if (!row) throw new FlowNotFoundError(`revision ${revision} of flow ${namespace}.${id} not found`);
    return {
      namespace,
      id,
      revision: row.revision,
      source: row.source,
      definition: row.definition as FlowDef,
      deleted: revision === live.revision ? live.deleted : row.deleted,
      commit: (row.commit ?? null) as CommitInfo | null,
      gitPath: revision === live.revision ? live.gitPath : row.gitPath,
      updated: toIsoTimestamp(row.createdAt),
    };
  }

  /** Every revision, oldest first (a deletion is a revision too). */
  async revisions(namespace: string, id: string): Promise<FlowRevision[]> {
    const rows = await this.db
      .select()
      .from(flowRevisions)
      .where(and(eq(flowRevisions.namespace, namespace), eq(flowRevisions.flowId, id)))
      .orderBy(asc(flowRevisions.revision));
    if (rows.length === 0) throw new FlowNotFoundError(`flow ${namespace}.${id} not found`);
    return rows.map((r) => ({
      revision: r.revision,
      source: r.source,
      deleted: r.deleted,
      commit: (r.commit ?? null) as CommitInfo | null,
      created: toIsoTimestamp(r.createdAt),
    }));
  }

  /** Unified diff of two revisions' sources. */
  async diff(namespace: string, id: string, from: number, to: number): Promise<string> {
    const all = await this.revisions(namespace, id);
    const a = all.find((r) => r.revision === from);
    const b = all.find((r) => r.revision === to);
    if (!a) throw new FlowNotFoundError(`revision ${from} of flow ${namespace}.${id} not found`);
    if (!b) throw new FlowNotFoundError(`revision ${to} of flow ${namespace}.${id} not found`);
    return createTwoFilesPatch(`${namespace}/${id}.yaml@${from}`, `${namespace}/${id}.yaml@${to}`, a.source, b.source, revisionLabel(a), revisionLabel(b));
  }

  /** Live flows matching `q` (id or namespace substring) and `namespace` (prefix), paged from 1. */
  async search(filter: { q?: string; namespace?: string; page?: number; size?: number } = {}): Promise<{ results: StoredFlow[]; total: number }> {
    const conditions: SQL[] = [eq(flows.deleted, false)];
    if (filter.namespace) conditions.push(inNamespaceOrBelow(flows.namespace, filter.namespace));
    if (filter.q) {
      const q = `%${escapeLike(filter.q)}%`;
      conditions.push(or(ilike(flows.id, q), ilike(flows.namespace, q))!);
    }
    const where = and(...conditions);
    const window = pageWindow(filter);
    const [{ total }] = await this.db.select({ total: count() }).from(flows).where(where);
    const rows = await this.db
      .select({
        namespace: flows.namespace,
        id: flows.id,
        revision: flows.revision,
        source: flows.source,
        definition: flows.definition,
        deleted: flows.deleted,
        updatedAt: flows.updatedAt,
        gitPath: flows.gitPath,
        commit: flowRevisions.commit,
      })
      .from(flows)
      .leftJoin(
        flowRevisions,
        and(eq(flowRevisions.namespace, flows.namespace), eq(flowRevisions.flowId, flows.id), eq(flowRevisions.revision, flows.revision)),
      )
      .where(where)
      .orderBy(asc(flows.namespace), asc(flows.id))
      .limit(window.limit)
      .offset(window.offset);
    return {
      total: Number(total),
      results: rows.map((r) => ({
        namespace: r.namespace,
        id: r.id,
        revision: r.revision,
        source: r.source,
        definition: r.definition as FlowDef,
        deleted: r.deleted,
        commit: (r.commit ?? null) as CommitInfo | null,
        gitPath: r.gitPath,
        updated: toIsoTimestamp(r.updatedAt),
      })),
    };
  }

  /** Namespaces that hold live flows or namespace files. */
  async namespaces(): Promise<string[]> {
    const rows = await this.db.execute(
      sql`select namespace from ${flows} where deleted = false union select namespace from ${namespaceFiles} order by 1`,
    );
    const list = Array.isArray(rows) ? rows : (rows as { rows: unknown[] }).rows;
    return (list as { namespace: string }[]).map((r) => r.namespace);
  }

  /** The newest revision number of each flow ever synced (live or deleted). */
  async latestRevisions(): Promise<Map<string, number>> {
    const rows = await this.db.select({ namespace: flows.namespace, id: flows.id, revision: flows.revision }).from(flows);
    return new Map(rows.map((r) => [`${r.namespace}/${r.id}`, r.revision]));
  }

  /** Subflows resolve against synced flows: the live revision, or the one asked for. */
  flowSource(): FlowSource {
    return {
      find: async (namespace, id, revision): Promise<ResolvedFlow | undefined> => {
        try {
          const flow = await this.getFlow(namespace, id, { revision });
          return { flow: { ...flow.definition, revision: flow.revision }, revision: flow.revision, commitSha: flow.commit?.sha ?? null };
        } catch (err) {
          if (err instanceof FlowNotFoundError) return undefined;
          throw err;
        }
      },
    };
  }

  /** Namespace files as the engine reads them (`read('sql/q.sql')`, `namespaceFiles: {enabled: true}`). */
  namespaceFiles(): NamespaceFiles {
    return {
      read: async (namespace, path) => {
        const normalized = normalizeNamespacePath(path);
        const [row] = await this.db
          .select({ content: namespaceFiles.content })
          .from(namespaceFiles)
          .where(and(eq(namespaceFiles.namespace, namespace), eq(namespaceFiles.path, normalized)));
        if (!row) throw new FlowNotFoundError(`namespace file '${normalized}' not found in namespace '${namespace}'`);
        return row.content;
      },
      list: async (namespace) => {
        const rows = await this.db
          .select({ path: namespaceFiles.path })
          .from(namespaceFiles)
          .where(eq(namespaceFiles.namespace, namespace))
          .orderBy(asc(namespaceFiles.path));
        return rows.map((r) => r.path);
      },
    };
  }

  /** Entries directly under `dir` of a namespace: files and sub-directories, Kestra's `/files/directory`. */
  async directory(namespace: string, dir: string): Promise<{ fileName: string; type: 'File' | 'Directory'; size?: number }[]> {
    const base = normalizeNamespacePath(dir === '' ? '/' : dir).replace(/\/+$/, '');
    const rows = await this.db
      .select({ path: namespaceFiles.path, size: sql<number>`octet_length(${namespaceFiles.content})` })
      .from(namespaceFiles)
      .where(and(eq(namespaceFiles.namespace, namespace), like(namespaceFiles.path, `${escapeLike(base)}/%`)))
      .orderBy(asc(namespaceFiles.path));
    const entries = new Map<string, { fileName: string; type: 'File' | 'Directory'; size?: number }>();
    for (const row of rows) {
      const rest = row.path.slice(base.length + 1);
      const slash = rest.indexOf('/');
      if (slash === -1) entries.set(rest, { fileName: rest, type: 'File', size: Number(row.size) });
      else entries.set(rest.slice(0, slash), { fileName: rest.slice(0, slash), type: 'Directory' });
    }
    return [...entries.values()];
  }
}

/** Kestra's namespace file path rules: '/'-rooted, no `..`, no backslashes, no encoded traversal. */
export class NamespacePathError extends Error {
  constructor(readonly path: string, reason: string) {
    super(`invalid namespace file path '${path}': ${reason}`);
    this.name = 'NamespacePathError';
  }
}

export function normalizeNamespacePath(path: string): string {
  let decoded = path;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    throw new NamespacePathError(path, 'bad percent-encoding');
  }
  if (decoded.includes('\0')) throw new NamespacePathError(path, 'NUL byte');
  if (decoded.includes('\\')) throw new NamespacePathError(path, 'backslash');
  const segments = decoded.split('/').filter((s) => s !== '' && s !== '.');
  if (segments.some((s) => s === '..')) throw new NamespacePathError(path, "'..' is not allowed");
  return `/${segments.join('/')}`;
}


function revisionLabel(r: FlowRevision): string {
  return r.commit ? `${r.commit.sha.slice(0, 12)} ${r.commit.message.split('\n')[0]}` : `revision ${r.revision}`;
}

