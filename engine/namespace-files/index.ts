/** Namespace files (`read('/sql/q.sql')`, script `namespaceFiles`): the interface and the directory-backed source. */
export type { NamespaceFiles } from './types.ts';
export {
  DirectoryNamespaceFiles,
  NamespaceFileError,
  type DirectoryNamespaceFilesOptions,
  type NamespaceFileErrorCode,
} from './directory-namespace-files.ts';
