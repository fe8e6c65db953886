// End to end, against a real `mlflow server` from PyPI: the built dist/index.js registers a
// scikit-learn model the way the runner runs it, and MLflow's own Python client reads the
// version back, byte for byte, loads it and predicts.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startFakeAuth, type FakeAuth } from '../support/fake-auth.ts';
import { startFrontProxy, type FrontProxy } from '../support/front-proxy.ts';
import { startMlflowServer, type MlflowServer } from '../support/mlflow-server.ts';
import { SUPPORT_DIR } from '../support/paths.ts';
import { pythonJson } from '../support/python.ts';
import { registryState } from '../support/registry-state.ts';
import { assertNoSecret, errorOf } from '../support/action-asserts.ts';
import { GITHUB_ENV, runAction, type ActionRun } from '../support/run-action.ts';

// Obviously fake keys, shaped nothing like real ones.
const KEY = 'fake-key-platform-rw-7f3a9c51e2';
const READ_ONLY_KEY = 'fake-key-platform-ro-1b2c3d4e5f';
const OTHER_SERVICE_KEY = 'fake-key-ml-platform-5d6e7f8a9b';
const UNKNOWN_KEY = 'fake-key-unknown-000000000000';
const ALL_KEYS = [KEY, READ_ONLY_KEY, OTHER_SERVICE_KEY, UNKNOWN_KEY];
const HEAD_SHA = 'feedfacefeedfacefeedfacefeedfacefeedface';

interface Readback {
  files_identical: boolean;
  mismatches: unknown[];
  predictions_match: boolean;
  load_error: string | null;
  aliases: Record<string, string | null>;
  version: { status: string; source: string; run_id: string; tags: Record<string, string>; description: string | null };
  run: { status: string; tags: Record<string, string> } | null;
}

let mlflow: MlflowServer;
/** A plain server whose REST API lives below a path prefix (--static-prefix), like the Hokusai proxy's. */
let prefixed: MlflowServer;
let auth: FakeAuth;
let proxy: FrontProxy;
let work: string;
let modelDir: string;
let expectedPath: string;

before(async () => {
  work = mkdtempSync(path.join(tmpdir(), 'e2e-register-'));
  const [server, prefixedServer, made] = await Promise.all([
    startMlflowServer(),
    startMlflowServer({ extraArgs: ['--static-prefix', '/api/mlflow'] }),
    pythonJson<{ model_dir: string; expected: string }>(path.join(SUPPORT_DIR, 'make_model.py'), [path.join(work, 'model')]),
  ]);
  mlflow = server;
  prefixed = prefixedServer;
  modelDir = made.model_dir;
  expectedPath = made.expected;
  auth = await startFakeAuth({
    [KEY]: { service_id: 'platform', scopes: ['read', 'write'] },
    [READ_ONLY_KEY]: { service_id: 'platform', scopes: ['read'] },
    [OTHER_SERVICE_KEY]: { service_id: 'ml-platform', scopes: ['read', 'write'] },
  });
  proxy = await startFrontProxy({ upstream: mlflow.url, validKeys: [KEY, READ_ONLY_KEY, OTHER_SERVICE_KEY] });
});

after(async () => {
  await Promise.allSettled([proxy?.stop(), auth?.stop()]);
  await Promise.allSettled([mlflow?.stop(), prefixed?.stop()]);
});

const hokusaiInputs = (over: Record<string, string> = {}) => ({
  'api-key': KEY,
  'tracking-uri': proxy.trackingUri,
  'auth-url': auth.url,
  'model-path': modelDir,
  ...over,
});

/** The digest as the issue defines it, computed here independently of src/. */
function expectedDigest(dir: string): string {
  const lines: string[] = [];
  const walk = (d: string, rel: string) => {
    for (const name of readdirSync(d)) {
      const abs = path.join(d, name);
      const r = rel ? `${rel}/${name}` : name;
      if (statSync(abs).isDirectory()) walk(abs, r);
      else lines.push(`${createHash('sha256').update(readFileSync(abs)).digest('hex')}  ${statSync(abs).size}  ${r}`);
    }
  };
  walk(dir, '');
  lines.sort((a, b) => {
    const pa = a.split('  ')[2]!;
    const pb = b.split('  ')[2]!;
    return pa < pb ? -1 : pa > pb ? 1 : 0;
  });
  return `sha256:${createHash('sha256')
    .update(lines.map((l) => `${l}\n`).join(''))
    .digest('hex')}`;
}

const assertNoKey = (r: ActionRun) => assertNoSecret(r, ALL_KEYS);

async function readback(
  trackingUri: string,
  name: string,
  version: string,
  aliases: string[],
  token?: string,
  original = modelDir,
): Promise<Readback> {
  const args = ['--tracking-uri', trackingUri, '--name', name, '--version', version, '--original', original, '--expected', expectedPath];
  for (const a of aliases) args.push('--alias', a);
  return pythonJson<Readback>(path.join(SUPPORT_DIR, 'readback.py'), args, {
    env: token ? { MLFLOW_TRACKING_TOKEN: token } : {},
    timeoutMs: 180_000,
  });
}

describe('register mode against a real MLflow server', () => {
  test('the tests run the bundle on Node 24, as GitHub runs node24 actions', () => {
    assert.match(process.versions.node, /^24\./);
  });

  test('through a Hokusai-style proxy on a pull request: validated key, uploaded, registered, aliased, read back by MLflow', async () => {
    const r = await runAction(
      hokusaiInputs({
        'model-name': 'churn-classifier',
        description: 'Iris classifier for the e2e test',
        tags: 'team=search\ndataset=iris',
        aliases: 'staging, candidate',
      }),
      {
        eventName: 'pull_request',
        event: { pull_request: { number: 17, head: { sha: HEAD_SHA, ref: 'feature/x' } } },
        env: { GITHUB_REF: 'refs/pull/17/merge' },
      },
    );
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assertNoKey(r);

    // The key was validated for "platform", with the key as Bearer.
    assert.equal(auth.requests.length >= 1, true);
    const validation = auth.requests.at(-1)!;
    assert.equal(validation.path, '/api/v1/keys/validate');
    assert.equal(validation.authorization, `Bearer ${KEY}`);
    assert.deepEqual(validation.body, { service_id: 'platform' });

    // Every registry request, artifact uploads included, carried the key, and uploads went through the artifact proxy.
    const mine = proxy.requests.filter((q) => q.authorization === `Bearer ${KEY}`);
    assert.equal(mine.length, proxy.requests.length);
    // One PUT per file below the model directory, and the manifest beside it.
    const all = proxy.requests.filter((q) => q.method === 'PUT');
    const manifests = all.filter((q) => /\/artifacts\/model\.manifest\.json$/.test(q.path));
    assert.equal(manifests.length, 1, 'the manifest beside the model');
    const puts = all.filter((q) => !manifests.includes(q));
    assert.equal(
      puts.length,
      readdirSync(modelDir, { recursive: true }).filter((f) => statSync(path.join(modelDir, String(f))).isFile()).length,
    );
    for (const put of puts)
      assert.match(put.path, /^\/api\/mlflow\/api\/2\.0\/mlflow-artifacts\/artifacts\/\d+\/[0-9a-f]{32}\/artifacts\/model\//);
    // The only refusals are the lookups of the not-yet-existing experiment and model.
    assert.deepEqual(
      proxy.requests.filter((q) => q.status >= 300).map((q) => `${q.status} ${q.path.split('?')[0]}`),
      ['404 /api/mlflow/api/2.0/mlflow/experiments/get-by-name', '404 /api/mlflow/api/2.0/mlflow/registered-models/get'],
    );

    // Outputs.
    const o = r.outputs;
    assert.equal(o['model-name'], 'churn-classifier');
    assert.equal(o['model-version'], '1');
    assert.equal(o['model-uri'], 'models:/churn-classifier/1');
    assert.match(o['run-id'] ?? '', /^[0-9a-f]{32}$/);
    assert.match(o['experiment-id'] ?? '', /^\d+$/);
    assert.equal(o.source, `mlflow-artifacts:/${o['experiment-id']}/${o['run-id']}/artifacts/model`);
    assert.equal(o['version-url'], `${proxy.trackingUri}/#/models/churn-classifier/versions/1`);
    assert.equal(o.digest, expectedDigest(modelDir));

    // The summary a person reads.
    assert.match(
      r.summary,
      /^## ✅ Registered <code>churn-classifier<\/code> <a href="[^"]+\/api\/mlflow\/#\/models\/churn-classifier\/versions\/1">version 1<\/a>\n/,
    );
    assert.match(r.summary, /^- <b>Aliases:<\/b> <code>staging<\/code> <code>candidate<\/code>$/m);
    assert.match(r.summary, /^- <b>MLflow run:<\/b> <a href="[^"]+\/api\/mlflow\/#\/experiments\/\d+\/runs\/[0-9a-f]{32}">/m);
    assert.match(r.summary, /^- <b>Files:<\/b> \d+ files, [\d.]+ KiB; uploaded in /m);
    assert.match(r.summary, /\| <b>Total<\/b> \| /);

    // MLflow's own client: byte-identical files, same predictions, aliases, lineage.
    const back = await readback(proxy.trackingUri, 'churn-classifier', '1', ['staging', 'candidate'], KEY);
    assert.deepEqual(back.mismatches, []);
    assert.equal(back.files_identical, true);
    assert.equal(back.load_error, null);
    assert.equal(back.predictions_match, true);
    assert.deepEqual(back.aliases, { staging: '1', candidate: '1' });
    assert.equal(back.version.status, 'READY');
    assert.equal(back.version.run_id, o['run-id']);
    assert.equal(back.version.source, o.source);
    assert.equal(back.version.description, 'Iris classifier for the e2e test');
    assert.equal(back.version.tags.git_sha, HEAD_SHA, 'the PR head, not the merge commit');
    assert.equal(back.version.tags.model_digest, o.digest);
    assert.equal(back.version.tags.github_pr_number, '17');
    assert.equal(back.version.tags.team, 'search');
    assert.equal(back.version.tags.github_run_url, 'https://github.com/acme/churn-model/actions/runs/4242/attempts/1');
    assert.equal(back.run?.status, 'FINISHED');
    assert.equal(back.run?.tags.git_sha, HEAD_SHA);
    assert.equal(back.run?.tags['mlflow.source.git.commit'], HEAD_SHA);
    assert.equal(back.run?.tags.git_ref, 'refs/pull/17/merge');
    assert.equal(back.run?.tags.github_workflow, GITHUB_ENV.GITHUB_WORKFLOW);
    assert.equal(back.run?.tags.github_actor, 'octocat');
    assert.equal(back.run?.tags.github_event_name, 'pull_request');
    assert.equal(back.run?.tags.dataset, 'iris');

    const state = await registryState(mlflow.url);
    assert.equal(state.experiments.find((e) => e.experiment_id === o['experiment-id'])?.name, 'acme/churn-model');
  });

  test('a plain MLflow server without key validation; nested, empty and linked files; a second registration moves the alias', async () => {
    // The model plus what real model directories hold: subdirectories, an empty file, a
    // name with spaces, a binary blob, and a symlink to a file inside the directory.
    const rich = path.join(work, 'rich-model');
    cpSync(modelDir, rich, { recursive: true });
    mkdirSync(path.join(rich, 'extras', 'nested'), { recursive: true });
    writeFileSync(path.join(rich, 'extras', 'empty.txt'), '');
    writeFileSync(path.join(rich, 'extras', 'nested', 'weights with space.bin'), randomBytes(300 * 1024));
    symlinkSync(path.join(rich, 'MLmodel'), path.join(rich, 'extras', 'MLmodel-link'));

    const inputs = {
      'tracking-uri': mlflow.url,
      'auth-url': '',
      'model-path': rich,
      'model-name': 'plain-model',
      'experiment-name': 'plain',
      aliases: 'champion',
    };
    const first = await runAction(inputs);
    assert.equal(first.code, 0, first.stdout + first.stderr);
    assert.equal(first.outputs['model-version'], '1');
    assert.match(first.stdout, /Key validation is off/);
    const second = await runAction(inputs, { env: { GITHUB_SHA: '1111111111111111111111111111111111111111' } });
    assert.equal(second.code, 0, second.stdout + second.stderr);
    assert.equal(second.outputs['model-version'], '2');
    assert.equal(second.outputs['version-url'], `${mlflow.url}/#/models/plain-model/versions/2`);
    assert.equal(second.outputs.digest, first.outputs.digest, 'same files, same digest');

    const back = await readback(mlflow.url, 'plain-model', '2', ['champion'], undefined, rich);
    assert.deepEqual(back.mismatches, []);
    assert.equal(back.files_identical, true);
    assert.equal(back.predictions_match, true);
    assert.deepEqual(back.aliases, { champion: '2' });
    assert.equal(back.version.tags.git_sha, '1111111111111111111111111111111111111111');

    const state = await registryState(mlflow.url);
    const runs = state.runs.filter((x) => x.run_id === first.outputs['run-id'] || x.run_id === second.outputs['run-id']);
    assert.deepEqual(
      runs.map((x) => x.status),
      ['FINISHED', 'FINISHED'],
    );
  });

  test('a server with its API below a path prefix (--static-prefix): registered, read back byte for byte', async () => {
    const trackingUri = `${prefixed.url}/api/mlflow`;
    const r = await runAction({
      'tracking-uri': trackingUri,
      'auth-url': '',
      'model-path': modelDir,
      'model-name': 'prefixed-model',
      aliases: 'staging',
    });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(r.outputs['version-url'], `${trackingUri}/#/models/prefixed-model/versions/1`);
    // This upload route stores an empty file when Content-Length is missing: byte-identical files prove it was sent.
    const back = await readback(trackingUri, 'prefixed-model', '1', ['staging']);
    assert.deepEqual(back.mismatches, []);
    assert.equal(back.files_identical, true);
    assert.equal(back.predictions_match, true);
  });

  test('a proxy that drops Content-Length, so the server stores empty files and answers 200: caught before registering', async () => {
    const lossy = await startFrontProxy({ upstream: `${prefixed.url}/api/mlflow`, validKeys: [KEY], dropContentLength: true });
    try {
      const beforeState = await registryState(`${prefixed.url}/api/mlflow`);
      const r = await runAction(hokusaiInputs({ 'tracking-uri': lossy.trackingUri, 'model-name': 'lossy' }));
      assert.equal(r.code, 1, r.stdout);
      const message = errorOf(r);
      assert.match(message, /Verify upload failed: \d+ uploaded files do not match on the server/);
      assert.match(message, /MLmodel: 0 bytes on the server, \d+ bytes here/);
      assert.match(message, /Nothing was registered/);
      assertNoKey(r);
      const afterState = await registryState(`${prefixed.url}/api/mlflow`);
      assert.equal(afterState.versions.length, beforeState.versions.length);
      assert.equal(afterState.registeredModels.length, beforeState.registeredModels.length);
      const newRuns = afterState.runs.filter((x) => !beforeState.runs.some((b) => b.run_id === x.run_id));
      assert.deepEqual(
        newRuns.map((x) => [x.status, x.tags.failure_reason?.split(':')[0]]),
        [['FAILED', 'Verify upload']],
      );
    } finally {
      await lossy.stop();
    }
  });

  test('a re-run for the same commit and content reuses the version (aliases still applied); other content gets a new version and says why', async () => {
    const inputs = {
      'tracking-uri': mlflow.url,
      'auth-url': '',
      'model-path': modelDir,
      'model-name': 'rerun-model',
      'experiment-name': 'rerun',
    };
    const env = { GITHUB_SHA: '2'.repeat(40) };
    const first = await runAction({ ...inputs, aliases: 'staging' }, { env });
    assert.equal(first.code, 0, first.stdout);
    assert.equal(first.outputs.reused, 'false');
    const before = await registryState(mlflow.url);

    const again = await runAction({ ...inputs, aliases: 'staging, champion' }, { env: { ...env, GITHUB_RUN_ATTEMPT: '2' } });
    assert.equal(again.code, 0, again.stdout);
    assert.equal(again.outputs.reused, 'true');
    assert.equal(again.outputs['model-version'], first.outputs['model-version']);
    assert.equal(again.outputs['run-id'], first.outputs['run-id']);
    assert.equal(again.outputs.digest, first.outputs.digest);
    assert.match(again.stdout, /was registered for commit 222222222222 with the same content: reusing it/);
    assert.match(again.summary, /^## ✅ Reused <code>rerun-model<\/code> <a href="[^"]+">version 1<\/a>: already registered/);
    const afterAgain = await registryState(mlflow.url);
    assert.equal(afterAgain.versions.length, before.versions.length, 'no duplicate version');
    assert.equal(afterAgain.runs.length, before.runs.length, 'no new run');
    assert.deepEqual(afterAgain.registeredModels.find((m) => m.name === 'rerun-model')?.aliases, { staging: '1', champion: '1' });

    const changed = path.join(work, 'changed-model');
    cpSync(modelDir, changed, { recursive: true });
    writeFileSync(path.join(changed, 'NOTES.txt'), 'retrained');
    const other = await runAction({ ...inputs, 'model-path': changed, aliases: 'staging' }, { env });
    assert.equal(other.code, 0, other.stdout);
    assert.equal(other.outputs.reused, 'false');
    assert.equal(other.outputs['model-version'], '2');
    assert.notEqual(other.outputs.digest, first.outputs.digest);
    assert.match(
      other.stdout,
      /Commit 222222222222 already has version 1 \(sha256:[0-9a-f]{64}\), but the model directory now has digest sha256:[0-9a-f]{64}: registering a new version/,
    );
    assert.match(other.summary, /> Commit 222222222222 already has version 1/);
  });

  test('two jobs racing to create the same experiment and registered model both succeed', async () => {
    const inputs = {
      'tracking-uri': mlflow.url,
      'auth-url': '',
      'model-path': modelDir,
      'model-name': 'raced-model',
      'experiment-name': 'raced',
    };
    const [a, b] = await Promise.all([
      runAction(inputs, { env: { GITHUB_SHA: '3'.repeat(40) } }),
      runAction(inputs, { env: { GITHUB_SHA: '4'.repeat(40) } }),
    ]);
    assert.equal(a.code, 0, a.stdout);
    assert.equal(b.code, 0, b.stdout);
    assert.deepEqual([a.outputs['model-version'], b.outputs['model-version']].sort(), ['1', '2']);
    assert.equal(a.outputs['experiment-id'], b.outputs['experiment-id']);
    const state = await registryState(mlflow.url);
    assert.equal(state.experiments.filter((e) => e.name === 'raced').length, 1);
  });

  test('an experiment that was deleted is restored and used', async () => {
    const created = await fetch(`${mlflow.url}/api/2.0/mlflow/experiments/create`, {
      method: 'POST',
      body: JSON.stringify({ name: 'deleted-before' }),
      headers: { 'content-type': 'application/json' },
    });
    const { experiment_id: id } = (await created.json()) as { experiment_id: string };
    await fetch(`${mlflow.url}/api/2.0/mlflow/experiments/delete`, {
      method: 'POST',
      body: JSON.stringify({ experiment_id: id }),
      headers: { 'content-type': 'application/json' },
    });
    const r = await runAction({
      'tracking-uri': mlflow.url,
      'auth-url': '',
      'model-path': modelDir,
      'model-name': 'restored-model',
      'experiment-name': 'deleted-before',
    });
    assert.equal(r.code, 0, r.stdout);
    assert.equal(r.outputs['experiment-id'], id);
    assert.match(r.stdout, /Experiment "deleted-before" was deleted; restored it/);
    const state = await registryState(mlflow.url);
    assert.equal(state.experiments.find((e) => e.experiment_id === id)?.lifecycle_stage, 'active');
  });

  test('artifact route not served (the July 2025 registry): named as such before anything is written', async () => {
    const broken = await startFrontProxy({ upstream: mlflow.url, validKeys: [KEY], routeArtifacts: false });
    try {
      const beforeState = await registryState(mlflow.url);
      const r = await runAction(
        hokusaiInputs({ 'tracking-uri': broken.trackingUri, 'model-name': 'july-2025', 'experiment-name': 'july-2025' }),
      );
      assert.equal(r.code, 1, r.stdout);
      const message = errorOf(r);
      assert.match(message, /Check artifact proxy failed: HTTP 404/);
      assert.match(message, /request: GET \/api\/mlflow\/api\/2\.0\/mlflow-artifacts\/artifacts → HTTP 404/);
      assert.match(message, /artifact proxy route \(\/api\/2\.0\/mlflow-artifacts\/\*\) is not served/);
      assert.match(
        r.summary,
        /^## ❌ Model registration failed: artifact proxy \/api\/2\.0\/mlflow-artifacts answered 404\n\n> <b>What to do:<\/b> /,
      );
      assert.match(r.summary, /^- <b>Step:<\/b> Check artifact proxy$/m);
      assertNoKey(r);
      assert.deepEqual(await registryState(mlflow.url), beforeState, 'nothing was written: no experiment, run, model or version');
    } finally {
      await broken.stop();
    }
  });

  test('a failure after the run exists (uploads refused with 500): the run ends FAILED with the reason, nothing registered', async () => {
    const faulty = await startFrontProxy({
      upstream: mlflow.url,
      validKeys: [KEY],
      faults: [
        {
          method: 'PUT',
          path: /^\/api\/2\.0\/mlflow-artifacts\//,
          status: 500,
          body: '<html><body><h1>Internal Server Error</h1></body></html>',
        },
      ],
    });
    try {
      const beforeState = await registryState(mlflow.url);
      const r = await runAction(hokusaiInputs({ 'tracking-uri': faulty.trackingUri, 'model-name': 'upload-fails', 'max-retries': '0' }));
      assert.equal(r.code, 1, r.stdout);
      const message = errorOf(r);
      assert.match(message, /Upload model failed: HTTP 500/);
      assert.match(
        message,
        /request: PUT \/api\/mlflow\/api\/2\.0\/mlflow-artifacts\/artifacts\/\d+\/[0-9a-f]{32}\/artifacts\/model\/\S+ → HTTP 500/,
      );
      assert.match(message, /server said: Internal Server Error/);
      assertNoKey(r);

      const afterState = await registryState(mlflow.url);
      assert.equal(afterState.versions.length, beforeState.versions.length);
      assert.equal(afterState.registeredModels.length, beforeState.registeredModels.length);
      const newRuns = afterState.runs.filter((x) => !beforeState.runs.some((b) => b.run_id === x.run_id));
      assert.equal(newRuns.length, 1);
      assert.equal(newRuns[0]!.status, 'FAILED');
      assert.match(newRuns[0]!.tags.failure_reason ?? '', /^Upload model: HTTP 500/);
    } finally {
      await faulty.stop();
    }
  });
});

describe('bad input: a clear message, a non-zero exit, nothing registered, no run left RUNNING, no key printed', () => {
  const badDir = (files: Record<string, string>) => {
    const dir = mkdtempSync(path.join(work, 'bad-'));
    for (const [rel, content] of Object.entries(files)) {
      mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
      writeFileSync(path.join(dir, rel), content);
    }
    return dir;
  };

  const cases: Array<{ name: string; inputs: () => Record<string, string>; expect: RegExp[] }> = [
    {
      name: 'missing model-path',
      inputs: () => hokusaiInputs({ 'model-path': '', 'model-name': 'bad-1' }),
      expect: [/model-path: is required/],
    },
    {
      name: 'a file instead of a directory',
      inputs: () => hokusaiInputs({ 'model-path': path.join(modelDir, 'MLmodel'), 'model-name': 'bad-2' }),
      expect: [/Validate model directory failed: .* is a file, not a directory/, /Point model-path at the directory/],
    },
    {
      name: 'no MLmodel',
      inputs: () => hokusaiInputs({ 'model-path': badDir({ 'model.pkl': 'x' }), 'model-name': 'bad-3' }),
      expect: [/no MLmodel file at the root/, /save_model/],
    },
    {
      name: 'an MLmodel that is not YAML',
      inputs: () => hokusaiInputs({ 'model-path': badDir({ MLmodel: 'flavors: [oops\n' }), 'model-name': 'bad-4' }),
      expect: [/MLmodel is not valid YAML/],
    },
    {
      name: 'an MLmodel without flavors',
      inputs: () => hokusaiInputs({ 'model-path': badDir({ MLmodel: 'artifact_path: model\nflavors: {}\n' }), 'model-name': 'bad-5' }),
      expect: [/MLmodel has no flavors/],
    },
    {
      name: 'an empty api-key',
      inputs: () => hokusaiInputs({ 'api-key': '', 'model-name': 'bad-6' }),
      expect: [/api-key: is empty/, /secrets\.HOKUSAI_API_KEY/],
    },
    {
      name: 'an invalid tracking-uri',
      inputs: () => hokusaiInputs({ 'tracking-uri': 'registry.hokus.ai/api/mlflow', 'model-name': 'bad-7' }),
      expect: [/tracking-uri: "registry\.hokus\.ai\/api\/mlflow" is not a URL/],
    },
    {
      name: 'http:// to a host other than this machine',
      inputs: () => hokusaiInputs({ 'tracking-uri': 'http://registry.example.com/api/mlflow', 'model-name': 'bad-7b' }),
      expect: [/tracking-uri: uses http:\/\/ to a host that is not this machine/, /allow-insecure-http/],
    },
    {
      name: 'an invalid key (401)',
      inputs: () => hokusaiInputs({ 'api-key': UNKNOWN_KEY, 'model-name': 'bad-8' }),
      expect: [/Validate API key failed: HTTP 401/, /request: POST \/api\/v1\/keys\/validate → HTTP 401/, /invalid, expired or revoked/],
    },
    {
      name: 'a key issued for another service',
      inputs: () => hokusaiInputs({ 'api-key': OTHER_SERVICE_KEY, 'model-name': 'bad-9' }),
      expect: [/Validate API key failed: HTTP 401/, /Key not authorized for this service/, /issued for another service/, /"platform"/],
    },
    {
      name: 'a read-only key',
      inputs: () => hokusaiInputs({ 'api-key': READ_ONLY_KEY, 'model-name': 'bad-10' }),
      expect: [/the key has no write scope \(its scopes: read\)/],
    },
  ];

  for (const c of cases) {
    test(c.name, async () => {
      const beforeState = await registryState(mlflow.url);
      const r = await runAction(c.inputs());
      assert.equal(r.code, 1, r.stdout);
      const message = errorOf(r);
      for (const re of c.expect) assert.match(message, re);
      assert.match(r.summary, /## ❌ Model registration failed/);
      assertNoKey(r);
      for (const name of ['model-version', 'model-uri', 'run-id'])
        assert.equal(r.outputs[name], undefined, `output ${name} set on failure`);

      const afterState = await registryState(mlflow.url);
      assert.equal(afterState.versions.length, beforeState.versions.length, 'a version was registered');
      assert.equal(afterState.runs.length, beforeState.runs.length, 'a run was created');
      assert.equal(afterState.registeredModels.length, beforeState.registeredModels.length, 'a registered model was created');
      assert.deepEqual(
        afterState.runs.filter((x) => x.status === 'RUNNING'),
        [],
      );
    });
  }
});
