/**
 * GCS tasks on the official @google-cloud/storage client, against the local GCS FAKE (no Google Cloud is
 * reachable here): auth through the fake token endpoint, uploads (multipart and resumable), downloads,
 * bucket creation with each ifExists. A guard refuses any connection that is not to loopback.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createTempDirTaskContext, type TempDirTaskContext } from '../../scripts/temp-dir-task-context.ts';
import { TaskFailure, type TaskPlugin, type TaskResult } from '../types.ts';
import { GcpFake } from '../../../test/support/gcp-fakes/gcp-fake.ts';
import { guardLoopback, type LoopbackGuard } from '../../../test/support/gcp-fakes/loopback-guard.ts';
import type { FakeServiceAccount } from '../../../test/support/gcp-fakes/service-account-fake.ts';
import { gcsCreateBucket } from './gcs-create-bucket.ts';
import { gcsDownload } from './gcs-download.ts';
import { gcsUpload, RESUMABLE_THRESHOLD_BYTES } from './gcs-upload.ts';

let fake: GcpFake;
let guard: LoopbackGuard;
let account: FakeServiceAccount;

beforeAll(async () => {
  guard = guardLoopback();
  fake = await GcpFake.start();
  account = fake.serviceAccount();
});
afterAll(async () => {
  await fake.close();
  guard.restore();
});

const open: Array<TempDirTaskContext<unknown>> = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((t) => t.cleanup()));
});

async function context(props: Record<string, unknown>): Promise<TempDirTaskContext<unknown>> {
  const t = await createTempDirTaskContext<unknown>({ serviceAccount: account.json, projectId: account.projectId, ...props });
  t.ctx.env = fake.env();
  open.push(t);
  return t;
}

async function run(plugin: TaskPlugin, t: TempDirTaskContext<unknown>): Promise<Record<string, unknown>> {
  const result = (await plugin.run(t.ctx as never)) as TaskResult;
  return result.outputs ?? {};
}

async function failure(plugin: TaskPlugin, t: TempDirTaskContext<unknown>): Promise<TaskFailure> {
  const error = await plugin.run(t.ctx as never).then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(TaskFailure);
  return error as TaskFailure;
}

describe('gcs.Upload (fake GCS)', () => {
  it('streams a small file as one multipart request and outputs its gs:// URI', async () => {
    fake.gcs.putBucket('upload-small');
    const t = await context({});
    const from = await t.putStorageFile('data.csv', 'a,b\n1,2\n');
    Object.assign(t.ctx.props as object, { from, to: 'gs://upload-small/raw/data.csv', contentType: 'text/csv', cacheControl: 'no-cache' });
    expect(await run(gcsUpload, t)).toEqual({ uri: 'gs://upload-small/raw/data.csv' });
    const object = fake.gcs.object('upload-small', 'raw/data.csv')!;
    expect(object.data.toString()).toBe('a,b\n1,2\n');
    expect(object.uploadType).toBe('multipart');
    expect(object.metadata).toMatchObject({ contentType: 'text/csv', cacheControl: 'no-cache' });
    // The key is a secret: the plugin registers it for masking.
    expect(t.secrets).toContain(JSON.parse(account.json).private_key);
  });

  it('uses a resumable session above the threshold and the bytes arrive intact', async () => {
    fake.gcs.putBucket('upload-large');
    const t = await context({});
    const data = randomBytes(RESUMABLE_THRESHOLD_BYTES + 123_457);
    const from = await t.putStorageFile('big.bin', data);
    Object.assign(t.ctx.props as object, { from, to: 'gs://upload-large/big.bin' });
    expect(await run(gcsUpload, t)).toEqual({ uri: 'gs://upload-large/big.bin' });
    const object = fake.gcs.object('upload-large', 'big.bin')!;
    expect(object.uploadType).toBe('resumable');
    expect(object.data.equals(data)).toBe(true);
  });

  it("writes a path without gs:// into the default 'bucket' (the course's pluginDefaults), and spaces as Kestra does", async () => {
    fake.gcs.putBucket('default-bucket');
    const t = await context({ bucket: 'default-bucket' });
    const from = await t.putStorageFile('x.csv', 'x');
    Object.assign(t.ctx.props as object, { from, to: 'raw/yellow/2019/my+file.csv' });
    expect(await run(gcsUpload, t)).toEqual({ uri: 'gs://default-bucket/raw/yellow/2019/my+file.csv' });
    expect(fake.gcs.object('default-bucket', 'raw/yellow/2019/my file.csv')?.data.toString()).toBe('x');
  });

  it('names the bad property and the failing call', async () => {
    const t = await context({});
    const from = await t.putStorageFile('x.csv', 'x');
    Object.assign(t.ctx.props as object, { from, to: 'raw/x.csv' });
    expect((await failure(gcsUpload, t)).message).toBe("to must be a gs://bucket/path URI, got 'raw/x.csv'");

    Object.assign(t.ctx.props as object, { to: 'gs://no-such-bucket/x.csv' });
    const missing = await failure(gcsUpload, t);
    expect(missing.message).toMatch(/^Uploading to gs:\/\/no-such-bucket\/x\.csv failed: .*bucket does not exist.*\(HTTP 404, notFound\)$/);

    Object.assign(t.ctx.props as object, { from: 'kestra:///other/flow/executions/zzz/x.csv' });
    expect((await failure(gcsUpload, t)).message).toMatch(/^from: cannot read 'kestra:\/\/\/other\/flow\/executions\/zzz\/x\.csv': .*does not belong/);
  });
});

describe('gcs.Download (fake GCS)', () => {
  it('streams the object into internal storage and outputs bucket, path and uri', async () => {
    fake.gcs.putBucket('down');
    fake.gcs.putObject('down', 'dir/report.csv', 'id,total\n1,10\n', 'text/csv');
    const t = await context({ from: 'gs://down/dir/report.csv' });
    const outputs = await run(gcsDownload, t);
    expect(outputs).toMatchObject({ bucket: 'down', path: 'dir/report.csv' });
    expect(outputs.uri).toMatch(/^kestra:\/\/\/.*\/report\.csv$/);
    expect((await t.ctx.storage.read(outputs.uri as string)).toString()).toBe('id,total\n1,10\n');
  });

  it("fails with Kestra's message for a missing object", async () => {
    fake.gcs.putBucket('down-missing');
    const t = await context({ from: 'gs://down-missing/nope.csv' });
    expect((await failure(gcsDownload, t)).message).toBe("Unable to find blob on bucket 'down-missing' with path 'nope.csv'");
  });
});

describe('gcs.CreateBucket (fake GCS)', () => {
  it('creates the bucket with its settings in the task project', async () => {
    const t = await context({ name: 'made-here', storageClass: 'REGIONAL', location: 'us-central1', labels: { team: 'data' }, versioningEnabled: true });
    expect(await run(gcsCreateBucket, t)).toEqual({
      bucket: { name: 'made-here', uri: 'gs://made-here', location: 'US-CENTRAL1', indexPage: undefined, notFoundPage: undefined },
      created: true,
      updated: false,
    });
    expect(fake.gcs.buckets.get('made-here')).toMatchObject({ storageClass: 'REGIONAL', location: 'US-CENTRAL1', labels: { team: 'data' } });
    expect(fake.gcs.buckets.get('made-here')!.resource).toMatchObject({ versioning: { enabled: true } });
  });

  it('ifExists: ERROR fails, SKIP leaves the bucket as it is, UPDATE applies the settings (not the location)', async () => {
    fake.gcs.putBucket('exists-already', { location: 'EU', storageClass: 'STANDARD' });
    const error = await failure(gcsCreateBucket, await context({ name: 'exists-already' }));
    expect(error.message).toBe('Bucket exists-already already exists and ifExists policy is set to ERROR !');

    const skipped = await run(gcsCreateBucket, await context({ name: 'exists-already', ifExists: 'SKIP', storageClass: 'REGIONAL', location: 'us-central1' }));
    expect(skipped).toMatchObject({ bucket: { name: 'exists-already', location: 'EU' }, created: false, updated: false });
    expect(fake.gcs.buckets.get('exists-already')!.patches).toEqual([]);

    const updated = await run(gcsCreateBucket, await context({ name: 'exists-already', ifExists: 'UPDATE', storageClass: 'NEARLINE', location: 'EU', labels: { a: 'b' } }));
    expect(updated).toMatchObject({ bucket: { name: 'exists-already', location: 'EU' }, created: false, updated: true });
    expect(fake.gcs.buckets.get('exists-already')!.patches).toEqual([{ storageClass: 'NEARLINE', labels: { a: 'b' } }]);
    expect(fake.gcs.buckets.get('exists-already')!.storageClass).toBe('NEARLINE');
  });

  it("shows Google's refusal of a bad bucket name", async () => {
    const error = await failure(gcsCreateBucket, await context({ name: 'Bad_Name!' }));
    expect(error.message).toMatch(/^Creating bucket 'Bad_Name!' failed: Invalid bucket name: 'Bad_Name!' \(HTTP 400, invalid\)$/);
  });
});

describe('credentials (fake OAuth endpoint)', () => {
  it('refuses a key the token endpoint does not trust, naming the account', async () => {
    const stranger = (await import('../../../test/support/gcp-fakes/service-account-fake.ts')).fakeServiceAccount({ tokenUri: fake.tokenUri, name: 'stranger' });
    const t = await context({ serviceAccount: stranger.json, name: 'never-made' });
    const error = await failure(gcsCreateBucket, t);
    expect(error.message).toContain(`Google refused a token for service account ${stranger.clientEmail} (HTTP 400 from ${fake.tokenUri}): invalid_grant`);
    expect(fake.gcs.buckets.has('never-made')).toBe(false);
  });

  it('says what is wrong with a serviceAccount that is not a key file, without quoting it', async () => {
    expect((await failure(gcsCreateBucket, await context({ serviceAccount: '{"private_key": "secret', name: 'x1' }))).message)
      .toMatch(/^serviceAccount is not valid JSON \(.*\); paste the whole key file$/);
    expect((await failure(gcsCreateBucket, await context({ serviceAccount: '{"type": "authorized_user"}', name: 'x2' }))).message)
      .toBe("serviceAccount must be a service account key (type 'service_account'), got type 'authorized_user'");
    expect((await failure(gcsCreateBucket, await context({ serviceAccount: '{"type": "service_account", "private_key": "k"}', name: 'x3' }))).message)
      .toBe("serviceAccount has no 'client_email': paste the whole key file");
  });

  it('every request went to the fake on loopback, authorised by a token the fake issued', () => {
    const port = new URL(fake.url).port;
    expect(guard.refused).toEqual([]);
    expect(guard.connections.length).toBeGreaterThan(0);
    expect(guard.connections.every((c) => c === `127.0.0.1:${port}`)).toBe(true);
    expect(guard.lookups.filter((h) => !['localhost', '127.0.0.1'].includes(h))).toEqual([]);
    // Session PUTs of a resumable upload carry no token in GCS either: the session URI is the credential.
    const api = fake.requests.filter((r) => r.path !== '/token' && !(r.method === 'PUT' && r.query.includes('upload_id=')));
    expect(api.length).toBeGreaterThan(5);
    expect(api.filter((r) => r.status !== 401).every((r) => r.account === account.clientEmail)).toBe(true);
    // One token for the whole file: it is cached until it nears expiry.
    expect(fake.oauth.issued.filter((t) => t.clientEmail === account.clientEmail)).toHaveLength(1);
  });
});
