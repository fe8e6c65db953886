// The round-trip budget of docs/round-trips.md, held against a real MLflow server behind the
// Hokusai-like front proxy and the fake auth service, both holding every answer 60 ms as a
// registry a network away does. A change that adds a request, or puts one after another that
// could have gone beside it, fails here.
//
// "Rounds" is the length of the critical path: a request's round is one more than the highest
// round among the requests that had been answered before it arrived. With every answer held
// 60 ms, requests sent together all arrive before any is answered, so the count is exact.
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startFakeAuth, type FakeAuth } from '../support/fake-auth.ts';
import { startFrontProxy, type FrontProxy } from '../support/front-proxy.ts';
import { startMlflowServer, type MlflowServer } from '../support/mlflow-server.ts';
import { SUPPORT_DIR } from '../support/paths.ts';
import { pythonJson } from '../support/python.ts';
import { runAction, type ActionRun } from '../support/run-action.ts';

const KEY = 'fake-key-round-trips-5e6f7a8b';
const SHA = '3f786850e387550fdab836ed7e6dc881de23001b';
const HOLD_MS = 60;

let mlflow: MlflowServer;
let auth: FakeAuth;
let proxy: FrontProxy;
let modelDir: string;
let files: number;

before(async () => {
  const work = mkdtempSync(path.join(tmpdir(), 'e2e-round-trips-'));
  const [server, made] = await Promise.all([
    startMlflowServer(),
    pythonJson<{ model_dir: string }>(path.join(SUPPORT_DIR, 'make_model.py'), [path.join(work, 'model')]),
  ]);
  mlflow = server;
  modelDir = made.model_dir;
  files = readdirSync(modelDir, { recursive: true }).filter((f) => statSync(path.join(modelDir, String(f))).isFile()).length;
  auth = await startFakeAuth({ [KEY]: { service_id: 'platform', scopes: ['read', 'write'] } }, { latencyMs: HOLD_MS });
  proxy = await startFrontProxy({ upstream: mlflow.url, validKeys: [KEY], latencyMs: HOLD_MS });
});

after(async () => {
  await Promise.allSettled([proxy?.stop(), auth?.stop()]);
  await mlflow?.stop();
});

interface Trip {
  what: string;
  startedAt: number;
  endedAt: number;
}

/** Runs the action and returns the requests it made to the registry and the auth service, in arrival order. */
async function measured(inputs: Record<string, string>): Promise<{ run: ActionRun; trips: Trip[] }> {
  const [fromProxy, fromAuth] = [proxy.requests.length, auth.requests.length];
  const run = await runAction(
    {
      'api-key': KEY,
      'tracking-uri': proxy.trackingUri,
      'auth-url': auth.url,
      'model-name': 'budget',
      'upload-receipt': 'false',
      ...inputs,
    },
    { eventName: 'push', env: { GITHUB_SHA: SHA, GITHUB_REF: 'refs/heads/main' } },
  );
  assert.equal(run.code, 0, run.stdout + run.stderr);
  const trips = [
    ...proxy.requests.slice(fromProxy).map((r) => ({ what: `${r.method} ${r.path.replace('/api/mlflow', '')}`, ...times(r) })),
    ...auth.requests.slice(fromAuth).map((r) => ({ what: `${r.method} auth${r.path}`, ...times(r) })),
  ].sort((a, b) => a.startedAt - b.startedAt);
  return { run, trips };
}

function times(r: { startedAt: number; endedAt?: number | undefined }): { startedAt: number; endedAt: number } {
  assert.ok(r.endedAt !== undefined, 'every request was answered');
  return { startedAt: r.startedAt, endedAt: r.endedAt };
}

/** The length of the critical path (see the top of this file). */
function rounds(trips: readonly Trip[]): number {
  const round: number[] = [];
  trips.forEach((t, i) => {
    round[i] = 1 + Math.max(0, ...trips.slice(0, i).map((q, j) => (q.endedAt <= t.startedAt ? (round[j] ?? 0) : 0)));
  });
  return Math.max(0, ...round);
}

/** The requests by kind, uploads counted together, for a readable failure. */
const shape = (trips: readonly Trip[]) =>
  trips.map((t) =>
    t.what
      .replace(/\/mlflow-artifacts\/artifacts\/.*\.manifest\.json$/, '/mlflow-artifacts/artifacts/<manifest>')
      .replace(/\/mlflow-artifacts\/artifacts\/(?!<manifest>).*/, '/mlflow-artifacts/artifacts/<file>')
      .replace(/\?.*/, ''),
  );

/** Requests other than the uploads' PUTs, and rounds, against the budget; the requests listed on failure. */
function assertBudget(trips: readonly Trip[], puts: number, budget: { requests: number; rounds: number }): void {
  const kinds = shape(trips);
  assert.equal(kinds.filter((w) => w.startsWith('PUT ') && w.endsWith('<file>')).length, puts, 'one PUT per file');
  assert.deepEqual({ requests: trips.length - puts, rounds: rounds(trips) }, budget, kinds.join('\n'));
}

describe('the round-trip budget (docs/round-trips.md)', () => {
  test('register (new experiment and model; new version; reuse), verify, promote', async () => {
    const first = await measured({ 'model-path': modelDir, aliases: 'staging' });
    assert.equal(first.run.outputs['model-version'], '1');
    assertBudget(first.trips, files, { requests: 14, rounds: 9 });

    // The same commit, other content: a new version of a model and experiment that exist.
    const changed = path.join(mkdtempSync(path.join(tmpdir(), 'e2e-round-trips-')), 'model');
    cpSync(modelDir, changed, { recursive: true });
    writeFileSync(path.join(changed, 'notes.txt'), 'retrained\n');
    const second = await measured({ 'model-path': changed, aliases: 'staging' });
    assert.equal(second.run.outputs['model-version'], '2');
    assertBudget(second.trips, files + 1, { requests: 11, rounds: 7 });

    const rerun = await measured({ 'model-path': changed, aliases: 'staging' });
    assert.equal(rerun.run.outputs.reused, 'true');
    assertBudget(rerun.trips, 0, { requests: 7, rounds: 3 });

    const verify = await measured({ mode: 'verify' });
    assert.equal(verify.run.outputs.status, 'pass');
    assertBudget(verify.trips, 0, { requests: 7, rounds: 2 });

    // The review: the alias's version beside the checks; what is in its folder and beside it, and
    // its run, beside the artifact check; then the stored manifest and the files that are there.
    const review = await measured({ mode: 'verify', 'model-path': changed, 'compare-to': 'staging' });
    assert.equal(review.run.outputs.changed, 'false', review.run.stdout);
    assertBudget(review.trips, 0, { requests: 16, rounds: 3 });

    const promote = await measured({ mode: 'promote', aliases: 'champion' });
    assert.equal(promote.run.outputs['model-version'], '2');
    assertBudget(promote.trips, 0, { requests: 4, rounds: 2 });
  });

  test('the rounds of a request log: side by side is one round, one after another is two', () => {
    const t = (startedAt: number, endedAt: number) => ({ what: '', startedAt, endedAt });
    assert.equal(rounds([]), 0);
    assert.equal(rounds([t(0, 10), t(1, 11), t(2, 12)]), 1);
    assert.equal(rounds([t(0, 10), t(10, 20), t(11, 21)]), 2);
    assert.equal(rounds([t(0, 10), t(1, 30), t(12, 20), t(21, 25)]), 3);
  });
});
