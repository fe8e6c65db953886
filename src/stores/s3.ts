// The bucket road: the model directory goes straight to S3 with the job's AWS credentials,
// as MLflow's own client writes to s3:// locations: the check before a run exists, the uploads
// (small files in parallel, large ones in parts) and the listing that proves every file
// arrived. The connection (the lazily loaded SDK, endpoint, region, retries) is s3-connection.ts.
import type { ModelFile } from '../model-dir.ts';
import { ActionError } from '../errors.ts';
import type { ManifestEntry } from '../manifest.ts';
import { opener, partedFile, sentHash } from './checked-read.ts';
import { keyJoin, parseS3Uri, runDestination, s3Uri, type Road, type S3Location } from './road.ts';
import { lazyConnection, PREFLIGHT, type Connection, type ConnectionOptions } from './s3-connection.ts';
import {
  compareUpload,
  planParts,
  pool,
  uploadInOrder,
  uploadWidth,
  type ArtifactStore,
  type DirEntry,
  type UploadOptions,
  type WidthControl,
} from './store.ts';

type BucketRoad = Extract<Road, { kind: 's3' }>;

export interface S3StoreOptions extends ConnectionOptions {
  artifactPath: string;
}

const UPLOAD = 'Upload model';
const VERIFY = 'Verify upload';
/** S3 answers a listing with at most 1,000 keys a page; a model larger than this is not one. */
const MAX_LISTED = 100_000;
const MAX_PAGES = 1_000;

export function s3Store(road: BucketRoad, o: S3StoreOptions): ArtifactStore {
  const conn = lazyConnection(o, road.base.bucket);
  const destination = (run: { experiment_id: string; run_id: string; artifact_uri: string }): S3Location => {
    const to = runDestination(road, run, o.artifactPath);
    if (typeof to === 'string') throw new ActionError(to, { step: UPLOAD, hint: 'Report this with the server version.' });
    return to;
  };
  return {
    name: `bucket ${road.explicit ? s3Uri(road.base) : `s3://${road.base.bucket}`}`,
    async probe() {
      // Read-only, before a run exists: credentials, bucket, region and the right to list the prefix.
      const c = await conn();
      const prefix = road.base.key ? `${road.base.key}/` : '';
      await c.send(PREFLIGHT, 'ListObjectsV2', road.base, 's3:ListBucket', (s3, opt) =>
        s3.list({ Bucket: road.base.bucket, Prefix: prefix, MaxKeys: 1 }, opt),
      );
      return `Files go straight to ${s3Uri(road.base)} (${road.why}); the bucket is reachable with the job's AWS credentials${c.endpoint ? ` at ${c.endpoint}` : ''}`;
    },
    async upload(run, files, opts) {
      const c = await conn();
      return uploadFiles(c, destination(run), files, opts);
    },
    async verify(run, files) {
      const c = await conn();
      const to = destination(run);
      const listed = await listAll(c, to, o.artifactPath);
      const problems = compareUpload(files, o.artifactPath, listed);
      if (problems.length > 0) {
        const shown = problems.slice(0, 20).map((p) => `  - ${p}`);
        if (problems.length > 20) shown.push(`  - … and ${(problems.length - 20).toLocaleString('en-US')} more`);
        throw new ActionError(
          `${problems.length.toLocaleString('en-US')} uploaded file${problems.length === 1 ? ' does' : 's do'} not match in ${s3Uri(to)}:\n${shown.join('\n')}`,
          {
            step: VERIFY,
            method: 'ListObjectsV2',
            path: s3Uri(to),
            hint: 'The bucket accepted the upload but does not hold every byte. Nothing was registered; re-run the job, and check the S3 endpoint if it repeats.',
          },
        );
      }
    },
    source: (run) => s3Uri(destination(run)),
    async saveManifest(run, text) {
      const c = await conn();
      const to = destination(run);
      const at = { bucket: to.bucket, key: `${to.key}.manifest.json` };
      const body = Buffer.from(text, 'utf8');
      await c.send(UPLOAD, 'PutObject', at, 's3:PutObject', (s3, opt) =>
        s3.put({ Bucket: at.bucket, Key: at.key, Body: body, ContentLength: body.length, ContentType: 'application/json' }, opt),
      );
    },
    async readText(uri, step) {
      const at = located(uri, step);
      const c = await conn();
      return c.send(step, 'GetObject', at, 's3:GetObject', async (s3, opt) => {
        try {
          const out = await s3.get({ Bucket: at.bucket, Key: at.key }, opt);
          return await readCappedBody(out.Body, out.ContentLength, at, step);
        } catch (e) {
          if ((e as { name?: string }).name === 'NoSuchKey') return undefined;
          throw e;
        }
      });
    },
    async list(uri, step) {
      const at = located(uri, step);
      const c = await conn();
      const files = await listAll(c, at, '', step);
      // "folder/" marker objects some tools write are not files.
      return files.filter((f) => !f.path.endsWith('/')).map((f) => ({ path: f.path.replace(/^\//, ''), size: f.file_size }));
    },
    async listDir(uri, step) {
      const at = located(uri, step);
      const c = await conn();
      const prefix = at.key ? `${at.key}/` : '';
      const out: DirEntry[] = [];
      let token: string | undefined;
      // Bounded like every listing: a model's top folder holds a handful of entries.
      for (let pages = 1; pages <= MAX_DIR_PAGES; pages++) {
        const page = await c.send(step, 'ListObjectsV2', at, 's3:ListBucket', (s3, opt) =>
          s3.list({ Bucket: at.bucket, Prefix: prefix, Delimiter: '/', ContinuationToken: token }, opt),
        );
        for (const o of page.Contents ?? [])
          if (o.Key?.startsWith(prefix) && o.Key.length > prefix.length)
            out.push({ name: o.Key.slice(prefix.length), size: Number(o.Size ?? 0), isDir: false });
        for (const d of page.CommonPrefixes ?? [])
          if (d.Prefix?.startsWith(prefix)) out.push({ name: d.Prefix.slice(prefix.length).replace(/\/$/, ''), size: 0, isDir: true });
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
        if (!token) break;
      }
      return out;
    },
  };
}

/** A version's s3:// source, as a location; anything else is a bug of the caller. */
function located(uri: string, step: string): S3Location {
  const at = parseS3Uri(uri.replace(/\/+$/, ''));
  if (typeof at === 'string') throw new ActionError(`the location ${uri} ${at}`, { step, hint: 'Report this with the server version.' });
  return at;
}

/** A folder listed one level deep: pages of 1,000 keys. */
const MAX_DIR_PAGES = 10;

/** Files the review reads are small: a larger answer is refused, not read. */
const READ_LIMIT_BYTES = 8 * 1024 * 1024;

async function readCappedBody(body: unknown, length: number | undefined, at: S3Location, step: string): Promise<string> {
  const tooLarge = () =>
    new ActionError(`${s3Uri(at)} is larger than ${READ_LIMIT_BYTES / 1024 / 1024} MiB, more than the file the review reads`, {
      step,
      method: 'GetObject',
      path: s3Uri(at),
      hint: 'The file is not one the action wrote; check what else writes below this location.',
    });
  if ((length ?? 0) > READ_LIMIT_BYTES) throw tooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of (body ?? []) as AsyncIterable<Uint8Array>) {
    size += chunk.length;
    if (size > READ_LIMIT_BYTES) {
      (body as { destroy?: () => void }).destroy?.();
      throw tooLarge();
    }
    chunks.push(Buffer.from(chunk));
  }
  return Buffer.concat(chunks).toString('utf8');
}

// ---------------------------------------------------------------------------------------------
// Uploads: small files in parallel, large ones in parts, each part retried on its own.

async function uploadFiles(c: Connection, to: S3Location, files: readonly ModelFile[], opts: UploadOptions): Promise<ManifestEntry[]> {
  const width = uploadWidth(opts);
  return uploadInOrder(
    files,
    opts,
    {
      large: async (f) => ({ how: 'multipart', entry: await uploadMultipart(c, to, f, opts, width) }),
      small: (f) => putObject(c, to, f, opts, width),
    },
    width,
  );
}

/** One PutObject, checked against the digests, or hashed as sent when the file has no entry (returned then). */
async function putObject(
  c: Connection,
  to: S3Location,
  f: ModelFile,
  opts: UploadOptions,
  width: WidthControl,
): Promise<ManifestEntry | undefined> {
  const at = { bucket: to.bucket, key: keyJoin(to.key, f.relPath) };
  const known = opts.digests.get(f.relPath)?.sha256;
  const where = { relPath: f.relPath, method: 'PutObject', path: s3Uri(at), step: UPLOAD };
  const body = opener(f.absPath, undefined, opts.onBytes, { ...where, sha256: known });
  await c.send(
    UPLOAD,
    'PutObject',
    at,
    's3:PutObject',
    (s3, opt, b) => s3.put({ Bucket: at.bucket, Key: at.key, Body: b, ContentLength: f.size }, opt),
    body.open,
    () => width.throttled(),
  );
  return known === undefined ? { path: f.relPath, size: f.size, sha256: sentHash(body, where) } : undefined;
}

async function uploadMultipart(
  c: Connection,
  to: S3Location,
  f: ModelFile,
  opts: UploadOptions,
  width: WidthControl,
): Promise<ManifestEntry | undefined> {
  const at = { bucket: to.bucket, key: keyJoin(to.key, f.relPath) };
  const parts = planParts(f.size);
  const created = await c.send(UPLOAD, 'CreateMultipartUpload', at, 's3:PutObject', (s3, opt) =>
    s3.create({ Bucket: at.bucket, Key: at.key }, opt),
  );
  const uploadId = created.UploadId;
  if (!uploadId)
    throw new ActionError(`S3 started a multipart upload of ${s3Uri(at)} without an upload id`, {
      step: UPLOAD,
      method: 'CreateMultipartUpload',
      path: s3Uri(at),
      hint: 'The S3 endpoint does not behave like S3: check AWS_ENDPOINT_URL_S3, or raise multipart-threshold above the largest file.',
    });
  // Parts checked against their hashes in the digests, or hashed as sent and matched with one sequential read.
  const hashed = partedFile(
    f,
    parts,
    opts.digests.get(f.relPath),
    opts.onBytes,
    { method: 'UploadPart', path: s3Uri(at), step: UPLOAD },
    'stream',
  );
  const partWidth = uploadWidth(opts, 'parts');
  const etags: Array<{ PartNumber: number; ETag: string }> = [];
  let entry: ManifestEntry;
  try {
    await pool(
      parts,
      partWidth,
      async (part) => {
        const sent = await c.send(
          UPLOAD,
          'UploadPart',
          at,
          's3:PutObject',
          (s3, opt, body) =>
            s3.part(
              {
                Bucket: at.bucket,
                Key: at.key,
                UploadId: uploadId,
                PartNumber: part.partNumber,
                Body: body,
                ContentLength: part.end - part.start + 1,
              },
              opt,
            ),
          hashed.open(part.partNumber),
          () => {
            partWidth.throttled();
            width.throttled();
          },
        );
        if (!sent.ETag)
          throw new ActionError(`S3 took part ${part.partNumber} of ${s3Uri(at)} without an ETag`, {
            step: UPLOAD,
            method: 'UploadPart',
            path: s3Uri(at),
            hint: 'The S3 endpoint does not behave like S3: check AWS_ENDPOINT_URL_S3.',
          });
        hashed.sent(part.partNumber);
        etags.push({ PartNumber: part.partNumber, ETag: sent.ETag });
      },
      (part) => part.end - part.start + 1,
    );
    entry = await hashed.finish();
    etags.sort((a, b) => a.PartNumber - b.PartNumber);
    await c.send(UPLOAD, 'CompleteMultipartUpload', at, 's3:PutObject', (s3, opt) =>
      s3.complete({ Bucket: at.bucket, Key: at.key, UploadId: uploadId, MultipartUpload: { Parts: etags } }, opt),
    );
  } catch (err) {
    hashed.abort();
    // Leave no parts behind in the bucket (they are billed); the first error is the one to report.
    await c.abort(at, uploadId);
    throw err;
  }
  return opts.digests.has(f.relPath) ? undefined : entry;
}

// ---------------------------------------------------------------------------------------------
// The listing that proves every file arrived.

async function listAll(
  c: Connection,
  to: S3Location,
  artifactPath: string,
  step = VERIFY,
): Promise<Array<{ path: string; file_size: number }>> {
  const prefix = `${to.key}/`;
  const listed: Array<{ path: string; file_size: number }> = [];
  let token: string | undefined;
  // Pages are counted too: an endpoint that says "truncated" with empty pages must not loop forever.
  for (let pages = 1; ; pages++) {
    const page = await c.send(step, 'ListObjectsV2', to, 's3:ListBucket', (s3, opt) =>
      s3.list({ Bucket: to.bucket, Prefix: prefix, ContinuationToken: token }, opt),
    );
    for (const o of page.Contents ?? [])
      if (o.Key?.startsWith(prefix)) listed.push({ path: `${artifactPath}/${o.Key.slice(prefix.length)}`, file_size: Number(o.Size ?? 0) });
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
    if (!token) return listed;
    if (listed.length > MAX_LISTED || pages >= MAX_PAGES)
      throw new ActionError(
        `${s3Uri(to)} lists more than ${MAX_LISTED.toLocaleString('en-US')} objects, or more than ${MAX_PAGES.toLocaleString('en-US')} pages`,
        {
          step,
          method: 'ListObjectsV2',
          path: s3Uri(to),
          hint: `Something else writes below this path, or the S3 endpoint does not page as S3 does.${step === VERIFY ? ' Nothing was registered.' : ''}`,
        },
      );
  }
}
