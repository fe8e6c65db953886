// The bucket road: the model directory goes straight to S3 with the job's AWS credentials,
// as MLflow's own client writes to s3:// locations. The AWS SDK is loaded only here, on first
// use, as its own chunk: a registration through the proxy never loads it. Retries are ours
// (the SDK's are off), so a body is reopened and re-hashed on every attempt and waits use
// the injected clock.
import type * as S3 from '@aws-sdk/client-s3';
import { Transform, type Readable } from 'node:stream';
import type { Clock } from '../clock.ts';
import { ActionError, redact } from '../errors.ts';
import { USER_AGENT } from '../http.ts';
import type { ModelFile } from '../model-dir.ts';
import { backoffMs, type RetryPolicy } from '../retry.ts';
import { isLoopback } from '../urls.ts';
import { opener } from './checked-read.ts';
import { keyJoin, runDestination, s3Uri, type Road, type S3Location } from './road.ts';
import { s3Failure } from './s3-diagnosis.ts';
import { compareUpload, planParts, pool, uploadInOrder, type ArtifactStore, type UploadOptions } from './store.ts';

type BucketRoad = Extract<Road, { kind: 's3' }>;

export interface S3StoreOptions {
  env: NodeJS.ProcessEnv;
  clock: Clock;
  random: () => number;
  retry: RetryPolicy;
  /** Per request: a total deadline for requests without a body, an idle limit for uploads. */
  timeoutMs: number;
  allowInsecureHttp: boolean;
  artifactPath: string;
  /** Never sent, and removed from whatever S3 says before it is shown. */
  secrets: readonly string[];
  signal?: AbortSignal;
  onRetry?: (line: string) => void;
  debug?: (line: string) => void;
}

const PREFLIGHT = 'Check artifact bucket';
const UPLOAD = 'Upload model';
const VERIFY = 'Verify upload';
/** S3 answers a listing with at most 1,000 keys a page; a model larger than this is not one. */
const MAX_LISTED = 100_000;
const MAX_PAGES = 1_000;
/** The largest answer read from S3: a page of 1,000 keys is about 300 KiB. */
const RESPONSE_LIMIT_BYTES = 8 * 1024 * 1024;
/** Aborting a multipart upload must finish before the runner's SIGKILL after a cancel. */
const ABORT_TIMEOUT_MS = 1500;

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
      await uploadFiles(c, destination(run), files, opts);
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
  };
}

// ---------------------------------------------------------------------------------------------
// The connection: the SDK, loaded once, with our limits.

interface Connection {
  /** A custom endpoint (S3-compatible stores), or undefined for AWS. */
  endpoint: string | undefined;
  send<T>(
    step: string,
    op: string,
    at: S3Location,
    action: string,
    call: (api: S3Api, options: SendOptions, body: Readable | undefined) => Promise<T>,
    open?: () => Readable,
  ): Promise<T>;
  /** Gives an open multipart upload back, quickly and whatever happens: never throws. */
  abort(at: S3Location, uploadId: string): Promise<void>;
}

interface SendOptions {
  abortSignal?: AbortSignal;
}

/** The S3 operations the road uses, typed. */
interface S3Api {
  list(input: S3.ListObjectsV2CommandInput, o: SendOptions): Promise<S3.ListObjectsV2CommandOutput>;
  put(input: S3.PutObjectCommandInput, o: SendOptions): Promise<S3.PutObjectCommandOutput>;
  create(input: S3.CreateMultipartUploadCommandInput, o: SendOptions): Promise<S3.CreateMultipartUploadCommandOutput>;
  part(input: S3.UploadPartCommandInput, o: SendOptions): Promise<S3.UploadPartCommandOutput>;
  complete(input: S3.CompleteMultipartUploadCommandInput, o: SendOptions): Promise<S3.CompleteMultipartUploadCommandOutput>;
  abort(input: S3.AbortMultipartUploadCommandInput, o: SendOptions): Promise<S3.AbortMultipartUploadCommandOutput>;
}

/** The endpoint S3-compatible stores are reached at: the AWS variables first, then MLflow's own. */
export function s3Endpoint(env: NodeJS.ProcessEnv, allowInsecureHttp: boolean): string | undefined {
  const [name, value] =
    (['AWS_ENDPOINT_URL_S3', 'AWS_ENDPOINT_URL', 'MLFLOW_S3_ENDPOINT_URL'] as const)
      .map((n) => [n, env[n]?.trim()] as const)
      .find(([, v]) => v) ?? [];
  if (!name || !value) return undefined;
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    throw endpointError(
      name,
      `"${value}" is not a URL`,
      'Give the endpoint as a full URL, e.g. https://s3.example.com, or unset it to use AWS.',
    );
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:')
    throw endpointError(name, `uses ${u.protocol.replace(':', '')}, not http or https`, 'Give the endpoint as an https:// URL.');
  if (u.username || u.password || u.search || u.hash)
    throw endpointError(
      name,
      'has credentials, a query or a fragment',
      'Give only scheme, host, port and path; AWS credentials go in AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.',
    );
  if (u.protocol === 'http:' && !isLoopback(u) && !allowInsecureHttp)
    throw endpointError(
      name,
      `is http:// on ${u.hostname}, so the AWS signatures and the model would travel in clear text`,
      'Use https://, or set allow-insecure-http: true if the network between the runner and the store is trusted.',
    );
  return `${u.origin}${u.pathname.replace(/\/+$/, '')}`;
}

function endpointError(name: string, what: string, hint: string): ActionError {
  return new ActionError(`${name} ${what}`, { step: PREFLIGHT, hint });
}

function lazyConnection(o: S3StoreOptions, bucket: string): () => Promise<Connection> {
  let opened: Promise<Connection> | undefined;
  return () => (opened ??= connect(o, bucket));
}

async function connect(o: S3StoreOptions, bucket: string): Promise<Connection> {
  const endpoint = s3Endpoint(o.env, o.allowInsecureHttp);
  const [sdk, { NodeHttpHandler }] = await Promise.all([import('@aws-sdk/client-s3'), import('@smithy/node-http-handler')]);
  // Every answer is read through a cap: a listing page is far below it.
  class CappedHandler extends NodeHttpHandler {
    override async handle(...args: Parameters<InstanceType<typeof NodeHttpHandler>['handle']>) {
      const out = await super.handle(...args);
      const body = out.response.body as Readable | undefined;
      if (body && typeof body.pipe === 'function') out.response.body = capped(body, RESPONSE_LIMIT_BYTES);
      return out;
    }
  }
  const makeClient = (region: string) =>
    new sdk.S3Client({
      region,
      ...(endpoint ? { endpoint, forcePathStyle: true } : {}),
      // The endpoint comes from the environment only, where it is checked (https, or http on loopback):
      // an endpoint_url in ~/.aws/config would bypass that check.
      ignoreConfiguredEndpointUrls: true,
      // Retries are ours: bodies are reopened and re-hashed, waits use the clock that was passed in.
      maxAttempts: 1,
      // Plain Content-Length bodies, which S3-compatible stores all take; the bytes are checked against the manifest as they are sent.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      customUserAgent: USER_AGENT,
      // The SDK would print straight to the console; its words go to the debug log.
      logger: {
        trace: () => {},
        debug: () => {},
        info: () => {},
        warn: (m: unknown) => o.debug?.(redact(String(m), o.secrets)),
        error: () => {},
      },
      requestHandler: new CappedHandler({ connectionTimeout: 10_000, socketTimeout: o.timeoutMs }),
    });
  const retrying = withRetries(o, endpoint);
  // The region comes from the environment, or once from the bucket itself (HeadBucket answers
  // with it, even on a redirect or a denial). The SDK's own redirect-following is not used: it
  // would send an upload's body stream a second time, already read.
  const locate = async (): Promise<string> => {
    const locator = makeClient('us-east-1');
    const found = await retrying(PREFLIGHT, 'HeadBucket', { bucket, key: '' }, 's3:ListBucket', 'us-east-1', async (opt) => {
      try {
        return (await locator.send(new sdk.HeadBucketCommand({ Bucket: bucket }), opt)).BucketRegion ?? 'us-east-1';
      } catch (e) {
        const said = (e as { $response?: { headers?: Record<string, string | undefined> } }).$response?.headers?.['x-amz-bucket-region'];
        if (said && /^[a-z0-9-]{1,40}$/.test(said)) return said;
        throw e;
      }
    });
    o.debug?.(`the bucket ${bucket} is in ${found}`);
    return found;
  };
  const region = o.env.AWS_REGION?.trim() || o.env.AWS_DEFAULT_REGION?.trim() || (await locate());
  const client = makeClient(region);
  const api: S3Api = {
    list: (i, opt) => client.send(new sdk.ListObjectsV2Command(i), opt),
    put: (i, opt) => client.send(new sdk.PutObjectCommand(i), opt),
    create: (i, opt) => client.send(new sdk.CreateMultipartUploadCommand(i), opt),
    part: (i, opt) => client.send(new sdk.UploadPartCommand(i), opt),
    complete: (i, opt) => client.send(new sdk.CompleteMultipartUploadCommand(i), opt),
    abort: (i, opt) => client.send(new sdk.AbortMultipartUploadCommand(i), opt),
  };
  o.debug?.(`S3 client: region ${region}${endpoint ? `, endpoint ${endpoint} (path-style)` : ''}`);

  return {
    endpoint,
    send: (step, op, at, action, call, open) => retrying(step, op, at, action, region, (opt, body) => call(api, opt, body), open),
    async abort(at, uploadId) {
      // Not bound to the job's signal: a cancel is often why the upload is given back.
      await api.abort({ Bucket: at.bucket, Key: at.key, UploadId: uploadId }, { abortSignal: AbortSignal.timeout(ABORT_TIMEOUT_MS) }).then(
        () => o.debug?.(`aborted the multipart upload of ${s3Uri(at)}`),
        (e: unknown) => o.debug?.(`could not abort the multipart upload of ${s3Uri(at)}: ${redact(String(e), o.secrets)}`),
      );
    },
  };
}

/** One S3 request, retried on throttling, 5xx and lost connections; a failure becomes its diagnosis. */
function withRetries(o: S3StoreOptions, endpoint: string | undefined) {
  return async <T>(
    step: string,
    op: string,
    at: S3Location,
    action: string,
    region: string,
    call: (options: SendOptions, body: Readable | undefined) => Promise<T>,
    open?: () => Readable,
  ): Promise<T> => {
    const started = o.clock.now();
    for (let attempt = 1; ; attempt++) {
      // Requests without a body get a total deadline; an upload only an idle limit (socketTimeout).
      const deadline = open ? undefined : AbortSignal.timeout(o.timeoutMs);
      // The SDK pipes a body without listening for its errors: a file that fails its check (or
      // cannot be read) would be an uncaught exception and a stalled request. It ends the attempt.
      const bodyFailed = new AbortController();
      let bodyError: unknown;
      const body = open?.().once('error', (e) => {
        bodyError ??= e;
        bodyFailed.abort(e);
      });
      const signals = [o.signal, deadline, body ? bodyFailed.signal : undefined].filter((s) => s !== undefined);
      try {
        return await call({ abortSignal: signals.length ? AbortSignal.any(signals) : undefined }, body);
      } catch (thrown) {
        body?.destroy();
        if (bodyError && !o.signal?.aborted) throw readError(bodyError, step, op, at, o.secrets);
        const err = s3Failure(thrown, {
          step,
          op,
          at,
          action,
          endpoint,
          region,
          secrets: o.secrets,
          cancelled: o.signal?.aborted ?? false,
          timedOut: deadline?.aborted ?? false,
          nowMs: o.clock.now(),
        });
        if (!err.retry || o.signal?.aborted) throw err;
        const wait = backoffMs(attempt, o.retry, o.random, err.retry.afterMs);
        if (attempt > o.retry.maxRetries || o.clock.now() - started + wait > o.retry.budgetMs)
          throw attempt === 1 ? err : new ActionError(`${err.message} (gave up after ${attempt} attempts)`, err.details());
        o.onRetry?.(`${op} ${s3Uri(at)}: ${err.retry.reason}; retry ${attempt} of ${o.retry.maxRetries} in ${(wait / 1000).toFixed(1)} s`);
        try {
          await o.clock.sleep(wait, o.signal);
        } catch {
          throw new ActionError('cancelled', { step, method: op, path: s3Uri(at), hint: 'The job was cancelled.', code: 'CANCELLED' });
        }
      }
    }
  };
}

/** A body that failed: a changed file says so itself; anything else is a read of the model directory that failed. */
function readError(e: unknown, step: string, op: string, at: S3Location, secrets: readonly string[]): ActionError {
  if (e instanceof ActionError) return e;
  return new ActionError(`reading the file for ${op} ${s3Uri(at)} failed: ${redact(e instanceof Error ? e.message : String(e), secrets)}`, {
    step,
    method: op,
    path: s3Uri(at),
    hint: 'Something moved or removed files in the model directory while the action ran. Let it finish before this step starts, then re-run. Nothing was registered.',
  });
}

/** A stream that fails once more than `limit` bytes came through it. */
function capped(body: Readable, limit: number): Readable {
  let seen = 0;
  const out = new Transform({
    transform(chunk: Buffer, _enc, done) {
      seen += chunk.length;
      if (seen > limit) return done(new Error(`the answer is larger than ${limit} bytes`));
      done(null, chunk);
    },
  });
  body.on('error', (e) => out.destroy(e));
  return body.pipe(out);
}

// ---------------------------------------------------------------------------------------------
// Uploads: small files in parallel, large ones in parts, each part retried on its own.

async function uploadFiles(c: Connection, to: S3Location, files: readonly ModelFile[], opts: UploadOptions): Promise<void> {
  await uploadInOrder(files, opts, {
    large: async (f) => {
      await uploadMultipart(c, to, f, opts);
      return 'multipart';
    },
    small: (f) => putObject(c, to, f, opts),
  });
}

async function putObject(c: Connection, to: S3Location, f: ModelFile, opts: UploadOptions): Promise<void> {
  const at = { bucket: to.bucket, key: keyJoin(to.key, f.relPath) };
  const expected = { sha256: opts.digests.get(f.relPath)?.sha256, relPath: f.relPath, method: 'PutObject', path: s3Uri(at), step: UPLOAD };
  await c.send(
    UPLOAD,
    'PutObject',
    at,
    's3:PutObject',
    (s3, opt, body) => s3.put({ Bucket: at.bucket, Key: at.key, Body: body, ContentLength: f.size }, opt),
    opener(f.absPath, undefined, opts.onBytes, expected),
  );
}

async function uploadMultipart(c: Connection, to: S3Location, f: ModelFile, opts: UploadOptions): Promise<void> {
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
  const partDigests = opts.digests.get(f.relPath)?.partSha256;
  const etags: Array<{ PartNumber: number; ETag: string }> = [];
  try {
    await pool(parts, opts.concurrency, async (part) => {
      const expected = {
        sha256: partDigests?.[part.partNumber - 1],
        relPath: f.relPath,
        part: `part ${part.partNumber} of ${parts.length}`,
        method: 'UploadPart',
        path: s3Uri(at),
        step: UPLOAD,
      };
      const open = opener(f.absPath, part, opts.onBytes, expected);
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
        open,
      );
      if (!sent.ETag)
        throw new ActionError(`S3 took part ${part.partNumber} of ${s3Uri(at)} without an ETag`, {
          step: UPLOAD,
          method: 'UploadPart',
          path: s3Uri(at),
          hint: 'The S3 endpoint does not behave like S3: check AWS_ENDPOINT_URL_S3.',
        });
      etags.push({ PartNumber: part.partNumber, ETag: sent.ETag });
    });
    etags.sort((a, b) => a.PartNumber - b.PartNumber);
    await c.send(UPLOAD, 'CompleteMultipartUpload', at, 's3:PutObject', (s3, opt) =>
      s3.complete({ Bucket: at.bucket, Key: at.key, UploadId: uploadId, MultipartUpload: { Parts: etags } }, opt),
    );
  } catch (err) {
    // Leave no parts behind in the bucket (they are billed); the first error is the one to report.
    await c.abort(at, uploadId);
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------
// The listing that proves every file arrived.

async function listAll(c: Connection, to: S3Location, artifactPath: string): Promise<Array<{ path: string; file_size: number }>> {
  const prefix = `${to.key}/`;
  const listed: Array<{ path: string; file_size: number }> = [];
  let token: string | undefined;
  // Pages are counted too: an endpoint that says "truncated" with empty pages must not loop forever.
  for (let pages = 1; ; pages++) {
    const page = await c.send(VERIFY, 'ListObjectsV2', to, 's3:ListBucket', (s3, opt) =>
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
          step: VERIFY,
          method: 'ListObjectsV2',
          path: s3Uri(to),
          hint: "Something else writes below this run's path, or the S3 endpoint does not page as S3 does. Nothing was registered.",
        },
      );
  }
}
