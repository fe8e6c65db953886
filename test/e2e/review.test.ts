// The model review (issue 15) against a real MLflow server: register mode keeps the metrics and
// the manifest with the version, MLflow's own client reads both back; verify mode with model-path
// compares a changed directory with the champion, writes the diff output, the summary and the
// pull-request comment, and writes nothing to the registry.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { assertNoSecret, errorOf } from '../support/action-asserts.ts';
import { startFakeGitHub } from '../support/fake-github.ts';
import { startFrontProxy, type FrontProxy } from '../support/front-proxy.ts';
import { startMlflowServer, type MlflowServer } from '../support/mlflow-server.ts';
import { SUPPORT_DIR } from '../support/paths.ts';
import { pythonJson } from '../support/python.ts';
import { registryState } from '../support/registry-state.ts';
import { runAction } from '../support/run-action.ts';

const KEY = 'fake-key-review-7e8f9a0b1c';
const GH_TOKEN = 'fake-gh-token-review-2d3e4f';
const SHA = 'c'.repeat(40);
const PR = { eventName: 'pull_request', event: { pull_request: { number: 9, head: { sha: SHA, ref: 'retrain' } } } };

let mlflow: MlflowServer;
let work: string;
let modelDir: string;

before(async () => {
  work = mkdtempSync(path.join(tmpdir(), 'e2e-review-'));
  const [server, made] = await Promise.all([
    startMlflowServer(),
    pythonJson<{ model_dir: string }>(path.join(SUPPORT_DIR, 'make_model.py'), [path.join(work, 'model')]),
  ]);
  mlflow = server;
  modelDir = made.model_dir;
});

after(async () => {
  await mlflow?.stop();
});

const plain = (over: Record<string, string> = {}) => ({ 'tracking-uri': mlflow.url, 'auth-url': '', ...over });

interface Diff {
  against: { alias: string; version: string } | null;
  changed: boolean;
  files: { added: string[]; removed: string[]; changed: string[]; compared: string };
  requirements: { added: string[]; removed: string[]; changed: Array<{ name: string; from: string; to: string }> };
  signature: Record<'inputs' | 'outputs', { added: unknown[]; removed: unknown[]; changed: unknown[] }>;
  flavors: { added: string[]; removed: string[] };
  metrics: Array<{ name: string; from: number | null; to: number; better?: string; verdict?: string }>;
}

const diffOf = (outputs: Record<string, string>): Diff => JSON.parse(outputs.diff ?? 'null') as Diff;

/** A copy of the example model to change. */
function candidate(name: string): string {
  const dir = path.join(work, name);
  cpSync(modelDir, dir, { recursive: true });
  return dir;
}

/** What MLflow's client sees of a run: its metrics, its root artifacts, and the stored manifest. */
async function runAsPythonSees(runId: string) {
  const script = `
import json, sys, mlflow
from mlflow import MlflowClient
c = MlflowClient(tracking_uri=sys.argv[1])
run = c.get_run(sys.argv[2])
root = [f.path for f in c.list_artifacts(sys.argv[2])]
model = sorted(f.path for f in c.list_artifacts(sys.argv[2], "model"))
with open(mlflow.artifacts.download_artifacts(run_id=sys.argv[2], artifact_path="model.manifest.json", tracking_uri=sys.argv[1])) as f:
    manifest = json.load(f)
print(json.dumps({"metrics": run.data.metrics, "root": sorted(root), "model": model, "manifest": manifest}))
`;
  return pythonJson<{
    metrics: Record<string, number>;
    root: string[];
    model: string[];
    manifest: { schema: string; digest: string; files: Array<{ path: string; size: number; sha256: string }> };
  }>('-c', [script, mlflow.url, runId]);
}

function filesOf(dir: string, rel = ''): Array<{ path: string; size: number; sha256: string }> {
  return readdirSync(path.join(dir, rel))
    .flatMap((name) => {
      const r = rel ? `${rel}/${name}` : name;
      const abs = path.join(dir, r);
      if (statSync(abs).isDirectory()) return filesOf(dir, r);
      return [{ path: r, size: statSync(abs).size, sha256: createHash('sha256').update(readFileSync(abs)).digest('hex') }];
    })
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

describe('the model review', () => {
  let champion: { runId: string; version: string };

  before(async () => {
    // The champion, registered by the action with its metrics.
    const r = await runAction(
      plain({ 'model-name': 'churn', 'model-path': modelDir, aliases: 'champion', metrics: 'auroc=0.81\nrmse=0.42\nrows_seen=150' }),
      { env: { GITHUB_SHA: '1'.repeat(40) } },
    );
    assert.equal(r.code, 0, r.stdout);
    champion = { runId: r.outputs['run-id']!, version: r.outputs['model-version']! };
  });

  test('register mode logs the metrics on the run and stores the manifest beside the model, outside it', async () => {
    const seen = await runAsPythonSees(champion.runId);
    assert.deepEqual(seen.metrics, { auroc: 0.81, rmse: 0.42, rows_seen: 150 });
    assert.deepEqual(seen.root, ['model', 'model.manifest.json']);
    // The model's own files stay exactly as given.
    assert.deepEqual(
      seen.model,
      filesOf(modelDir).map((f) => `model/${f.path}`),
    );
    assert.equal(seen.manifest.schema, 'hokusai-register-model/manifest@1');
    assert.deepEqual(seen.manifest.files, filesOf(modelDir));
    const listed = seen.manifest.files.map((f) => `${f.sha256}  ${f.size}  ${f.path}\n`).join('');
    assert.equal(seen.manifest.digest, `sha256:${createHash('sha256').update(listed).digest('hex')}`);
  });

  test('a changed model against the champion: the diff output, the summary and the comment; nothing written', async () => {
    const dir = candidate('changed');
    // Retrained: a model file changes; a requirement moves and one is added; a file goes, one comes;
    // an input column is renamed in the signature.
    writeFileSync(path.join(dir, 'model.skops'), Buffer.concat([readFileSync(path.join(dir, 'model.skops')), Buffer.from('retrained')]));
    const reqs = readFileSync(path.join(dir, 'requirements.txt'), 'utf8');
    const sklearn = /^scikit-learn==(\S+)$/m.exec(reqs)![1]!;
    writeFileSync(
      path.join(dir, 'requirements.txt'),
      `${reqs.trimEnd().replace(/^scikit-learn==\S+$/m, 'scikit-learn==1.9.9')}\nlightgbm==4.6.0\n`,
    );
    rmSync(path.join(dir, 'serving_input_example.json'));
    writeFileSync(path.join(dir, 'thresholds.json'), '{"positive": 0.5}\n');
    const mlmodel = readFileSync(path.join(dir, 'MLmodel'), 'utf8');
    assert.match(mlmodel, /sepal length \(cm\)/);
    writeFileSync(path.join(dir, 'MLmodel'), mlmodel.replace('sepal length (cm)', 'sepal length (mm)'));

    const gh = await startFakeGitHub();
    try {
      const before = await registryState(mlflow.url);
      const r = await runAction(
        plain({
          mode: 'verify',
          'model-name': 'churn',
          'model-path': dir,
          metrics: 'auroc=0.84\nrmse=0.45\nf1=0.7',
          comment: 'true',
          'github-token': GH_TOKEN,
        }),
        { ...PR, env: { GITHUB_API_URL: gh.url } },
      );
      assert.equal(r.code, 0, r.stdout);
      assert.equal(r.outputs.status, 'pass');
      assert.equal(r.outputs.changed, 'true');
      const diff = diffOf(r.outputs);
      assert.deepEqual(diff.against, { alias: 'champion', version: champion.version });
      assert.equal(diff.changed, true);
      assert.deepEqual(diff.files, {
        added: ['thresholds.json'],
        removed: ['serving_input_example.json'],
        // Largest first.
        changed: ['model.skops', 'MLmodel', 'requirements.txt'],
        compared: 'sha256',
      });
      assert.deepEqual(diff.requirements, {
        added: ['lightgbm==4.6.0'],
        removed: [],
        changed: [{ name: 'scikit-learn', from: sklearn, to: '1.9.9' }],
      });
      assert.deepEqual(diff.signature, {
        inputs: {
          added: [{ name: 'sepal length (mm)', type: 'double' }],
          removed: [{ name: 'sepal length (cm)', type: 'double' }],
          changed: [],
        },
        outputs: { added: [], removed: [], changed: [] },
      });
      assert.deepEqual(diff.flavors, { added: [], removed: [] });
      assert.deepEqual(diff.metrics, [
        { name: 'auroc', from: 0.81, to: 0.84, better: 'higher', verdict: 'better' },
        { name: 'rmse', from: 0.42, to: 0.45, better: 'lower', verdict: 'worse' },
        { name: 'f1', from: null, to: 0.7, better: 'higher' },
      ]);

      // The summary: the checks, then the review a person reads at a glance.
      const review = r.summary.slice(r.summary.indexOf('\n### '));
      assert.match(review, /^\n### ⚠️ Review of <code>churn<\/code> against champion \(version 1\): rmse worse \(0\.42 → 0\.45\)/);
      assert.match(review, /^\| <code>auroc<\/code> \| 0\.81 \| 0\.84 \| ▲ \+0\.03 ✅ \|$/m);
      assert.match(review, /^\| <code>rmse<\/code> \| 0\.42 \| 0\.45 \| ▲ \+0\.03 ⚠️ \|$/m);
      assert.match(review, /^\| <code>f1<\/code> \| — \| 0\.7 \| new \|$/m);
      assert.match(review, /^- added <code>lightgbm==4\.6\.0<\/code>$/m);
      assert.match(review, new RegExp(`^- <code>scikit-learn</code> ${sklearn.replace(/\./g, '\\.')} → 1\\.9\\.9$`, 'm'));
      assert.match(review, /sepal length \(mm\)/);
      assert.match(review, /<details><summary>📁 3 changed, 1 added, 1 removed/);
      const rows = [...review.matchAll(/^\| <code>([^<]+)<\/code> \| (added|removed|changed) \|/gm)].map((m) => `${m[2]} ${m[1]}`);
      assert.deepEqual(rows, [
        'changed model.skops',
        'changed MLmodel',
        'removed serving&#95;input&#95;example.json',
        'changed requirements.txt',
        'added thresholds.json',
      ]);
      assert.match(r.stdout, /::warning title=Metrics got worse::Worse than champion: rmse 0\.42 → 0\.45/);

      // The comment carries the same review.
      assert.equal(gh.comments.length, 1);
      const body = gh.comments[0]!.body;
      assert.match(body, /\n### ⚠️ Review of <code>churn<\/code> against champion \(version 1\)/);
      assert.match(body, /^- added <code>lightgbm==4\.6\.0<\/code>$/m);
      assert.match(body, /^\| <code>auroc<\/code> \| 0\.81 \| 0\.84 \| ▲ \+0\.03 ✅ \|$/m);
      assert.ok(!body.includes(GH_TOKEN));

      // Read-only.
      assert.deepEqual(await registryState(mlflow.url), before);
    } finally {
      await gh.stop();
    }
  });

  test('the unchanged directory: changed is false, and the summary says so', async () => {
    const r = await runAction(plain({ mode: 'verify', 'model-name': 'churn', 'model-path': modelDir, metrics: 'auroc=0.81' }));
    assert.equal(r.code, 0, r.stdout);
    assert.equal(r.outputs.changed, 'false');
    const diff = diffOf(r.outputs);
    assert.equal(diff.changed, false);
    assert.deepEqual(diff.files, { added: [], removed: [], changed: [], compared: 'sha256' });
    assert.deepEqual(diff.requirements, { added: [], removed: [], changed: [] });
    assert.deepEqual(diff.metrics, [{ name: 'auroc', from: 0.81, to: 0.81, better: 'higher', verdict: 'same' }]);
    assert.match(r.summary, /\n### ✅ No change in <code>churn<\/code> against champion \(version 1\)\n/);
    assert.match(r.summary, /📁 Files: all 7 unchanged \(sha256\)/);
  });

  test('an alias that does not exist: a notice, everything new, against null; the step passes', async () => {
    const r = await runAction(plain({ mode: 'verify', 'model-name': 'churn', 'model-path': modelDir, 'compare-to': 'production' }));
    assert.equal(r.code, 0, r.stdout);
    assert.match(r.stdout, /::notice title=No production yet::"churn" has no version with the alias "production" yet/);
    const diff = diffOf(r.outputs);
    assert.equal(diff.against, null);
    assert.equal(diff.changed, true);
    assert.deepEqual(
      diff.files.added.sort(),
      filesOf(modelDir)
        .map((f) => f.path)
        .sort(),
    );
    assert.match(r.summary, /\n### 🆕 No production for <code>churn<\/code> yet: everything is new \(7 files, /);
  });

  test("a champion registered by MLflow's Python client (no manifest): compared by size, and the review says so", async () => {
    const reg = await pythonJson<{ version: string }>(path.join(SUPPORT_DIR, 'register_with_python.py'), [
      'py-churn',
      modelDir,
      '--tracking-uri',
      mlflow.url,
    ]);
    await pythonJson('-c', [
      'import json, sys; from mlflow import MlflowClient; MlflowClient(sys.argv[1], sys.argv[1]).set_registered_model_alias("py-churn", "champion", sys.argv[2]); print("{}")',
      mlflow.url,
      reg.version,
    ]);
    const same = await runAction(plain({ mode: 'verify', 'model-name': 'py-churn', 'model-path': modelDir }));
    assert.equal(same.code, 0, same.stdout);
    assert.deepEqual(diffOf(same.outputs).files, { added: [], removed: [], changed: [], compared: 'size' });
    // Equal sizes say nothing of the contents: not reported as unchanged.
    assert.equal(same.outputs.changed, 'true');
    assert.match(
      same.summary,
      /\n### 🔍 Review of <code>py-churn<\/code> against champion \(version 1\): no file changed in size \(contents not compared\)\n/,
    );
    assert.match(same.summary, /contents could not be compared/);
    assert.match(same.summary, /📁 Files: all 7 unchanged \(size only\)/);

    const dir = candidate('py-changed');
    writeFileSync(path.join(dir, 'notes.md'), 'retrained on more rows\n');
    writeFileSync(path.join(dir, 'input_example.json'), `${readFileSync(path.join(dir, 'input_example.json'), 'utf8')} `);
    const changed = await runAction(plain({ mode: 'verify', 'model-name': 'py-churn', 'model-path': dir }));
    assert.equal(changed.code, 0, changed.stdout);
    assert.deepEqual(diffOf(changed.outputs).files, {
      added: ['notes.md'],
      removed: [],
      changed: ['input_example.json'],
      compared: 'size',
    });
    assert.match(changed.summary, /compared by size only/);
  });

  test("a champion logged as an MLflow 3 model (source models:/m-…): found through get-download-uri, its run's metrics compared", async () => {
    const script = `
import json, sys, warnings
warnings.filterwarnings("ignore")
import mlflow, mlflow.pyfunc
from mlflow import MlflowClient
mlflow.set_tracking_uri(sys.argv[1])
mlflow.set_experiment("logged")
with mlflow.start_run():
    mlflow.log_metric("auroc", 0.79)
    info = mlflow.pyfunc.log_model(name="model", loader_module="mlflow.sklearn", data_path=sys.argv[2] + "/model.skops", registered_model_name="logged-churn", pip_requirements=["scikit-learn"])
v = MlflowClient(sys.argv[1], sys.argv[1]).get_latest_versions("logged-churn")[0]
MlflowClient(sys.argv[1], sys.argv[1]).set_registered_model_alias("logged-churn", "champion", v.version)
print(json.dumps({"source": v.source}))
`;
    const logged = await pythonJson<{ source: string }>('-c', [script, mlflow.url, modelDir]);
    assert.match(logged.source, /^models:\/m-/);
    const r = await runAction(plain({ mode: 'verify', 'model-name': 'logged-churn', 'model-path': modelDir, metrics: 'auroc=0.84' }));
    assert.equal(r.code, 0, r.stdout);
    assert.doesNotMatch(r.stdout, /::warning/);
    const diff = diffOf(r.outputs);
    assert.equal(diff.files.compared, 'size');
    // The logged model keeps its file under data/; MLflow wrote its own MLmodel and requirements.
    assert.deepEqual(diff.files, {
      added: ['model.skops', 'serving_input_example.json', 'input_example.json'],
      removed: ['data/model.skops'],
      changed: ['MLmodel', 'conda.yaml', 'requirements.txt'],
      compared: 'size',
    });
    assert.deepEqual(diff.metrics, [{ name: 'auroc', from: 0.79, to: 0.84, better: 'higher', verdict: 'better' }]);
  });

  test('files of the champion that cannot be listed: a warning naming the request; the rest is still reviewed', async () => {
    // The Python client's version has no manifest, so its files must be listed: the proxy refuses that.
    const proxy: FrontProxy = await startFrontProxy({
      upstream: mlflow.url,
      validKeys: [KEY],
      faults: [
        {
          method: 'GET',
          path: /^\/api\/2\.0\/mlflow-artifacts\/artifacts$/,
          query: /artifacts\/model$/,
          status: 500,
          body: 'listing broke',
        },
      ],
    });
    try {
      const r = await runAction({
        mode: 'verify',
        'api-key': KEY,
        'auth-url': '',
        'tracking-uri': proxy.trackingUri,
        'model-name': 'py-churn',
        'model-path': modelDir,
        'max-retries': '0',
      });
      assert.equal(r.code, 0, r.stdout);
      assert.match(
        r.stdout,
        /::warning title=Review incomplete::Could not list the files of version \d+: .*request: GET \/api\/mlflow\/api\/2\.0\/mlflow-artifacts\/artifacts → HTTP 500/,
      );
      const diff = diffOf(r.outputs);
      assert.equal(diff.files.compared, 'none');
      assert.equal(r.outputs.changed, 'true', 'files that could not be compared are not reported unchanged');
      assert.deepEqual(diff.requirements, { added: [], removed: [], changed: [] });
      assert.match(r.summary, /could not be compared|not compared/);
    } finally {
      await proxy.stop();
    }
  });

  test('a hostile manifest from the server: escaped in the summary, no workflow command forged, the key redacted', async () => {
    const hex = 'a'.repeat(64);
    const hostile = [
      `</details><img src=x onerror=alert(1)>|${KEY}|.bin`,
      '::error::forged.bin',
      'x\n::warning::forged too.bin',
      '[click](https://evil.example)@octocat.bin',
    ];
    const manifest = JSON.stringify({
      schema: 'hokusai-register-model/manifest@1',
      digest: `sha256:${hex}`,
      files: hostile.map((p) => ({ path: p, size: 7, sha256: hex })),
    });
    const proxy: FrontProxy = await startFrontProxy({
      upstream: mlflow.url,
      validKeys: [KEY],
      faults: [{ method: 'GET', path: /\.manifest\.json$/, status: 200, headers: { 'content-type': 'application/json' }, body: manifest }],
    });
    try {
      const r = await runAction(
        {
          mode: 'verify',
          'api-key': KEY,
          'auth-url': '',
          'tracking-uri': proxy.trackingUri,
          'model-name': 'churn',
          'model-path': modelDir,
        },
        { env: { RUNNER_DEBUG: '1' } },
      );
      assert.equal(r.code, 0, r.stdout);
      assertNoSecret(r, [KEY]);
      const diff = diffOf(r.outputs);
      assert.equal(diff.files.removed.length, hostile.length);
      assert.ok(
        diff.files.removed.every((p) => !p.includes(KEY)),
        'the key is redacted in the diff output',
      );
      // Only the action's own commands start a line; nothing the server said became one.
      assert.ok(!r.stdout.split('\n').some((l) => /^::(error|warning)::forged/.test(l)), 'a forged workflow command');
      assert.doesNotMatch(r.summary, /<img|<\/details><img|\]\(https/);
      assert.match(r.summary, /&#60;img src=x onerror=alert\(1\)&#62;/);
      assert.doesNotMatch(r.summary, /@octocat/);
    } finally {
      await proxy.stop();
    }
  });

  test('a model directory that fails validation: the same error as register mode, nothing asked of the registry', async () => {
    const dir = candidate('broken');
    rmSync(path.join(dir, 'MLmodel'));
    const r = await runAction(plain({ mode: 'verify', 'model-name': 'churn', 'model-path': dir }));
    assert.equal(r.code, 1);
    assert.match(errorOf(r), /no MLmodel file at the root of/);
    const register = await runAction(plain({ 'model-name': 'churn', 'model-path': dir }));
    assert.equal(errorOf(register).split('\n')[0], errorOf(r).split('\n')[0]);
    assert.equal(r.outputs.changed, undefined);
  });
});
