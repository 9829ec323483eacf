/** Internal storage (`kestra://` URIs): the interface, the local-disk backend and the URI layout. */
export type { InternalStorage } from './types.ts';
export { StorageError, isStorageError, type StorageErrorCode } from './errors.ts';
export { LocalDiskStorage } from './local-disk.ts';
export {
  KESTRA_SCHEME,
  childUri,
  encodeSegment,
  executionPrefix,
  inputPrefix,
  isKestraUri,
  isUnderPrefix,
  parseKestraUri,
  slugify,
  taskRunPrefix,
  triggerPrefix,
  type KestraUri,
} from './uris.ts';
