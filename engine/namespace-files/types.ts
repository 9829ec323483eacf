/** Read-only access to namespace files (`/sql/query.sql` of namespace `company.team`). */
export interface NamespaceFiles {
  /** Content of a file; throws NamespaceFileError NOT_FOUND or TRAVERSAL. */
  read(namespace: string, path: string): Promise<Buffer>;
  /** Paths (starting with '/') of every file of the namespace, sorted. */
  list(namespace: string): Promise<string[]>;
}
