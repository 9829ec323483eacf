import { Enum, Type, type Static } from '../../contract/index.ts';
import { defineTask } from '../types.ts';
import { BIGQUERY_PROPERTIES } from './bigquery-jobs.ts';
import { apiFailure, bigQueryClient, GCP_PROPERTIES, type GcpProps } from './clients.ts';

const IF_EXISTS = ['ERROR', 'UPDATE', 'SKIP'] as const;

interface DatasetAccess {
  entity: { type: 'USER' | 'GROUP' | 'DOMAIN' | 'IAM_MEMBER'; value: string };
  role: string;
}

const CreateDatasetProperties = Type.Object({
  ...GCP_PROPERTIES,
  ...BIGQUERY_PROPERTIES,
  name: Type.String(),
  ifExists: Type.Optional(Enum(['ERROR', 'UPDATE', 'SKIP'])),
  description: Type.Optional(Type.String()),
  friendlyName: Type.Optional(Type.String()),
  labels: Type.Optional(Type.Record(Type.String(), Type.String())),
  defaultTableLifetime: Type.Optional(Type.Union([Type.Integer(), Type.String()])),
  defaultPartitionExpirationMs: Type.Optional(Type.Union([Type.Integer(), Type.String()])),
  defaultEncryptionConfiguration: Type.Optional(Type.Object({ kmsKeyName: Type.Optional(Type.String()) })),
  acl: Type.Optional(Type.Array(Type.Object({ entity: Type.Object({ type: Enum(['USER', 'GROUP', 'DOMAIN', 'IAM_MEMBER']), value: Type.String() }), role: Type.String() }))),
});
type CreateDatasetProps = Static<typeof CreateDatasetProperties>;

/**
 * io.kestra.plugin.gcp.bigquery.CreateDataset: creates the dataset; when it exists (409), follows
 * `ifExists`: ERROR fails, UPDATE applies the given settings, SKIP leaves it unchanged. Outputs
 * `dataset`, `project`, `friendlyName`, `description`, `location`.
 */
export const bigqueryCreateDataset = defineTask({
  type: 'io.kestra.plugin.gcp.bigquery.CreateDataset',
  kind: 'runnable',
  title: 'Create a BigQuery dataset',
  properties: CreateDatasetProperties,
  description: 'Creates a BigQuery dataset `name` with its location, labels, lifetimes and access list. When it exists, `ifExists` decides: ERROR fails, UPDATE applies the given settings, SKIP leaves it as it is.',
  outputs: Type.Object({
    dataset: Type.String(),
    project: Type.String(),
    friendlyName: Type.Optional(Type.String()),
    description: Type.Optional(Type.String()),
    location: Type.Optional(Type.String()),
  }),
  examples: [{ title: 'Example', code: 'id: dataset\ntype: io.kestra.plugin.gcp.bigquery.CreateDataset\nprojectId: my-project\nname: shop\nlocation: EU\nifExists: SKIP' }],
  async run(ctx) {
    const { name } = ctx.props;
    const ifExists = ctx.props.ifExists ?? 'ERROR';
    const { bigquery, projectId } = await bigQueryClient(ctx);
    const settings = datasetSettings(ctx.props);
    const dataset = bigquery.dataset(name, { projectId });
    ctx.logger.debug(`Creating dataset '${projectId}:${name}'`);
    let metadata: DatasetMetadata;
    try {
      const [created] = await bigquery.createDataset(name, settings as never);
      metadata = created.metadata as DatasetMetadata;
    } catch (error) {
      if ((error as { code?: number }).code !== 409 || ifExists === 'ERROR') throw apiFailure(`Creating dataset '${projectId}:${name}' failed`, error);
      try {
        if (ifExists === 'UPDATE') {
          // A dataset's location is fixed at creation; the API refuses a change of it.
          const { location: _location, ...updatable } = settings;
          [metadata] = (await dataset.setMetadata(updatable)) as unknown as [DatasetMetadata];
        } else {
          ctx.logger.debug(`Dataset '${projectId}:${name}' already exists, skipping`);
          [metadata] = (await dataset.getMetadata()) as unknown as [DatasetMetadata];
        }
      } catch (inner) {
        throw apiFailure(`${ifExists === 'UPDATE' ? 'Updating' : 'Reading'} dataset '${projectId}:${name}' failed`, inner);
      }
    }
    return {
      outputs: {
        dataset: metadata.datasetReference?.datasetId ?? name,
        project: metadata.datasetReference?.projectId ?? projectId,
        friendlyName: metadata.friendlyName ?? null,
        description: metadata.description ?? null,
        location: metadata.location ?? null,
      },
    };
  },
});

interface DatasetMetadata {
  datasetReference?: { datasetId?: string; projectId?: string };
  friendlyName?: string;
  description?: string;
  location?: string;
}

/** Kestra's dataset settings as a BigQuery dataset resource. */
function datasetSettings(props: CreateDatasetProps): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (props.location) out.location = props.location;
  if (props.description !== undefined) out.description = props.description;
  if (props.friendlyName !== undefined) out.friendlyName = props.friendlyName;
  if (props.labels) out.labels = props.labels;
  if (props.defaultTableLifetime !== undefined) out.defaultTableExpirationMs = String(props.defaultTableLifetime);
  if (props.defaultPartitionExpirationMs !== undefined) out.defaultPartitionExpirationMs = String(props.defaultPartitionExpirationMs);
  if (props.defaultEncryptionConfiguration) out.defaultEncryptionConfiguration = props.defaultEncryptionConfiguration;
  if (props.acl) {
    out.access = props.acl.map((a) => {
      const key = { USER: 'userByEmail', GROUP: 'groupByEmail', DOMAIN: 'domain', IAM_MEMBER: 'iamMember' }[a.entity.type];
      return { role: a.role, [key]: a.entity.value };
    });
  }
  return out;
}
