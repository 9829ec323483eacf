import { closeSync, openSync, writeSync } from 'node:fs';
import { Enum, Type } from '../../contract/index.ts';
import type { TaskContext } from '../types.ts';

/** What a JDBC query returns (Kestra's `fetchType`). */
export const FETCH_TYPES = ['NONE', 'FETCH', 'FETCH_ONE', 'STORE'] as const;
export type FetchType = (typeof FETCH_TYPES)[number];

/** `fetchType` and its deprecated booleans, shared by the JDBC queries. */
export const FETCH_PROPERTIES = {
  fetchType: Type.Optional(Enum(FETCH_TYPES, { description: 'NONE, FETCH (rows), FETCH_ONE (row) or STORE (a file).' })),
  fetch: Type.Optional(Type.Boolean({ deprecated: true, description: 'Deprecated: fetchType FETCH.' })),
  fetchOne: Type.Optional(Type.Boolean({ deprecated: true, description: 'Deprecated: fetchType FETCH_ONE.' })),
  store: Type.Optional(Type.Boolean({ deprecated: true, description: 'Deprecated: fetchType STORE.' })),
};

/** The outputs of a query by fetchType. */
export const FETCH_OUTPUTS = {
  row: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: 'The first row (FETCH_ONE).' })),
  rows: Type.Optional(Type.Array(Type.Record(Type.String(), Type.Unknown()), { description: 'The rows (FETCH).' })),
  uri: Type.Optional(Type.String({ description: 'kestra:// URI of the rows, one JSON value per line (STORE).' })),
  size: Type.Optional(Type.Integer({ description: 'The number of rows.' })),
};

/** `fetchType`, or the deprecated booleans `fetch`, `fetchOne`, `store`. */
export function fetchTypeOf(props: { fetchType?: FetchType; fetch?: boolean; fetchOne?: boolean; store?: boolean }): FetchType {
  if (props.fetchType) return props.fetchType;
  if (props.store) return 'STORE';
  if (props.fetchOne) return 'FETCH_ONE';
  if (props.fetch) return 'FETCH';
  return 'NONE';
}

/** Database values as JSON-friendly values: bigint → number (or string past 2^53), dates → ISO. */
export function toPlainRow(row: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(row)) out[k] = toPlain(v);
  return out;
}

function toPlain(v: unknown): unknown {
  if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
  if (v instanceof Date) return v.toISOString();
  if (Array.isArray(v)) return v.map(toPlain);
  if (v && typeof v === 'object' && v.constructor === Object) return toPlainRow(v as Record<string, unknown>);
  if (v && typeof v === 'object' && 'toString' in v && v.constructor !== Object) return String(v);
  return v;
}

/**
 * STORE: rows written to internal storage, one value per line. JSON text is valid Ion text, so the
 * `.ion` file reads with Kestra's ion tooling and with any JSON-lines reader.
 */
export async function storeRows(ctx: TaskContext<unknown>, rows: Record<string, unknown>[]): Promise<string> {
  const body = rows.map((r) => JSON.stringify(r)).join('\n') + (rows.length ? '\n' : '');
  return ctx.storage.putFile('result.ion', body);
}

/**
 * STORE for results of any size: rows are appended to a local file as they arrive (synchronously,
 * so it can be called from a driver's per-row callback), in buffered writes, then stored by the
 * caller with `ctx.storage.putFile(name, { file: path })`.
 */
export class RowFileWriter {
  private readonly fd: number;
  private chunks: string[] = [];
  private pending = 0;
  /** Rows written so far. */
  size = 0;

  constructor(readonly path: string) {
    this.fd = openSync(path, 'w');
  }

  write(row: Record<string, unknown>): void {
    const line = JSON.stringify(toPlainRow(row)) + '\n';
    this.chunks.push(line);
    this.pending += line.length;
    this.size++;
    if (this.pending >= 1 << 20) this.flush();
  }

  close(): void {
    this.flush();
    closeSync(this.fd);
  }

  private flush(): void {
    if (this.chunks.length === 0) return;
    writeSync(this.fd, this.chunks.join(''));
    this.chunks = [];
    this.pending = 0;
  }
}
