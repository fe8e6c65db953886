// End to end against the other MLflow versions users run: 3.9.0 (the Hokusai registry's pin)
// and 2.22.4 (the last 2.x), each a real `mlflow server` from its own virtualenv
// (.venv-mlflow-<version>, see scripts/setup.sh). The built dist/index.js registers through the
// Hokusai-style proxy, verifies and re-runs; that version's own Python client reads the version
// back. Also: a file with a non-ASCII name, which 3.9.0 stores but cannot serve back.
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { assertNoSecret, checksOf, errorOf } from '../support/action-asserts.ts';
import { startFakeAuth, type FakeAuth } from '../support/fake-auth.ts';
import { startFrontProxy, type FrontProxy } from '../support/front-proxy.ts';
import { startMlflowServer, type MlflowServer } from '../support/mlflow-server.ts';
import { EXTRA_VENVS, SUPPORT_DIR, type Venv } from '../support/paths.ts';
import { pythonJson } from '../support/python.ts';
import { registryState } from '../support/registry-state.ts';
import { runAction, type ActionRun } from '../support/run-action.ts';

// Obviously fake keys, shaped nothing like real ones.
const KEY = 'fake-key-versions-rw-3c4d5e6f7a';
const KEYS = [KEY];
const HEAD_SHA = 'c0ffeec0ffeec0ffeec0ffeec0ffeec0ffeec0ff';
const NON_ASCII = 'données-été.bin';

interface Readback {
  files_identical: boolean;
  mismatches: unknown[];
  predictions_match: boolean;
  load_error: string | null;
  aliases: Record<string, string | null>;
  version: { status: string; source: string; run_id: string; tags: Record<string, string>; description: string | null };
  run: { status: string; tags: Record<string, string> } | null;
}

/** One MLflow version under test: its server, the proxy in front, and a model its own MLflow saved. */
interface Target {
  venv: Venv;
  server: MlflowServer;
  proxy: FrontProxy;
  modelDir: string;
  expected: string;
}

const versions = Object.values(EXTRA_VENVS);
const targets = new Map<string, Target>();
let work: string;
let auth: FakeAuth;

before(async () => {
  assert.deepEqual(
    versions.map((v) => v.mlflowVersion),
    ['2.22.4', '3.9.0'],
    'requirements-mlflow-*.txt pin the versions this file is about',
  );
  work = mkdtempSync(path.join(tmpdir(), 'e2e-versions-'));
  auth = await startFakeAuth({ [KEY]: { service_id: 'platform', scopes: ['read', 'write'] } });
  await Promise.all(
    versions.map(async (venv) => {
      const [server, made] = await Promise.all([
        startMlflowServer({ venv }),
        // Saved by the same MLflow that reads it back, as that version's users save theirs.
        pythonJson<{ model_dir: string; expected: string }>(
          path.join(SUPPORT_DIR, 'make_model.py'),
          [path.join(work, `model-${venv.mlflowVersion}`)],
          { venv },
        ),
      ]);
      const proxy = await startFrontProxy({ upstream: server.url, validKeys: KEYS });
      targets.set(venv.mlflowVersion, { venv, server, proxy, modelDir: made.model_dir, expected: made.expected });
    }),
  );
});

after(async () => {
  await Promise.allSettled([auth?.stop(), ...[...targets.values()].map((t) => t.proxy.stop())]);
  await Promise.allSettled([...targets.values()].map((t) => t.server.stop()));
});

const target = (version: string): Target => {
  const t = targets.get(version);
  if (!t) throw new Error(`no server for MLflow ${version}`);
  return t;
};

const assertNoKey = (r: ActionRun) => assertNoSecret(r, KEYS);

async function readback(t: Target, name: string, version: string, aliases: string[], original = t.modelDir): Promise<Readback> {
  const args = ['--tracking-uri', t.proxy.trackingUri, '--name', name, '--version', version, '--original', original];
  args.push('--expected', t.expected);
  for (const a of aliases) args.push('--alias', a);
  return pythonJson<Readback>(path.join(SUPPORT_DIR, 'readback.py'), args, {
    env: { MLFLOW_TRACKING_TOKEN: KEY },
    timeoutMs: 180_000,
    venv: t.venv,
  });
}

for (const { mlflowVersion } of versions) {
  describe(`MLflow ${mlflowVersion} server`, () => {
    const hokusai = (over: Record<string, string> = {}) => ({
      'api-key': KEY,
      'tracking-uri': target(mlflowVersion).proxy.trackingUri,
      'auth-url': auth.url,
      'model-path': target(mlflowVersion).modelDir,
      ...over,
    });

    test(`registers through the Hokusai-style proxy with aliases; MLflow ${mlflowVersion}'s client reads it back`, async () => {
      const t = target(mlflowVersion);
      const r = await runAction(
        hokusai({
          'model-name': 'churn',
          description: `registered on ${mlflowVersion}`,
          tags: 'team=search',
          aliases: 'staging, candidate',
        }),
        {
          eventName: 'pull_request',
          event: { pull_request: { number: 21, head: { sha: HEAD_SHA, ref: 'feature/y' } } },
          env: { GITHUB_REF: 'refs/pull/21/merge' },
        },
      );
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assertNoKey(r);
      const o = r.outputs;
      assert.equal(o['model-version'], '1');
      assert.equal(o.reused, 'false');
      assert.equal(o.source, `mlflow-artifacts:/${o['experiment-id']}/${o['run-id']}/artifacts/model`);
      // Every file went up through the artifact proxy, with the key.
      const puts = t.proxy.requests.filter((q) => q.method === 'PUT');
      assert.ok(puts.length >= 5, `${puts.length} uploads`);
      for (const put of puts) assert.equal(put.authorization, `Bearer ${KEY}`);

      const back = await readback(t, 'churn', '1', ['staging', 'candidate']);
      assert.deepEqual(back.mismatches, []);
      assert.equal(back.files_identical, true);
      assert.equal(back.load_error, null);
      assert.equal(back.predictions_match, true);
      assert.deepEqual(back.aliases, { staging: '1', candidate: '1' });
      assert.equal(back.version.status, 'READY');
      assert.equal(back.version.run_id, o['run-id']);
      assert.equal(back.version.source, o.source);
      assert.equal(back.version.description, `registered on ${mlflowVersion}`);
      assert.equal(back.version.tags.git_sha, HEAD_SHA);
      assert.equal(back.version.tags.model_digest, o.digest);
      assert.equal(back.version.tags.github_pr_number, '21');
      assert.equal(back.version.tags.team, 'search');
      assert.equal(back.version.tags.github_run_url, 'https://github.com/acme/churn-model/actions/runs/4242/attempts/1');
      assert.equal(back.run?.status, 'FINISHED');
      assert.equal(back.run?.tags.git_sha, HEAD_SHA);
      assert.equal(back.run?.tags['mlflow.source.git.commit'], HEAD_SHA);
      assert.equal(back.run?.tags.github_event_name, 'pull_request');
    });

    test('a re-run for the same commit and content reuses the version, and moves the new alias onto it', async () => {
      const t = target(mlflowVersion);
      const inputs = hokusai({ 'model-name': 'rerun', 'experiment-name': 'rerun' });
      const env = { GITHUB_SHA: '5'.repeat(40) };
      const first = await runAction({ ...inputs, aliases: 'staging' }, { env });
      assert.equal(first.code, 0, first.stdout);
      assert.equal(first.outputs.reused, 'false');
      const beforeState = await registryState(t.server.url);

      const again = await runAction({ ...inputs, aliases: 'staging, champion' }, { env: { ...env, GITHUB_RUN_ATTEMPT: '2' } });
      assert.equal(again.code, 0, again.stdout);
      assert.equal(again.outputs.reused, 'true');
      assert.equal(again.outputs['model-version'], first.outputs['model-version']);
      assert.equal(again.outputs['run-id'], first.outputs['run-id']);
      assert.match(again.stdout, /was registered for commit 555555555555 with the same content: reusing it/);
      const afterState = await registryState(t.server.url);
      assert.equal(afterState.versions.length, beforeState.versions.length, 'no duplicate version');
      assert.equal(afterState.runs.length, beforeState.runs.length, 'no new run');
      assert.deepEqual(afterState.registeredModels.find((m) => m.name === 'rerun')?.aliases, { staging: '1', champion: '1' });
      assertNoKey(again);
    });

    test('mode: verify passes every check and writes nothing', async () => {
      const t = target(mlflowVersion);
      const beforeState = await registryState(t.server.url);
      const r = await runAction({
        mode: 'verify',
        'api-key': KEY,
        'tracking-uri': t.proxy.trackingUri,
        'auth-url': auth.url,
        'model-name': 'churn',
      });
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
      assert.match(
        checks.Model!.detail,
        /"churn" exists; latest version 1; aliases: (staging → 1, candidate → 1|candidate → 1, staging → 1)/,
      );
      assertNoKey(r);
      assert.deepEqual(await registryState(t.server.url), beforeState);
    });

    test('the review: by alias, from the stored manifest; a Python-registered champion by size without warnings; a missing alias is a notice', async () => {
      const t = target(mlflowVersion);
      const beforeState = await registryState(t.server.url);
      const dir = path.join(work, `review-${mlflowVersion}`);
      cpSync(t.modelDir, dir, { recursive: true });
      writeFileSync(
        path.join(dir, 'requirements.txt'),
        `${readFileSync(path.join(dir, 'requirements.txt'), 'utf8').trimEnd()}\nlightgbm==4.6.0\n`,
      );
      const r = await runAction(hokusai({ mode: 'verify', 'model-name': 'churn', 'model-path': dir, 'compare-to': 'staging' }));
      assert.equal(r.code, 0, r.stdout);
      const diff = JSON.parse(r.outputs.diff ?? '{}') as { against: unknown; files: unknown; requirements: { added: string[] } };
      assert.deepEqual(diff.against, { alias: 'staging', version: '1' });
      assert.deepEqual(diff.files, { added: [], removed: [], changed: ['requirements.txt'], compared: 'sha256' });
      assert.deepEqual(diff.requirements.added, ['lightgbm==4.6.0']);

      // A champion registered by this version's own client has no manifest: listed, not read blindly
      // (this server answers 500 for a file that is not there), so no warning.
      const py = await pythonJson<{ version: string }>(
        path.join(SUPPORT_DIR, 'register_with_python.py'),
        ['py-churn', t.modelDir, '--tracking-uri', t.server.url],
        { venv: t.venv },
      );
      await pythonJson(
        '-c',
        [
          'import sys; from mlflow import MlflowClient; MlflowClient(sys.argv[1], sys.argv[1]).set_registered_model_alias("py-churn", "champion", sys.argv[2]); print("{}")',
          t.server.url,
          py.version,
        ],
        { venv: t.venv },
      );
      const sized = await runAction(hokusai({ mode: 'verify', 'model-name': 'py-churn', 'model-path': t.modelDir }));
      assert.equal(sized.code, 0, sized.stdout);
      assert.doesNotMatch(sized.stdout, /::warning/, 'nothing missing was asked for');
      assert.deepEqual(JSON.parse(sized.outputs.diff ?? '{}').files, { added: [], removed: [], changed: [], compared: 'size' });

      const none = await runAction(hokusai({ mode: 'verify', 'model-name': 'churn', 'model-path': dir, 'compare-to': 'production' }));
      assert.equal(none.code, 0, none.stdout);
      assert.match(none.stdout, /::notice title=No production yet::/);
      assert.equal(JSON.parse(none.outputs.diff ?? '{}').against, null);
      assertNoKey(none);
      const afterState = await registryState(t.server.url);
      // Only the Python client's registration was written; the reviews wrote nothing.
      assert.deepEqual(
        afterState.versions.filter((v) => v.name !== 'py-churn'),
        beforeState.versions.filter((v) => v.name !== 'py-churn'),
      );
    });
  });
}

describe('a file with a non-ASCII name beside the model', () => {
  const withNonAscii = (from: string, name: string): string => {
    const dir = path.join(work, name);
    cpSync(from, dir, { recursive: true });
    writeFileSync(path.join(dir, NON_ASCII), Buffer.from([0x00, 0xc3, 0xa9, 0x7f, 0xff, 0x10]));
    return dir;
  };

  test('FINDING: 3.9.0 stores and lists such names but answers 500 when serving them; 2.22.4 serves Latin-1 names only', async () => {
    const cases = [
      ['3.9.0', NON_ASCII, 500],
      ['3.9.0', '模型.bin', 500],
      ['2.22.4', NON_ASCII, 200],
      ['2.22.4', '模型.bin', 500],
    ] as const;
    for (const [i, [version, name, served]] of cases.entries()) {
      const what = `${name} on ${version}`;
      const base = `${target(version).server.url}/api/2.0/mlflow-artifacts/artifacts`;
      const put = await fetch(`${base}/finding-${i}/${encodeURIComponent(name)}`, { method: 'PUT', body: 'abc' });
      assert.equal(put.status, 200, what);
      const listed = await fetch(`${base}?path=finding-${i}`);
      assert.deepEqual(await listed.json(), { files: [{ path: name, is_dir: false, file_size: 3 }] }, what);
      // 2.22.4 sometimes closes the connection without an answer instead of the 500.
      const get = await fetch(`${base}/finding-${i}/${encodeURIComponent(name)}`).catch(() => undefined);
      if (served === 200) {
        assert.equal(get?.status, 200, what);
        assert.equal(await get.text(), 'abc', what);
      } else {
        assert.ok(get === undefined || get.status === 500, `${what}: HTTP ${get?.status}`);
        await get?.arrayBuffer();
      }
    }
  });

  test('MLflow 3.17.2 (the default server) registers it and its client downloads the file byte for byte', async () => {
    // The model 3.9.0 saved (same scikit-learn): no third make_model.py run.
    const { modelDir, expected } = target('3.9.0');
    const dir = withNonAscii(modelDir, 'non-ascii-default');
    const server = await startMlflowServer();
    try {
      const r = await runAction({
        'tracking-uri': server.url,
        'auth-url': '',
        'model-path': dir,
        'model-name': 'non-ascii',
      });
      assert.equal(r.code, 0, r.stdout + r.stderr);
      const back = await pythonJson<Readback>(
        path.join(SUPPORT_DIR, 'readback.py'),
        ['--tracking-uri', server.url, '--name', 'non-ascii', '--version', '1', '--original', dir, '--expected', expected],
        { timeoutMs: 180_000 },
      );
      assert.deepEqual(back.mismatches, [], 'données-été.bin among the files compared');
      assert.equal(back.files_identical, true);
      assert.equal(back.predictions_match, true);
    } finally {
      await server.stop();
    }
  });

  test('MLflow 2.22.4 serves it too: registered, and its client downloads the file byte for byte', async () => {
    const t = target('2.22.4');
    const dir = withNonAscii(t.modelDir, 'non-ascii-2.22.4');
    const r = await runAction({
      'api-key': KEY,
      'tracking-uri': t.proxy.trackingUri,
      'auth-url': auth.url,
      'model-path': dir,
      'model-name': 'non-ascii',
    });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const back = await readback(t, 'non-ascii', r.outputs['model-version']!, [], dir);
    assert.deepEqual(back.mismatches, [], 'données-été.bin among the files compared');
    assert.equal(back.files_identical, true);
    assert.equal(back.predictions_match, true);
  });

  // The serve-back check in src/stores/proxy.ts: without it, 3.9.0 registers a version its client cannot download.
  test('MLflow 3.9.0 cannot serve it back: register fails naming the file, no version, the run FAILED', async () => {
    const t = target('3.9.0');
    const dir = withNonAscii(t.modelDir, 'non-ascii-3.9.0');
    const beforeState = await registryState(t.server.url);
    const r = await runAction({
      'api-key': KEY,
      'tracking-uri': t.proxy.trackingUri,
      'auth-url': auth.url,
      'model-path': dir,
      'model-name': 'non-ascii',
      'experiment-name': 'non-ascii',
    });
    assert.equal(r.code, 1, r.stdout);
    const message = errorOf(r);
    assert.match(message, /données-été\.bin/);
    assert.match(message, /cannot serve/);
    const hint = message.slice(message.indexOf('what to do:'));
    assert.match(hint, /renam/i);
    assert.match(hint, /upgrad/i);
    assertNoKey(r);

    const afterState = await registryState(t.server.url);
    assert.equal(afterState.versions.length, beforeState.versions.length, 'a version was registered');
    assert.equal(
      afterState.versions.some((v) => v.name === 'non-ascii'),
      false,
    );
    const newRuns = afterState.runs.filter((x) => !beforeState.runs.some((b) => b.run_id === x.run_id));
    assert.deepEqual(
      newRuns.map((x) => x.status),
      ['FAILED'],
    );
  });
});
