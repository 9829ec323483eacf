import { createRequire } from 'node:module';
import type { BigQuery } from '@google-cloud/bigquery';
import type { Storage } from '@google-cloud/storage';
import { Type, type Static } from '../../contract/index.ts';
import { TaskFailure, type TaskContext } from '../types.ts';
import { accessToken, DEFAULT_SCOPES, parseServiceAccount, type ServiceAccountKey } from './credentials.ts';

/** What every Google Cloud task takes (Kestra's `AbstractTask` of plugin-gcp, plus the seed's `bucket`). */
export const GCP_PROPERTIES = {
  projectId: Type.Optional(Type.String({ description: 'The Google Cloud project.' })),
  serviceAccount: Type.Optional(Type.Union([Type.String(), Type.Record(Type.String(), Type.Unknown())], { description: 'A service account key (JSON).' })),
  scopes: Type.Optional(Type.Array(Type.String())),
  impersonatedServiceAccount: Type.Optional(Type.String()),
  /**
   * Kestra has no such property, yet the course's pluginDefaults set it on every gcp task: Baton takes it
   * as the bucket of an object path written without `gs://bucket/`.
   */
  bucket: Type.Optional(Type.String({ description: 'The bucket of a path written without gs://bucket/.' })),
  /** BigQuery's job and dataset location, a bucket's location; the course sets it on every gcp task (unused by object tasks). */
  location: Type.Optional(Type.String()),
};

const Gcp = Type.Object(GCP_PROPERTIES);
export type GcpProps = Static<typeof Gcp>;

/**
 * Where the APIs are, from the engine's environment (never from a flow): BATON_GCP_STORAGE_ENDPOINT and
 * BATON_GCP_BIGQUERY_ENDPOINT (e.g. `http://127.0.0.1:4443`), else Google's. The clients' own
 * STORAGE_EMULATOR_HOST and BIGQUERY_EMULATOR_HOST, read from the process environment, still work.
 */
export function gcpEndpoints(env: Record<string, string | undefined> | undefined): { storage?: string; bigquery?: string } {
  const source = env ?? process.env;
  return { storage: source.BATON_GCP_STORAGE_ENDPOINT || undefined, bigquery: source.BATON_GCP_BIGQUERY_ENDPOINT || undefined };
}

interface Credentials {
  key?: ServiceAccountKey;
  projectId?: string;
  scopes: string[];
}

function credentialsOf(ctx: TaskContext<GcpProps>): Credentials {
  if (ctx.props.impersonatedServiceAccount) {
    throw new TaskFailure('impersonatedServiceAccount is not supported by Baton: give the service account itself in serviceAccount');
  }
  const key = ctx.props.serviceAccount ? parseServiceAccount(ctx.props.serviceAccount) : undefined;
  if (key) ctx.maskSecret(key.private_key);
  const scopes = ctx.props.scopes?.length ? ctx.props.scopes : DEFAULT_SCOPES;
  return { key, projectId: ctx.props.projectId || key?.project_id, scopes };
}

/**
 * Each official client carries its own copy of google-auth-library (Storage 7 has v9, BigQuery's common
 * has v10), so each gets an OAuth2Client of its own copy; both draw tokens from `accessToken`, which
 * honours the key file's `token_uri` as Google's Java client (Kestra's) does.
 */
const ownRequire = createRequire(import.meta.url);
type AuthLibrary = { OAuth2Client: new () => unknown };

// The SDKs (and their auth libraries) cost ~0.5 s and tens of MB to load: only a process that runs a
// Google Cloud task loads them, on its first one.
let storageSdk: Promise<{ Storage: typeof Storage; authLibrary: AuthLibrary }> | undefined;
function loadStorageSdk() {
  storageSdk ??= import('@google-cloud/storage').then((sdk) => ({
    Storage: sdk.Storage,
    authLibrary: createRequire(ownRequire.resolve('@google-cloud/storage'))('google-auth-library') as AuthLibrary,
  }));
  return storageSdk;
}

let bigQuerySdk: Promise<{ BigQuery: typeof BigQuery; authLibrary: AuthLibrary }> | undefined;
function loadBigQuerySdk() {
  bigQuerySdk ??= import('@google-cloud/bigquery').then((sdk) => ({
    BigQuery: sdk.BigQuery,
    authLibrary: createRequire(createRequire(ownRequire.resolve('@google-cloud/bigquery')).resolve('@google-cloud/common'))('google-auth-library') as AuthLibrary,
  }));
  return bigQuerySdk;
}

function authClientOf(library: AuthLibrary, credentials: Credentials): unknown {
  const client = new library.OAuth2Client() as { refreshHandler?: () => Promise<{ access_token: string; expiry_date: number }> };
  const key = credentials.key!;
  client.refreshHandler = async () => {
    const token = await accessToken(key, credentials.scopes);
    return { access_token: token.token, expiry_date: token.expiresAt };
  };
  return client;
}

/** A Storage client with the task's credentials; without `serviceAccount`, Application Default Credentials. */
export async function storageClient(ctx: TaskContext<GcpProps>): Promise<{ storage: Storage; projectId?: string }> {
  const credentials = credentialsOf(ctx);
  const endpoint = gcpEndpoints(ctx.env).storage;
  const sdk = await loadStorageSdk();
  const storage = new sdk.Storage({
    projectId: credentials.projectId,
    ...(credentials.key ? { authClient: authClientOf(sdk.authLibrary, credentials) as never } : {}),
    ...(endpoint ? { apiEndpoint: endpoint, useAuthWithCustomEndpoint: true } : {}),
  });
  return { storage, projectId: credentials.projectId };
}

/** A BigQuery client with the task's credentials and `location`. */
export async function bigQueryClient(ctx: TaskContext<GcpProps>): Promise<{ bigquery: BigQuery; projectId: string }> {
  const credentials = credentialsOf(ctx);
  if (!credentials.projectId) throw new TaskFailure("projectId is required: set projectId, or use a service account key that names its project_id");
  const endpoint = gcpEndpoints(ctx.env).bigquery;
  const sdk = await loadBigQuerySdk();
  const bigquery = new sdk.BigQuery({
    projectId: credentials.projectId,
    location: ctx.props.location || undefined,
    ...(credentials.key ? { authClient: authClientOf(sdk.authLibrary, credentials) as never } : {}),
    ...(endpoint ? { apiEndpoint: endpoint } : {}),
  });
  return { bigquery, projectId: credentials.projectId };
}

/** A gs:// URI as bucket and object name; a path without `gs://` lies in the default `bucket`, when one is set. */
export function parseGsUri(value: string, property: string, defaultBucket?: string): { bucket: string; name: string } {
  const match = /^gs:\/\/([^/]+)\/(.+)$/.exec(value);
  if (match) return { bucket: match[1], name: match[2] };
  if (!/^[a-z][a-z0-9+.-]*:/i.test(value) && defaultBucket && value.replace(/^\/+/, '')) {
    return { bucket: defaultBucket, name: value.replace(/^\/+/, '') };
  }
  throw new TaskFailure(`${property} must be a gs://bucket/path URI, got '${value}'`);
}

/** Kestra writes spaces in object names as '+' in gs:// URIs, and reads '+' back as a space. */
export function objectNameOf(path: string): string {
  return path.replace(/\+/g, ' ');
}

export function gsUri(bucket: string, name: string): string {
  return `gs://${bucket}/${name.replace(/ /g, '+')}`;
}

/** An error of a Google API call as a TaskFailure saying what was being done, the HTTP status and Google's reason. */
export function apiFailure(action: string, error: unknown): TaskFailure {
  if (error instanceof TaskFailure) return error;
  const api = error as { code?: number | string; message?: string; errors?: Array<{ reason?: string; message?: string }> };
  const reasons = [...new Set((api.errors ?? []).map((e) => e.reason).filter(Boolean))];
  const details = [typeof api.code === 'number' ? `HTTP ${api.code}` : api.code, ...reasons].filter(Boolean).join(', ');
  const message = api.message || String(error);
  return new TaskFailure(`${action}: ${message}${details ? ` (${details})` : ''}`, { cause: error });
}
