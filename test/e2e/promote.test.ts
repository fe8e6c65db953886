// End to end, against a real `mlflow server`: mode promote moves aliases onto a version
// registered earlier (by commit or by number) and uploads nothing; MLflow's Python client
// reads the aliases back. Also: the pull-request comment, written through a small local
// stand-in for GitHub's issue-comments API.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { errorOf } from '../support/action-asserts.ts';
import { startMlflowServer, type MlflowServer } from '../support/mlflow-server.ts';
import { SUPPORT_DIR } from '../support/paths.ts';
import { pythonJson } from '../support/python.ts';
import { registryState } from '../support/registry-state.ts';
import { runAction } from '../support/run-action.ts';
import { startFakeGitHub } from '../support/fake-github.ts';

const SHA_A = 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1';
const SHA_B = 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb2';
const GH_TOKEN = 'fake-gh-token-5a6b7c8d9e';

let mlflow: MlflowServer;
let modelDir: string;

before(async () => {
  const work = mkdtempSync(path.join(tmpdir(), 'e2e-promote-'));
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

async function register(name: string, sha: string, aliases = '') {
  const r = await runAction(plain({ 'model-name': name, 'model-path': modelDir, aliases }), { env: { GITHUB_SHA: sha } });
  assert.equal(r.code, 0, r.stdout);
  return r.outputs['model-version']!;
}

/** Aliases as MLflow's own Python client resolves them. */
async function aliasesOf(name: string, aliases: string[]): Promise<Record<string, string | null>> {
  const script = `
import json, sys, mlflow
from mlflow import MlflowClient
c = MlflowClient(tracking_uri=sys.argv[1], registry_uri=sys.argv[1])
out = {}
for a in sys.argv[3:]:
    try:
        out[a] = c.get_model_version_by_alias(sys.argv[2], a).version
    except Exception:
        out[a] = None
print(json.dumps(out))
`;
  return pythonJson<Record<string, string | null>>('-c', [script, mlflow.url, name, ...aliases]);
}

describe('promote mode against a real MLflow server', () => {
  test('by commit: the version registered for the release commit gets the alias; nothing is uploaded or created', async () => {
    const v1 = await register('promo', SHA_A, 'staging');
    const v2 = await register('promo', SHA_B, 'staging');
    assert.deepEqual([v1, v2], ['1', '2']);
    const before = await registryState(mlflow.url);

    // A release of commit A, while B is the latest registration.
    const r = await runAction(plain({ mode: 'promote', 'model-name': 'promo', aliases: 'champion' }), {
      eventName: 'release',
      env: { GITHUB_SHA: SHA_A },
    });
    assert.equal(r.code, 0, r.stdout);
    assert.equal(r.outputs['model-version'], '1');
    assert.equal(r.outputs['model-uri'], 'models:/promo/1');
    assert.match(r.outputs.digest ?? '', /^sha256:[0-9a-f]{64}$/);
    assert.match(r.outputs['run-id'] ?? '', /^[0-9a-f]{32}$/);
    assert.deepEqual(await aliasesOf('promo', ['champion', 'staging']), { champion: '1', staging: '2' });
    assert.match(
      r.summary,
      /^## ✅ Promoted <code>promo<\/code> <a href="[^"]+">version 1<\/a> to <code>champion<\/code>\n\n- <b>Aliases:<\/b> <code>champion<\/code>: none → 1\n/,
    );

    // Only the alias changed: no run, no version, no experiment.
    const after = await registryState(mlflow.url);
    assert.deepEqual(after.runs, before.runs);
    assert.deepEqual(after.versions, before.versions);
    assert.equal(after.registeredModels.find((m) => m.name === 'promo')?.aliases.champion, '1');

    // Promoting B moves the alias, and says from where.
    const again = await runAction(plain({ mode: 'promote', 'model-name': 'promo', aliases: 'champion', 'git-sha': SHA_B }));
    assert.equal(again.code, 0, again.stdout);
    assert.equal(again.outputs['model-version'], '2');
    assert.match(again.stdout, /Alias champion: version 1 → version 2/);
    assert.match(again.summary, /1[^\n]*→[^\n]*2/);
    assert.deepEqual(await aliasesOf('promo', ['champion']), { champion: '2' });
  });

  test('by version number, and a dry run that moves nothing', async () => {
    await register('promo-v', SHA_A);
    await register('promo-v', SHA_B);
    const dry = await runAction(plain({ mode: 'promote', 'model-name': 'promo-v', aliases: 'prod', version: '1', 'dry-run': 'true' }));
    assert.equal(dry.code, 0, dry.stdout);
    assert.equal(dry.outputs['model-version'], '1');
    assert.match(dry.summary, /^## ✅ Dry run: would promote <code>promo-v<\/code> /);
    assert.deepEqual(await aliasesOf('promo-v', ['prod']), { prod: null });

    const r = await runAction(plain({ mode: 'promote', 'model-name': 'promo-v', aliases: 'prod', version: '1' }));
    assert.equal(r.code, 0, r.stdout);
    assert.deepEqual(await aliasesOf('promo-v', ['prod']), { prod: '1' });
  });

  test('a commit without a version, a missing version and a missing model fail clearly and change nothing', async () => {
    await register('promo-x', SHA_A, 'champion');
    const before = await registryState(mlflow.url);
    const cases: Array<[Record<string, string>, RegExp, RegExp]> = [
      [
        { 'model-name': 'promo-x', 'git-sha': SHA_B },
        /no version of "promo-x" was registered for commit bbbbbbbbbbbb/,
        /Register the model for this commit first/,
      ],
      [{ 'model-name': 'promo-x', version: '9' }, /version 9 of "promo-x" does not exist/, /Check the version input/],
      [{ 'model-name': 'no-such-model', version: '1' }, /the registered model "no-such-model" does not exist/, /Check model-name/],
    ];
    for (const [inputs, message, hint] of cases) {
      const r = await runAction(plain({ mode: 'promote', aliases: 'champion', ...inputs }));
      assert.equal(r.code, 1, r.stdout);
      assert.match(errorOf(r), message);
      assert.match(errorOf(r), hint);
      assert.match(r.summary, /❌ Promotion failed/);
      assert.equal(r.outputs['model-version'], undefined);
    }
    assert.deepEqual(await registryState(mlflow.url), before);
    assert.deepEqual(await aliasesOf('promo-x', ['champion']), { champion: '1' });
  });
});

describe('the pull-request comment', () => {
  const pr = { eventName: 'pull_request', event: { pull_request: { number: 5, head: { sha: SHA_A, ref: 'f' } } } };

  test('verify on a pull request keeps one comment, updated in place, with the checks', async () => {
    const gh = await startFakeGitHub();
    try {
      const inputs = plain({ mode: 'verify', comment: 'true', 'github-token': GH_TOKEN });
      const first = await runAction(inputs, { ...pr, env: { GITHUB_API_URL: gh.url } });
      assert.equal(first.code, 0, first.stdout);
      const second = await runAction(inputs, { ...pr, env: { GITHUB_API_URL: gh.url } });
      assert.equal(second.code, 0, second.stdout);
      assert.equal(gh.comments.length, 1, 'one comment, updated');
      assert.ok(gh.calls.some((c) => c.startsWith('PATCH /repos/acme/churn-model/issues/comments/1')));
      assert.match(gh.comments[0]!.body, /<!-- hokusai-register-model-action:/);
      assert.match(gh.comments[0]!.body, /\n## ✅ \d+ checks passed/);
      // One footer line: the commit (the PR's head), when, and the run, each linked once.
      assert.match(
        gh.comments[0]!.body,
        /\n<sub>For commit <a href="https:\/\/github\.com\/acme\/churn-model\/commit\/a{39}1"><code>a{12}<\/code><\/a> · updated \d{4}-\d\d-\d\d \d\d:\d\d UTC · <a href="https:\/\/github\.com\/acme\/churn-model\/actions\/runs\/4242\/attempts\/1">workflow run<\/a><\/sub>\n$/,
      );
      // Octokit's scheme for a non-JWT token; GitHub takes "token" and "Bearer" alike.
      assert.ok(gh.auth.every((a) => a === `token ${GH_TOKEN}`));
      assert.ok(!second.visibleStdout.includes(GH_TOKEN));
      assert.ok(!gh.comments.some((c) => c.body.includes(GH_TOKEN)), 'the token is never in a comment');
    } finally {
      await gh.stop();
    }
  });

  test("no permission (a fork's read-only token) is a warning; the step still passes", async () => {
    const gh = await startFakeGitHub({ refuse: true });
    try {
      const r = await runAction(plain({ mode: 'verify', comment: 'true', 'github-token': GH_TOKEN }), {
        ...pr,
        env: { GITHUB_API_URL: gh.url },
      });
      assert.equal(r.code, 0, r.stdout);
      assert.match(r.stdout, /::warning title=Pull-request comment not written::.*pull-requests: write/);
      assert.equal(gh.comments.length, 0);
    } finally {
      await gh.stop();
    }
  });

  test('on a push there is no pull request to comment on: no request is made', async () => {
    const gh = await startFakeGitHub();
    try {
      const r = await runAction(plain({ mode: 'verify', comment: 'true', 'github-token': GH_TOKEN }), { env: { GITHUB_API_URL: gh.url } });
      assert.equal(r.code, 0, r.stdout);
      assert.deepEqual(gh.calls, []);
    } finally {
      await gh.stop();
    }
  });
});
