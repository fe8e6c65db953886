// Against a real MLflow server: the bytes registered are the bytes the digest names (a file
// rewritten, same size, after the digest and before the upload fails the upload), and the key
// goes nowhere outside tracking-uri, even when the server hands out an artifact location that
// climbs out of it.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { assertNoSecret, errorOf } from '../support/action-asserts.ts';
import { startFrontProxy } from '../support/front-proxy.ts';
import { startMlflowServer, type MlflowServer } from '../support/mlflow-server.ts';
import { registryState } from '../support/registry-state.ts';
import { runAction } from '../support/run-action.ts';

// Obviously fake, shaped nothing like a real key.
const KEY = 'fake-key-integrity-0c1d2e3f4a';
const MLMODEL = 'artifact_path: model\nflavors:\n  python_function:\n    loader_module: mlflow.sklearn\n';

let mlflow: MlflowServer;
let work: string;

before(async () => {
  work = mkdtempSync(path.join(tmpdir(), 'e2e-integrity-'));
  mlflow = await startMlflowServer();
});

after(async () => {
  await mlflow?.stop();
});

test('a file rewritten with the same size between the digest and the upload: the upload fails, the run ends FAILED, nothing is registered', async () => {
  const dir = mkdtempSync(path.join(work, 'model-'));
  writeFileSync(path.join(dir, 'MLmodel'), MLMODEL);
  const weights = path.join(dir, 'weights.bin');
  writeFileSync(weights, Buffer.alloc(3 * 1024 * 1024 + 17, 1));
  let swapped = false;
  // The digest is computed before any request; the run is created before any upload.
  const proxy = await startFrontProxy({
    upstream: mlflow.url,
    validKeys: [KEY],
    onRequest: (r) => {
      if (!swapped && r.method === 'POST' && r.path.endsWith('/api/2.0/mlflow/runs/create')) {
        writeFileSync(weights, Buffer.alloc(3 * 1024 * 1024 + 17, 2));
        swapped = true;
      }
    },
  });
  try {
    const beforeState = await registryState(mlflow.url);
    const r = await runAction({
      'api-key': KEY,
      'tracking-uri': proxy.trackingUri,
      'auth-url': '',
      'model-path': dir,
      'model-name': 'swapped',
      'experiment-name': 'integrity',
    });
    assert.equal(swapped, true);
    assert.equal(r.code, 1, r.stdout);
    const message = errorOf(r);
    assert.match(
      message,
      /Upload model failed: "weights\.bin" changed after the content digest was computed: the bytes read for the upload have sha256 [0-9a-f]{64}, the digest lists [0-9a-f]{64}/,
    );
    assert.match(message, /request: PUT \/api\/mlflow\/api\/2\.0\/mlflow-artifacts\/artifacts\/\S+\/model\/weights\.bin/);
    assert.match(message, /Nothing was registered/);
    assert.doesNotMatch(r.stdout, /Retrying: PUT/, 'a changed file is not sent again');
    assertNoSecret(r, [KEY]);

    const afterState = await registryState(mlflow.url);
    assert.equal(afterState.versions.length, beforeState.versions.length);
    assert.equal(afterState.registeredModels.length, beforeState.registeredModels.length);
    const newRuns = afterState.runs.filter((x) => !beforeState.runs.some((b) => b.run_id === x.run_id));
    assert.deepEqual(
      newRuns.map((x) => [x.status, x.tags.failure_reason?.split(':')[0]]),
      [['FAILED', 'Upload model']],
    );
  } finally {
    await proxy.stop();
  }
});

test('an experiment whose artifact location climbs out of the tracking URI with %2e%2e: refused before anything is created, the key never sent outside', async () => {
  // MLflow accepts such a location from anyone who may create experiments.
  const created = await fetch(`${mlflow.url}/api/2.0/mlflow/experiments/create`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'climbing', artifact_location: `mlflow-artifacts:/1${'/%2e%2e'.repeat(7)}/x` }),
  });
  assert.equal(created.status, 200);
  const dir = mkdtempSync(path.join(work, 'model-'));
  writeFileSync(path.join(dir, 'MLmodel'), MLMODEL);
  const proxy = await startFrontProxy({ upstream: mlflow.url, validKeys: [KEY] });
  try {
    const beforeState = await registryState(mlflow.url);
    const r = await runAction({
      'api-key': KEY,
      'tracking-uri': proxy.trackingUri,
      'auth-url': '',
      'model-path': dir,
      'model-name': 'climbing',
      'experiment-name': 'climbing',
    });
    assert.equal(r.code, 1, r.stdout);
    // The annotation carries "%" as %25.
    const message = errorOf(r);
    assert.match(
      message,
      /Preflight failed: the run's artifact location mlflow-artifacts:\/1\/%(25)?2e%(25)?2e\/\S+ has a "\." or "\.\." segment/,
    );
    assert.match(message, /sends the key only below tracking-uri/);
    const outside = proxy.requests.filter((q) => !q.path.startsWith('/api/mlflow/'));
    assert.deepEqual(
      outside.map((q) => `${q.method} ${q.path}`),
      [],
      'no request left the tracking URI',
    );
    assert.deepEqual(await registryState(mlflow.url), beforeState, 'nothing was created');
    assertNoSecret(r, [KEY]);
  } finally {
    await proxy.stop();
  }
});

test('a first registration hashes its large files as they go up: the digest, the run tag and the version tag name the bytes the server holds', async () => {
  const dir = mkdtempSync(path.join(work, 'model-'));
  writeFileSync(path.join(dir, 'MLmodel'), MLMODEL);
  const weights = Buffer.alloc(9 * 1024 * 1024 + 5);
  for (let i = 0; i < weights.length; i += 4096) weights[i] = i % 251;
  writeFileSync(path.join(dir, 'weights.bin'), weights);
  // The digest as the issue defines it, computed here without src/.
  const line = (name: string, bytes: Buffer) => `${createHash('sha256').update(bytes).digest('hex')}  ${bytes.length}  ${name}\n`;
  const manifest = line('MLmodel', Buffer.from(MLMODEL)) + line('weights.bin', weights);
  const expected = `sha256:${createHash('sha256').update(manifest).digest('hex')}`;

  const r = await runAction({
    'tracking-uri': mlflow.url,
    'auth-url': '',
    'model-path': dir,
    'model-name': 'hashed-on-the-way',
    'experiment-name': 'integrity',
  });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /1 large file is hashed as it goes up/);
  assert.equal(r.outputs.digest, expected);
  const state = await registryState(mlflow.url);
  const version = state.versions.find((v) => v.name === 'hashed-on-the-way');
  assert.equal(version?.tags.model_digest, expected);
  assert.equal(state.runs.find((x) => x.run_id === r.outputs['run-id'])?.tags.model_digest, expected);
});
