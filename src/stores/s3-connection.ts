// The connection to S3 for the bucket road: the AWS SDK, loaded only here, on first use, as
// its own chunk; the endpoint and region checked and found; every request retried by us (the
// SDK's retries are off), so a body is reopened and re-hashed on every attempt and waits use
// the injected clock; every answer read through a cap.
import type * as S3 from '@aws-sdk/client-s3';
import { Transform, type Readable } from 'node:stream';
import type { Clock } from '../clock.ts';
import { ActionError, redact } from '../errors.ts';
import { USER_AGENT } from '../http.ts';
import { backoffMs, type RetryPolicy } from '../retry.ts';
import { isLoopback } from '../urls.ts';
import { s3Uri, type S3Location } from './road.ts';
import { s3Failure } from './s3-diagnosis.ts';

export interface ConnectionOptions {
  env: NodeJS.ProcessEnv;
  clock: Clock;
  random: () => number;
  retry: RetryPolicy;
  /** Per request: a total deadline for requests without a body, an idle limit for uploads. */
  timeoutMs: number;
  allowInsecureHttp: boolean;
  /** Never sent, and removed from whatever S3 says before it is shown. */
  secrets: readonly string[];
  signal?: AbortSignal;
  onRetry?: (line: string) => void;
  debug?: (line: string) => void;
}

/** The step of the read-only checks before a run exists. */
export const PREFLIGHT = 'Check artifact bucket';
/** The largest answer read from S3: a page of 1,000 keys is about 300 KiB. */
const RESPONSE_LIMIT_BYTES = 8 * 1024 * 1024;
/** Aborting a multipart upload must finish before the runner's SIGKILL after a cancel. */
const ABORT_TIMEOUT_MS = 1500;

export interface Connection {
  /** A custom endpoint (S3-compatible stores), or undefined for AWS. */
  endpoint: string | undefined;
  send<T>(
    step: string,
    op: string,
    at: S3Location,
    action: string,
    call: (api: S3Api, options: SendOptions, body: Readable | undefined) => Promise<T>,
    open?: () => Readable,
    /** Told when S3 pushes back (503 SlowDown, 429), e.g. so an upload pool narrows. */
    onThrottled?: () => void,
  ): Promise<T>;
  /** Gives an open multipart upload back, quickly and whatever happens: never throws. */
  abort(at: S3Location, uploadId: string): Promise<void>;
}

export interface SendOptions {
  abortSignal?: AbortSignal;
}

/** The S3 operations the road uses, typed. */
export interface S3Api {
  list(input: S3.ListObjectsV2CommandInput, o: SendOptions): Promise<S3.ListObjectsV2CommandOutput>;
  put(input: S3.PutObjectCommandInput, o: SendOptions): Promise<S3.PutObjectCommandOutput>;
  get(input: S3.GetObjectCommandInput, o: SendOptions): Promise<S3.GetObjectCommandOutput>;
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

export function lazyConnection(o: ConnectionOptions, bucket: string): () => Promise<Connection> {
  let opened: Promise<Connection> | undefined;
  return () => (opened ??= connect(o, bucket));
}

async function connect(o: ConnectionOptions, bucket: string): Promise<Connection> {
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
    get: (i, opt) => client.send(new sdk.GetObjectCommand(i), opt),
    create: (i, opt) => client.send(new sdk.CreateMultipartUploadCommand(i), opt),
    part: (i, opt) => client.send(new sdk.UploadPartCommand(i), opt),
    complete: (i, opt) => client.send(new sdk.CompleteMultipartUploadCommand(i), opt),
    abort: (i, opt) => client.send(new sdk.AbortMultipartUploadCommand(i), opt),
  };
  o.debug?.(`S3 client: region ${region}${endpoint ? `, endpoint ${endpoint} (path-style)` : ''}`);

  return {
    endpoint,
    send: (step, op, at, action, call, open, onThrottled) =>
      retrying(step, op, at, action, region, (opt, body) => call(api, opt, body), open, onThrottled),
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
function withRetries(o: ConnectionOptions, endpoint: string | undefined) {
  return async <T>(
    step: string,
    op: string,
    at: S3Location,
    action: string,
    region: string,
    call: (options: SendOptions, body: Readable | undefined) => Promise<T>,
    open?: () => Readable,
    onThrottled?: () => void,
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
        if (err.status === 429 || err.status === 503 || /SlowDown|Throttl/.test(err.retry?.reason ?? '')) onThrottled?.();
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
