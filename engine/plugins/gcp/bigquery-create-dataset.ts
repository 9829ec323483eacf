import type { TaskPlugin } from '../types.ts';
import { BIGQUERY_PROPERTIES } from './bigquery-jobs.ts';
import { apiFailure, bigQueryClient, GCP_PROPERTIES, type GcpProps } from './clients.ts';

const IF_EXISTS = ['ERROR', 'UPDATE', 'SKIP'] as const;

interface DatasetAccess {
  entity: { type: 'USER' | 'GROUP' | 'DOMAIN' | 'IAM_MEMBER'; value: string };
  role: string;
}

interface CreateDatasetProps extends GcpProps {
  name: string;
  ifExists?: (typeof IF_EXISTS)[number];
  location?: string;
  description?: string;
  friendlyName?: string;
  labels?: Record<string, string>;
  defaultTableLifetime?: number | string;
  defaultPartitionExpirationMs?: number | string;
  defaultEncryptionConfiguration?: { kmsKeyName?: string };
  acl?: DatasetAccess[];
}

/**
 * io.kestra.plugin.gcp.bigquery.CreateDataset: creates the dataset; when it exists (409), follows
 * `ifExists`: ERROR fails, UPDATE applies the given settings, SKIP leaves it unchanged. Outputs
 * `dataset`, `project`, `friendlyName`, `description`, `location`.
 */
export const bigqueryCreateDataset: TaskPlugin<CreateDatasetProps> = {
  type: 'io.kestra.plugin.gcp.bigquery.CreateDataset',
  kind: 'runnable',
  title: 'Create a BigQuery dataset',
  properties: {
    ...GCP_PROPERTIES,
    ...BIGQUERY_PROPERTIES,
    name: { type: 'string' },
    ifExists: { enum: [...IF_EXISTS] },
    description: { type: 'string' },
    friendlyName: { type: 'string' },
    labels: { type: 'object', additionalProperties: { type: 'string' } },
    defaultTableLifetime: { type: ['integer', 'string'] },
    defaultPartitionExpirationMs: { type: ['integer', 'string'] },
    defaultEncryptionConfiguration: { type: 'object', properties: { kmsKeyName: { type: 'string' } } },
    acl: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          entity: { type: 'object', properties: { type: { enum: ['USER', 'GROUP', 'DOMAIN', 'IAM_MEMBER'] }, value: { type: 'string' } }, required: ['type', 'value'] },
          role: { type: 'string' },
        },
        required: ['entity', 'role'],
      },
    },
  },
  required: ['name'],
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
};

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
