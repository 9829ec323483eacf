import { Enum, Type, type Static } from '../../contract/index.ts';
import { TaskFailure, defineTask, type TaskContext } from '../types.ts';
import { apiFailure, GCP_PROPERTIES, storageClient, type GcpProps } from './clients.ts';

const IF_EXISTS = ['ERROR', 'UPDATE', 'SKIP'] as const;
const STORAGE_CLASSES = ['REGIONAL', 'MULTI_REGIONAL', 'NEARLINE', 'COLDLINE', 'STANDARD', 'ARCHIVE', 'DURABLE_REDUCED_AVAILABILITY'];

interface AccessControl {
  entity: { type: 'USER' | 'GROUP' | 'DOMAIN'; value: string };
  role: 'READER' | 'WRITER' | 'OWNER';
}

const accessControlSchema = {
  type: 'object',
  properties: {
    entity: { type: 'object', properties: { type: { enum: ['USER', 'GROUP', 'DOMAIN'] }, value: { type: 'string' } }, required: ['type', 'value'] },
    role: { enum: ['READER', 'WRITER', 'OWNER'] },
  },
  required: ['entity', 'role'],
};

const CreateBucketProperties = Type.Object({
  ...GCP_PROPERTIES,
  name: Type.String(),
  ifExists: Type.Optional(Enum(['ERROR', 'UPDATE', 'SKIP'])),
  storageClass: Type.Optional(Enum(['REGIONAL', 'MULTI_REGIONAL', 'NEARLINE', 'COLDLINE', 'STANDARD', 'ARCHIVE', 'DURABLE_REDUCED_AVAILABILITY'])),
  labels: Type.Optional(Type.Record(Type.String(), Type.String())),
  requesterPays: Type.Optional(Type.Boolean()),
  versioningEnabled: Type.Optional(Type.Boolean()),
  indexPage: Type.Optional(Type.String()),
  notFoundPage: Type.Optional(Type.String()),
  lifecycleRules: Type.Optional(Type.Array(Type.Object({ condition: Type.Object({ age: Type.Union([Type.Integer(), Type.String()]) }), action: Type.Object({ type: Enum(['DELETE', 'SET_STORAGE_CLASS']), value: Type.Optional(Type.String()) }) }))),
  cors: Type.Optional(Type.Array(Type.Record(Type.String(), Type.Unknown()))),
  acl: Type.Optional(Type.Array(Type.Object({ entity: Type.Object({ type: Enum(['USER', 'GROUP', 'DOMAIN']), value: Type.String() }), role: Enum(['READER', 'WRITER', 'OWNER']) }))),
  defaultAcl: Type.Optional(Type.Array(Type.Object({ entity: Type.Object({ type: Enum(['USER', 'GROUP', 'DOMAIN']), value: Type.String() }), role: Enum(['READER', 'WRITER', 'OWNER']) }))),
  defaultKmsKeyName: Type.Optional(Type.String()),
  defaultEventBasedHold: Type.Optional(Type.Boolean()),
  retentionPeriod: Type.Optional(Type.Union([Type.Integer(), Type.String()])),
  iamConfiguration: Type.Optional(Type.Object({ uniformBucketLevelAccessEnabled: Type.Optional(Type.Boolean()), publicAccessPrevention: Type.Optional(Type.String()) })),
  logging: Type.Optional(Type.Object({ logBucket: Type.Optional(Type.String()), logObjectPrefix: Type.Optional(Type.String()) })),
});
type CreateBucketProps = Static<typeof CreateBucketProperties>;

/**
 * io.kestra.plugin.gcp.gcs.CreateBucket: creates the bucket, or when it exists follows `ifExists`
 * (ERROR fails, UPDATE applies the given settings, SKIP leaves it as it is). Outputs
 * `bucket` {name, uri, location, indexPage, notFoundPage}, `created`, `updated`.
 */
export const gcsCreateBucket = defineTask({
  type: 'io.kestra.plugin.gcp.gcs.CreateBucket',
  kind: 'runnable',
  title: 'Create a Google Cloud Storage bucket',
  properties: CreateBucketProperties,
  description: 'Creates a Cloud Storage bucket `name` with its location, storage class, labels, versioning, lifecycle rules, CORS, ACLs and IAM settings. When it exists, `ifExists` decides: ERROR fails, UPDATE applies the given settings, SKIP leaves it as it is.',
  outputs: Type.Object({
    bucket: Type.Record(Type.String(), Type.Unknown(), { description: 'name, uri, location, indexPage, notFoundPage.' }),
    created: Type.Boolean(),
    updated: Type.Boolean(),
  }),
  examples: [{ title: 'Example', code: 'id: bucket\ntype: io.kestra.plugin.gcp.gcs.CreateBucket\nprojectId: my-project\nname: my-project-raw\nifExists: SKIP' }],
  async run(ctx) {
    const { name } = ctx.props;
    const ifExists = ctx.props.ifExists ?? 'ERROR';
    const { storage } = await storageClient(ctx);
    const bucket = storage.bucket(name);
    const settings = bucketSettings(ctx.props);

    const existing = await currentMetadata(bucket, name);
    if (!existing) {
      try {
        ctx.logger.debug(`Creating bucket '${name}'`);
        const [created] = await storage.createBucket(name, settings);
        return { outputs: outputsOf(created.metadata as BucketMetadata, { created: true, updated: false }) };
      } catch (error) {
        // Bucket names are global: a 409 here means another project owns it, or it appeared meanwhile.
        if ((error as { code?: number }).code !== 409 || ifExists === 'ERROR') throw apiFailure(`Creating bucket '${name}' failed`, error);
        const appeared = await currentMetadata(bucket, name);
        if (!appeared) throw apiFailure(`Creating bucket '${name}' failed`, error);
        return existingBucket(ctx, bucket, name, appeared, ifExists, settings);
      }
    }
    return existingBucket(ctx, bucket, name, existing, ifExists, settings);
  },
});

type BucketMetadata = { name?: string; location?: string; website?: { mainPageSuffix?: string; notFoundPage?: string } };
type BucketHandle = ReturnType<Awaited<ReturnType<typeof storageClient>>['storage']['bucket']>;

async function existingBucket(
  ctx: TaskContext<CreateBucketProps>, bucket: BucketHandle, name: string, existing: BucketMetadata,
  ifExists: string, settings: Record<string, unknown>,
) {
  if (ifExists === 'ERROR') throw new TaskFailure(`Bucket ${name} already exists and ifExists policy is set to ERROR !`);
  if (ifExists === 'SKIP') {
    ctx.logger.debug(`Bucket '${name}' already exists, skipping`);
    return { outputs: outputsOf(existing, { created: false, updated: false }) };
  }
  ctx.logger.debug(`Updating bucket '${name}'`);
  // The location of a bucket is fixed at creation; the API refuses a PATCH that names it.
  const { location: _location, ...updatable } = settings;
  try {
    const [updated] = await bucket.setMetadata(updatable);
    return { outputs: outputsOf(updated as BucketMetadata, { created: false, updated: true }) };
  } catch (error) {
    throw apiFailure(`Updating bucket '${name}' failed`, error);
  }
}

/** The bucket's metadata, or undefined when it does not exist. */
async function currentMetadata(bucket: BucketHandle, name: string): Promise<BucketMetadata | undefined> {
  try {
    const [metadata] = await bucket.getMetadata();
    return metadata as BucketMetadata;
  } catch (error) {
    if ((error as { code?: number }).code === 404) return undefined;
    const hint = (error as { code?: number }).code === 403 ? '; bucket names are global, this one may belong to another project' : '';
    const failure = apiFailure(`Reading bucket '${name}' failed`, error);
    throw hint ? new TaskFailure(failure.message + hint, { cause: error }) : failure;
  }
}

function outputsOf(metadata: BucketMetadata, flags: { created: boolean; updated: boolean }): Record<string, unknown> {
  return {
    bucket: {
      name: metadata.name,
      uri: `gs://${metadata.name}`,
      location: metadata.location,
      indexPage: metadata.website?.mainPageSuffix,
      notFoundPage: metadata.website?.notFoundPage,
    },
    ...flags,
  };
}

/** Kestra's bucket settings as a JSON API bucket resource. */
function bucketSettings(props: CreateBucketProps): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (props.location) out.location = props.location;
  if (props.storageClass) out.storageClass = props.storageClass;
  if (props.labels) out.labels = props.labels;
  if (props.requesterPays !== undefined) out.billing = { requesterPays: props.requesterPays };
  if (props.versioningEnabled !== undefined) out.versioning = { enabled: props.versioningEnabled };
  if (props.indexPage || props.notFoundPage) out.website = { mainPageSuffix: props.indexPage, notFoundPage: props.notFoundPage };
  if (props.lifecycleRules) {
    out.lifecycle = {
      rule: props.lifecycleRules.map((rule) => ({
        condition: { age: Number(rule.condition.age) },
        action: rule.action.type === 'DELETE' ? { type: 'Delete' } : { type: 'SetStorageClass', storageClass: rule.action.value },
      })),
    };
  }
  if (props.cors) {
    out.cors = props.cors.map((c) => ({ maxAgeSeconds: c.maxAgeSeconds, method: c.methods, origin: c.origins, responseHeader: c.responseHeaders }));
  }
  if (props.acl) out.acl = props.acl.map(aclEntry);
  if (props.defaultAcl) out.defaultObjectAcl = props.defaultAcl.map(aclEntry);
  if (props.defaultKmsKeyName) out.encryption = { defaultKmsKeyName: props.defaultKmsKeyName };
  if (props.defaultEventBasedHold !== undefined) out.defaultEventBasedHold = props.defaultEventBasedHold;
  if (props.retentionPeriod !== undefined) out.retentionPolicy = { retentionPeriod: String(props.retentionPeriod) };
  if (props.iamConfiguration) {
    const iam: Record<string, unknown> = {};
    if (props.iamConfiguration.uniformBucketLevelAccessEnabled !== undefined) {
      iam.uniformBucketLevelAccess = { enabled: props.iamConfiguration.uniformBucketLevelAccessEnabled };
    }
    if (props.iamConfiguration.publicAccessPrevention) iam.publicAccessPrevention = props.iamConfiguration.publicAccessPrevention.toLowerCase();
    out.iamConfiguration = iam;
  }
  if (props.logging) out.logging = props.logging;
  return out;
}

function aclEntry(control: AccessControl): Record<string, string> {
  return { entity: `${control.entity.type.toLowerCase()}-${control.entity.value}`, role: control.role };
}
