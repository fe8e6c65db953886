// Every way the registry can fail gets its own diagnosis, in verify and register mode:
// the step, the request, the status, the server's words and what to do. Real MLflow
// servers fail where they can (no artifact serving, a wrong prefix, basic-auth 401/403);
// the registry-like front proxy injects only what a healthy server never does.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { assertNoSecret, checksOf, errorOf } from '../support/action-asserts.ts';
import { startFakeAuth, type FakeAuth } from '../support/fake-auth.ts';
import { startFrontProxy, type FrontProxyOptions } from '../support/front-proxy.ts';
import { createUser, startMlflowServer, type MlflowServer } from '../support/mlflow-server.ts';
import { SUPPORT_DIR } from '../support/paths.ts';
import { freePort } from '../support/ports.ts';
import { pythonJson } from '../support/python.ts';
import { registryState } from '../support/registry-state.ts';
import { runAction, type ActionRun } from '../support/run-action.ts';
import { selfSignedCert } from '../support/tls.ts';

const KEY = 'fake-key-diag-rw-6e5d4c3b2a';
const OTHER_SERVICE_KEY = 'fake-key-diag-mlp-9f8e7d6c5b';
const UNKNOWN_KEY = 'fake-key-diag-unknown-000000';
const ADMIN = { username: 'admin', password: 'admin-password-1234' };
const ALICE = { username: 'alice', password: 'alice-password-5678' };
const SECRETS = [KEY, OTHER_SERVICE_KEY, UNKNOWN_KEY, ADMIN.password, ALICE.password];

let mlflow: MlflowServer;
let noServe: MlflowServer;
let basicAuth: MlflowServer;
let auth: FakeAuth;
let modelDir: string;

before(async () => {
  const work = mkdtempSync(path.join(tmpdir(), 'e2e-diagnosis-'));
  [mlflow, noServe, basicAuth, { model_dir: modelDir }] = await Promise.all([
    startMlflowServer(),
    startMlflowServer({ serveArtifacts: false }),
    startMlflowServer({ basicAuth: { adminUsername: ADMIN.username, adminPassword: ADMIN.password, defaultPermission: 'NO_PERMISSIONS' } }),
    pythonJson<{ model_dir: string }>(path.join(SUPPORT_DIR, 'make_model.py'), [path.join(work, 'model')]),
  ]);
  await createUser(basicAuth, ADMIN, ALICE);
  auth = await startFakeAuth({
    [KEY]: { service_id: 'platform', scopes: ['read', 'write'] },
    [OTHER_SERVICE_KEY]: { service_id: 'ml-platform', scopes: ['read', 'write'] },
  });
});

after(async () => {
  await auth?.stop();
  await Promise.allSettled([mlflow?.stop(), noServe?.stop(), basicAuth?.stop()]);
});

/** Runs the action against a front proxy with these options, in front of the healthy server. */
async function throughProxy(
  opts: Partial<FrontProxyOptions>,
  inputs: Record<string, string>,
  env: Record<string, string> = {},
): Promise<ActionRun> {
  const proxy = await startFrontProxy({ upstream: mlflow.url, validKeys: [KEY, OTHER_SERVICE_KEY], ...opts });
  try {
    return await runAction({ 'api-key': KEY, 'auth-url': auth.url, 'tracking-uri': proxy.trackingUri, ...inputs }, { env });
  } finally {
    await proxy.stop();
  }
}

// Retries are the fault suite's subject (reliability.test.ts); here each failure is seen once.
const verify = { mode: 'verify', 'max-retries': '0' };
const register = () => ({ 'model-path': modelDir, 'model-name': 'diagnosed', 'max-retries': '0' });

/**
 * verify mode: exit 1, status fail, the named check failed with these words, no secret
 * shown, and nothing written to the server behind it.
 */
async function assertCheckFailed(
  server: MlflowServer,
  run: () => Promise<ActionRun>,
  name: string,
  patterns: RegExp[],
): Promise<ActionRun> {
  const headers = server.basicAuth ? { headers: { authorization: basic(ADMIN) } } : {};
  const before = await registryState(server.url, headers);
  const r = await run();
  assert.equal(r.code, 1, r.stdout);
  assert.equal(r.outputs.status, 'fail');
  const check = checksOf(r)[name];
  assert.ok(check, `no check named ${name}`);
  assert.equal(check.result, 'fail', check.detail);
  const text = `${check.detail}\n${check.request ?? ''}\n${check.hint ?? ''}`;
  for (const p of patterns) assert.match(text, p);
  assert.match(errorOf(r), new RegExp(`- ${name}: `));
  assert.match(r.summary, /## ❌ Registry check failed/);
  assertNoSecret(r, SECRETS);
  assert.deepEqual(await registryState(server.url, headers), before, 'verify mode wrote something');
  return r;
}
/** register mode: exit 1, these words in the error, no outputs, nothing written. */
async function assertRegisterFailed(server: MlflowServer, run: () => Promise<ActionRun>, patterns: RegExp[]): Promise<void> {
  const before = await registryState(server.url, server.basicAuth ? { headers: { authorization: basic(ADMIN) } } : {});
  const r = await run();
  assert.equal(r.code, 1, r.stdout);
  const message = errorOf(r);
  for (const p of patterns) assert.match(message, p);
  assert.match(r.summary, /## ❌ Model registration failed/);
  assert.equal(r.outputs['model-version'], undefined);
  assertNoSecret(r, SECRETS);
  const afterState = await registryState(server.url, server.basicAuth ? { headers: { authorization: basic(ADMIN) } } : {});
  assert.deepEqual(afterState, before, 'nothing was written: no experiment, run, registered model or version');
}

const basic = (c: { username: string; password: string }) => `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}`;

describe('network failures', () => {
  test('connection refused', async () => {
    const port = await freePort();
    const r = await assertCheckFailed(
      mlflow,
      () => runAction({ ...verify, 'tracking-uri': `http://127.0.0.1:${port}`, 'auth-url': '' }),
      'Tracking server',
      [new RegExp(`connection refused by 127\\.0\\.0\\.1:${port}`), /Nothing is listening/],
    );
    assert.equal(checksOf(r)['Artifact proxy']!.result, 'skipped');
  });

  test('a timeout: no answer within request-timeout', async () => {
    await assertCheckFailed(
      mlflow,
      () => throughProxy({ faults: [{ path: /experiments\/search/, stallMs: 10_000 }] }, { ...verify, 'request-timeout': '2' }),
      'Tracking server',
      [/no answer from 127\.0\.0\.1:\d+ within 2 s/, /GET \/api\/mlflow\/api\/2\.0\/mlflow\/experiments\/search/],
    );
  });

  test('a self-signed TLS certificate fails verification; NODE_EXTRA_CA_CERTS makes it trusted', async () => {
    const cert = selfSignedCert();
    await assertCheckFailed(mlflow, () => throughProxy({ tls: { key: cert.key, cert: cert.cert } }, verify), 'Tracking server', [
      /TLS verification failed for 127\.0\.0\.1:\d+ \(DEPTH_ZERO_SELF_SIGNED_CERT\)/,
      /NODE_EXTRA_CA_CERTS/,
    ]);
    const trusted = await throughProxy({ tls: { key: cert.key, cert: cert.cert } }, verify, { NODE_EXTRA_CA_CERTS: cert.certPath });
    assert.equal(trusted.code, 0, trusted.stdout);
    assert.equal(checksOf(trusted)['Tracking server']!.result, 'pass');
  });

  test('a redirect is never followed, and its target is named', async () => {
    const r = await assertCheckFailed(
      mlflow,
      () => throughProxy({ redirect: { status: 307, location: 'https://login.example.com/sso' } }, verify),
      'Tracking server',
      [/redirect \(HTTP 307\) to https:\/\/login\.example\.com\/sso/, /redirects are never followed/],
    );
    assert.match(checksOf(r)['Tracking server']!.request ?? '', /→ HTTP 307/);
  });
});

describe('key failures', () => {
  test('401: an invalid or expired key', async () => {
    const r = await assertCheckFailed(mlflow, () => throughProxy({}, { ...verify, 'api-key': UNKNOWN_KEY }), 'Key validation', [
      /HTTP 401/,
      /Invalid or expired API key/,
      /invalid, expired or revoked/,
      /POST \/api\/v1\/keys\/validate → HTTP 401/,
    ]);
    assert.equal(checksOf(r)['Tracking server']!.result, 'skipped');
  });

  test('401: a key issued for another service', async () => {
    await assertCheckFailed(mlflow, () => throughProxy({}, { ...verify, 'api-key': OTHER_SERVICE_KEY }), 'Key validation', [
      /HTTP 401/,
      /Key not authorized for this service/,
      /issued for another service/,
      /"platform"/,
    ]);
  });

  test('403 REGISTRY_ADMIN_REQUIRED from the Hokusai registry, in verify and register mode', async () => {
    await assertCheckFailed(mlflow, () => throughProxy({ adminKeys: [] }, verify), 'Tracking server', [
      /HTTP 403 REGISTRY_ADMIN_REQUIRED/,
      /Admin access required for the model registry/,
      /registry-admin keys/,
    ]);
    await assertRegisterFailed(mlflow, () => throughProxy({ adminKeys: [] }, register()), [
      /Preflight failed: HTTP 403 REGISTRY_ADMIN_REQUIRED/,
      /request: GET \/api\/mlflow\/api\/2\.0\/mlflow\/experiments\/get-by-name → HTTP 403/,
      /registry-admin keys/,
    ]);
  });

  test('basic-auth server: a wrong password is a real 401', async () => {
    await assertCheckFailed(
      basicAuth,
      () =>
        runAction({
          ...verify,
          'tracking-uri': basicAuth.url,
          'auth-url': '',
          'tracking-username': 'alice',
          'tracking-password': 'wrong-password-000',
        }),
      'Tracking server',
      [/HTTP 401/, /Check tracking-username and tracking-password/],
    );
  });

  test('basic-auth server: a user without permission gets a real 403, and nothing is written', async () => {
    await assertRegisterFailed(
      basicAuth,
      () =>
        runAction({
          ...register(),
          'tracking-uri': basicAuth.url,
          'auth-url': '',
          'tracking-username': ALICE.username,
          'tracking-password': ALICE.password,
          'experiment-name': 'Default',
        }),
      [/HTTP 403/, /lack permission/],
    );
  });
});

describe('routing failures', () => {
  test('404: a tracking-uri whose path prefix the server does not have (real server)', async () => {
    await assertCheckFailed(
      mlflow,
      () => runAction({ ...verify, 'tracking-uri': `${mlflow.url}/api/mlflow`, 'auth-url': '' }),
      'Tracking server',
      [/HTTP 404/, /not found below tracking-uri/, /full path prefix/],
    );
    await assertRegisterFailed(mlflow, () => runAction({ ...register(), 'tracking-uri': `${mlflow.url}/api/mlflow`, 'auth-url': '' }), [
      /Preflight failed: HTTP 404/,
      /request: GET \/api\/mlflow\/api\/2\.0\/mlflow\/experiments\/get-by-name → HTTP 404/,
      /full path prefix/,
    ]);
  });

  test('404: a tracking-uri without the /api/mlflow prefix the registry needs', async () => {
    const proxy = await startFrontProxy({ upstream: mlflow.url, validKeys: [KEY] });
    try {
      await assertCheckFailed(
        mlflow,
        () => runAction({ ...verify, 'api-key': KEY, 'auth-url': auth.url, 'tracking-uri': proxy.url }),
        'Tracking server',
        [/HTTP 404/, /GET \/api\/2\.0\/mlflow\/experiments\/search → HTTP 404/, /https:\/\/registry\.hokus\.ai\/api\/mlflow/],
      );
    } finally {
      await proxy.stop();
    }
  });

  test('401 on the artifact route alone: the proxy does not pass the key on', async () => {
    await assertCheckFailed(
      mlflow,
      () =>
        throughProxy(
          {
            faults: [
              {
                path: /^\/api\/2\.0\/mlflow-artifacts\//,
                status: 401,
                headers: { 'content-type': 'application/json' },
                body: '{"detail":"API key required"}',
              },
            ],
          },
          verify,
        ),
      'Artifact proxy',
      [/HTTP 401/, /API key required/, /must forward the Authorization header/],
    );
  });

  test('404 on the artifact route alone (the July 2025 registry)', async () => {
    const r = await assertCheckFailed(mlflow, () => throughProxy({ routeArtifacts: false }, verify), 'Artifact proxy', [
      /HTTP 404/,
      /GET \/api\/mlflow\/api\/2\.0\/mlflow-artifacts\/artifacts → HTTP 404/,
      /not served at this address/,
    ]);
    assert.equal(checksOf(r)['Tracking server']!.result, 'pass');
    assert.equal(checksOf(r)['Model registry']!.result, 'pass');
  });

  // With --no-serve-artifacts and no bucket, runs get a path on the server's own disk: no road
  // reaches it, so both modes name the store and the two ways out, before anything is created.
  test('--no-serve-artifacts with a local store (real server), in verify and register mode', async () => {
    const r = await assertCheckFailed(
      noServe,
      () => runAction({ ...verify, 'tracking-uri': noServe.url, 'auth-url': '' }),
      'Artifact store',
      [
        /a path on the server \(a local artifact store\), which the action cannot write to yet/,
        /--serve-artifacts/,
        /artifact-store: s3:\/\//,
      ],
    );
    assert.equal(checksOf(r)['Tracking server']!.result, 'pass');
    assert.equal(checksOf(r)['Artifact proxy']!.result, 'skipped');
    await assertRegisterFailed(noServe, () => runAction({ ...register(), 'tracking-uri': noServe.url, 'auth-url': '' }), [
      /a path on the server \(a local artifact store\)/,
      /artifact-store: s3:\/\/<bucket>\/<prefix>/,
      /--serve-artifacts/,
      /Nothing was registered/,
    ]);
  });
});

describe('load and server failures', () => {
  test('429 with its Retry-After value', async () => {
    await assertCheckFailed(
      mlflow,
      () =>
        throughProxy(
          {
            faults: [
              {
                path: /experiments\/search/,
                status: 429,
                headers: { 'retry-after': '30', 'content-type': 'application/json' },
                body: '{"detail":"Rate limit exceeded"}',
              },
            ],
          },
          verify,
        ),
      'Tracking server',
      [/HTTP 429; the server asks to retry after 30 s/, /Rate limit exceeded/, /wait 30 s/],
    );
  });

  test('5xx from a gateway', async () => {
    await assertCheckFailed(
      mlflow,
      () =>
        throughProxy(
          {
            faults: [
              {
                path: /registered-models\/search/,
                status: 502,
                headers: { 'content-type': 'text/html' },
                body: '<html><body><h1>502 Bad Gateway</h1></body></html>',
              },
            ],
          },
          verify,
        ),
      'Model registry',
      [/HTTP 502/, /502 Bad Gateway/, /gateway in front of MLflow/],
    );
  });

  test('413 on an upload: named, and the run ends FAILED with nothing registered', async () => {
    const before = await registryState(mlflow.url);
    const r = await throughProxy(
      {
        faults: [
          {
            method: 'PUT',
            path: /^\/api\/2\.0\/mlflow-artifacts\//,
            status: 413,
            headers: { 'content-type': 'text/html' },
            body: '<html><h1>413 Request Entity Too Large</h1></html>',
          },
        ],
      },
      register(),
    );
    assert.equal(r.code, 1);
    const message = errorOf(r);
    assert.match(message, /Upload model failed: HTTP 413/);
    assert.match(message, /server said: 413 Request Entity Too Large/);
    assert.match(message, /body limit/);
    const afterState = await registryState(mlflow.url);
    assert.equal(afterState.versions.length, before.versions.length);
    const newRuns = afterState.runs.filter((x) => !before.runs.some((b) => b.run_id === x.run_id));
    assert.deepEqual(
      newRuns.map((x) => x.status),
      ['FAILED'],
    );
  });
});
