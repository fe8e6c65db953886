/**
 * Proves the test harness works against a real MLflow server.
 * Run: node_modules/.bin/node --test test/support/harness.test.ts
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { startMlflowServer } from './mlflow-server.ts';
import type { MlflowServer } from './mlflow-server.ts';
import { startFakeAuth } from './fake-auth.ts';
import type { FakeAuth } from './fake-auth.ts';
import { startFrontProxy } from './front-proxy.ts';
import type { FrontProxy } from './front-proxy.ts';
import { pythonJson, runPython } from './python.ts';
import { registryState } from './registry-state.ts';
import { SUPPORT_DIR } from './paths.ts';
import { freePort } from './ports.ts';

const PLATFORM_KEY = 'fake-key-platform_key';
const OLD_KEY = 'fake-key-ml_platform_key';
const EXPIRED_KEY = 'fake-key-expired_key';

let mlflow: MlflowServer;
let auth: FakeAuth;
let proxy: FrontProxy;
let work: string;

before(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'harness-test-'));
  const t0 = Date.now();
  mlflow = await startMlflowServer();
  console.log(`# mlflow server healthy after ${Date.now() - t0} ms at ${mlflow.url}`);
  auth = await startFakeAuth({
    [PLATFORM_KEY]: { service_id: 'platform', scopes: ['read', 'write'] },
    [OLD_KEY]: { service_id: 'ml-platform', scopes: ['read'] },
    [EXPIRED_KEY]: { service_id: 'platform', scopes: ['read'], is_valid: false },
  });
  proxy = await startFrontProxy({ upstream: mlflow.url, validKeys: [PLATFORM_KEY] });
});

after(async () => {
  await Promise.allSettled([proxy?.stop(), auth?.stop()]);
  await mlflow?.stop();
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

async function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; json: unknown }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, json: text ? (JSON.parse(text) as unknown) : undefined };
}

/** PUT a buffer with node:http; `chunked` omits Content-Length so node sends Transfer-Encoding: chunked. */
async function put(
  url: string,
  data: Buffer,
  opts: { chunked: boolean; headers?: Record<string, string> },
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { 'content-type': 'application/octet-stream', ...(opts.headers ?? {}) };
    if (!opts.chunked) headers['content-length'] = String(data.length);
    const req = http.request(url, { method: 'PUT', headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    // Write in 64 KiB pieces so a chunked request really is multi-chunk.
    for (let off = 0; off < data.length; off += 65536) req.write(data.subarray(off, off + 65536));
    req.end();
  });
}

interface ListedFile {
  path: string;
  is_dir: boolean;
  file_size?: number;
}
async function listArtifacts(base: string, dir: string, headers: Record<string, string> = {}): Promise<ListedFile[]> {
  const res = await fetch(`${base}/api/2.0/mlflow-artifacts/artifacts?path=${encodeURIComponent(dir)}`, { headers });
  assert.equal(res.status, 200, await res.clone().text());
  const body = (await res.json()) as { files?: ListedFile[] };
  return body.files ?? [];
}

test('fake auth follows the validate contract', async () => {
  const v = `${auth.url}/api/v1/keys/validate`;

  const ok = await postJson(v, { service_id: 'platform' }, { authorization: `Bearer ${PLATFORM_KEY}` });
  assert.equal(ok.status, 200);
  const body = ok.json as Record<string, unknown>;
  assert.equal(body['is_valid'], true);
  assert.equal(body['service_id'], 'platform');
  assert.deepEqual(body['scopes'], ['read', 'write']);
  assert.equal(body['user_id'], 'test-user');
  assert.match(String(body['key_id']), /^[0-9a-f-]{36}$/);
  assert.equal(body['error'], null);

  const viaHeader = await postJson(v, {}, { 'x-api-key': OLD_KEY });
  assert.equal(viaHeader.status, 200);
  assert.equal((viaHeader.json as Record<string, unknown>)['service_id'], 'ml-platform');

  const wrongService = await postJson(v, { service_id: 'platform' }, { authorization: `Bearer ${OLD_KEY}` });
  assert.deepEqual(wrongService, { status: 401, json: { detail: 'Key not authorized for this service' } });

  const unknown = await postJson(v, { service_id: 'platform' }, { authorization: 'Bearer nope' });
  assert.deepEqual(unknown, { status: 401, json: { detail: 'Invalid or expired API key' } });

  const noKey = await postJson(v, { service_id: 'platform' });
  assert.deepEqual(noKey, { status: 400, json: { detail: 'No API key provided' } });

  const expired = await postJson(v, { service_id: 'platform' }, { authorization: `Bearer ${EXPIRED_KEY}` });
  assert.equal(expired.status, 200);
  assert.equal((expired.json as Record<string, unknown>)['is_valid'], false);
  assert.equal((expired.json as Record<string, unknown>)['error'], 'API key has expired');

  assert.equal((await fetch(`${auth.url}/health`)).status, 200);
  const nf = await fetch(`${auth.url}/api/v1/nothing`);
  assert.equal(nf.status, 404);
  assert.deepEqual(await nf.json(), { detail: 'Not Found' });

  const first = auth.requests.find((r) => r.path === '/api/v1/keys/validate');
  assert.ok(first && first.endedAt !== undefined && first.endedAt >= first.startedAt, 'timed from arrival to answer');
  assert.deepEqual(
    { method: first.method, path: first.path, authorization: first.authorization, body: first.body },
    {
      method: 'POST',
      path: '/api/v1/keys/validate',
      authorization: `Bearer ${PLATFORM_KEY}`,
      body: { service_id: 'platform' },
    },
  );
});

test('front proxy: auth, 404 outside prefix, forwarding', async () => {
  const search = `${proxy.trackingUri}/api/2.0/mlflow/experiments/search?max_results=1`;

  const noKey = await fetch(search);
  assert.equal(noKey.status, 401);
  assert.deepEqual(await noKey.json(), { detail: 'API key required' });

  const badKey = await fetch(search, { headers: { authorization: 'Bearer wrong' } });
  assert.equal(badKey.status, 401);
  assert.deepEqual(await badKey.json(), { detail: 'Invalid or expired API key' });

  const outside = await fetch(`${proxy.url}/api/2.0/mlflow/experiments/search?max_results=1`, {
    headers: { authorization: `Bearer ${PLATFORM_KEY}` },
  });
  assert.equal(outside.status, 404);
  assert.deepEqual(await outside.json(), { detail: 'Not Found' });

  const ok = await fetch(search, { headers: { authorization: `Bearer ${PLATFORM_KEY}` } });
  assert.equal(ok.status, 200);
  const body = (await ok.json()) as { experiments: Array<{ name: string }> };
  assert.equal(body.experiments.length, 1);

  const rec = proxy.requests.filter((r) => r.path === '/api/mlflow/api/2.0/mlflow/experiments/search');
  assert.deepEqual(
    rec.map((r) => [r.status, r.authorization]),
    [
      [401, undefined],
      [401, 'Bearer wrong'],
      [200, `Bearer ${PLATFORM_KEY}`],
    ],
  );
  assert.equal(rec[2]?.url, '/api/mlflow/api/2.0/mlflow/experiments/search?max_results=1');
});

test('front proxy answers 502 when the upstream is down', async () => {
  const deadPort = await freePort();
  const p = await startFrontProxy({ upstream: `http://127.0.0.1:${deadPort}`, validKeys: ['k'] });
  try {
    const res = await fetch(`${p.trackingUri}/api/2.0/mlflow/experiments/search`, { headers: { authorization: 'Bearer k' } });
    assert.equal(res.status, 502);
    assert.match(String(((await res.json()) as { detail: string }).detail), /ECONNREFUSED/);
    assert.equal(p.requests[0]?.status, 502);
  } finally {
    await p.stop();
  }
});

test('front proxy forwards headers as specified (content-length kept, host replaced, prefix stripped)', async () => {
  const seen: Array<{ url: string | undefined; headers: http.IncomingHttpHeaders; bytes: number }> = [];
  const echo = http.createServer((req, res) => {
    let bytes = 0;
    req.on('data', (c: Buffer) => (bytes += c.length));
    req.on('end', () => {
      seen.push({ url: req.url, headers: req.headers, bytes });
      res.writeHead(201, { 'x-upstream': 'yes', 'content-type': 'text/plain' });
      res.end('created');
    });
  });
  await new Promise<void>((r) => echo.listen(0, '127.0.0.1', () => r()));
  const port = (echo.address() as { port: number }).port;
  const p = await startFrontProxy({ upstream: `http://127.0.0.1:${port}/base`, validKeys: ['k'] });
  try {
    const data = randomBytes(200_000);
    const withLen = await put(`${p.trackingUri}/api/2.0/x/y?a=1&b=2`, data, {
      chunked: false,
      headers: { authorization: 'Bearer k', 'x-extra': 'v' },
    });
    assert.deepEqual(withLen, { status: 201, body: 'created' });
    const chunked = await put(`${p.trackingUri}/api/2.0/x/z`, data, { chunked: true, headers: { authorization: 'Bearer k' } });
    assert.equal(chunked.status, 201);

    assert.equal(seen[0]?.url, '/base/api/2.0/x/y?a=1&b=2');
    assert.equal(seen[0]?.headers['content-length'], String(data.length));
    assert.equal(seen[0]?.headers['transfer-encoding'], undefined);
    assert.equal(seen[0]?.headers['authorization'], 'Bearer k');
    assert.equal(seen[0]?.headers['x-extra'], 'v');
    assert.equal(seen[0]?.headers['host'], `127.0.0.1:${port}`);
    assert.equal(seen[0]?.bytes, data.length);
    assert.equal(seen[1]?.headers['content-length'], undefined);
    assert.equal(seen[1]?.headers['transfer-encoding'], 'chunked');
    assert.equal(seen[1]?.bytes, data.length);
    assert.deepEqual(
      p.requests.map((r) => [r.method, r.path, r.status]),
      [
        ['PUT', '/api/mlflow/api/2.0/x/y', 201],
        ['PUT', '/api/mlflow/api/2.0/x/z', 201],
      ],
    );
  } finally {
    await p.stop();
    await new Promise<void>((r) => {
      echo.close(() => r());
      echo.closeAllConnections();
    });
  }
});

test('3 MB upload through the proxy keeps its length and bytes', async () => {
  const data = randomBytes(3 * 1024 * 1024);
  const hdr = { authorization: `Bearer ${PLATFORM_KEY}` };
  const r = await put(`${proxy.trackingUri}/api/2.0/mlflow-artifacts/artifacts/harness/test.bin`, data, { chunked: false, headers: hdr });
  assert.equal(r.status, 200, r.body);
  const files = await listArtifacts(proxy.trackingUri, 'harness', hdr);
  assert.deepEqual(files, [{ path: 'test.bin', is_dir: false, file_size: data.length }]);

  // Download back through the proxy (streamed response) and compare bytes.
  const dl = await fetch(`${proxy.trackingUri}/api/2.0/mlflow-artifacts/artifacts/harness/test.bin`, { headers: hdr });
  assert.equal(dl.status, 200);
  const got = Buffer.from(await dl.arrayBuffer());
  assert.equal(createHash('sha256').update(got).digest('hex'), createHash('sha256').update(data).digest('hex'));

  const rec = proxy.requests.find((x) => x.method === 'PUT' && x.path.endsWith('/harness/test.bin'));
  assert.equal(rec?.status, 200);
});

test('FINDING: chunked PUT (no Content-Length) on the unprefixed route stores the full file in 3.17.2', async () => {
  // MLflow 3.17 serves PUT /api/2.0/mlflow-artifacts/artifacts/<path> with a native
  // FastAPI route (mlflow/server/artifact_router.py) that streams request.stream(), so
  // a chunked body is stored completely — NOT the 0-byte file the reference notes
  // predicted from the old Flask/WSGI path. (Through a --static-prefix the Flask route
  // is used instead; see the static-prefix test below.)
  const data = randomBytes(3 * 1024 * 1024);
  const direct = await put(`${mlflow.url}/api/2.0/mlflow-artifacts/artifacts/chunked/direct.bin`, data, { chunked: true });
  assert.equal(direct.status, 200);
  assert.equal(direct.body, ''); // native route: empty body (not "{}")

  // Same through the front proxy (it forwards chunked as chunked).
  const viaProxy = await put(`${proxy.trackingUri}/api/2.0/mlflow-artifacts/artifacts/chunked/proxied.bin`, data, {
    chunked: true,
    headers: { authorization: `Bearer ${PLATFORM_KEY}` },
  });
  assert.equal(viaProxy.status, 200);

  const files = await listArtifacts(mlflow.url, 'chunked');
  assert.deepEqual(files, [
    { path: 'direct.bin', is_dir: false, file_size: data.length },
    { path: 'proxied.bin', is_dir: false, file_size: data.length },
  ]);
});

test('python client: make, register (through the proxy) and read back a model', async () => {
  const modelDir = path.join(work, 'iris', 'model');
  const made = await pythonJson<{ model_dir: string; expected: string }>(path.join(SUPPORT_DIR, 'make_model.py'), [modelDir]);
  assert.equal(made.model_dir, modelDir);
  assert.ok(fs.existsSync(path.join(modelDir, 'MLmodel')));
  assert.ok(!made.expected.startsWith(modelDir + path.sep), 'expected.json must be outside the model dir');

  const viaProxyEnv = { MLFLOW_TRACKING_URI: proxy.trackingUri, MLFLOW_TRACKING_TOKEN: PLATFORM_KEY };
  const reg = await pythonJson<{ run_id: string; version: string; source: string }>(
    path.join(SUPPORT_DIR, 'register_with_python.py'),
    ['harness-iris', modelDir, '--experiment', 'harness'],
    { env: viaProxyEnv },
  );
  assert.equal(reg.version, '1');
  assert.match(reg.run_id, /^[0-9a-f]{32}$/);
  assert.match(reg.source, /^mlflow-artifacts:\/\d+\/[0-9a-f]{32}\/artifacts\/model$/);

  const alias = await postJson(`${mlflow.url}/api/2.0/mlflow/registered-models/alias`, {
    name: 'harness-iris',
    alias: 'champion',
    version: reg.version,
  });
  assert.equal(alias.status, 200);

  const rb = await pythonJson<{
    files_identical: boolean;
    mismatches: unknown[];
    client_added_files: string[];
    predictions_match: boolean;
    load_error: string | null;
    aliases: Record<string, string | null>;
    version: { status: string; source: string; run_id: string };
    run: { status: string; tags: Record<string, string> } | null;
  }>(
    path.join(SUPPORT_DIR, 'readback.py'),
    [
      '--tracking-uri',
      proxy.trackingUri,
      '--name',
      'harness-iris',
      '--version',
      reg.version,
      '--original',
      modelDir,
      '--expected',
      made.expected,
      '--alias',
      'champion',
      '--alias',
      'no-such-alias',
    ],
    { env: { MLFLOW_TRACKING_TOKEN: PLATFORM_KEY } },
  );
  assert.deepEqual(rb.mismatches, []);
  assert.equal(rb.files_identical, true);
  assert.equal(rb.load_error, null);
  assert.equal(rb.predictions_match, true);
  assert.deepEqual(rb.client_added_files, ['registered_model_meta']);
  assert.deepEqual(rb.aliases, { champion: '1', 'no-such-alias': null });
  assert.equal(rb.version.status, 'READY');
  assert.equal(rb.version.run_id, reg.run_id);
  assert.equal(rb.run?.status, 'FINISHED');

  // A negative check of the comparison: a tampered original must be reported.
  fs.appendFileSync(path.join(modelDir, 'requirements.txt'), '# tampered\n');
  fs.writeFileSync(path.join(modelDir, 'extra.txt'), 'x');
  const rb2 = await pythonJson<{ files_identical: boolean; mismatches: Array<{ path: string; problem: string }> }>(
    path.join(SUPPORT_DIR, 'readback.py'),
    ['--tracking-uri', mlflow.url, '--name', 'harness-iris', '--version', reg.version, '--original', modelDir, '--expected', made.expected],
  );
  assert.equal(rb2.files_identical, false);
  assert.deepEqual(
    rb2.mismatches.map((m) => [m.path, m.problem]),
    [
      ['extra.txt', 'missing'],
      ['requirements.txt', 'content differs'],
    ],
  );

  const state = await registryState(mlflow.url);
  const exp = state.experiments.find((e) => e.name === 'harness');
  assert.ok(exp);
  assert.deepEqual(
    state.experiments.map((e) => e.name),
    ['Default', 'harness'],
  );
  const run = state.runs.find((r) => r.run_id === reg.run_id);
  assert.equal(run?.experiment_id, exp.experiment_id);
  assert.equal(run?.status, 'FINISHED');
  assert.deepEqual(state.registeredModels, [{ name: 'harness-iris', aliases: { champion: '1' }, tags: {} }]);
  assert.equal(state.versions.length, 1);
  assert.deepEqual(state.versions[0], {
    name: 'harness-iris',
    version: '1',
    status: 'READY',
    source: reg.source,
    run_id: reg.run_id,
    tags: {},
  });

  // Same snapshot through the proxy (prefix + bearer).
  const viaProxy = await registryState(proxy.trackingUri, { headers: { authorization: `Bearer ${PLATFORM_KEY}` } });
  assert.deepEqual(viaProxy, state);
});

test('runPython: exit codes, env isolation, -c', async () => {
  process.env['MLFLOW_STRAY_FOR_TEST'] = 'leak';
  try {
    const r = await runPython(
      '-c',
      [
        'import os,sys,json; print(json.dumps({k:v for k,v in os.environ.items() if k.startswith("MLFLOW_") or k=="PYTHONUNBUFFERED"})); sys.exit(3)',
      ],
      { env: { MLFLOW_TRACKING_URI: 'http://x' } },
    );
    assert.equal(r.code, 3);
    assert.deepEqual(JSON.parse(r.stdout.trim()), { MLFLOW_TRACKING_URI: 'http://x', PYTHONUNBUFFERED: '1' });
  } finally {
    delete process.env['MLFLOW_STRAY_FOR_TEST'];
  }
  await assert.rejects(pythonJson('-c', ['import sys; sys.stderr.write("boom"); sys.exit(1)']), /boom/);
});

test('FINDING: with --static-prefix the API and /health move under the prefix; a chunked PUT through the prefix stores 0 bytes', async () => {
  const s = await startMlflowServer({ extraArgs: ['--static-prefix', '/api/mlflow'] });
  try {
    assert.equal(s.staticPrefix, '/api/mlflow');
    const base = `${s.url}${s.staticPrefix}`;
    assert.equal((await fetch(`${s.url}/health`)).status, 404); // /health is prefixed too
    assert.equal((await fetch(`${base}/health`)).status, 200);
    assert.equal((await fetch(`${s.url}/api/2.0/mlflow/experiments/search?max_results=1`)).status, 404);
    assert.equal((await fetch(`${base}/api/2.0/mlflow/experiments/search?max_results=1`)).status, 200);

    const data = randomBytes(1024 * 1024);
    // Prefixed PUT goes through the Flask (WSGI) handler: with Content-Length fine...
    const withLen = await put(`${base}/api/2.0/mlflow-artifacts/artifacts/p/with-length.bin`, data, { chunked: false });
    assert.deepEqual(withLen, { status: 200, body: '{}' });
    // ...but chunked → 200 and an EMPTY file (werkzeug sees no Content-Length).
    const chunked = await put(`${base}/api/2.0/mlflow-artifacts/artifacts/p/chunked.bin`, data, { chunked: true });
    assert.deepEqual(chunked, { status: 200, body: '{}' });
    // The native (unprefixed) FastAPI upload route still exists and streams properly.
    const native = await put(`${s.url}/api/2.0/mlflow-artifacts/artifacts/p/native-chunked.bin`, data, { chunked: true });
    assert.deepEqual(native, { status: 200, body: '' });

    const files = await listArtifacts(base, 'p');
    // Note: a 0-byte file is listed WITHOUT file_size (proto default omitted).
    assert.deepEqual(files, [
      { path: 'chunked.bin', is_dir: false },
      { path: 'native-chunked.bin', is_dir: false, file_size: data.length },
      { path: 'with-length.bin', is_dir: false, file_size: data.length },
    ]);
    assert.equal(fs.statSync(path.join(s.dir, 'mlartifacts', 'p', 'chunked.bin')).size, 0);
  } finally {
    await s.stop();
  }
  assert.equal(fs.existsSync(s.dir), false);
});
