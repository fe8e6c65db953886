/**
 * Proves the harness' reliability tools: front-proxy faults resetAfterBytes / afterForward / delayMs,
 * the latencyMs option (front proxy and fake auth) and the onRequest hook, MlflowServer
 * kill()/restart(), runAction's signals, and the runner's state mechanism (GITHUB_STATE →
 * runPostStep's STATE_*).
 * Run: node_modules/.bin/node --test test/support/harness-reliability.test.ts
 *
 * One plain MLflow server serves the whole file; the kill/restart test runs last among the tests
 * that use it, and ends by stopping it.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { startMlflowServer } from './mlflow-server.ts';
import type { MlflowServer } from './mlflow-server.ts';
import { startFakeAuth } from './fake-auth.ts';
import { startFrontProxy } from './front-proxy.ts';
import type { FrontProxy, FrontProxyOptions, FrontProxyRequest } from './front-proxy.ts';
import { runAction, runPostStep } from './run-action.ts';

const KEY = 'fake-key-reliability_key';
const bearer = { authorization: `Bearer ${KEY}` };

let mlflow: MlflowServer;
let work: string;
const proxies: FrontProxy[] = [];

before(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'harness-reliability-'));
  const t0 = Date.now();
  mlflow = await startMlflowServer();
  console.log(`# mlflow server healthy after ${Date.now() - t0} ms at ${mlflow.url}`);
});

after(async () => {
  await Promise.allSettled(proxies.map((p) => p.stop()));
  await mlflow?.stop();
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

async function proxy(opts: Omit<FrontProxyOptions, 'upstream' | 'validKeys'>): Promise<FrontProxy> {
  const p = await startFrontProxy({ upstream: mlflow.url, validKeys: [KEY], ...opts });
  proxies.push(p);
  return p;
}

async function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
  return { status: res.status, body: await res.text() };
}

async function experimentByName(name: string): Promise<{ status: number; id?: string }> {
  const res = await fetch(`${mlflow.url}/api/2.0/mlflow/experiments/get-by-name?experiment_name=${encodeURIComponent(name)}`, {
    signal: AbortSignal.timeout(30_000),
  });
  const j = (await res.json()) as { experiment?: { experiment_id: string } };
  return j.experiment ? { status: res.status, id: j.experiment.experiment_id } : { status: res.status };
}

/** PUT with content-length via node:http; resolves with the status or the socket error's code. */
function put(url: string, data: Buffer, headers: Record<string, string> = {}): Promise<{ status?: number; body?: string; error?: string }> {
  return new Promise((resolve) => {
    const req = http.request(url, {
      method: 'PUT',
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(data.length), ...headers },
    });
    req.on('response', (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode, body }));
      res.on('error', (err: NodeJS.ErrnoException) => resolve({ error: err.code ?? err.message }));
    });
    req.on('error', (err: NodeJS.ErrnoException) => resolve({ error: err.code ?? err.message }));
    req.end(data);
  });
}

function writeScript(name: string, source: string): string {
  const file = path.join(work, name);
  fs.writeFileSync(file, source);
  return file;
}

// ---------------------------------------------------------------------------------------------
// front proxy

test('proxy resetAfterBytes: a 2 MB PUT is reset mid-upload (node:http and fetch), nothing reaches MLflow', async () => {
  const ARTIFACT = /^\/api\/2\.0\/mlflow-artifacts\/artifacts\//;
  const p = await proxy({ faults: [{ method: 'PUT', path: ARTIFACT, resetAfterBytes: 64 * 1024 }] });
  const data = randomBytes(2 * 1024 * 1024);
  const url = `${p.trackingUri}/api/2.0/mlflow-artifacts/artifacts/reset/big.bin`;

  const r = await put(url, data, bearer);
  console.log(`# node:http PUT reset mid-upload: ${JSON.stringify(r)}`);
  assert.equal(r.status, undefined);
  assert.ok(r.error === 'ECONNRESET' || r.error === 'EPIPE', `error ${r.error}`);
  assert.deepEqual([p.requests[0]?.status, p.requests[0]?.fault], [0, 0]);

  // undici (global fetch), as the action uploads
  const err = await fetch(url, { method: 'PUT', headers: bearer, body: data, signal: AbortSignal.timeout(30_000) }).then(
    (res) => assert.fail(`expected a network error, got HTTP ${res.status}`),
    (e: Error) => e,
  );
  const cause = err.cause as { code?: string; message?: string } | undefined;
  console.log(`# fetch PUT reset mid-upload: ${err.message}; cause.code=${cause?.code} (${cause?.message})`);
  assert.equal(err.name, 'TypeError');
  assert.ok(cause?.code === 'ECONNRESET' || cause?.code === 'EPIPE' || cause?.code === 'UND_ERR_SOCKET', `cause ${cause?.code}`);

  // A body shorter than resetAfterBytes: all of it is read, then the reset comes.
  const small = await put(url.replace('big.bin', 'small.bin'), randomBytes(1000), bearer);
  assert.ok(small.error === 'ECONNRESET' || small.error === 'EPIPE', `error ${small.error}`);

  // Nothing was forwarded: MLflow never stored either file.
  for (const f of ['big.bin', 'small.bin']) {
    const dl = await fetch(`${mlflow.url}/api/2.0/mlflow-artifacts/artifacts/reset/${f}`);
    await dl.arrayBuffer();
    assert.notEqual(dl.status, 200, f);
  }
  assert.equal(p.requests.length, 3);
  assert.ok(p.requests.every((r) => r.status === 0 && r.fault === 0 && r.upstreamStatus === undefined));
});

test('proxy afterForward: experiments/create answers 500, yet the experiment exists', async () => {
  const p = await proxy({
    faults: [
      {
        method: 'POST',
        path: /^\/api\/2\.0\/mlflow\/experiments\/create$/,
        afterForward: true,
        status: 500,
        headers: { 'content-type': 'text/html' },
        body: '<html>Internal Server Error</html>',
        times: 1,
      },
    ],
  });
  const url = `${p.trackingUri}/api/2.0/mlflow/experiments/create`;
  const r = await postJson(url, { name: 'after-forward-exp' }, bearer);
  assert.deepEqual(r, { status: 500, body: '<html>Internal Server Error</html>' });
  assert.deepEqual([p.requests[0]?.status, p.requests[0]?.upstreamStatus, p.requests[0]?.fault], [500, 200, 0]);
  const exp = await experimentByName('after-forward-exp');
  assert.equal(exp.status, 200);
  assert.match(exp.id ?? '', /^\d+$/);

  // times:1 used up: a retry is forwarded normally and gets MLflow's own answer.
  const retry = await postJson(url, { name: 'after-forward-exp' }, bearer);
  assert.equal(retry.status, 400);
  assert.match(retry.body, /RESOURCE_ALREADY_EXISTS/);
  assert.deepEqual([p.requests[1]?.status, p.requests[1]?.upstreamStatus, p.requests[1]?.fault], [400, 400, undefined]);
});

test('proxy delayMs: the response is slow but real; a client that gives up cancels the forward', async () => {
  const p = await proxy({
    faults: [
      { method: 'GET', path: /^\/health$/, delayMs: 1_500, times: 1 },
      { method: 'POST', path: /^\/api\/2\.0\/mlflow\/experiments\/create$/, delayMs: 1_500, times: 1 },
    ],
  });
  let t0 = Date.now();
  const slow = await fetch(`${p.trackingUri}/health`, { headers: bearer });
  assert.deepEqual([slow.status, await slow.text()], [200, 'OK']);
  const slowMs = Date.now() - t0;
  assert.ok(slowMs >= 1_450 && slowMs < 10_000, `slow call took ${slowMs} ms`);

  t0 = Date.now();
  const fast = await fetch(`${p.trackingUri}/health`, { headers: bearer });
  assert.deepEqual([fast.status, await fast.text()], [200, 'OK']);
  assert.ok(Date.now() - t0 < 1_000, `second call took ${Date.now() - t0} ms`);
  assert.deepEqual(
    p.requests.map((r) => [r.status, r.fault]),
    [
      [200, 0],
      [200, undefined],
    ],
  );

  // Aborted during the delay: never forwarded.
  await assert.rejects(
    fetch(`${p.trackingUri}/api/2.0/mlflow/experiments/create`, {
      method: 'POST',
      headers: { ...bearer, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'delay-aborted-exp' }),
      signal: AbortSignal.timeout(300),
    }),
    (e: Error) => e.name === 'TimeoutError',
  );
  await new Promise((r) => setTimeout(r, 1_800));
  assert.equal((await experimentByName('delay-aborted-exp')).status, 404);
  assert.equal(p.requests[2]?.upstreamStatus, undefined);
});

test('proxy latency: a lone delayMs without times delays and forwards every request; latencyMs delays every request of any route', async () => {
  const timed = async (url: string, headers: Record<string, string> = bearer): Promise<[number, number]> => {
    const t0 = Date.now();
    const res = await fetch(url, { headers, signal: AbortSignal.timeout(30_000) });
    await res.arrayBuffer();
    return [res.status, Date.now() - t0];
  };
  const f = await proxy({ faults: [{ path: /^\//, delayMs: 300 }] });
  for (let i = 0; i < 3; i++) {
    const [status, ms] = await timed(`${f.trackingUri}/health`);
    assert.equal(status, 200);
    assert.ok(ms >= 280, `delayMs call ${i} took ${ms} ms`);
  }
  assert.deepEqual(
    f.requests.map((r) => [r.status, r.upstreamStatus, r.fault]),
    Array.from({ length: 3 }, () => [200, 200, 0]),
  );

  const l = await proxy({
    latencyMs: 300,
    faults: [{ method: 'GET', path: /^\/api\/2\.0\/mlflow\/experiments\/get$/, status: 503, times: 1 }],
  });
  const calls = [
    await timed(`${l.trackingUri}/health`),
    await timed(`${l.trackingUri}/health`, {}), // 401: delayed too
    await timed(`${l.url}/elsewhere`), // 404: delayed too
    await timed(`${l.trackingUri}/api/2.0/mlflow/experiments/get?experiment_id=0`), // the fault, after the latency
  ];
  assert.deepEqual(
    calls.map(([status]) => status),
    [200, 401, 404, 503],
  );
  for (const [, ms] of calls) assert.ok(ms >= 280, `latencyMs call took ${ms} ms`);
  assert.deepEqual(
    l.requests.map((r) => [r.status, r.fault]),
    [
      [200, undefined],
      [401, undefined],
      [404, undefined],
      [503, 0],
    ],
  );

  // A client that gives up during the latency: nothing recorded, nothing forwarded.
  await assert.rejects(
    fetch(`${l.trackingUri}/health`, { headers: bearer, signal: AbortSignal.timeout(100) }),
    (e: Error) => e.name === 'TimeoutError',
  );
  await new Promise((r) => setTimeout(r, 400));
  assert.equal(l.requests.length, 4);

  const auth = await startFakeAuth({ k: { service_id: 'platform', scopes: [] } }, { latencyMs: 300 });
  try {
    const t0 = Date.now();
    const res = await fetch(`${auth.url}/health`, { signal: AbortSignal.timeout(30_000) });
    assert.equal(res.status, 200);
    await res.arrayBuffer();
    assert.ok(Date.now() - t0 >= 280, `fake auth took ${Date.now() - t0} ms`);
    assert.equal(auth.requests.length, 1);
  } finally {
    await auth.stop();
  }
});

test('proxy onRequest: called synchronously on arrival, after the key check, before faults', async () => {
  const seen: Array<{ method: string; path: string; status: number; fault: number | undefined }> = [];
  let firstPut: FrontProxyRequest | undefined;
  let resolvePut!: (r: FrontProxyRequest) => void;
  const putStarted = new Promise<FrontProxyRequest>((r) => (resolvePut = r));
  const p = await proxy({
    faults: [{ method: 'PUT', path: /^\/api\/2\.0\/mlflow-artifacts\//, delayMs: 1_000 }],
    onRequest: (r) => {
      seen.push({ method: r.method, path: r.path, status: r.status, fault: r.fault });
      if (r.method === 'PUT' && !firstPut) {
        firstPut = r;
        resolvePut(r);
      }
    },
  });
  const noKey = await fetch(`${p.trackingUri}/health`);
  assert.equal(noKey.status, 401);
  await noKey.arrayBuffer();
  assert.equal(seen.length, 0); // rejected by the key check: no callback

  const data = randomBytes(256 * 1024);
  const upload = put(`${p.trackingUri}/api/2.0/mlflow-artifacts/artifacts/onrequest/a.bin`, data, bearer);
  const r = await putStarted;
  assert.equal(r.status, 0); // the upload is in flight (held by delayMs)
  assert.equal(r, p.requests[1]); // the same live record
  assert.equal((await upload).status, 200);
  assert.deepEqual([r.status, r.fault], [200, 0]);
  assert.deepEqual(seen, [
    { method: 'PUT', path: '/api/mlflow/api/2.0/mlflow-artifacts/artifacts/onrequest/a.bin', status: 0, fault: undefined },
  ]);
});

// ---------------------------------------------------------------------------------------------
// runner: signals, GITHUB_STATE, post step

test('runAction signals: SIGINT on a stdout pattern is trapped (exit 3); a timed SIGTERM kills; untriggered ones are not sent', async () => {
  const trap = writeScript(
    'trap.mjs',
    `process.on('SIGINT', () => { console.log('got SIGINT'); process.exit(3); });
setTimeout(() => console.log('uploading'), 200);
setTimeout(() => process.exit(0), 30_000);
`,
  );
  const r = await runAction({}, { entry: trap, signals: [{ signal: 'SIGINT', when: /^uploading$/m, delayMs: 100 }], timeoutMs: 40_000 });
  assert.equal(r.code, 3, r.stderr);
  assert.equal(r.exitSignal, null);
  assert.equal(r.stdout, 'uploading\ngot SIGINT\n');
  assert.equal(r.signalled.length, 1);
  const sent = r.signalled[0]!;
  assert.equal(sent.signal, 'SIGINT');
  assert.ok(sent.atMs >= 300, `sent at ${sent.atMs} ms`);
  assert.ok(r.exitedAtMs >= sent.atMs && r.exitedAtMs - sent.atMs < 2_000, `exited at ${r.exitedAtMs}, SIGINT at ${sent.atMs}`);
  console.log(`# SIGINT at ${sent.atMs} ms, exited at ${r.exitedAtMs} ms`);

  // Time-based trigger, no handler: SIGTERM kills (code null). The pattern that never shows is not sent.
  const idle = writeScript('idle.mjs', `console.log('idle'); setTimeout(() => process.exit(0), 30_000);\n`);
  const t = await runAction(
    {},
    {
      entry: idle,
      signals: [
        { signal: 'SIGTERM', when: 300, delayMs: 200 },
        { signal: 'SIGINT', when: /never printed/ },
      ],
      timeoutMs: 40_000,
    },
  );
  assert.deepEqual([t.code, t.exitSignal], [null, 'SIGTERM']);
  assert.deepEqual(
    t.signalled.map((s) => s.signal),
    ['SIGTERM'],
  );
  assert.ok(t.signalled[0]!.atMs >= 500, `SIGTERM at ${t.signalled[0]!.atMs} ms`);
  assert.ok(t.exitedAtMs - t.signalled[0]!.atMs < 2_000);

  // A trigger due after the child exited is never sent.
  const quick = writeScript('quick.mjs', `console.log('done');\n`);
  const q = await runAction({}, { entry: quick, signals: [{ signal: 'SIGINT', when: 5_000 }] });
  assert.deepEqual([q.code, q.signalled], [0, []]);
  assert.ok(q.exitedAtMs < 5_000);
});

test('GITHUB_STATE round trip: a saved state record reaches runPostStep as STATE_<name>, inputs as in main', async () => {
  const inputs = { 'tracking-uri': 'http://127.0.0.1:1/api/mlflow', 'model name': 'churn' };
  const main = writeScript(
    'main.mjs',
    `import fs from 'node:fs';
fs.appendFileSync(process.env.GITHUB_STATE, 'model_Version<<ghadelim_1\\n3\\nghadelim_1\\n');
fs.appendFileSync(process.env.GITHUB_STATE, 'notes<<ghadelim_2\\nline one\\nline two\\nghadelim_2\\n');
console.log('saved');
`,
  );
  const r = await runAction(inputs, { entry: main });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(r.state, { model_Version: '3', notes: 'line one\nline two' });

  const dump = writeScript(
    'post.mjs',
    `const pick = (p) => Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith(p)));
console.log(JSON.stringify({ state: pick('STATE_'), inputs: pick('INPUT_') }));
`,
  );
  const post = await runPostStep(inputs, r.state, { entry: dump });
  assert.equal(post.code, 0, post.stderr);
  assert.deepEqual(JSON.parse(post.stdout), {
    state: { STATE_model_Version: '3', STATE_notes: 'line one\nline two' },
    inputs: { 'INPUT_TRACKING-URI': 'http://127.0.0.1:1/api/mlflow', INPUT_MODEL_NAME: 'churn' },
  });
  assert.deepEqual(post.state, {});
});

test('GITHUB_STATE with the real @actions/core: saveState in main, getState in post', async () => {
  const core = import.meta.resolve('@actions/core');
  const main = writeScript(
    'core-main.mjs',
    `import * as core from ${JSON.stringify(core)};
core.saveState('registeredVersion', { name: 'churn', version: '4' });
core.saveState('run_id', 'abc123');
`,
  );
  const r = await runAction({}, { entry: main });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, ''); // went to the GITHUB_STATE file, not a ::save-state:: command
  assert.deepEqual(r.state, { registeredVersion: '{"name":"churn","version":"4"}', run_id: 'abc123' });

  const post = writeScript(
    'core-post.mjs',
    `import * as core from ${JSON.stringify(core)};
console.log(JSON.stringify([core.getState('registeredVersion'), core.getState('run_id'), core.getState('missing')]));
`,
  );
  const p = await runPostStep({}, r.state, { entry: post });
  assert.equal(p.code, 0, p.stderr);
  assert.deepEqual(JSON.parse(p.stdout), ['{"name":"churn","version":"4"}', 'abc123', '']);
});

// ---------------------------------------------------------------------------------------------
// mlflow server kill / restart (last: it ends by stopping the shared server)

test('mlflow kill() + restart(): same port, data survives; restart() on a live server; stop() afterwards', async () => {
  const api = `${mlflow.url}/api/2.0/mlflow`;
  const created = await postJson(`${api}/experiments/create`, { name: 'survives-restart' });
  assert.equal(created.status, 200, created.body);
  const expId = (JSON.parse(created.body) as { experiment_id: string }).experiment_id;
  const blob = randomBytes(100 * 1024);
  const up = await put(`${mlflow.url}/api/2.0/mlflow-artifacts/artifacts/restart/blob.bin`, blob);
  assert.equal(up.status, 200);
  const { url, port, dir } = mlflow;
  const p = await proxy({});

  let t0 = Date.now();
  await mlflow.kill();
  const killMs = Date.now() - t0;
  const down = await fetch(`${url}/health`).then(
    (r) => `HTTP ${r.status}`,
    (e: Error) => (e.cause as { code?: string } | undefined)?.code ?? e.message,
  );
  // Refused, or a kept-alive socket to the killed server breaks: either way it is down.
  assert.match(down, /^(ECONNREFUSED|UND_ERR_SOCKET|ECONNRESET)$/);
  assert.ok(fs.existsSync(path.join(dir, 'mlflow.db')), 'the db is kept after kill()');
  // The proxy now answers 502 for the dead upstream.
  const viaProxyDown = await fetch(`${p.trackingUri}/health`, { headers: bearer });
  assert.equal(viaProxyDown.status, 502);
  await viaProxyDown.arrayBuffer();
  await mlflow.kill(); // no-op when already down

  t0 = Date.now();
  await mlflow.restart();
  const restartMs = Date.now() - t0;
  assert.deepEqual([mlflow.url, mlflow.port], [url, port]);
  assert.equal((await experimentByName('survives-restart')).id, expId);
  const dl = await fetch(`${url}/api/2.0/mlflow-artifacts/artifacts/restart/blob.bin`);
  assert.equal(dl.status, 200);
  assert.ok(Buffer.from(await dl.arrayBuffer()).equals(blob));
  // The proxy forwards to the restarted server.
  const viaProxy = await fetch(`${p.trackingUri}/health`, { headers: bearer });
  assert.deepEqual([viaProxy.status, await viaProxy.text()], [200, 'OK']);

  // restart() on a running server kills it first.
  await postJson(`${api}/experiments/create`, { name: 'survives-second-restart' });
  t0 = Date.now();
  await mlflow.restart();
  const liveRestartMs = Date.now() - t0;
  assert.match((await experimentByName('survives-second-restart')).id ?? '', /^\d+$/);
  assert.equal(mlflow.logs().match(/--- \[harness\] restarting mlflow server/g)?.length, 2);
  console.log(`# kill() ${killMs} ms; restart() after kill ${restartMs} ms; restart() of a live server ${liveRestartMs} ms`);

  // stop() stops the new process and removes the dir; restart() is refused afterwards.
  await mlflow.stop();
  assert.equal(fs.existsSync(dir), false);
  const gone = await fetch(`${url}/health`).then(
    (r) => `HTTP ${r.status}`,
    (e: Error) => (e.cause as { code?: string } | undefined)?.code ?? e.message,
  );
  assert.equal(gone, 'ECONNREFUSED');
  await assert.rejects(mlflow.restart(), /restart\(\) after stop\(\)/);
  await mlflow.kill(); // no-op
});
