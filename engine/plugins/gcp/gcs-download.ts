import { Enum, Type, type Static } from '../../contract/index.ts';
import { basename } from 'node:path';
import { TaskFailure, defineTask } from '../types.ts';
import { apiFailure, GCP_PROPERTIES, gsUri, objectNameOf, parseGsUri, storageClient, type GcpProps } from './clients.ts';

const DownloadProperties = Type.Object({
  ...GCP_PROPERTIES,
  from: Type.String(),
});
type DownloadProps = Static<typeof DownloadProperties>;

/**
 * io.kestra.plugin.gcp.gcs.Download: streams a gs:// object into internal storage (checksums verified by
 * the client). Outputs `bucket`, `path` and `uri` (kestra://).
 */
export const gcsDownload = defineTask({
  type: 'io.kestra.plugin.gcp.gcs.Download',
  kind: 'runnable',
  title: 'Download a Google Cloud Storage object into internal storage',
  properties: DownloadProperties,
  description: "Streams a Cloud Storage object (`from`, gs://bucket/path) into the execution's internal storage, checksums verified, and outputs its kestra:// URI.",
  outputs: Type.Object({ bucket: Type.String(), path: Type.String(), uri: Type.String({ description: 'kestra:// URI of the file.' }) }),
  examples: [{ title: 'Example', code: 'id: fetch\ntype: io.kestra.plugin.gcp.gcs.Download\nfrom: gs://my-bucket/raw/orders.csv' }],
  async run(ctx) {
    const source = parseGsUri(ctx.props.from, 'from', ctx.props.bucket);
    const name = objectNameOf(source.name);
    const { storage } = await storageClient(ctx);
    const file = storage.bucket(source.bucket).file(name);
    try {
      const [exists] = await file.exists();
      if (!exists) throw new TaskFailure(`Unable to find blob on bucket '${source.bucket}' with path '${name}'`);
    } catch (error) {
      throw apiFailure(`Reading ${gsUri(source.bucket, name)} failed`, error);
    }
    let uri: string;
    try {
      const stream = file.createReadStream();
      ctx.signal.addEventListener('abort', () => stream.destroy(ctx.signal.reason as Error), { once: true });
      uri = await ctx.storage.putFile(basename(name) || 'download', stream);
    } catch (error) {
      throw apiFailure(`Downloading ${gsUri(source.bucket, name)} failed`, error);
    }
    ctx.logger.debug(`Download from '${gsUri(source.bucket, name)}' to '${uri}'`);
    return { outputs: { bucket: source.bucket, path: name, uri } };
  },
});
