// mode: verify and dry runs against a real MLflow server behind the registry-like proxy:
// read-only, so every test also checks that the registry is exactly as it was.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { assertNoSecret, checksOf, errorOf } from '../support/action-asserts.ts';
import { startFakeAuth, type FakeAuth } from '../support/fake-auth.ts';
import { startFrontProxy, type FrontProxy } from '../support/front-proxy.ts';
import { startMlflowServer, type MlflowServer } from '../support/mlflow-server.ts';
import { SUPPORT_DIR } from '../support/paths.ts';
import { pythonJson } from '../support/python.ts';
import { registryState } from '../support/registry-state.ts';
import { GITHUB_ENV, runAction } from '../support/run-action.ts';

const KEY = 'fake-key-verify-rw-0a1b2c3d4e';
const READ_ONLY_KEY = 'fake-key-verify-ro-5f6a7b8c9d';
const KEYS = [KEY, READ_ONLY_KEY];

let mlflow: MlflowServer;
let auth: FakeAuth;
let proxy: FrontProxy;
let modelDir: string;

before(async () => {
  const work = mkdtempSync(path.join(tmpdir(), 'e2e-verify-'));
  const [server, made] = await Promise.all([
    startMlflowServer(),
    pythonJson<{ model_dir: string }>(path.join(SUPPORT_DIR, 'make_model.py'), [path.join(work, 'model')]),
  ]);
  mlflow = server;
  modelDir = made.model_dir;
  auth = await startFakeAuth({
    [KEY]: { service_id: 'platform', scopes: ['read', 'write'] },
    [READ_ONLY_KEY]: { service_id: 'platform', scopes: ['read'] },
  });
  proxy = await startFrontProxy({ upstream: mlflow.url, validKeys: KEYS });
  // One registered model with two versions and an alias, for the model check and the dry run.
  const base = {
    'api-key': KEY,
    'tracking-uri': proxy.trackingUri,
    'auth-url': auth.url,
    'model-path': modelDir,
    'model-name': 'existing',
  };
  for (const [sha, aliases] of [
    ['1'.repeat(40), 'champion'],
    [GITHUB_ENV.GITHUB_SHA, ''],
  ]) {
    const r = await runAction({ ...base, aliases: aliases! }, { env: { GITHUB_SHA: sha! } });
    assert.equal(r.code, 0, r.stdout);
  }
});

after(async () => {
  await Promise.allSettled([proxy?.stop(), auth?.stop()]);
  await mlflow?.stop();
});

const inputs = (over: Record<string, string> = {}) => ({
  mode: 'verify',
  'api-key': KEY,
  'tracking-uri': proxy.trackingUri,
  'auth-url': auth.url,
  ...over,
});

describe('mode: verify', () => {
  test('a healthy registry: every check passes, with latencies, and nothing is written', async () => {
    const before = await registryState(mlflow.url);
    const r = await runAction(inputs({ 'model-name': 'existing' }));
    assert.equal(r.code, 0, r.stdout);
    assert.equal(r.outputs.status, 'pass');
    const checks = checksOf(r);
    assert.deepEqual(Object.keys(checks), [
      'API key present',
      'Key validation',
      'Tracking server',
      'Model registry',
      'Artifact proxy',
      'Model',
    ]);
    for (const c of Object.values(checks)) assert.equal(c.result, 'pass', `${c.name}: ${c.detail}`);
    for (const name of ['Key validation', 'Tracking server', 'Model registry', 'Artifact proxy', 'Model']) {
      assert.equal(typeof checks[name]!.latency_ms, 'number', `${name} has a latency`);
    }
    assert.match(checks['Key validation']!.detail, /Valid for "platform"; scopes: read, write/);
    assert.match(checks.Model!.detail, /"existing" exists; latest version 2; aliases: champion → 1/);
    // All passed: one line, and the table collapsed.
    assert.match(r.summary, /^## ✅ 6 checks passed\n/);
    assert.match(r.summary, /<details><summary>The 6 checks<\/summary>\n\n\| Check \| Result \| Detail \|/);
    assert.match(r.summary, /^\| Artifact proxy \| ✅&nbsp;pass \| /m);
    assert.match(r.summary, /Read-only: nothing was written/);
    assertNoSecret(r, KEYS);
    assert.deepEqual(await registryState(mlflow.url), before);
  });

  test('a model that does not exist yet passes: the first registration creates it', async () => {
    const r = await runAction(inputs({ 'model-name': 'brand-new' }));
    assert.equal(r.code, 0, r.stdout);
    assert.match(checksOf(r).Model!.detail, /"brand-new" is not registered yet/);
  });

  test('a pull request from a fork has no key: skipped with a notice, not failed', async () => {
    const before = await registryState(mlflow.url);
    const r = await runAction(inputs({ 'api-key': '' }), {
      eventName: 'pull_request',
      event: { pull_request: { number: 3, head: { sha: 'f'.repeat(40) } } },
    });
    assert.equal(r.code, 0, r.stdout);
    assert.equal(r.outputs.status, 'pass');
    const checks = checksOf(r);
    assert.equal(checks['API key present']!.result, 'skipped');
    assert.match(checks['API key present']!.detail, /forks/);
    for (const name of ['Key validation', 'Tracking server', 'Model registry', 'Artifact proxy'])
      assert.equal(checks[name]!.result, 'skipped');
    assert.match(r.stdout, /^::notice title=No API key::/m);
    // Nothing was checked: not a green tick.
    assert.match(r.summary, /^## ⏭️ Registry not checked: all \d+ checks were skipped\n/);
    assert.doesNotMatch(r.summary, /✅/);
    assert.deepEqual(await registryState(mlflow.url), before);
  });

  test('require-key: true makes a missing key fail', async () => {
    const r = await runAction(inputs({ 'api-key': '', 'require-key': 'true' }));
    assert.equal(r.code, 1);
    assert.equal(r.outputs.status, 'fail');
    assert.equal(checksOf(r)['API key present']!.result, 'fail');
    assert.match(errorOf(r), /1 of 5 checks failed:\n {2}- API key present: api-key is empty and require-key is true/);
    assert.match(r.summary, /^## ❌ Registry check failed: API key present\n\n> <b>What to do:<\/b> Pass the key from a secret/);
    assert.doesNotMatch(r.summary, /Registry check failed: Check the registry/, 'the checks table is the one failure report');
  });

  test('a read-only key is a warning in verify mode (exit 0, with an annotation)', async () => {
    const r = await runAction(inputs({ 'api-key': READ_ONLY_KEY }));
    assert.equal(r.code, 0, r.stdout);
    assert.equal(r.outputs.status, 'pass');
    const c = checksOf(r)['Key validation']!;
    assert.equal(c.result, 'warn');
    assert.match(c.detail, /read-only; scopes: read\. Registering a model will fail/);
    assert.match(r.stdout, /^::warning title=Key validation::/m);
    assert.match(r.summary, /^## ⚠️ 4 checks passed, 1 warning: Key validation\n/);
    assertNoSecret(r, KEYS);
  });

  test('a plain MLflow server: no key, key validation off', async () => {
    const r = await runAction({ mode: 'verify', 'tracking-uri': mlflow.url, 'auth-url': '' });
    assert.equal(r.code, 0, r.stdout);
    const checks = checksOf(r);
    assert.equal(checks['API key present']!.result, 'skipped');
    assert.equal(checks['Key validation']!.result, 'skipped');
    assert.equal(checks['Artifact proxy']!.result, 'pass');
    assert.match(r.summary, /^## ✅ \d+ checks passed, 2 skipped\n/);
  });
});

describe('dry-run: true', () => {
  test('plans the registration, sees the version already registered for this commit, writes nothing', async () => {
    const before = await registryState(mlflow.url);
    const r = await runAction({
      'dry-run': 'true',
      'api-key': KEY,
      'tracking-uri': proxy.trackingUri,
      'auth-url': auth.url,
      'model-path': modelDir,
      'model-name': 'existing',
      aliases: 'staging',
    });
    assert.equal(r.code, 0, r.stdout);
    assert.match(r.summary, /^## ✅ Dry run: would register <code>existing<\/code>\n/);
    assert.match(r.summary, /^- <b>Model:<\/b> <code>existing<\/code> \(exists\)$/m);
    assert.match(r.summary, /^- <b>Files:<\/b> \d+ files, [\d.]+ KiB$/m);
    assert.match(r.summary, /^- <b>Version for this commit:<\/b> version 2 has the same content: a real run would reuse it$/m);
    assert.match(r.summary, /Nothing was written/);
    assert.match(r.outputs.digest ?? '', /^sha256:[0-9a-f]{64}$/);
    assert.equal(r.outputs['model-name'], 'existing');
    assert.equal(r.outputs['model-version'], undefined);
    assert.equal(auth.requests.at(-1)?.path, '/api/v1/keys/validate', 'the key was validated');
    assertNoSecret(r, KEYS);
    assert.deepEqual(await registryState(mlflow.url), before);
  });

  test('a new model and experiment: both "would be created", and still nothing is written', async () => {
    const before = await registryState(mlflow.url);
    const r = await runAction({
      'dry-run': 'true',
      'api-key': KEY,
      'tracking-uri': proxy.trackingUri,
      'auth-url': auth.url,
      'model-path': modelDir,
      'model-name': 'never-registered',
      'experiment-name': 'never-created',
    });
    assert.equal(r.code, 0, r.stdout);
    assert.match(r.summary, /^- <b>Model:<\/b> <code>never-registered<\/code> \(would be created\)$/m);
    assert.match(r.summary, /^- <b>Experiment:<\/b> <code>never-created<\/code> \(would be created\)$/m);
    assert.match(r.summary, /^- <b>Version for this commit:<\/b> none yet$/m);
    assert.deepEqual(await registryState(mlflow.url), before);
  });

  test('a dry run still fails on a read-only key, as the real registration would', async () => {
    const r = await runAction({
      'dry-run': 'true',
      'api-key': READ_ONLY_KEY,
      'tracking-uri': proxy.trackingUri,
      'auth-url': auth.url,
      'model-path': modelDir,
      'model-name': 'x',
    });
    assert.equal(r.code, 1);
    assert.match(errorOf(r), /Validate API key failed: the key has no write scope/);
    assert.match(r.summary, /^## ❌ Dry run failed: the key has no write scope/);
    assert.match(r.summary, /^- <b>Step:<\/b> Validate API key$/m);
  });
});
