// Bounded everything: what an adversarial server can send (an answer that trickles forever, a
// listing that contains itself, hundreds of MiB of JSON, JSON that is not an object) and an
// oversized MLmodel. The registry-like front proxy injects the faults in front of a real MLflow
// server, and the built action runs as the runner runs it. Every case checks: exit 1 within a
// bounded time, a message that names the request and the limit, nothing registered, no run
// left RUNNING, and the key nowhere.
import assert from 'node:assert/strict';
import { appendFileSync, cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { assertNoSecret, errorOf } from '../support/action-asserts.ts';
import { startFakeAuth, type FakeAuth } from '../support/fake-auth.ts';
import { startFrontProxy, type Fault, type FrontProxyRequest } from '../support/front-proxy.ts';
import { startMlflowServer, type MlflowServer } from '../support/mlflow-server.ts';
import { SUPPORT_DIR } from '../support/paths.ts';
import { pythonJson } from '../support/python.ts';
import { registryState, type RegistryState } from '../support/registry-state.ts';
import { runAction, type ActionRun, type RunOptions } from '../support/run-action.ts';

const KEY = 'fake-key-bounds-7a6b5c4d3e';
const MIB = 1024 * 1024;
// Without the bounds these runs hang until the job's limit: kill them well before the test's own.
const KILL_AFTER_MS = 45_000;

let mlflow: MlflowServer;
let auth: FakeAuth;
let modelDir: string;
let work: string;

before(async () => {
  work = mkdtempSync(path.join(tmpdir(), 'e2e-bounds-'));
  const [server, made] = await Promise.all([
    startMlflowServer(),
    pythonJson<{ model_dir: string }>(path.join(SUPPORT_DIR, 'make_model.py'), [path.join(work, 'model')]),
  ]);
  mlflow = server;
  modelDir = made.model_dir;
  auth = await startFakeAuth({ [KEY]: { service_id: 'platform', scopes: ['read', 'write'] } });
});

after(async () => {
  await auth?.stop();
  await mlflow?.stop();
});

interface Outcome {
  r: ActionRun;
  before: RegistryState;
  after: RegistryState;
  /** What reached the front proxy. */
  requests: FrontProxyRequest[];
}

/** Registers `name` through the front proxy with these faults; the registry before and after. */
async function register(name: string, faults: Fault[], inputs: Record<string, string> = {}, runOpts: RunOptions = {}): Promise<Outcome> {
  const proxy = await startFrontProxy({ upstream: mlflow.url, validKeys: [KEY], faults });
  try {
    const before = await registryState(mlflow.url);
    const r = await runAction(
      {
        'api-key': KEY,
        'auth-url': auth.url,
        'tracking-uri': proxy.trackingUri,
        'model-path': modelDir,
        'model-name': name,
        'max-retries': '0',
        ...inputs,
      },
      { timeoutMs: KILL_AFTER_MS, ...runOpts },
    );
    const after = await registryState(mlflow.url);
    return { r, before, after, requests: proxy.requests };
  } finally {
    await proxy.stop();
  }
}

/** The runs this registration created. */
const newRuns = (o: Outcome) => o.after.runs.filter((x) => !o.before.runs.some((b) => b.run_id === x.run_id));

/** Exit 1 in time, no version of `name`, no run left RUNNING, the key nowhere; returns the error text. */
function assertFailedCleanly(o: Outcome, name: string, withinMs: number): string {
  assert.equal(o.r.code, 1, `exit ${o.r.code} (${o.r.exitSignal ?? 'no signal'}) after ${o.r.exitedAtMs} ms\n${o.r.stdout.slice(-3000)}`);
  assert.ok(o.r.exitedAtMs < withinMs, `exited after ${o.r.exitedAtMs} ms`);
  assert.deepEqual(
    o.after.versions.filter((v) => v.name === name),
    [],
    'nothing registered',
  );
  assert.deepEqual(
    newRuns(o)
      .filter((x) => x.status === 'RUNNING')
      .map((x) => x.run_id),
    [],
    'no run left RUNNING',
  );
  assertNoSecret(o.r, [KEY]);
  assert.match(o.r.summary, /## ❌ Model registration failed/);
  return errorOf(o.r);
}

const LIST = /^\/api\/2\.0\/mlflow\/artifacts\/list$/;
const GET_BY_NAME = /^\/api\/2\.0\/mlflow\/experiments\/get-by-name$/;

describe('request-timeout is a deadline for the whole answer', () => {
  test('an answer that trickles a byte every 500 ms times out after request-timeout, is retried, and the run ends FAILED', async () => {
    const o = await register(
      'trickle',
      [{ method: 'GET', path: LIST, trickle: { everyMs: 500 }, headers: { 'content-type': 'application/json' }, body: '{"files": [' }],
      { 'request-timeout': '3', 'max-retries': '1' },
    );
    // Two attempts of 3 s and a backoff of at most 1 s, plus start-up and the upload.
    const message = assertFailedCleanly(o, 'trickle', 30_000);
    assert.match(message, /Verify upload failed: no answer from 127\.0\.0\.1:\d+ within 3 s \(gave up after 2 attempts\)/);
    assert.match(message, /request: GET \/api\/mlflow\/api\/2\.0\/mlflow\/artifacts\/list\n/);
    assert.match(o.r.stdout, /Retrying: GET \/api\/mlflow\/api\/2\.0\/mlflow\/artifacts\/list: UND_ERR_BODY_TIMEOUT; retry 1 of 1/);
    assert.ok(
      o.requests.filter((x) => x.fault === 0).every((x) => (x.bytesSent ?? 0) >= 4),
      'bytes kept arriving during each attempt',
    );
    assert.deepEqual(
      newRuns(o).map((x) => x.status),
      ['FAILED'],
    );
    assert.match(newRuns(o)[0]!.tags.failure_reason ?? '', /^Verify upload: no answer from/);
  });

  test('SIGINT during a trickling answer is reported as cancellation, not as a timeout', async () => {
    const o = await register(
      'trickle-cancelled',
      [{ method: 'GET', path: LIST, trickle: { everyMs: 500 }, headers: { 'content-type': 'application/json' }, body: '{"files": [' }],
      { 'request-timeout': '30' },
      { signals: [{ signal: 'SIGINT', when: /Uploaded \d+ files/, delayMs: 1000 }] },
    );
    const message = assertFailedCleanly(o, 'trickle-cancelled', 30_000);
    const sent = o.r.signalled.find((x) => x.signal === 'SIGINT');
    assert.ok(sent, 'SIGINT was sent');
    assert.ok(o.r.exitedAtMs - sent.atMs < 3000, `exited ${o.r.exitedAtMs - sent.atMs} ms after SIGINT`);
    assert.match(message, /Verify upload failed: the job was cancelled \(SIGINT\) during this step/);
    assert.doesNotMatch(message, /no answer from/);
    assert.deepEqual(
      newRuns(o).map((x) => x.status),
      ['KILLED'],
    );
  });
});

describe('the artifact listing is bounded', () => {
  test('a listing that names its own directory as a subdirectory is refused after one request, not followed', async () => {
    const o = await register('self-listing', [{ method: 'GET', path: LIST, listing: (dir) => [{ path: dir, is_dir: true }] }]);
    const message = assertFailedCleanly(o, 'self-listing', 30_000);
    assert.match(
      message,
      /Verify upload failed: the artifact listing of "model" names "model" as an entry of "model", which is not below it \(a loop or a broken listing\)/,
    );
    assert.match(message, /request: GET \/api\/mlflow\/api\/2\.0\/mlflow\/artifacts\/list\n/);
    assert.match(message, /broken artifact listing.*Nothing was registered\./s);
    assert.equal(o.requests.filter((x) => x.path.endsWith('/artifacts/list')).length, 1);
    assert.deepEqual(
      newRuns(o).map((x) => x.status),
      ['FAILED'],
    );
  });

  test('a listing that goes one level deeper on every request stops at the depth limit', async () => {
    const o = await register('endless-depth', [{ method: 'GET', path: LIST, listing: (dir) => [{ path: `${dir}/d`, is_dir: true }] }]);
    const message = assertFailedCleanly(o, 'endless-depth', 30_000);
    assert.match(message, /Verify upload failed: the artifact listing of "model" goes more than 64 directories deep \(the limit\)/);
    assert.equal(o.requests.filter((x) => x.path.endsWith('/artifacts/list')).length, 65);
  });
});

describe('what is read of an answer is capped', () => {
  test('256 MiB of JSON streamed as the answer: refused after 8 MiB, the connection dropped', async () => {
    const o = await register('huge-json', [
      {
        method: 'GET',
        path: GET_BY_NAME,
        streamBytes: 256 * MIB,
        headers: { 'content-type': 'application/json' },
        body: '{"experiment": {"name": "',
      },
    ]);
    const message = assertFailedCleanly(o, 'huge-json', 30_000);
    assert.match(message, /Preflight failed: the server answered HTTP 200 with more than 8 MiB, far more than any MLflow API answer/);
    assert.match(message, /request: GET \/api\/mlflow\/api\/2\.0\/mlflow\/experiments\/get-by-name → HTTP 200/);
    assert.match(message, /something other than the MLflow REST API/);
    const sent = o.requests.find((x) => x.fault === 0)?.bytesSent ?? 0;
    assert.ok(sent < 64 * MIB, `the proxy could write ${sent} bytes before the action dropped the connection`);
    assert.deepEqual(o.after, o.before, 'nothing was written');
  });

  test('256 MiB of error body: only its start is read and shown', async () => {
    const o = await register('huge-error', [
      {
        method: 'GET',
        path: GET_BY_NAME,
        status: 500,
        streamBytes: 256 * MIB,
        headers: { 'content-type': 'text/plain' },
        body: 'Internal error:',
      },
    ]);
    const message = assertFailedCleanly(o, 'huge-error', 30_000);
    assert.match(message, /Preflight failed: HTTP 500\n/);
    assert.match(message, /server said: Internal error:\n/);
    const sent = o.requests.find((x) => x.fault === 0)?.bytesSent ?? 0;
    assert.ok(sent < 64 * MIB, `the proxy could write ${sent} bytes before the action dropped the connection`);
    assert.deepEqual(o.after, o.before, 'nothing was written');
  });
});

describe('every JSON answer is an object', () => {
  for (const body of ['null', '42']) {
    test(`an answer of ${body}: named with the step, method and path`, async () => {
      const o = await register(`json-${body}`, [
        { method: 'GET', path: GET_BY_NAME, status: 200, headers: { 'content-type': 'application/json' }, body },
      ]);
      const message = assertFailedCleanly(o, `json-${body}`, 30_000);
      assert.match(message, /Preflight failed: the server answered HTTP 200 with JSON that is not an object\n/);
      assert.match(message, /request: GET \/api\/mlflow\/api\/2\.0\/mlflow\/experiments\/get-by-name → HTTP 200\n/);
      assert.match(message, new RegExp(`server said: ${body}\\n`));
      assert.match(message, /Every answer of the MLflow REST API is a JSON object/);
      assert.deepEqual(o.after, o.before, 'nothing was written');
    });
  }
});

describe('the model directory is bounded', () => {
  test('an MLmodel of 2 MiB is refused before anything is sent', async () => {
    const dir = path.join(work, 'big-mlmodel');
    cpSync(modelDir, dir, { recursive: true });
    // Still valid YAML with its flavors: only the size is wrong.
    appendFileSync(path.join(dir, 'MLmodel'), `# ${'x'.repeat(2 * MIB)}\n`);
    const o = await register('big-mlmodel', [], { 'model-path': dir });
    const message = assertFailedCleanly(o, 'big-mlmodel', 30_000);
    assert.match(message, /Validate model directory failed: MLmodel in ".*big-mlmodel" is larger than 1 MiB \(the limit\)/);
    assert.deepEqual(
      o.requests.map((x) => x.path),
      [],
      'nothing reached the registry',
    );
    assert.deepEqual(o.after, o.before, 'nothing was written');
  });
});
