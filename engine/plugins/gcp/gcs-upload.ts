import { Enum, Type, type Static } from '../../contract/index.ts';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { TaskFailure, defineTask } from '../types.ts';
import { apiFailure, GCP_PROPERTIES, gsUri, objectNameOf, parseGsUri, storageClient, type GcpProps } from './clients.ts';

/** Above this size the upload is resumable (a session with chunked PUTs) rather than one multipart request. */
export const RESUMABLE_THRESHOLD_BYTES = 8 * 1024 * 1024;

const UploadProperties = Type.Object({
  ...GCP_PROPERTIES,
  from: Type.String(),
  to: Type.String(),
  contentType: Type.Optional(Type.String()),
  contentEncoding: Type.Optional(Type.String()),
  contentDisposition: Type.Optional(Type.String()),
  cacheControl: Type.Optional(Type.String()),
});
type UploadProps = Static<typeof UploadProperties>;

/**
 * io.kestra.plugin.gcp.gcs.Upload: streams a kestra:// file to `to` (gs://bucket/path), never holding it
 * whole in memory. Output `uri`, the gs:// URI written.
 */
export const gcsUpload = defineTask({
  type: 'io.kestra.plugin.gcp.gcs.Upload',
  kind: 'runnable',
  title: 'Upload a file from internal storage to Google Cloud Storage',
  properties: UploadProperties,
  description: 'Streams a file of internal storage (`from`) to a Cloud Storage object (`to`, gs://bucket/path), never holding it whole in memory; files above 8 MiB go up in a resumable session. Content type, encoding, disposition and cache control may be set.',
  outputs: Type.Object({ uri: Type.String({ description: 'The gs:// URI written.' }) }),
  examples: [{ title: 'Example', code: 'id: upload\ntype: io.kestra.plugin.gcp.gcs.Upload\nfrom: "{{ outputs.download.uri }}"\nto: gs://my-bucket/raw/orders.csv' }],
  async run(ctx) {
    const { from } = ctx.props;
    const target = parseGsUri(ctx.props.to, 'to', ctx.props.bucket);
    const name = objectNameOf(target.name);
    let size: number;
    let source: NodeJS.ReadableStream;
    try {
      source = await ctx.storage.stream(from);
      size = await ctx.storage.backend.size(from);
    } catch (error) {
      throw new TaskFailure(`from: cannot read '${from}': ${(error as Error).message}`, { cause: error });
    }
    const { storage } = await storageClient(ctx);
    const metadata: Record<string, string> = {};
    if (ctx.props.contentType) metadata.contentType = ctx.props.contentType;
    if (ctx.props.contentEncoding) metadata.contentEncoding = ctx.props.contentEncoding;
    if (ctx.props.contentDisposition) metadata.contentDisposition = ctx.props.contentDisposition;
    if (ctx.props.cacheControl) metadata.cacheControl = ctx.props.cacheControl;
    const resumable = size > RESUMABLE_THRESHOLD_BYTES;
    const file = storage.bucket(target.bucket).file(name);
    let session: string | undefined;
    if (resumable) {
      // The session is opened first, authenticated: the client skips auth on a custom endpoint when it
      // opens one itself. Its PUTs need no token (the session URI is the credential).
      try {
        [session] = await file.createResumableUpload({ metadata: { ...metadata, contentLength: size } });
      } catch (error) {
        throw apiFailure(`Opening an upload session for ${gsUri(target.bucket, name)} failed`, error);
      }
    }
    const destination = file.createWriteStream({
      resumable,
      ...(session ? { uri: session } : {}),
      metadata: { ...metadata, ...(resumable ? { contentLength: size } : {}) },
      contentType: metadata.contentType,
    });
    let written = 0;
    const counter = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        written += chunk.length;
        done(null, chunk);
      },
    });
    ctx.logger.debug(`Upload from '${from}' to '${gsUri(target.bucket, name)}' (${size} bytes, ${resumable ? 'resumable' : 'multipart'})`);
    try {
      await pipeline(source, counter, destination, { signal: ctx.signal });
    } catch (error) {
      throw apiFailure(`Uploading to ${gsUri(target.bucket, name)} failed`, error);
    }
    ctx.logger.info(`Uploaded ${written} bytes to ${gsUri(target.bucket, name)}`);
    return { outputs: { uri: gsUri(target.bucket, name) } };
  },
});
