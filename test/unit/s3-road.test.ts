// The bucket road's pure parts: which road a location takes, where a run's files go, which
// endpoint is used, and what each S3 failure tells the user.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ActionError } from '../../src/errors.ts';
import { chooseRoad, parseS3Uri, runDestination, s3Uri, type Road } from '../../src/stores/road.ts';
import { s3Failure, type S3FailureContext } from '../../src/stores/s3-diagnosis.ts';
import { s3Endpoint } from '../../src/stores/s3-connection.ts';

test('parseS3Uri: bucket and prefix, and a problem in words for everything else', () => {
  assert.deepEqual(parseS3Uri('s3://models'), { bucket: 'models', key: '' });
  assert.deepEqual(parseS3Uri('s3://models/a//b/'), { bucket: 'models', key: 'a/b' });
  assert.match(parseS3Uri('gs://models/x') as string, /gs:\/\/ \(a Google Cloud Storage bucket\), which the action cannot write to yet/);
  assert.match(parseS3Uri('wasbs://c@acct.blob.core.windows.net/x') as string, /wasbs:\/\/ \(an Azure Blob Storage container\)/);
  assert.match(parseS3Uri('s3://Models/x') as string, /not a valid S3 bucket name/);
  assert.match(parseS3Uri('s3://192.168.1.1/x') as string, /not a valid S3 bucket name/);
  assert.match(parseS3Uri('s3://models/../other') as string, /"\." or "\.\." segment/);
  assert.match(parseS3Uri('s3://models/x?versionId=1') as string, /query string or fragment/);
  assert.match(parseS3Uri('models/x') as string, /not a bucket URI/);
});

test('chooseRoad: artifact-store wins; s3:// goes to the bucket; mlflow-artifacts: and unknown go through the proxy; others are named', () => {
  const store = { bucket: 'fallback', key: 'p' };
  assert.deepEqual(chooseRoad(store, 'mlflow-artifacts:/1'), {
    kind: 's3',
    base: store,
    explicit: true,
    why: 'artifact-store is set to s3://fallback/p',
  });
  const bucket = chooseRoad(undefined, 's3://models/root/3') as Road;
  assert.equal(bucket.kind, 's3');
  assert.deepEqual(bucket.kind === 's3' && bucket.base, { bucket: 'models', key: 'root/3' });
  assert.equal((chooseRoad(undefined, 'mlflow-artifacts:/3') as Road).kind, 'proxy');
  assert.equal((chooseRoad(undefined, undefined) as Road).kind, 'proxy');
  assert.match(
    (chooseRoad(undefined, 'gs://b/3') as { unsupported: string }).unsupported,
    /Google Cloud Storage bucket, which the action cannot write to yet \(gs\)/,
  );
  assert.match((chooseRoad(undefined, '/srv/mlruns/3') as { unsupported: string }).unsupported, /a path on the server/);
  assert.match((chooseRoad(undefined, 'file:///srv/mlruns/3') as { unsupported: string }).unsupported, /\(file\)/);
});

test("runDestination: below the run's own location, or one path per run below artifact-store's prefix", () => {
  const run = { experiment_id: '4', run_id: 'abc', artifact_uri: 's3://models/root/4/abc/artifacts' };
  const auto = chooseRoad(undefined, 's3://models/root/4') as Extract<Road, { kind: 's3' }>;
  assert.equal(s3Uri(runDestination(auto, run, 'model') as never), 's3://models/root/4/abc/artifacts/model');
  const explicit = chooseRoad({ bucket: 'fallback', key: 'reg' }, undefined) as Extract<Road, { kind: 's3' }>;
  assert.equal(
    s3Uri(runDestination(explicit, { ...run, artifact_uri: 'mlflow-artifacts:/4/abc/artifacts' }, 'm/v1') as never),
    's3://fallback/reg/4/abc/artifacts/m/v1',
  );
  assert.match(runDestination(auto, { ...run, artifact_uri: 'mlflow-artifacts:/4/abc/artifacts' }, 'model') as string, /is not a bucket/);
});

test('s3Endpoint: AWS_ENDPOINT_URL_S3, then AWS_ENDPOINT_URL, then MLFLOW_S3_ENDPOINT_URL; http:// only on this machine', () => {
  assert.equal(s3Endpoint({}, false), undefined);
  assert.equal(s3Endpoint({ MLFLOW_S3_ENDPOINT_URL: 'http://127.0.0.1:9000/' }, false), 'http://127.0.0.1:9000');
  assert.equal(
    s3Endpoint({ AWS_ENDPOINT_URL: 'https://b.example', MLFLOW_S3_ENDPOINT_URL: 'http://127.0.0.1:9000' }, false),
    'https://b.example',
  );
  assert.equal(s3Endpoint({ AWS_ENDPOINT_URL_S3: 'https://a.example', AWS_ENDPOINT_URL: 'https://b.example' }, false), 'https://a.example');
  assert.throws(
    () => s3Endpoint({ AWS_ENDPOINT_URL_S3: 'http://minio.internal:9000' }, false),
    /AWS_ENDPOINT_URL_S3 is http:\/\/ on minio\.internal/,
  );
  assert.equal(s3Endpoint({ AWS_ENDPOINT_URL_S3: 'http://minio.internal:9000' }, true), 'http://minio.internal:9000');
  assert.throws(() => s3Endpoint({ AWS_ENDPOINT_URL_S3: 'https://key:secret@s3.example' }, false), /credentials, a query or a fragment/);
  assert.throws(() => s3Endpoint({ AWS_ENDPOINT_URL_S3: 'not a url' }, false), /is not a URL/);
});

const ctx: S3FailureContext = {
  step: 'Check artifact bucket',
  op: 'ListObjectsV2',
  at: { bucket: 'models', key: 'reg' },
  action: 's3:ListBucket',
  endpoint: undefined,
  region: 'us-east-1',
  secrets: ['hk_live_secret_key_123456'],
  cancelled: false,
  timedOut: false,
  nowMs: 0,
};
/** An error shaped as the AWS SDK throws it for an S3 answer. */
const sdkError = (name: string, status: number, message = name, headers: Record<string, string> = {}) =>
  Object.assign(new Error(message), { name, $metadata: { httpStatusCode: status }, $response: { headers } });

test('s3Failure: each failure says what happened and what to do, and only the transient ones retry', () => {
  const creds = s3Failure(
    Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' }),
    ctx,
  );
  assert.match(creds.message, /no AWS credentials/);
  assert.match(creds.hint, /aws-actions\/configure-aws-credentials with role-to-assume/);
  assert.match(creds.hint, /id-token: write/);
  assert.equal(creds.retry, undefined);

  const denied = s3Failure(sdkError('AccessDenied', 403), ctx);
  assert.match(denied.message, /AccessDenied to s3:ListBucket \(ListObjectsV2\) on bucket "models", prefix "reg"/);
  assert.match(denied.hint, /arn:aws:s3:::models/);
  assert.equal(denied.status, 403);
  assert.equal(denied.path, 's3://models/reg');

  assert.match(s3Failure(sdkError('NoSuchBucket', 404), ctx).message, /bucket "models" does not exist \(NoSuchBucket\)/);
  const region = s3Failure(sdkError('PermanentRedirect', 301, 'moved', { 'x-amz-bucket-region': 'eu-west-1' }), ctx);
  assert.match(region.message, /another region than us-east-1 \(PermanentRedirect\): it is in eu-west-1/);
  assert.match(region.hint, /AWS_REGION/);
  assert.match(s3Failure(sdkError('AuthorizationHeaderMalformed', 400), ctx).hint, /AWS_REGION/);
  assert.match(s3Failure(sdkError('ExpiredToken', 400), ctx).message, /expired/);
  assert.match(s3Failure(sdkError('InvalidAccessKeyId', 403), ctx).message, /did not accept the AWS credentials/);

  const slow = s3Failure(sdkError('SlowDown', 503, 'Please reduce your request rate.', { 'retry-after': '2' }), ctx);
  assert.deepEqual(slow.retry, { reason: 'HTTP 503 SlowDown', afterMs: 2000 });
  assert.equal(s3Failure(sdkError('InternalError', 500), ctx).retry?.reason, 'HTTP 500');
  assert.equal(s3Failure(sdkError('NotImplemented', 501), ctx).retry, undefined);
  const reset = s3Failure(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }), ctx);
  assert.equal(reset.retry?.reason, 'ECONNRESET');
  assert.match(reset.message, /could not reach S3 for ListObjectsV2 s3:\/\/models\/reg \(ECONNRESET\)/);

  assert.equal(s3Failure(sdkError('InternalError', 500), { ...ctx, cancelled: true }).code, 'CANCELLED');
  const mine = new ActionError('changed', { step: 'Upload model', hint: 'h' });
  assert.equal(s3Failure(mine, ctx), mine, 'our own errors (a file that changed) pass through');
});

test('s3Failure: what S3 says passes the redactor before it is cut', () => {
  // The key straddles the cut at 300 characters: cutting first would leave its head in the message.
  const said =
    s3Failure(sdkError('AccessDenied', 403, `${'x'.repeat(290)}hk_live_secret_key_123456 ${'x'.repeat(400)}`), ctx).serverMessage ?? '';
  assert.doesNotMatch(said, /hk_l/);
  assert.ok(said.length <= 300);
});

test('s3Failure: an error code or region with anything but a name in it is left out', () => {
  const odd = s3Failure(sdkError('Access\n::error::Denied', 403), ctx);
  assert.equal(odd.code, undefined);
  assert.doesNotMatch(odd.message, /::error::/);
  const moved = s3Failure(
    Object.assign(sdkError('PermanentRedirect', 301), { $response: { headers: { 'x-amz-bucket-region': 'eu-west-2\n::warning::x' } } }),
    ctx,
  );
  assert.doesNotMatch(moved.message, /::warning::|it is in/);
  const fine = s3Failure(
    Object.assign(sdkError('PermanentRedirect', 301), { $response: { headers: { 'x-amz-bucket-region': 'eu-west-2' } } }),
    ctx,
  );
  assert.match(fine.message, /it is in eu-west-2/);
});
