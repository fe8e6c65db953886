// The fault-injection suite: the registry-like front proxy in front of a real MLflow server
// injects what a healthy server never does. Every case checks the exit code, the message,
// the registry's final state (no version, or exactly one whose files MLflow's own client
// reads back byte for byte), that no run is left RUNNING, and that the key is nowhere.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { assertNoSecret, errorOf } from '../support/action-asserts.ts';
import { startFakeAuth, type FakeAuth } from '../support/fake-auth.ts';
import { startFrontProxy, type FrontProxyOptions } from '../support/front-proxy.ts';
import { startMlflowServer, type MlflowServer } from '../support/mlflow-server.ts';
import { SUPPORT_DIR } from '../support/paths.ts';
import { pythonJson } from '../support/python.ts';
import { registryState, type RegistryState } from '../support/registry-state.ts';
import { runAction, runPostStep, type ActionRun, type RunOptions } from '../support/run-action.ts';

const KEY = 'fake-key-reliability-4d3c2b1a09';

let mlflow: MlflowServer;
let auth: FakeAuth;
let modelDir: string;
let expectedPath: string;

before(async () => {
  const work = mkdtempSync(path.join(tmpdir(), 'e2e-reliability-'));
  const [server, made] = await Promise.all([
    startMlflowServer(),
    pythonJson<{ model_dir: string; expected: string }>(path.join(SUPPORT_DIR, 'make_model.py'), [path.join(work, 'model')]),
  ]);
  mlflow = server;
  modelDir = made.model_dir;
  expectedPath = made.expected;
  auth = await startFakeAuth({ [KEY]: { service_id: 'platform', scopes: ['read', 'write'] } });
});

after(async () => {
  await auth?.stop();
  await mlflow?.stop();
});

interface Outcome {
  r: ActionRun;
  state: RegistryState;
  versions: RegistryState['versions'];
  proxyUrl: string;
}

/** Registers `name` through a proxy with these faults; returns the run and the registry after it. */
async function register(
  server: MlflowServer,
  name: string,
  proxyOpts: Partial<FrontProxyOptions>,
  inputs: Record<string, string> = {},
  runOpts: RunOptions = {},
): Promise<Outcome> {
  const proxy = await startFrontProxy({ upstream: server.url, validKeys: [KEY], ...proxyOpts });
  try {
    const r = await runAction(
      { 'api-key': KEY, 'auth-url': auth.url, 'tracking-uri': proxy.trackingUri, 'model-path': modelDir, 'model-name': name, ...inputs },
      runOpts,
    );
    assertNoSecret(r, [KEY]);
    const state = await registryState(server.url);
    assert.deepEqual(
      state.runs.filter((x) => x.status === 'RUNNING').map((x) => x.run_id),
      [],
      'no run left RUNNING',
    );
    return { r, state, versions: state.versions.filter((v) => v.name === name), proxyUrl: proxy.trackingUri };
  } finally {
    await proxy.stop();
  }
}

/** Exactly one version, READY, whose files MLflow's client reads back byte for byte. */
async function assertOneGoodVersion(server: MlflowServer, o: Outcome, name: string): Promise<void> {
  assert.equal(o.r.code, 0, o.r.stdout + o.r.stderr);
  assert.equal(o.versions.length, 1, `exactly one version of ${name}`);
  assert.equal(o.versions[0]!.status, 'READY');
  assert.equal(o.r.outputs['model-version'], o.versions[0]!.version);
  const back = await pythonJson<{ files_identical: boolean; mismatches: unknown[]; predictions_match: boolean }>(
    path.join(SUPPORT_DIR, 'readback.py'),
    ['--tracking-uri', server.url, '--name', name, '--version', o.versions[0]!.version, '--original', modelDir, '--expected', expectedPath],
    { timeoutMs: 180_000 },
  );
  assert.deepEqual(back.mismatches, []);
  assert.equal(back.files_identical, true);
  assert.equal(back.predictions_match, true);
  const run = o.state.runs.find((x) => x.run_id === o.r.outputs['run-id']);
  assert.equal(run?.status, 'FINISHED');
}

const retries = (r: ActionRun) => r.stdout.split('\n').filter((l) => l.startsWith('Retrying: '));

describe('transient faults are retried, and the registration still ends with exactly one good version', () => {
  test('bursts of 503', async () => {
    const o = await register(mlflow, 'burst-503', {
      faults: [
        { path: /experiments\/get-by-name/, status: 503, times: 2 },
        {
          method: 'PUT',
          path: /^\/api\/2\.0\/mlflow-artifacts\//,
          status: 503,
          headers: { 'content-type': 'application/json' },
          body: '{"detail":"busy"}',
          times: 3,
        },
      ],
    });
    await assertOneGoodVersion(mlflow, o, 'burst-503');
    const lines = retries(o.r);
    assert.equal(lines.length, 5, lines.join('\n'));
    assert.match(
      lines[0]!,
      /^Retrying: GET \/api\/mlflow\/api\/2\.0\/mlflow\/experiments\/get-by-name: HTTP 503; retry 1 of 5 in \d+\.\d s$/,
    );
    assert.ok(
      lines.some((l) => /^Retrying: PUT \/api\/mlflow\/api\/2\.0\/mlflow-artifacts\/artifacts\/.+: HTTP 503; retry \d of 5 in/.test(l)),
    );
  });

  test('429 with Retry-After', async () => {
    const o = await register(mlflow, 'rate-limited', {
      faults: [
        {
          path: /model-versions\/create/,
          status: 429,
          headers: { 'retry-after': '1', 'content-type': 'application/json' },
          body: '{"detail":"Rate limit exceeded"}',
          times: 2,
        },
      ],
    });
    await assertOneGoodVersion(mlflow, o, 'rate-limited');
    const lines = retries(o.r);
    assert.deepEqual(
      lines.map((l) => l.replace(/^Retrying: POST \/api\/mlflow\/api\/2\.0\/mlflow\/model-versions\/create: /, '')),
      ['HTTP 429; retry 1 of 5 in 1.0 s (Retry-After)', 'HTTP 429; retry 2 of 5 in 1.0 s (Retry-After)'],
    );
  });

  test('a connection reset in the middle of an upload: the file is sent again from the start', async () => {
    const o = await register(mlflow, 'reset-upload', {
      faults: [{ method: 'PUT', path: /\/model\.skops$/, resetAfterBytes: 4096, times: 1 }],
    });
    await assertOneGoodVersion(mlflow, o, 'reset-upload');
    assert.match(retries(o.r).join('\n'), /PUT .*\/model\.skops: (ECONNRESET|UND_ERR_SOCKET|EPIPE); retry 1 of 5/);
  });

  test('a response that stalls past request-timeout', async () => {
    const o = await register(
      mlflow,
      'stalled',
      { faults: [{ method: 'PUT', path: /\/MLmodel$/, stallMs: 15_000, times: 1 }] },
      { 'request-timeout': '2' },
    );
    await assertOneGoodVersion(mlflow, o, 'stalled');
    assert.match(retries(o.r).join('\n'), /PUT .*\/MLmodel: UND_ERR_HEADERS_TIMEOUT; retry 1 of 5/);
  });

  test('a 500 returned after the version was in fact created: recovered, not duplicated', async () => {
    const o = await register(mlflow, 'created-then-500', {
      faults: [{ path: /model-versions\/create/, afterForward: true, status: 500, body: 'Internal Server Error', times: 1 }],
    });
    await assertOneGoodVersion(mlflow, o, 'created-then-500');
    assert.match(o.r.stdout, /model-versions\/create: the failed attempt had succeeded after all; using its result/);
  });

  test('a run created before a 500 is recovered too: one run, not two', async () => {
    const before = (await registryState(mlflow.url)).runs.length;
    const o = await register(mlflow, 'run-then-500', { faults: [{ path: /runs\/create/, afterForward: true, status: 500, times: 1 }] });
    await assertOneGoodVersion(mlflow, o, 'run-then-500');
    assert.equal(o.state.runs.length, before + 1);
  });

  test('the MLflow server killed and restarted in the middle of an upload', async () => {
    const own = await startMlflowServer();
    try {
      let restarting: Promise<void> | undefined;
      const o = await register(own, 'server-restart', {
        onRequest: (req) => {
          if (req.method === 'PUT' && !restarting) restarting = own.restart();
        },
      });
      await restarting;
      await assertOneGoodVersion(own, o, 'server-restart');
      assert.match(retries(o.r).join('\n'), /HTTP 502/);
    } finally {
      await own.stop();
    }
  });

  test('retries give up after max-retries with a message that says so; the run ends FAILED, nothing registered', async () => {
    const o = await register(
      mlflow,
      'always-503',
      { faults: [{ method: 'PUT', path: /^\/api\/2\.0\/mlflow-artifacts\//, status: 503 }] },
      { 'max-retries': '2' },
    );
    assert.equal(o.r.code, 1);
    assert.match(errorOf(o.r), /Upload model failed: HTTP 503 \(gave up after 3 attempts\)/);
    assert.deepEqual(o.versions, []);
    const run = o.state.runs.find((x) => x.tags.failure_reason?.startsWith('Upload model: HTTP 503'));
    assert.equal(run?.status, 'FAILED');
  });
});

describe('cancellation', () => {
  const slowUploads = { faults: [{ method: 'PUT', path: /^\/api\/2\.0\/mlflow-artifacts\//, delayMs: 30_000 }] };

  for (const [first, second] of [
    ['SIGINT', 'SIGTERM'],
    ['SIGTERM', 'SIGKILL'],
  ] as const) {
    test(`${first} (then ${second}) in the middle of an upload: requests aborted, run KILLED, non-zero exit within seconds; the post step finds nothing left to do`, async () => {
      const name = `cancelled-${first.toLowerCase()}`;
      const o = await register(
        mlflow,
        name,
        slowUploads,
        {},
        {
          signals: [
            { signal: first, when: /::group::Upload model/, delayMs: 500 },
            // The runner's next signal comes later; it must find the step already gone.
            { signal: second, when: /::group::Upload model/, delayMs: 4000 },
          ],
        },
      );
      assert.equal(o.r.code, 1, o.r.stdout);
      const sent = o.r.signalled.find((x) => x.signal === first);
      assert.ok(sent, `${first} was sent`);
      assert.ok(o.r.exitedAtMs - sent.atMs < 3000, `exited ${o.r.exitedAtMs - sent.atMs} ms after ${first}`);
      assert.deepEqual(
        o.r.signalled.map((x) => x.signal),
        [first],
        'the step had exited before the next signal',
      );
      assert.match(errorOf(o.r), new RegExp(`Upload model failed: the job was cancelled \\(${first}\\) during this step`));
      assert.deepEqual(o.versions, []);
      const run = o.state.runs.find((x) => x.run_id === o.r.state['run-id']);
      assert.equal(run?.status, 'KILLED');
      assert.match(run?.tags.failure_reason ?? '', new RegExp(`cancelled \\(${first}\\)`));

      const post = await runPostStep(
        { 'api-key': KEY, 'auth-url': auth.url, 'tracking-uri': o.proxyUrl, 'model-path': modelDir, 'model-name': name },
        o.r.state,
      );
      assert.equal(post.code, 0, post.stdout);
      assert.doesNotMatch(post.stdout, /marked KILLED/, 'nothing left for the post step');
      assertNoSecret(post, [KEY]);
    });
  }

  test('killed outright (SIGKILL) in the middle of an upload: the post step ends the run KILLED', async () => {
    const proxy = await startFrontProxy({ upstream: mlflow.url, validKeys: [KEY], ...slowUploads });
    try {
      const inputs = {
        'api-key': KEY,
        'auth-url': auth.url,
        'tracking-uri': proxy.trackingUri,
        'model-path': modelDir,
        'model-name': 'sigkilled',
      };
      const r = await runAction(inputs, { signals: [{ signal: 'SIGKILL', when: /::group::Upload model/, delayMs: 500 }] });
      assert.notEqual(r.code, 0);
      const runId = r.state['run-id'];
      assert.ok(runId, 'the run id was saved for the post step');
      let state = await registryState(mlflow.url);
      assert.equal(state.runs.find((x) => x.run_id === runId)?.status, 'RUNNING', 'the killed step could not end its run');

      const post = await runPostStep(inputs, r.state);
      assert.equal(post.code, 0, post.stdout);
      assert.match(post.stdout, new RegExp(`MLflow run ${runId} marked KILLED`));
      assertNoSecret(post, [KEY]);
      state = await registryState(mlflow.url);
      assert.equal(state.runs.find((x) => x.run_id === runId)?.status, 'KILLED');
      assert.deepEqual(
        state.versions.filter((v) => v.name === 'sigkilled'),
        [],
      );
    } finally {
      await proxy.stop();
    }
  });
});

describe('the key is never shown', () => {
  test('a server that echoes the key in its error body: redacted everywhere', async () => {
    const o = await register(
      mlflow,
      'echo',
      {
        faults: [
          {
            path: /experiments\/get-by-name/,
            status: 400,
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ error_code: 'BAD_REQUEST', message: `bad header Authorization: Bearer ${KEY}` }),
          },
        ],
      },
      { 'max-retries': '0' },
    );
    assert.equal(o.r.code, 1);
    assert.match(errorOf(o.r), /server said: BAD_REQUEST: bad header Authorization: Bearer \*\*\*/);
  });
});
