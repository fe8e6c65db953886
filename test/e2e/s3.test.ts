// The bucket road: model files go straight to S3 (moto's server on loopback) with the job's AWS
// credentials, when the run's artifact location is s3:// or artifact-store is set. Real MLflow
// servers run with --default-artifact-root s3://… (serving artifacts and not), and MLflow's own
// client reads every version back from the bucket and predicts. A logging front before moto
// records every S3 request, to prove the Hokusai key never reaches the bucket, and injects the
// failures moto never gives (AccessDenied, SlowDown, a part that fails).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, beforeEach, describe, test } from 'node:test';
import { assertNoSecret, checksOf, errorOf } from '../support/action-asserts.ts';
import { startFrontProxy, type FrontProxy } from '../support/front-proxy.ts';
import { startMlflowServer, type MlflowServer } from '../support/mlflow-server.ts';
import { startMoto, type MotoServer } from '../support/moto.ts';
import { DIST, SUPPORT_DIR } from '../support/paths.ts';
import { pythonJson } from '../support/python.ts';
import { registryState } from '../support/registry-state.ts';
import { runAction, type ActionRun } from '../support/run-action.ts';
import { startS3Front, type S3Front } from '../support/s3-front.ts';

const KEY = 'hk-live-s3road-5f4e3d2c1b0a99';
const AWS_SECRET = 'aws-secret-s3road-0123456789abcdef';
const BUCKET = 'models';
const FALLBACK = 'fallback';

let moto: MotoServer;
let s3front: S3Front;
let serving: MlflowServer; // --default-artifact-root s3://models/root, --serve-artifacts
let noServe: MlflowServer; // --default-artifact-root s3://models/noserve, --no-serve-artifacts
let plain: MlflowServer; // mlflow-artifacts: locations on local disk
let work: string;
let modelDir: string;
let bigModelDir: string;
let expectedPath: string;

/** The job's AWS credentials and the S3 endpoint: the logging front before moto. */
const awsEnv = (): Record<string, string> => ({
  AWS_ACCESS_KEY_ID: 'AKIATESTS3ROAD',
  AWS_SECRET_ACCESS_KEY: AWS_SECRET,
  AWS_REGION: 'us-east-1',
  AWS_ENDPOINT_URL_S3: s3front.url,
});

before(async () => {
  work = mkdtempSync(path.join(tmpdir(), 'e2e-s3-'));
  moto = await startMoto();
  s3front = await startS3Front({ upstream: moto.url, secrets: [KEY, AWS_SECRET] });
  const s3 = { endpointUrl: moto.url, bucket: BUCKET };
  let made: { model_dir: string; expected: string };
  [serving, noServe, plain, made] = await Promise.all([
    startMlflowServer({ s3, extraArgs: ['--default-artifact-root', `s3://${BUCKET}/root`] }),
    startMlflowServer({ s3, serveArtifacts: false, extraArgs: ['--default-artifact-root', `s3://${BUCKET}/noserve`] }),
    startMlflowServer(),
    pythonJson<{ model_dir: string; expected: string }>(path.join(SUPPORT_DIR, 'make_model.py'), [path.join(work, 'model')]),
  ]);
  await fetch(`${moto.url}/${FALLBACK}`, { method: 'PUT' }).then((r) => assert.ok(r.ok, `create bucket ${FALLBACK}: ${r.status}`));
  modelDir = made.model_dir;
  expectedPath = made.expected;
  // The model plus a 12 MiB weights file: two parts with a 5 MiB threshold.
  bigModelDir = path.join(work, 'big-model');
  cpSync(modelDir, bigModelDir, { recursive: true });
  writeFileSync(path.join(bigModelDir, 'weights.bin'), randomBytes(12 * 1024 * 1024));
});

after(async () => {
  await Promise.allSettled([serving?.stop(), noServe?.stop(), plain?.stop()]);
  await s3front?.stop();
  await moto?.stop();
});

beforeEach(() => {
  s3front.requests.length = 0;
  s3front.faults.length = 0;
});

interface ReadBack {
  files_identical: boolean;
  mismatches: unknown[];
  predictions_match: boolean;
  version: { status: string; source: string; run_id: string; tags: Record<string, string> };
  run: { status: string; tags: Record<string, string> } | null;
}

/** MLflow's Python client reads the version from the bucket itself (straight to moto). */
async function readBack(server: MlflowServer, name: string, version: string, original = modelDir): Promise<ReadBack> {
  return pythonJson<ReadBack>(
    path.join(SUPPORT_DIR, 'readback.py'),
    ['--tracking-uri', server.url, '--name', name, '--version', version, '--original', original, '--expected', expectedPath],
    {
      timeoutMs: 180_000,
      env: {
        MLFLOW_S3_ENDPOINT_URL: moto.url,
        AWS_ACCESS_KEY_ID: 'testing',
        AWS_SECRET_ACCESS_KEY: 'testing',
        AWS_DEFAULT_REGION: 'us-east-1',
      },
    },
  );
}

function register(server: MlflowServer | string, name: string, extra: Record<string, string> = {}, env = awsEnv()): Promise<ActionRun> {
  return runAction(
    {
      'tracking-uri': typeof server === 'string' ? server : server.url,
      'auth-url': '',
      'api-key': KEY,
      'model-path': modelDir,
      'model-name': name,
      ...extra,
    },
    { env: { RUNNER_DEBUG: '1', ...env } },
  );
}

/** Neither the Hokusai key nor the AWS secret was in any request to the bucket (URL, headers or body). */
function assertNothingSecretSentToS3(): void {
  assert.ok(s3front.requests.length > 0, 'the action reached the bucket');
  const leaks = s3front.requests.filter((r) => r.secretsSeen.length > 0);
  assert.deepEqual(
    leaks.map((r) => `${r.method} ${r.path}`),
    [],
    'a secret in a request to the bucket',
  );
  for (const r of s3front.requests) assert.match(String(r.headers.authorization), /^AWS4-HMAC-SHA256 Credential=AKIATESTS3ROAD\//);
}

const puts = () => s3front.requests.filter((r) => r.method === 'PUT');

describe('automatic: the run’s artifact location is a bucket', () => {
  test('a server that serves artifacts: files go to the bucket, not through the proxy, and read back', async () => {
    const r = await register(serving, 's3-auto');
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.doesNotMatch(r.stdout, /mlflow-artifacts/, 'the artifact proxy was neither probed nor used');
    const state = await registryState(serving.url);
    const [version] = state.versions;
    const [run] = state.runs;
    assert.ok(version && run);
    assert.equal(version.source, `${run.artifact_uri}/model`);
    assert.match(version.source, new RegExp(`^s3://${BUCKET}/root/\\d+/[0-9a-f]{32}/artifacts/model$`));
    assert.equal(version.run_id, run.run_id);
    assert.equal(run.status, 'FINISHED');
    // One PutObject per file, below the run's own location.
    const prefix = `/${BUCKET}/${version.source.slice(`s3://${BUCKET}/`.length)}/`;
    assert.ok(puts().length >= 3, 'one PUT per file');
    // And the manifest, beside the model directory, outside it.
    const manifest = `${prefix.slice(0, -1)}.manifest.json`;
    assert.equal(puts().filter((p) => p.path === manifest).length, 1, 'the manifest beside the model');
    for (const p of puts()) assert.ok(p.path.startsWith(prefix) || p.path === manifest, p.path);
    assert.ok(
      s3front.requests.some((q) => q.method === 'GET' && /list-type=2/.test(q.query) && /max-keys=1/.test(q.query)),
      'a one-key listing before the run existed',
    );
    assert.ok(
      s3front.requests.some((q) => q.method === 'GET' && /list-type=2/.test(q.query) && !/max-keys=1/.test(q.query)),
      'a listing of the prefix after the upload',
    );
    assertNothingSecretSentToS3();
    assertNoSecret(r, [KEY, AWS_SECRET]);
    const back = await readBack(serving, 's3-auto', r.outputs['model-version']!);
    assert.deepEqual(back.mismatches, []);
    assert.equal(back.files_identical, true);
    assert.equal(back.predictions_match, true);
    assert.equal(back.version.tags.model_digest, r.outputs.digest);
    assert.equal(back.version.tags.git_sha, back.run?.tags.git_sha);
  });

  test('a server with --no-serve-artifacts: the registration MLflow’s client could do, the action does too', async () => {
    const r = await register(noServe, 's3-noserve');
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const { versions, runs } = await registryState(noServe.url);
    assert.equal(versions.length, 1);
    assert.match(versions[0]!.source, new RegExp(`^s3://${BUCKET}/noserve/`));
    assert.deepEqual(
      runs.map((x) => x.status),
      ['FINISHED'],
    );
    assertNothingSecretSentToS3();
    const back = await readBack(noServe, 's3-noserve', r.outputs['model-version']!);
    assert.equal(back.files_identical, true);
    assert.equal(back.predictions_match, true);
  });

  test('the server does not say where a new experiment goes: no proxy probe fails it; the run’s bucket decides', async () => {
    // experiments/get for the Default experiment fails, so the preflight cannot predict the road;
    // this server does not serve artifacts, so probing its proxy would fail a registration that does not need it.
    const front = await startFrontProxy({
      upstream: noServe.url,
      validKeys: [KEY],
      faults: [
        { path: /^\/api\/2\.0\/mlflow\/experiments\/get$/, status: 500, headers: { 'content-type': 'application/json' }, body: '{}' },
      ],
    });
    try {
      const r = await register(front.trackingUri, 's3-unknown', { 'experiment-name': 'unpredicted' });
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /the road is chosen once the run exists/);
      assert.match(r.stdout, /Files go straight to s3:\/\/models\/noserve\//);
      assert.ok(
        front.requests.every((q) => !q.path.includes('mlflow-artifacts')),
        'the artifact proxy was not probed',
      );
      assert.ok(
        front.requests.some((q) => q.fault !== undefined),
        'the Default experiment could not be read',
      );
      const back = await readBack(noServe, 's3-unknown', r.outputs['model-version']!);
      assert.equal(back.files_identical, true);
    } finally {
      await front.stop();
    }
  });

  test('verify mode and the dry run name the bucket road and why', async () => {
    const v = await runAction({ mode: 'verify', 'tracking-uri': serving.url, 'auth-url': '' }, { env: awsEnv() });
    assert.equal(v.code, 0, v.stdout);
    const checks = checksOf(v);
    assert.equal(checks['Artifact store']?.result, 'pass', checks['Artifact store']?.detail);
    assert.match(checks['Artifact store']!.detail, new RegExp(`Files go straight to s3://${BUCKET}/root`));
    assert.match(checks['Artifact store']!.detail, /is a bucket/);
    assert.equal(checks['Artifact proxy']?.result, 'skipped');
    assert.match(checks['Artifact proxy']!.detail, /not used: files go straight to the bucket/);

    const before = await registryState(serving.url);
    const d = await register(serving, 's3-dry', { 'dry-run': 'true' });
    assert.equal(d.code, 0, d.stdout);
    assert.match(
      d.summary.replace(/&#58;/g, ':'),
      new RegExp(`Files would go to.*s3://${BUCKET}/root/\\d+, with the job&#39;s AWS credentials`),
    );
    assert.equal(puts().length, 0, 'a dry run writes nothing to the bucket');
    assert.deepEqual(await registryState(serving.url), before, 'a dry run writes nothing to the registry');
  });
});

describe('explicit: artifact-store past a proxy that cannot take files', () => {
  let front: FrontProxy;
  before(async () => {
    // The July 2025 registry: a Bearer-key front that does not route /api/2.0/mlflow-artifacts/*.
    front = await startFrontProxy({ upstream: plain.url, validKeys: [KEY], routeArtifacts: false });
  });
  after(() => front?.stop());

  test('without artifact-store the 404 is diagnosed; with it the files go to the bucket and read back', async () => {
    const blocked = await register(front.trackingUri, 's3-explicit');
    assert.equal(blocked.code, 1);
    assert.match(errorOf(blocked), /404/);
    assert.match(errorOf(blocked), /artifact-store/);
    assert.equal((await registryState(plain.url)).versions.length, 0);

    const seen = front.requests.length;
    const r = await register(front.trackingUri, 's3-explicit', { 'artifact-store': `s3://${FALLBACK}/registry` });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const { versions, runs } = await registryState(plain.url);
    const run = runs.find((x) => x.run_id === versions[0]?.run_id);
    assert.ok(run);
    assert.match(run.artifact_uri, /^mlflow-artifacts:/, 'the run keeps the server’s own location');
    assert.equal(versions[0]!.source, `s3://${FALLBACK}/registry/${run.experiment_id}/${run.run_id}/artifacts/model`);
    assert.equal(run.status, 'FINISHED');
    assert.ok(
      front.requests.slice(seen).every((q) => !q.path.includes('mlflow-artifacts')),
      'the artifact route was not tried',
    );
    assertNothingSecretSentToS3();
    assertNoSecret(r, [KEY, AWS_SECRET]);
    const back = await readBack(plain, 's3-explicit', r.outputs['model-version']!);
    assert.equal(back.files_identical, true);
    assert.equal(back.predictions_match, true);
  });

  test('the review reads that version from the bucket: its stored manifest, by sha256, past the unrouted proxy', async () => {
    const promoted = await runAction(
      {
        mode: 'promote',
        'tracking-uri': front.trackingUri,
        'auth-url': '',
        'api-key': KEY,
        'model-name': 's3-explicit',
        version: '1',
        aliases: 'champion',
      },
      { env: awsEnv() },
    );
    assert.equal(promoted.code, 0, promoted.stdout);
    const seen = s3front.requests.length;
    const before = await registryState(plain.url);
    const r = await runAction(
      {
        mode: 'verify',
        'tracking-uri': front.trackingUri,
        'auth-url': '',
        'api-key': KEY,
        'model-name': 's3-explicit',
        'model-path': modelDir,
        'artifact-store': `s3://${FALLBACK}/registry`,
      },
      { env: awsEnv() },
    );
    assert.equal(r.code, 0, r.stdout);
    assert.equal(r.outputs.changed, 'false', r.stdout);
    const diff = JSON.parse(r.outputs.diff ?? '{}') as { against: unknown; files: { compared: string } };
    assert.deepEqual(diff.against, { alias: 'champion', version: '1' });
    assert.equal(diff.files.compared, 'sha256');
    const read = s3front.requests.slice(seen).filter((q) => q.method === 'GET' && !/list-type=2/.test(q.query));
    assert.ok(
      read.some((q) => q.path.endsWith('/artifacts/model.manifest.json') && q.status === 200),
      'the manifest came from the bucket',
    );
    assert.ok(
      read.some((q) => q.path.endsWith('/artifacts/model/MLmodel') && q.status === 200),
      'MLmodel came from the bucket',
    );
    assert.equal(s3front.requests.slice(seen).filter((q) => q.method !== 'GET' && q.method !== 'HEAD').length, 0, 'read-only');
    assert.deepEqual(await registryState(plain.url), before);
    assertNoSecret(r, [KEY, AWS_SECRET]);

    // A pull-request job without AWS credentials cannot read the bucket: one warning that says
    // what to do; nothing it could not read is taken as empty, and changed stays true.
    const home = mkdtempSync(path.join(tmpdir(), 'e2e-s3-home-'));
    const blind = await runAction(
      {
        mode: 'verify',
        'tracking-uri': front.trackingUri,
        'auth-url': '',
        'api-key': KEY,
        'model-name': 's3-explicit',
        'model-path': modelDir,
      },
      { env: { HOME: home, AWS_ENDPOINT_URL_S3: s3front.url, AWS_REGION: 'us-east-1', AWS_EC2_METADATA_DISABLED: 'true' } },
    );
    assert.equal(blind.code, 1, 'the artifact proxy is not routed: verify fails its check, as before');
    const warnings = blind.stdout.split('\n').filter((l) => l.startsWith('::warning title=Review incomplete::'));
    assert.equal(warnings.length, 1, warnings.join('\n'));
    assert.match(warnings[0]!, /Could not list the files of version 1: .*AWS credentials.*configure-aws-credentials/);
    assert.equal(blind.outputs.changed, 'true');
    const blindDiff = JSON.parse(blind.outputs.diff ?? '{}') as { files: { compared: string }; requirements: unknown };
    assert.equal(blindDiff.files.compared, 'none');
    assert.deepEqual(blindDiff.requirements, { added: [], removed: [], changed: [] });
    assert.match(blind.summary, /The requirements of version 1 could not be read&#58; not compared/);
    assert.match(blind.summary, /\n> Could not list the files of version 1&#58; no AWS credentials were found/);
  });
});

describe('speed and integrity', () => {
  test('a large file goes up in parts; a part that fails once is sent again on its own', async () => {
    s3front.faults.push({ method: 'PUT', query: /partNumber=2(&|$)/, status: 500, code: 'InternalError', times: 1 });
    const r = await register(serving, 's3-parts', { 'model-path': bigModelDir, 'multipart-threshold': '5MiB', 'upload-concurrency': '3' });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /Retrying: UploadPart s3:\/\/.+weights\.bin: .*500/);
    const parts = puts().filter((q) => /uploadId=/.test(q.query) && q.path.endsWith('/weights.bin'));
    const numbers = parts.map((q) => Number(/partNumber=(\d+)/.exec(q.query)?.[1])).sort();
    assert.deepEqual(numbers, [1, 2, 2], 'two parts, part 2 twice');
    assert.ok(
      s3front.requests.some((q) => q.method === 'POST' && /uploadId=/.test(q.query) && q.status === 200),
      'CompleteMultipartUpload',
    );
    assertNothingSecretSentToS3();
    const back = await readBack(serving, 's3-parts', r.outputs['model-version']!, bigModelDir);
    assert.deepEqual(back.mismatches, []);
    assert.equal(back.files_identical, true);
  });

  test('503 SlowDown is retried, politely', async () => {
    s3front.faults.push({ method: 'PUT', status: 503, code: 'SlowDown', message: 'Please reduce your request rate.', times: 2 });
    const r = await register(serving, 's3-slowdown');
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /Retrying: PutObject s3:\/\/.+SlowDown/);
    assert.equal(s3front.requests.filter((q) => q.fault !== undefined).length, 2);
  });

  test('cancel during the upload: no version, the run KILLED, the multipart upload aborted', async () => {
    // Parts are held at the front, so the cancel lands while they are in flight.
    s3front.faults.push({ method: 'PUT', query: /partNumber=/, delayMs: 30_000 });
    const before = await registryState(serving.url);
    const r = await runAction(
      {
        'tracking-uri': serving.url,
        'auth-url': '',
        'api-key': KEY,
        'model-path': bigModelDir,
        'model-name': 's3-cancel',
        'multipart-threshold': '5MiB',
      },
      { env: { RUNNER_DEBUG: '1', ...awsEnv() }, signals: [{ signal: 'SIGTERM', when: /::group::Upload model/, delayMs: 1500 }] },
    );
    assert.notEqual(r.code, 0, r.stdout);
    assert.match(r.stdout, /SIGTERM received: cancelling/);
    const state = await registryState(serving.url);
    assert.deepEqual(state.versions, before.versions, 'no version');
    const newRuns = state.runs.filter((x) => !before.runs.some((b) => b.run_id === x.run_id));
    assert.deepEqual(
      newRuns.map((x) => x.status),
      ['KILLED'],
      'one run, ended KILLED',
    );
    assert.ok(
      s3front.requests.some((q) => q.method === 'DELETE' && /uploadId=/.test(q.query)),
      'AbortMultipartUpload was sent',
    );
    const open = await (await fetch(`${moto.url}/${BUCKET}?uploads`)).text();
    assert.doesNotMatch(open, /<Upload>/, 'no multipart upload left open in the bucket');
  });
});

describe('failures: each diagnosed before anything is created', () => {
  async function assertNothingCreated(server: MlflowServer, run: () => Promise<ActionRun>, patterns: RegExp[]): Promise<ActionRun> {
    const before = await registryState(server.url);
    const r = await run();
    assert.equal(r.code, 1, r.stdout);
    const message = errorOf(r);
    for (const p of patterns) assert.match(message, p);
    assertNoSecret(r, [KEY, AWS_SECRET]);
    assert.deepEqual(await registryState(server.url), before, 'no experiment, run, model or version was created');
    return r;
  }

  test('no AWS credentials: names configure-aws-credentials with role-to-assume and id-token: write', async () => {
    const home = mkdtempSync(path.join(tmpdir(), 'e2e-s3-home-'));
    await assertNothingCreated(
      serving,
      () =>
        register(
          serving,
          's3-nocreds',
          {},
          { HOME: home, AWS_ENDPOINT_URL_S3: s3front.url, AWS_REGION: 'us-east-1', AWS_EC2_METADATA_DISABLED: 'true' },
        ),
      [/AWS credentials/i, /aws-actions\/configure-aws-credentials/, /role-to-assume/, /id-token: write/],
    );
  });

  test('AccessDenied: names the S3 action, the bucket and the prefix', async () => {
    s3front.faults.push({ status: 403, code: 'AccessDenied', message: 'Access Denied' });
    await assertNothingCreated(serving, () => register(serving, 's3-denied'), [
      /AccessDenied/,
      /s3:ListBucket/,
      new RegExp(`s3://${BUCKET}/root`),
    ]);
  });

  test('NoSuchBucket, from artifact-store', async () => {
    await assertNothingCreated(serving, () => register(serving, 's3-nobucket', { 'artifact-store': 's3://no-such-bucket/models' }), [
      /NoSuchBucket|does not exist/,
      /no-such-bucket/,
    ]);
  });

  test('a gs:// artifact-store is refused up front, naming the scheme', async () => {
    await assertNothingCreated(serving, () => register(serving, 's3-gs', { 'artifact-store': 'gs://bucket/models' }), [
      /artifact-store/,
      /gs:\/\//,
      /only s3:\/\//,
    ]);
  });

  test('a plain-http endpoint off loopback is refused without allow-insecure-http', async () => {
    await assertNothingCreated(
      serving,
      () => register(serving, 's3-insecure', {}, { ...awsEnv(), AWS_ENDPOINT_URL_S3: 'http://s3.example.com' }),
      [/AWS_ENDPOINT_URL_S3 is http:\/\/ on s3\.example\.com/, /allow-insecure-http/],
    );
  });
});

describe('start-up cost', () => {
  test('a registration through the proxy never loads the AWS SDK: it runs from a bundle without the S3 chunks', async () => {
    // A copy of dist/ without the lazily loaded chunks that hold the S3 client and its HTTP handler.
    const copy = path.join(work, 'dist-without-s3');
    cpSync(path.dirname(DIST), copy, { recursive: true });
    const removed = readdirSync(copy).filter(
      (f) => /^\d+\.index\.js$/.test(f) && /class S3Client|NodeHttpHandler/.test(readFileSync(path.join(copy, f), 'utf8')),
    );
    assert.ok(removed.length >= 1, 'the S3 client is a chunk of its own');
    for (const f of removed) rmSync(path.join(copy, f));
    const entry = path.join(copy, 'index.js');

    const proxied = await runAction(
      { 'tracking-uri': plain.url, 'auth-url': '', 'model-path': modelDir, 'model-name': 's3-not-loaded' },
      { entry },
    );
    assert.equal(proxied.code, 0, proxied.stdout + proxied.stderr);
    // The same copy cannot take the bucket road: the chunks removed are the ones it needs.
    const bucket = await runAction(
      { 'tracking-uri': serving.url, 'auth-url': '', 'model-path': modelDir, 'model-name': 's3-needs-chunk' },
      { entry, env: awsEnv() },
    );
    assert.equal(bucket.code, 1);
    assert.match(bucket.stdout + bucket.stderr, /Cannot find module|index\.js/);
  });
});
