// Large files through MLflow's proxied multipart upload, against a real MLflow server whose
// artifact store is S3 (moto's S3 server on loopback): parts in parallel, then MLflow's own
// client reads the file back byte for byte. A local store answers 501 and the action falls
// back to one streamed PUT.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { startMlflowServer, type MlflowServer } from '../support/mlflow-server.ts';
import { startMoto, type MotoServer } from '../support/moto.ts';
import { SUPPORT_DIR } from '../support/paths.ts';
import { pythonJson } from '../support/python.ts';
import { registryState } from '../support/registry-state.ts';
import { runAction } from '../support/run-action.ts';

let moto: MotoServer;
let s3Server: MlflowServer;
let localServer: MlflowServer;
let modelDir: string;
let expectedPath: string;

before(async () => {
  const work = mkdtempSync(path.join(tmpdir(), 'e2e-multipart-'));
  moto = await startMoto();
  const [s3, local, made] = await Promise.all([
    startMlflowServer({ s3: { endpointUrl: moto.url, bucket: 'mlflow-e2e' } }),
    startMlflowServer(),
    pythonJson<{ model_dir: string; expected: string }>(path.join(SUPPORT_DIR, 'make_model.py'), [path.join(work, 'model')]),
  ]);
  s3Server = s3;
  localServer = local;
  // The model plus a 23 MiB weights file: three parts of 10 MiB at most with a 5 MiB threshold.
  modelDir = path.join(work, 'big-model');
  cpSync(made.model_dir, modelDir, { recursive: true });
  writeFileSync(path.join(modelDir, 'weights.bin'), randomBytes(23 * 1024 * 1024));
  expectedPath = made.expected;
});

after(async () => {
  await Promise.allSettled([s3Server?.stop(), localServer?.stop()]);
  await moto?.stop();
});

async function readBack(server: MlflowServer, name: string, version: string) {
  return pythonJson<{ files_identical: boolean; mismatches: unknown[]; predictions_match: boolean }>(
    path.join(SUPPORT_DIR, 'readback.py'),
    ['--tracking-uri', server.url, '--name', name, '--version', version, '--original', modelDir, '--expected', expectedPath],
    { timeoutMs: 180_000 },
  );
}

test('an S3-backed server: the large file goes up in parts, and reads back byte for byte', async () => {
  const r = await runAction(
    {
      'tracking-uri': s3Server.url,
      'auth-url': '',
      'model-path': modelDir,
      'model-name': 'big-s3',
      'multipart-threshold': '5MiB',
      'upload-concurrency': '3',
    },
    { env: { RUNNER_DEBUG: '1' } },
  );
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /::debug::uploaded weights\.bin \(24117248 bytes, in parts\)/);
  assert.match(r.stdout, /::debug::POST \/api\/2\.0\/mlflow-artifacts\/mpu\/create\/\d+\/[0-9a-f]{32}\/artifacts\/model → 200/);
  assert.match(r.stdout, /::debug::POST \/api\/2\.0\/mlflow-artifacts\/mpu\/complete\/.+ → 200/);
  assert.equal((r.stdout.match(/::debug::PUT \/mlflow-e2e\/.+weights\.bin → 200/g) ?? []).length, 3, 'three parts, straight to the bucket');
  assert.match(r.summary, /^- <b>Files:<\/b> .+; uploaded in .+\/s$/m);
  const back = await readBack(s3Server, 'big-s3', r.outputs['model-version']!);
  assert.deepEqual(back.mismatches, []);
  assert.equal(back.files_identical, true);
  assert.equal(back.predictions_match, true);
});

test('a local artifact store answers 501: the large file falls back to one streamed PUT', async () => {
  const r = await runAction(
    { 'tracking-uri': localServer.url, 'auth-url': '', 'model-path': modelDir, 'model-name': 'big-local', 'multipart-threshold': '5MiB' },
    { env: { RUNNER_DEBUG: '1' } },
  );
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /::debug::POST \/api\/2\.0\/mlflow-artifacts\/mpu\/create\/.+ → 501/);
  assert.match(r.stdout, /::debug::uploaded weights\.bin \(24117248 bytes\)/);
  const back = await readBack(localServer, 'big-local', r.outputs['model-version']!);
  assert.equal(back.files_identical, true);
  const state = await registryState(localServer.url);
  assert.deepEqual(
    state.runs.map((x) => x.status),
    ['FINISHED'],
  );
});
