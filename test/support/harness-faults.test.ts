/**
 * Proves the harness' failure modes against a real MLflow server: basic-auth server + users,
 * front-proxy adminKeys / redirect / faults / stall / TLS.
 * Run: node_modules/.bin/node --test test/support/harness-faults.test.ts
 *
 * One MLflow server (with --app-name basic-auth) serves the whole file. The proxy forwards its
 * Bearer header, which the basic-auth server does not accept, so the proxy tests use upstream
 * routes that skip auth (`/health`) or treat the upstream's 401 as proof of forwarding.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Agent, fetch as undiciFetch } from 'undici';
import { startMlflowServer, createUser, basicAuthHeader } from './mlflow-server.ts';
import type { MlflowServer } from './mlflow-server.ts';
import { startFrontProxy } from './front-proxy.ts';
import type { FrontProxy } from './front-proxy.ts';
import { selfSignedCert } from './tls.ts';

const ADMIN = { username: 'admin', password: 'admin-password-1234' };
const ALICE = { username: 'alice', password: 'alice-password-1234' };
const ADMIN_KEY = 'fake-key-admin_key';
const PLAIN_KEY = 'fake-key-rw_key';

let mlflow: MlflowServer;
const proxies: FrontProxy[] = [];

before(async () => {
  const t0 = Date.now();
  mlflow = await startMlflowServer({
    basicAuth: { adminUsername: ADMIN.username, adminPassword: ADMIN.password, defaultPermission: 'NO_PERMISSIONS' },
  });
  console.log(`# basic-auth mlflow server healthy after ${Date.now() - t0} ms at ${mlflow.url}`);
});

after(async () => {
  await Promise.allSettled(proxies.map((p) => p.stop()));
  await mlflow?.stop();
});

async function proxy(opts: Omit<Parameters<typeof startFrontProxy>[0], 'upstream'>): Promise<FrontProxy> {
  const p = await startFrontProxy({ upstream: mlflow.url, ...opts });
  proxies.push(p);
  return p;
}

interface Res {
  status: number;
  contentType: string | null;
  body: string;
}
async function call(url: string, init: RequestInit = {}): Promise<Res> {
  const res = await fetch(url, { ...init, redirect: 'manual', signal: init.signal ?? AbortSignal.timeout(30_000) });
  return { status: res.status, contentType: res.headers.get('content-type'), body: await res.text() };
}
const json = (auth: string): Record<string, string> => ({ authorization: auth, 'content-type': 'application/json' });
const bearer = (key: string): Record<string, string> => ({ authorization: `Bearer ${key}` });

test('basic-auth server: /health is open, API needs credentials, createUser works, non-admin gets 403', async () => {
  assert.deepEqual(mlflow.basicAuth, ADMIN);
  const api = `${mlflow.url}/api/2.0/mlflow`;

  const health = await call(`${mlflow.url}/health`);
  assert.equal(health.status, 200);
  assert.equal(health.body, 'OK');

  const anon = await fetch(`${api}/experiments/search?max_results=1`);
  assert.equal(anon.status, 401);
  assert.equal(anon.headers.get('www-authenticate'), 'Basic realm="mlflow"');
  assert.match(await anon.text(), /^You are not authenticated\./);

  const asBearer = await call(`${api}/experiments/search?max_results=1`, { headers: bearer('anything') });
  assert.equal(asBearer.status, 401);

  await createUser(mlflow, ADMIN, ALICE);
  await assert.rejects(createUser(mlflow, ADMIN, ALICE), /HTTP 400: .*RESOURCE_ALREADY_EXISTS/);
  await assert.rejects(createUser(mlflow, ALICE, { username: 'bob', password: 'bob-password-1234' }), /HTTP 403: Permission denied/);

  const wrongPw = await call(`${api}/experiments/search?max_results=1`, {
    headers: { authorization: basicAuthHeader({ username: ALICE.username, password: 'not-the-password' }) },
  });
  assert.equal(wrongPw.status, 401);

  // The admin owns an experiment; alice (default permission NO_PERMISSIONS) can't touch it.
  const created = await call(`${api}/experiments/create`, {
    method: 'POST',
    headers: json(basicAuthHeader(ADMIN)),
    body: JSON.stringify({ name: 'admin-exp' }),
  });
  assert.equal(created.status, 200, created.body);
  const experimentId = (JSON.parse(created.body) as { experiment_id: string }).experiment_id;

  // Searches are allowed but filtered: 200, and alice sees nothing.
  const search = await call(`${api}/experiments/search?max_results=1`, { headers: json(basicAuthHeader(ALICE)) });
  assert.equal(search.status, 200);
  assert.deepEqual(JSON.parse(search.body), { next_page_token: '' });

  // register mode: creating a run in the admin's experiment → 403 (text body, not JSON).
  const runCreate = await call(`${api}/runs/create`, {
    method: 'POST',
    headers: json(basicAuthHeader(ALICE)),
    body: JSON.stringify({ experiment_id: experimentId }),
  });
  assert.deepEqual(runCreate, { status: 403, contentType: 'text/html; charset=utf-8', body: 'Permission denied' });

  // verify mode (read-only): looking the experiment up by name → 403 too.
  const byName = await call(`${api}/experiments/get-by-name?experiment_name=admin-exp`, { headers: json(basicAuthHeader(ALICE)) });
  assert.deepEqual(byName, { status: 403, contentType: 'text/html; charset=utf-8', body: 'Permission denied' });

  // ...while alice can still create (and own) her own experiment.
  const own = await call(`${api}/experiments/create`, {
    method: 'POST',
    headers: json(basicAuthHeader(ALICE)),
    body: JSON.stringify({ name: 'alice-exp' }),
  });
  assert.equal(own.status, 200, own.body);
});

test('proxy adminKeys: a valid non-admin key gets 403 REGISTRY_ADMIN_REQUIRED; an admin key is forwarded', async () => {
  const p = await proxy({ validKeys: [ADMIN_KEY, PLAIN_KEY], adminKeys: [ADMIN_KEY] });

  const denied = await call(`${p.trackingUri}/api/2.0/mlflow/experiments/search?max_results=1`, { headers: bearer(PLAIN_KEY) });
  assert.equal(denied.status, 403);
  assert.equal(denied.contentType, 'application/json');
  assert.deepEqual(JSON.parse(denied.body), {
    detail: 'Admin access required for the model registry',
    error: 'REGISTRY_ADMIN_REQUIRED',
  });
  // the artifact routes are registry routes too
  const deniedArtifacts = await call(`${p.trackingUri}/api/2.0/mlflow-artifacts/artifacts?path=1`, { headers: bearer(PLAIN_KEY) });
  assert.equal(deniedArtifacts.status, 403);

  // unknown keys are still 401, not 403
  const unknown = await call(`${p.trackingUri}/health`, { headers: bearer('nope') });
  assert.equal(unknown.status, 401);

  const ok = await call(`${p.trackingUri}/health`, { headers: bearer(ADMIN_KEY) });
  assert.deepEqual([ok.status, ok.body], [200, 'OK']);
  // Forwarded (the upstream basic-auth server rejects the Bearer header with its own 401).
  const upstream401 = await call(`${p.trackingUri}/api/2.0/mlflow/experiments/search?max_results=1`, { headers: bearer(ADMIN_KEY) });
  assert.equal(upstream401.status, 401);
  assert.match(upstream401.body, /^You are not authenticated\./);
});

test('proxy redirect: every /api/mlflow request gets the redirect, nothing is forwarded', async () => {
  const p = await proxy({ validKeys: [ADMIN_KEY], redirect: { status: 308, location: 'https://localhost:1/api/mlflow' } });
  const r = await fetch(`${p.trackingUri}/api/2.0/mlflow/experiments/get-by-name?experiment_name=a%20b`, {
    method: 'POST',
    headers: bearer(ADMIN_KEY),
    body: '{}',
    redirect: 'manual',
  });
  assert.equal(r.status, 308);
  assert.equal(r.headers.get('location'), 'https://localhost:1/api/mlflow/api/2.0/mlflow/experiments/get-by-name?experiment_name=a%20b');
  await r.arrayBuffer();
  // also without a key
  const anon = await call(`${p.trackingUri}/health`);
  assert.equal(anon.status, 308);
  // outside the prefix: plain 404
  assert.equal((await call(`${p.url}/other`)).status, 404);
  assert.deepEqual(
    p.requests.map((r) => r.status),
    [308, 308, 404],
  );
});

test('proxy faults: times:2 gives two faults, then forwards; faults only hit authorized requests', async () => {
  const p = await proxy({
    validKeys: [ADMIN_KEY],
    faults: [
      { method: 'PUT', path: /^\/health$/, status: 418 }, // wrong method: never matches a GET
      { path: /^\/health$/, status: 503, headers: { 'content-type': 'text/plain', 'retry-after': '1' }, body: 'try later', times: 2 },
    ],
  });
  const url = `${p.trackingUri}/health`;
  assert.equal((await call(url)).status, 401); // no key: the key check comes first, fault not used up

  const first = await fetch(url, { headers: bearer(ADMIN_KEY) });
  assert.equal(first.status, 503);
  assert.equal(first.headers.get('retry-after'), '1');
  assert.equal(first.headers.get('content-type'), 'text/plain');
  assert.equal(await first.text(), 'try later');
  assert.deepEqual(await call(url, { headers: bearer(ADMIN_KEY) }), { status: 503, contentType: 'text/plain', body: 'try later' });
  const third = await call(url, { headers: bearer(ADMIN_KEY) });
  assert.deepEqual([third.status, third.body], [200, 'OK']);
  assert.deepEqual(
    p.requests.map((r) => [r.status, r.fault]),
    [
      [401, undefined],
      [503, 1],
      [503, 1],
      [200, undefined],
    ],
  );

  // The fault list is live: add one mid-test.
  p.faults.push({ path: /^\/api\/2\.0\/mlflow-artifacts\//, status: 500, body: '<html>boom</html>', times: 1 });
  const boom = await call(`${p.trackingUri}/api/2.0/mlflow-artifacts/artifacts?path=1`, { headers: bearer(ADMIN_KEY) });
  assert.deepEqual([boom.status, boom.contentType, boom.body], [500, null, '<html>boom</html>']);
});

test('proxy stallMs: a client with a 1 s timeout times out; stop() does not wait for the stall', async () => {
  const p = await proxy({
    validKeys: [ADMIN_KEY],
    faults: [{ method: 'POST', path: /^\/api\/2\.0\/mlflow\/runs\/create$/, stallMs: 60_000 }],
  });
  const t0 = Date.now();
  await assert.rejects(
    fetch(`${p.trackingUri}/api/2.0/mlflow/runs/create`, {
      method: 'POST',
      headers: { ...bearer(ADMIN_KEY), 'content-type': 'application/json' },
      body: JSON.stringify({ experiment_id: '0' }),
      signal: AbortSignal.timeout(1_000),
    }),
    (err: Error) => err.name === 'TimeoutError',
  );
  const waited = Date.now() - t0;
  assert.ok(waited >= 900 && waited < 10_000, `timed out after ${waited} ms`);
  assert.deepEqual([p.requests[0]?.status, p.requests[0]?.fault], [0, 0]);

  // A second stalled request left open (never aborted by the client): stop() must still resolve quickly.
  const hanging = fetch(`${p.trackingUri}/api/2.0/mlflow/runs/create`, {
    method: 'POST',
    headers: bearer(ADMIN_KEY),
    body: '{}',
  }).then(
    (r) => `status ${r.status}`,
    (err: Error) => `${err.name}: ${(err.cause as { code?: string } | undefined)?.code ?? err.message}`,
  );
  while (p.requests.length < 2) await new Promise((r) => setTimeout(r, 20));
  const s0 = Date.now();
  await p.stop();
  assert.ok(Date.now() - s0 < 2_000, `stop() took ${Date.now() - s0} ms`);
  assert.match(await hanging, /^TypeError: /); // fetch failed: the socket was destroyed
});

test('proxy tls: self-signed cert is rejected by default and accepted with an undici Agent trusting it', async () => {
  const cert = selfSignedCert();
  const p = await proxy({ validKeys: [ADMIN_KEY], tls: { key: cert.key, cert: cert.cert } });
  assert.match(p.url, /^https:\/\/127\.0\.0\.1:\d+$/);
  assert.equal(p.trackingUri, `${p.url}/api/mlflow`);
  const url = `${p.trackingUri}/health`;

  // node's global fetch
  const err = await fetch(url, { headers: bearer(ADMIN_KEY) }).then(
    () => assert.fail('expected a certificate error'),
    (e: Error) => e,
  );
  assert.equal(err.message, 'fetch failed');
  const code = (err.cause as { code?: string } | undefined)?.code;
  console.log(`# global fetch against the self-signed proxy: cause.code=${code}`);
  assert.equal(code, 'DEPTH_ZERO_SELF_SIGNED_CERT');

  // undici (the npm package the action bundles), default CA
  const err2 = await undiciFetch(url, { headers: bearer(ADMIN_KEY) }).then(
    () => assert.fail('expected a certificate error'),
    (e: Error) => e,
  );
  assert.equal((err2.cause as { code?: string } | undefined)?.code, 'DEPTH_ZERO_SELF_SIGNED_CERT');

  const agent = new Agent({ connect: { ca: cert.cert } });
  try {
    const res = await undiciFetch(url, { headers: bearer(ADMIN_KEY), dispatcher: agent });
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'OK');
    // the key check still applies over TLS
    const noKey = await undiciFetch(url, { dispatcher: agent });
    assert.equal(noKey.status, 401);
    await noKey.arrayBuffer();
  } finally {
    await agent.close();
  }
  assert.deepEqual(
    p.requests.map((r) => r.status),
    [200, 401],
  );
});
