/**
 * Proves the S3 harness: moto on loopback as the artifact store of a real MLflow server, and
 * the multipart upload flow of MLflow's artifact proxy (`mlflow-artifacts/mpu/*`) as it really
 * behaves in MLflow 3.17.2 + moto 5.2.5.
 * Run: node_modules/.bin/node --test test/support/harness-s3.test.ts
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { startMlflowServer } from './mlflow-server.ts';
import type { MlflowServer } from './mlflow-server.ts';
import { startMoto } from './moto.ts';
import type { MotoServer } from './moto.ts';
import { pythonJson } from './python.ts';
import { SUPPORT_DIR } from './paths.ts';

const MiB = 1024 * 1024;
const BUCKET = 'mlflow-test';

let moto: MotoServer;
let s3Server: MlflowServer;
let localServer: MlflowServer;
let work: string;

before(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'harness-s3-'));
  moto = await startMoto();
  [s3Server, localServer] = await Promise.all([startMlflowServer({ s3: { endpointUrl: moto.url, bucket: BUCKET } }), startMlflowServer()]);
});

after(async () => {
  await Promise.allSettled([s3Server?.stop(), localServer?.stop()]);
  await moto?.stop();
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

interface Answer {
  status: number;
  contentType: string;
  text: string;
  json: unknown;
}

async function postJson(url: string, body: unknown): Promise<Answer> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text) as unknown;
  } catch {
    json = undefined;
  }
  return { status: res.status, contentType: res.headers.get('content-type') ?? '', text, json };
}

/** A new run; `dir` is the artifact proxy path of its `model` directory: `EXP/RUN/artifacts/model`. */
async function newRun(server: MlflowServer, name: string): Promise<{ runId: string; dir: string }> {
  const exp = await postJson(`${server.url}/api/2.0/mlflow/experiments/create`, { name });
  assert.equal(exp.status, 200, exp.text);
  const experimentId = (exp.json as { experiment_id: string }).experiment_id;
  const run = await postJson(`${server.url}/api/2.0/mlflow/runs/create`, { experiment_id: experimentId });
  assert.equal(run.status, 200, run.text);
  const runId = (run.json as { run: { info: { run_id: string } } }).run.info.run_id;
  return { runId, dir: `${experimentId}/${runId}/artifacts/model` };
}

const mpu = (server: MlflowServer, op: 'create' | 'complete' | 'abort', dir: string): string =>
  `${server.url}/api/2.0/mlflow-artifacts/mpu/${op}/${dir}`;

interface Credential {
  url: string;
  part_number: number;
  headers?: Record<string, string>;
}
interface CreateResponse {
  upload_id: string;
  credentials?: Credential[];
}

async function putPart(cred: Credential, body: Buffer): Promise<{ status: number; etag: string | null; text: string }> {
  const res = await fetch(cred.url, { method: 'PUT', body, headers: cred.headers ?? {} });
  return { status: res.status, etag: res.headers.get('etag'), text: await res.text() };
}

async function listModel(server: MlflowServer, runId: string): Promise<Array<{ path: string; is_dir: boolean; file_size?: number }>> {
  const res = await fetch(`${server.url}/api/2.0/mlflow/artifacts/list?run_id=${runId}&path=model`);
  assert.equal(res.status, 200);
  return ((await res.json()) as { files?: Array<{ path: string; is_dir: boolean; file_size?: number }> }).files ?? [];
}

async function serverInfo(server: MlflowServer): Promise<Record<string, unknown>> {
  const res = await fetch(`${server.url}/api/3.0/mlflow/server-info`);
  assert.equal(res.status, 200);
  return (await res.json()) as Record<string, unknown>;
}

const NOT_IMPLEMENTED = {
  error_code: 'NOT_IMPLEMENTED',
  message: 'Multipart upload is not supported for the current artifact repository',
};

test('a local artifact store: mpu/create, complete and abort answer 501 NOT_IMPLEMENTED (JSON)', async () => {
  const { dir } = await newRun(localServer, 'local-mpu');
  for (const [op, body] of [
    ['create', { path: 'big.bin', num_parts: 2 }],
    ['complete', { path: 'big.bin', upload_id: 'u', parts: [] }],
    ['abort', { path: 'big.bin', upload_id: 'u' }],
  ] as const) {
    const r = await postJson(mpu(localServer, op, dir), body);
    assert.equal(r.status, 501, `${op}: ${r.text}`);
    assert.match(r.contentType, /^application\/json/);
    assert.deepEqual(r.json, NOT_IMPLEMENTED);
  }
  const info = await serverInfo(localServer);
  assert.equal(info['multipart_uploads_enabled'], false);
});

test('S3 store: server-info advertises multipart uploads', async () => {
  const info = await serverInfo(s3Server);
  assert.equal(info['multipart_uploads_enabled'], true);
  assert.equal(info['multipart_downloads_enabled'], true);
});

test('S3 store: mpu/create → presigned part PUTs to moto → mpu/complete; the file lists and downloads intact', async () => {
  const { runId, dir } = await newRun(s3Server, 's3-mpu');
  const data = randomBytes(11 * MiB);
  const pieces = [data.subarray(0, 6 * MiB), data.subarray(6 * MiB)]; // every part but the last ≥ 5 MiB

  const created = await postJson(mpu(s3Server, 'create', dir), { path: 'big.bin', num_parts: 2 });
  assert.equal(created.status, 200, created.text);
  assert.match(created.contentType, /^application\/json/);
  const { upload_id, credentials = [] } = created.json as CreateResponse;
  assert.ok(upload_id);
  assert.deepEqual(
    credentials.map((c) => c.part_number),
    [1, 2],
  );
  const motoHost = new URL(moto.url).host;
  for (const c of credentials) {
    const u = new URL(c.url);
    // Presigned (SigV4, query-string auth) and path-style on the S3 endpoint itself, not via MLflow.
    assert.equal(u.host, motoHost);
    assert.equal(u.pathname, `/${BUCKET}/artifacts/${dir}/big.bin`);
    assert.equal(u.searchParams.get('partNumber'), String(c.part_number));
    assert.equal(u.searchParams.get('uploadId'), upload_id);
    assert.equal(u.searchParams.get('X-Amz-Algorithm'), 'AWS4-HMAC-SHA256');
    assert.equal(u.searchParams.get('X-Amz-SignedHeaders'), 'host');
    assert.ok(u.searchParams.get('X-Amz-Signature'));
    // MLflow's S3 repository sends no extra headers for the part PUTs (an empty map is left out of the JSON).
    assert.equal(c.headers, undefined);
  }

  const parts = [];
  for (const c of credentials) {
    const r = await putPart(c, pieces[c.part_number - 1] as Buffer);
    assert.equal(r.status, 200, r.text);
    assert.match(r.etag ?? '', /^"[0-9a-f]{32}"$/, 'the part PUT answers with a quoted ETag header');
    parts.push({ part_number: c.part_number, etag: r.etag as string, url: c.url });
  }

  const completed = await postJson(mpu(s3Server, 'complete', dir), { path: 'big.bin', upload_id, parts });
  assert.equal(completed.status, 200, completed.text);
  assert.deepEqual(completed.json, {});

  assert.deepEqual(await listModel(s3Server, runId), [{ path: 'model/big.bin', is_dir: false, file_size: 11 * MiB }]);
  const dl = await fetch(`${s3Server.url}/api/2.0/mlflow-artifacts/artifacts/${dir}/big.bin`);
  assert.equal(dl.status, 200);
  assert.ok(Buffer.from(await dl.arrayBuffer()).equals(data), 'downloaded bytes differ');
});

test('S3 store: mpu keeps only the basename of `path`; subdirectories must be in the URL', async () => {
  const { dir } = await newRun(s3Server, 's3-mpu-basename');
  const created = await postJson(mpu(s3Server, 'create', dir), { path: 'sub/x.bin', num_parts: 1 });
  assert.equal(created.status, 200, created.text);
  const { upload_id, credentials = [] } = created.json as CreateResponse;
  assert.equal(new URL((credentials[0] as Credential).url).pathname, `/${BUCKET}/artifacts/${dir}/x.bin`);
  assert.equal((await postJson(mpu(s3Server, 'abort', dir), { path: 'sub/x.bin', upload_id })).status, 200);

  const nested = await postJson(mpu(s3Server, 'create', `${dir}/sub`), { path: 'x.bin', num_parts: 1 });
  const n = nested.json as CreateResponse;
  assert.equal(new URL((n.credentials?.[0] as Credential).url).pathname, `/${BUCKET}/artifacts/${dir}/sub/x.bin`);
  assert.equal((await postJson(mpu(s3Server, 'abort', `${dir}/sub`), { path: 'x.bin', upload_id: n.upload_id })).status, 200);
});

test('S3 store: abort answers 200 {} and the upload is gone; errors from S3 come back as 500 HTML pages', async () => {
  const { runId, dir } = await newRun(s3Server, 's3-mpu-abort');
  const created = await postJson(mpu(s3Server, 'create', dir), { path: 'ab.bin', num_parts: 1 });
  const { upload_id, credentials = [] } = created.json as CreateResponse;
  const cred = credentials[0] as Credential;
  const part = await putPart(cred, randomBytes(1000));
  assert.equal(part.status, 200);

  const aborted = await postJson(mpu(s3Server, 'abort', dir), { path: 'ab.bin', upload_id });
  assert.equal(aborted.status, 200, aborted.text);
  assert.deepEqual(aborted.json, {});

  // The upload no longer exists: a part PUT fails (moto answers 500; real S3 404 NoSuchUpload) ...
  const late = await putPart(cred, randomBytes(1000));
  assert.ok(late.status >= 400, `part PUT after abort: ${late.status}`);
  // ... and MLflow turns S3's NoSuchUpload on a second abort into an unhandled 500 (Flask's HTML page, not JSON).
  const again = await postJson(mpu(s3Server, 'abort', dir), { path: 'ab.bin', upload_id });
  assert.equal(again.status, 500);
  assert.match(again.contentType, /^text\/html/);
  const completeAfter = await postJson(mpu(s3Server, 'complete', dir), {
    path: 'ab.bin',
    upload_id,
    parts: [{ part_number: 1, etag: part.etag }],
  });
  assert.equal(completeAfter.status, 500);
  assert.match(completeAfter.contentType, /^text\/html/);
  assert.deepEqual(await listModel(s3Server, runId), []);
});

test('S3 store: complete with a wrong ETag, or a non-last part under 5 MiB, is a 500 HTML page', async () => {
  const { runId, dir } = await newRun(s3Server, 's3-mpu-bad-complete');

  const a = (await postJson(mpu(s3Server, 'create', dir), { path: 'bad-etag.bin', num_parts: 1 })).json as CreateResponse;
  assert.equal((await putPart(a.credentials?.[0] as Credential, randomBytes(100))).status, 200);
  const wrongEtag = await postJson(mpu(s3Server, 'complete', dir), {
    path: 'bad-etag.bin',
    upload_id: a.upload_id,
    parts: [{ part_number: 1, etag: '"00000000000000000000000000000000"' }],
  });
  assert.equal(wrongEtag.status, 500);
  assert.match(wrongEtag.contentType, /^text\/html/);

  const b = (await postJson(mpu(s3Server, 'create', dir), { path: 'small.bin', num_parts: 2 })).json as CreateResponse;
  const parts = [];
  for (const c of b.credentials ?? []) {
    const r = await putPart(c, randomBytes(1024));
    assert.equal(r.status, 200, 'moto accepts a small part; S3 only refuses it at complete (EntityTooSmall)');
    parts.push({ part_number: c.part_number, etag: r.etag });
  }
  const tooSmall = await postJson(mpu(s3Server, 'complete', dir), { path: 'small.bin', upload_id: b.upload_id, parts });
  assert.equal(tooSmall.status, 500);
  assert.match(tooSmall.contentType, /^text\/html/);
  assert.deepEqual(await listModel(s3Server, runId), []);
});

test('S3 store: a plain artifact PUT through the proxy still works', async () => {
  const { runId, dir } = await newRun(s3Server, 's3-plain-put');
  const data = randomBytes(64 * 1024);
  const res = await fetch(`${s3Server.url}/api/2.0/mlflow-artifacts/artifacts/${dir}/plain.bin`, { method: 'PUT', body: data });
  assert.equal(res.status, 200, await res.text());
  assert.deepEqual(await listModel(s3Server, runId), [{ path: 'model/plain.bin', is_dir: false, file_size: data.length }]);
});

test("S3 store: MLflow's Python client uploads a big file through mpu (MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD)", async () => {
  const modelDir = path.join(work, 'py-model');
  fs.mkdirSync(modelDir);
  fs.writeFileSync(path.join(modelDir, 'MLmodel'), 'flavors:\n  python_function:\n    loader_module: x\n');
  fs.writeFileSync(path.join(modelDir, 'weights.bin'), randomBytes(11 * MiB));
  const mark = moto.logs().length;
  const out = await pythonJson<{ run_id: string; version: string }>(
    path.join(SUPPORT_DIR, 'register_with_python.py'),
    ['py-mpu', modelDir, '--experiment', 'python-mpu', '--tracking-uri', s3Server.url],
    {
      env: {
        MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD: 'true',
        MLFLOW_MULTIPART_UPLOAD_MINIMUM_FILE_SIZE: String(5 * MiB),
        MLFLOW_MULTIPART_UPLOAD_CHUNK_SIZE: String(5 * MiB),
      },
      timeoutMs: 120_000,
    },
  );
  assert.equal(out.version, '1');
  const log = moto.logs().slice(mark);
  // CreateMultipartUpload, three parts (5 + 5 + 1 MiB), CompleteMultipartUpload; MLmodel goes as a plain object PUT.
  assert.match(log, /"POST \/[^ ]*\/weights\.bin\?uploads /);
  assert.equal((log.match(/"PUT \/[^ ]*\/weights\.bin\?partNumber=/g) ?? []).length, 3);
  assert.match(log, /"POST \/[^ ]*\/weights\.bin\?uploadId=/);
  const files = await listModel(s3Server, out.run_id);
  assert.deepEqual(
    files.map((f) => [f.path, f.file_size]),
    [
      ['model/MLmodel', fs.statSync(path.join(modelDir, 'MLmodel')).size],
      ['model/weights.bin', 11 * MiB],
    ],
  );
});
