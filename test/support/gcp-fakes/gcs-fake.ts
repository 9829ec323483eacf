/**
 * FAKE of the Cloud Storage JSON API, only what Baton's GCS tasks use: buckets insert/get/patch,
 * objects get (metadata and `alt=media`), multipart uploads and resumable uploads (one or several
 * PUTs with Content-Range). State is in memory for the test to inspect.
 */
import { createHash, randomBytes } from 'node:crypto';
import { crc32cBase64, googleError, json, parseMultipartRelated, type FakeRequest, type FakeResponse } from './fake-api.ts';

export interface FakeBucket {
  name: string;
  location: string;
  storageClass: string;
  labels?: Record<string, string>;
  /** The bucket resource as the API answers it. */
  resource: Record<string, unknown>;
  /** Every PATCH body the bucket received. */
  patches: Record<string, unknown>[];
}

export interface FakeObject {
  bucket: string;
  name: string;
  data: Buffer;
  contentType?: string;
  metadata: Record<string, unknown>;
  /** How it arrived: `multipart` or `resumable` (with its number of PUT requests). */
  uploadType: 'multipart' | 'resumable';
  requests: number;
}

interface PendingUpload {
  bucket: string;
  metadata: Record<string, unknown>;
  chunks: Buffer[];
  received: number;
  requests: number;
}

export class GcsFake {
  readonly buckets = new Map<string, FakeBucket>();
  readonly objects = new Map<string, FakeObject>();
  private readonly uploads = new Map<string, PendingUpload>();
  private generation = 1_700_000_000_000_000;

  constructor(private readonly baseUrl: () => string) {}

  object(bucket: string, name: string): FakeObject | undefined {
    return this.objects.get(`${bucket}/${name}`);
  }

  /** Puts an object directly (for Download tests). */
  putObject(bucket: string, name: string, data: Buffer | string, contentType = 'application/octet-stream'): void {
    this.store(bucket, { name, contentType }, Buffer.from(data), 'multipart', 1);
  }

  /** Creates a bucket directly, as if it existed before the test. */
  putBucket(name: string, settings: { location?: string; storageClass?: string } = {}): void {
    this.insertBucket({ name, ...settings }, 'baton-fake-project');
  }

  handle(request: FakeRequest): FakeResponse {
    const { method, path } = request;
    let m: RegExpExecArray | null;
    if (method === 'POST' && path === '/storage/v1/b') return this.createBucket(request);
    if ((m = /^\/storage\/v1\/b\/([^/]+)$/.exec(path))) {
      const name = decodeURIComponent(m[1]);
      if (method === 'GET') return this.getBucket(name);
      if (method === 'PATCH') return this.patchBucket(name, JSON.parse(request.body.toString() || '{}'));
    }
    if ((m = /^\/(?:download\/)?storage\/v1\/b\/([^/]+)\/o\/(.+)$/.exec(path)) && method === 'GET') {
      return this.getObject(decodeURIComponent(m[1]), decodeURIComponent(m[2]), request.query.get('alt') === 'media' || path.startsWith('/download/'));
    }
    if ((m = /^\/upload\/storage\/v1\/b\/([^/]+)\/o$/.exec(path))) {
      const bucket = decodeURIComponent(m[1]);
      const uploadType = request.query.get('uploadType');
      if (method === 'POST' && uploadType === 'multipart') return this.multipartUpload(bucket, request);
      if (method === 'POST' && uploadType === 'resumable') return this.startResumable(bucket, request);
      if (method === 'PUT' && request.query.get('upload_id')) return this.resumableChunk(request);
    }
    return googleError(404, 'notFound', `The GCS fake does not implement ${method} ${path}`);
  }

  private createBucket(request: FakeRequest): FakeResponse {
    const body = JSON.parse(request.body.toString() || '{}') as Record<string, unknown>;
    const name = String(body.name ?? '');
    if (!/^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$/.test(name)) return googleError(400, 'invalid', 'Invalid bucket name: ' + `'${name}'`);
    const project = request.query.get('project');
    if (!project) return googleError(400, 'required', 'Required parameter: project');
    if (this.buckets.has(name)) {
      return googleError(409, 'conflict', 'Your previous request to create the named bucket succeeded and you already own it.');
    }
    return json(this.insertBucket(body, project).resource);
  }

  private insertBucket(body: Record<string, unknown>, project: string): FakeBucket {
    const name = String(body.name);
    const now = new Date().toISOString();
    const location = String(body.location ?? 'US').toUpperCase();
    const storageClass = String(body.storageClass ?? 'STANDARD');
    const resource: Record<string, unknown> = {
      kind: 'storage#bucket',
      selfLink: `${this.baseUrl()}/storage/v1/b/${name}`,
      id: name,
      name,
      projectNumber: '123456789012',
      metageneration: '1',
      location,
      locationType: location.includes('-') ? 'region' : 'multi-region',
      storageClass,
      etag: 'CAE=',
      timeCreated: now,
      updated: now,
      ...withoutKeys(body, ['name', 'location', 'storageClass']),
    };
    void project;
    const bucket: FakeBucket = { name, location, storageClass, labels: body.labels as Record<string, string> | undefined, resource, patches: [] };
    this.buckets.set(name, bucket);
    return bucket;
  }

  private getBucket(name: string): FakeResponse {
    const bucket = this.buckets.get(name);
    return bucket ? json(bucket.resource) : googleError(404, 'notFound', 'The specified bucket does not exist.');
  }

  private patchBucket(name: string, patch: Record<string, unknown>): FakeResponse {
    const bucket = this.buckets.get(name);
    if (!bucket) return googleError(404, 'notFound', 'The specified bucket does not exist.');
    if (patch.location !== undefined && String(patch.location).toUpperCase() !== bucket.location) {
      return googleError(400, 'invalid', 'Cannot change the location of an existing bucket.');
    }
    bucket.patches.push(patch);
    Object.assign(bucket.resource, withoutKeys(patch, ['location']), {
      metageneration: String(Number(bucket.resource.metageneration) + 1),
      updated: new Date().toISOString(),
    });
    if (typeof patch.storageClass === 'string') bucket.storageClass = patch.storageClass;
    if (patch.labels) bucket.labels = patch.labels as Record<string, string>;
    return json(bucket.resource);
  }

  private getObject(bucket: string, name: string, media: boolean): FakeResponse {
    if (!this.buckets.has(bucket)) return googleError(404, 'notFound', 'The specified bucket does not exist.');
    const object = this.object(bucket, name);
    if (!object) return googleError(404, 'notFound', `No such object: ${bucket}/${name}`);
    if (!media) return json(object.metadata);
    return {
      status: 200,
      headers: {
        'content-type': object.contentType ?? 'application/octet-stream',
        'content-length': String(object.data.length),
        'x-goog-hash': `crc32c=${object.metadata.crc32c},md5=${object.metadata.md5Hash}`,
        'x-goog-generation': String(object.metadata.generation),
        'x-goog-stored-content-encoding': 'identity',
        'x-goog-stored-content-length': String(object.data.length),
      },
      body: object.data,
    };
  }

  private multipartUpload(bucket: string, request: FakeRequest): FakeResponse {
    if (!this.buckets.has(bucket)) return googleError(404, 'notFound', 'The specified bucket does not exist.');
    const [meta, media] = parseMultipartRelated(request.headers['content-type'], request.body);
    if (!meta || !media) return googleError(400, 'invalid', 'Multipart upload needs a metadata part and a media part.');
    const metadata = JSON.parse(meta.body.toString() || '{}') as Record<string, unknown>;
    if (!metadata.name && request.query.get('name')) metadata.name = request.query.get('name');
    if (!metadata.contentType && media.headers['content-type']) metadata.contentType = media.headers['content-type'];
    return json(this.store(bucket, metadata, media.body, 'multipart', 1).metadata);
  }

  private startResumable(bucket: string, request: FakeRequest): FakeResponse {
    if (!this.buckets.has(bucket)) return googleError(404, 'notFound', 'The specified bucket does not exist.');
    const metadata = JSON.parse(request.body.toString() || '{}') as Record<string, unknown>;
    if (!metadata.name && request.query.get('name')) metadata.name = request.query.get('name');
    if (!metadata.contentType && request.headers['x-upload-content-type']) metadata.contentType = request.headers['x-upload-content-type'];
    const id = randomBytes(12).toString('hex');
    this.uploads.set(id, { bucket, metadata, chunks: [], received: 0, requests: 0 });
    const location = `${this.baseUrl()}/upload/storage/v1/b/${encodeURIComponent(bucket)}/o?uploadType=resumable&upload_id=${id}`;
    return { status: 200, headers: { location }, body: '' };
  }

  private resumableChunk(request: FakeRequest): FakeResponse {
    const id = request.query.get('upload_id')!;
    const upload = this.uploads.get(id);
    if (!upload) return googleError(404, 'notFound', 'No such upload session.');
    const range = String(request.headers['content-range'] ?? '');
    // `bytes */*` or `bytes */N`: a status check, no data.
    const status = /^bytes \*\/(\*|\d+)$/.exec(range);
    const chunk = /^bytes (\d+)-(\d+|\*)\/(\d+|\*)$/.exec(range);
    if (!status && !chunk) return googleError(400, 'invalid', `Bad Content-Range: '${range}'`);
    if (chunk) {
      if (Number(chunk[1]) !== upload.received) return googleError(400, 'invalid', `Chunk starts at ${chunk[1]}, expected ${upload.received}`);
      upload.chunks.push(request.body);
      upload.received += request.body.length;
      upload.requests++;
    }
    const total = (status ?? chunk)![status ? 1 : 3];
    // An unknown total with an open end (`bytes 0-*/*`) is the one-request upload: it ends with this body.
    const complete = total === '*' ? Boolean(chunk && chunk[2] === '*') : upload.received === Number(total);
    if (!complete) {
      return { status: 308, headers: upload.received ? { range: `bytes=0-${upload.received - 1}` } : {}, body: '' };
    }
    const data = Buffer.concat(upload.chunks);
    const expected = /crc32c=([^,]+)/.exec(String(request.headers['x-goog-hash'] ?? ''))?.[1];
    if (expected && expected !== crc32cBase64(data)) return googleError(400, 'invalid', 'Provided CRC32C "' + expected + '" doesn\'t match calculated CRC32C.');
    this.uploads.delete(id);
    return json(this.store(upload.bucket, upload.metadata, data, 'resumable', upload.requests).metadata);
  }

  private store(bucket: string, metadata: Record<string, unknown>, data: Buffer, uploadType: FakeObject['uploadType'], requests: number): FakeObject {
    const name = String(metadata.name);
    const now = new Date().toISOString();
    const generation = String(this.generation++);
    const resource: Record<string, unknown> = {
      kind: 'storage#object',
      id: `${bucket}/${name}/${generation}`,
      selfLink: `${this.baseUrl()}/storage/v1/b/${bucket}/o/${encodeURIComponent(name)}`,
      mediaLink: `${this.baseUrl()}/download/storage/v1/b/${bucket}/o/${encodeURIComponent(name)}?generation=${generation}&alt=media`,
      name,
      bucket,
      generation,
      metageneration: '1',
      contentType: metadata.contentType ?? 'application/octet-stream',
      storageClass: this.buckets.get(bucket)?.storageClass ?? 'STANDARD',
      size: String(data.length),
      md5Hash: createHash('md5').update(data).digest('base64'),
      crc32c: crc32cBase64(data),
      etag: 'CAE=',
      timeCreated: now,
      updated: now,
      ...withoutKeys(metadata, ['name', 'contentType']),
    };
    const object: FakeObject = { bucket, name, data, contentType: resource.contentType as string, metadata: resource, uploadType, requests };
    this.objects.set(`${bucket}/${name}`, object);
    return object;
  }
}

function withoutKeys(value: Record<string, unknown>, keys: string[]): Record<string, unknown> {
  return Object.fromEntries(Object.entries(value).filter(([k]) => !keys.includes(k)));
}
