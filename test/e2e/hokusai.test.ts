// End to end: a Hokusai registration, not only an MLflow one. Through the test front proxy
// in front of a real `mlflow server`: the token metadata lands as version tags (read back by
// MLflow's Python client), the registration event reaches the proxy, which checks its body
// against the platform's contract, and the receipt is written and uploaded to a fake of the
// Actions results service written from @actions/artifact's protocol.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, beforeEach, describe, test } from 'node:test';
import { assertNoSecret, errorOf } from '../support/action-asserts.ts';
import { startFakeAuth, type FakeAuth } from '../support/fake-auth.ts';
import { startFakeResults, unzipEntry, type FakeResults } from '../support/fake-results.ts';
import { startFrontProxy, type FrontProxy } from '../support/front-proxy.ts';
import { startMlflowServer, type MlflowServer } from '../support/mlflow-server.ts';
import { SUPPORT_DIR } from '../support/paths.ts';
import { pythonJson } from '../support/python.ts';
import { registryState } from '../support/registry-state.ts';
import { EMIT_FAILED } from '../support/registration-event-contract.ts';
import { runAction } from '../support/run-action.ts';

const KEY = 'fake-key-platform-rw-91ab27c3d4';
const READ_ONLY_KEY = 'fake-key-platform-ro-5e6f708192';
const token = { 'token-id': 'xray-7', 'benchmark-metric': 'auroc', 'benchmark-value': '0.82' };

let mlflow: MlflowServer;
let auth: FakeAuth;
let proxy: FrontProxy;
let results: FakeResults;
let modelDir: string;
let expectedPath: string;

before(async () => {
  const work = mkdtempSync(path.join(tmpdir(), 'e2e-hokusai-'));
  const [server, made] = await Promise.all([
    startMlflowServer(),
    pythonJson<{ model_dir: string; expected: string }>(path.join(SUPPORT_DIR, 'make_model.py'), [path.join(work, 'model')]),
  ]);
  mlflow = server;
  modelDir = made.model_dir;
  expectedPath = made.expected;
  auth = await startFakeAuth({
    [KEY]: { service_id: 'platform', scopes: ['read', 'write'] },
    [READ_ONLY_KEY]: { service_id: 'platform', scopes: ['read', 'write'] },
  });
  // The read-only key may write to the registry but not send events (the platform's write scope).
  proxy = await startFrontProxy({ upstream: mlflow.url, validKeys: [KEY, READ_ONLY_KEY], events: { writeKeys: [KEY] } });
  results = await startFakeResults();
});

after(async () => {
  await Promise.allSettled([proxy?.stop(), auth?.stop(), results?.close()]);
  await mlflow?.stop();
});

beforeEach(() => proxy.faults.splice(0));

/** From now on the event route answers `status` with this JSON body. */
const refuseEvents = (status: number, body: object) =>
  proxy.faults.push({
    service: 'events',
    path: /tokenized-registration-events/,
    status,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

const inputs = (over: Record<string, string> = {}) => ({
  'api-key': KEY,
  'tracking-uri': proxy.trackingUri,
  'auth-url': auth.url,
  'api-url': proxy.url,
  'model-path': modelDir,
  'max-retries': '1',
  ...over,
});

/** Every file of the model directory with its size and sha256, computed here, apart from src/. */
function filesOf(dir: string): Array<{ path: string; size: number; sha256: string }> {
  return (readdirSync(dir, { recursive: true }) as string[])
    .map(String)
    .filter((f) => statSync(path.join(dir, f)).isFile())
    .map((f) => ({
      path: f.split(path.sep).join('/'),
      size: statSync(path.join(dir, f)).size,
      sha256: createHash('sha256')
        .update(readFileSync(path.join(dir, f)))
        .digest('hex'),
    }))
    .sort((a, b) => (a.path < b.path ? -1 : 1));
}

async function versionTags(name: string, version: string): Promise<Record<string, string>> {
  const state = await registryState(mlflow.url);
  const v = state.versions.find((x) => x.name === name && x.version === version);
  assert.ok(v, `version ${version} of ${name}`);
  return v.tags;
}

const noRunning = async () =>
  assert.deepEqual(
    (await registryState(mlflow.url)).runs.filter((r) => r.status === 'RUNNING'),
    [],
  );

describe('Hokusai registration: token tags, registration event, receipt', () => {
  test('tags as the Hokusai CLI sets them, the event checked against the contract, and the receipt uploaded as an artifact', async () => {
    const sha = '1111111111111111111111111111111111111111';
    const r = await runAction(inputs({ 'model-name': 'hokusai-xray', aliases: 'staging', ...token }), {
      env: { ...results.env(), GITHUB_SHA: sha, GITHUB_JOB: 'register' },
    });
    assert.equal(r.code, 0, r.stdout);
    assertNoSecret(r, [KEY]);
    const o = r.outputs;
    assert.equal(o['model-version'], '1');
    assert.equal(o['hokusai-event'], 'sent');

    // MLflow's own client sees the tags, including the event marker, and loads the model.
    const back = await pythonJson<{ version: { tags: Record<string, string> }; predictions_match: boolean; files_identical: boolean }>(
      path.join(SUPPORT_DIR, 'readback.py'),
      ['--tracking-uri', proxy.trackingUri, '--name', 'hokusai-xray', '--version', '1', '--original', modelDir, '--expected', expectedPath],
      { env: { MLFLOW_TRACKING_TOKEN: KEY }, timeoutMs: 180_000 },
    );
    assert.equal(back.files_identical, true);
    assert.equal(back.predictions_match, true);
    const tags = back.version.tags;
    assert.equal(tags.hokusai_token_id, 'XRAY-7');
    assert.equal(tags.benchmark_metric, 'auroc');
    assert.equal(tags.benchmark_value, '0.82');
    assert.equal(tags.hokusai_status, 'registered');
    assert.equal(tags.hokusai_proposal_identifier, 'XRAY-7');
    assert.equal(tags.mlflow_run_id, o['run-id']);
    assert.match(tags.hokusai_event ?? '', /^sent:[0-9a-f]{16}$/);

    // Exactly one event, accepted by the contract check, with the right body.
    assert.equal(proxy.events.length, 1);
    const ev = proxy.events[0]!;
    assert.equal(ev.status, 200, ev.rejection);
    assert.equal(ev.authorization, `Bearer ${KEY}`);
    assert.equal(ev.path, '/api/models/tokenized-registration-events');
    const body = ev.body as Record<string, unknown>;
    assert.deepEqual(
      { ...body, tags: undefined },
      {
        model_name: 'hokusai-xray',
        version: '1',
        token_id: 'XRAY-7',
        proposal_identifier: 'XRAY-7',
        metric_name: 'auroc',
        baseline_value: 0.82,
        mlflow_run_id: o['run-id'],
        model_uri: 'models:/hokusai-xray/1',
        tags: undefined,
      },
    );
    assert.equal((body.tags as Record<string, string>).git_sha, sha);

    // The receipt on disk: every file with its size and sha256, and the lineage.
    const receipt = JSON.parse(readFileSync(o['receipt-path']!, 'utf8')) as {
      model: { name: string; version: string; uri: string };
      run: { id: string };
      digest: string;
      lineage: { commit: string };
      hokusai: { tokenId: string; event: string };
      files: Array<{ path: string; size: number; sha256: string }>;
    };
    assert.equal(receipt.model.uri, 'models:/hokusai-xray/1');
    assert.equal(receipt.run.id, o['run-id']);
    assert.equal(receipt.digest, o.digest);
    assert.equal(receipt.lineage.commit, sha);
    assert.equal(receipt.hokusai.tokenId, 'XRAY-7');
    assert.equal(receipt.hokusai.event, 'sent');
    assert.deepEqual(receipt.files, filesOf(modelDir));

    // ...and the same bytes uploaded as a workflow artifact, named for this attempt.
    const art = results.artifacts.find((a) => a.name.includes('hokusai-xray'));
    assert.ok(art?.finalized, 'the receipt artifact was finalized');
    assert.match(art.name, /attempt1/);
    assert.deepEqual(unzipEntry(art.zip, path.basename(o['receipt-path']!)), readFileSync(o['receipt-path']!));
    assert.match(r.summary, /Receipt/);

    // A re-run attempt of the same job reuses the version, sends nothing twice, and its artifact does not collide.
    const again = await runAction(inputs({ 'model-name': 'hokusai-xray', aliases: 'staging', ...token }), {
      env: { ...results.env(), GITHUB_SHA: sha, GITHUB_JOB: 'register', GITHUB_RUN_ATTEMPT: '2' },
    });
    assert.equal(again.code, 0, again.stdout);
    assert.equal(again.outputs.reused, 'true');
    assert.equal(again.outputs['hokusai-event'], 'skipped');
    assert.equal(proxy.events.length, 1, 'no second event');
    const names = results.artifacts.filter((a) => a.name.includes('hokusai-xray')).map((a) => a.name);
    assert.equal(names.length, 2);
    assert.notEqual(names[0], names[1]);
  });

  test('the platform refuses the event: the step fails, says the model is registered but the platform was not told; promote sends only the event, a re-run skips it, new token inputs resend it', async () => {
    const sha = '2222222222222222222222222222222222222222';
    refuseEvents(502, EMIT_FAILED);
    const first = await runAction(inputs({ 'model-name': 'hokusai-retry', ...token }), { env: { GITHUB_SHA: sha } });
    assert.equal(first.code, 1, first.stdout);
    const message = errorOf(first);
    assert.match(message, /models:\/hokusai-retry\/1 is registered in MLflow, but the Hokusai platform was not told/);
    assert.match(message, /HTTP 502/);
    assert.match(message, /run the action with mode: promote, model-name: hokusai-retry, version: 1 and the same token-id/);
    // The version is in the outputs and the summary all the same.
    assert.equal(first.outputs['model-version'], '1');
    assert.equal(first.outputs['hokusai-event'], 'failed');
    // The step exits 1, so the heading is red, names the cause, and the error is said once.
    assert.match(
      first.summary,
      /^## ❌ Hokusai not told about <code>hokusai-retry<\/code> <a href="[^"]+">version 1<\/a>: .*answered 502\n/,
    );
    assert.match(first.summary, /^- <b>Model URI:<\/b> <code>models&#58;\/hokusai-retry\/1<\/code>$/m);
    assert.doesNotMatch(first.summary, /✅/);
    assert.equal(first.summary.split('What to do').length, 2);
    assert.match(first.stdout, /::notice title=Receipt not uploaded::/, 'outside the Actions runtime the receipt stays on disk');
    const tags = await versionTags('hokusai-retry', '1');
    assert.equal(tags.hokusai_token_id, 'XRAY-7');
    assert.equal(tags.hokusai_event, undefined);
    await noRunning();

    proxy.faults.splice(0);
    // What the hint says: promote that version with the token inputs sends only the event.
    const before = proxy.events.length;
    const announce = await runAction(inputs({ mode: 'promote', 'model-name': 'hokusai-retry', version: '1', 'model-path': '', ...token }));
    assert.equal(announce.code, 0, announce.stdout);
    assert.equal(announce.outputs['hokusai-event'], 'sent');
    assert.match(announce.summary, /^## ✅ Announced <code>hokusai-retry<\/code> <a href="[^"]+">version 1<\/a>\n/);
    assert.equal(proxy.events.length, before + 1);
    assert.equal(proxy.events.at(-1)!.status, 200);
    assert.equal((proxy.events.at(-1)!.body as { version: string }).version, '1');
    assert.match((await versionTags('hokusai-retry', '1')).hokusai_event ?? '', /^sent:/);

    // A re-run with the same files reuses the version and does not send the event twice...
    const rerun = await runAction(inputs({ 'model-name': 'hokusai-retry', ...token }), { env: { GITHUB_SHA: sha } });
    assert.equal(rerun.code, 0, rerun.stdout);
    assert.equal(rerun.outputs.reused, 'true');
    assert.equal(rerun.outputs['hokusai-event'], 'skipped');
    assert.equal(proxy.events.length, before + 1);

    // ...but other token inputs for the same version are news for the platform: sent again, tags updated.
    const changed = await runAction(inputs({ 'model-name': 'hokusai-retry', ...token, 'proposal-id': 'PROP-9' }), {
      env: { GITHUB_SHA: sha },
    });
    assert.equal(changed.code, 0, changed.stdout);
    assert.equal(changed.outputs['hokusai-event'], 'sent');
    assert.equal(proxy.events.length, before + 2);
    assert.equal((proxy.events.at(-1)!.body as { proposal_identifier: string }).proposal_identifier, 'PROP-9');
    assert.equal((await versionTags('hokusai-retry', '1')).hokusai_proposal_identifier, 'PROP-9');
    assert.equal((await registryState(mlflow.url)).versions.filter((v) => v.name === 'hokusai-retry').length, 1);
  });

  test("the platform's 502 is a verdict: with the default retries the event is sent once, and the receipt never holds the key", async () => {
    refuseEvents(502, EMIT_FAILED);
    const before = proxy.events.length;
    const r = await runAction(inputs({ 'model-name': 'hokusai-once', 'max-retries': '5', ...token }));
    assert.equal(r.code, 1, r.stdout);
    assert.equal(proxy.events.length, before + 1, 'not retried');
    assert.equal(r.outputs['hokusai-event'], 'failed');
    assert.ok(!readFileSync(r.outputs['receipt-path']!, 'utf8').includes(KEY));
    assertNoSecret(r, [KEY]);
  });

  test('cancelled while the event is in flight: the version stays, is named, and the event can be sent later', async () => {
    proxy.faults.push({ service: 'events', path: /tokenized-registration-events/, delayMs: 20_000 });
    const before = proxy.events.filter((e) => e.status === 200).length;
    const r = await runAction(inputs({ 'model-name': 'hokusai-cancel', ...token }), {
      signals: [{ signal: 'SIGTERM', when: /::group::Notify Hokusai/, delayMs: 300 }],
    });
    assert.equal(r.code, 1, r.stdout);
    const sent = r.signalled.find((x) => x.signal === 'SIGTERM');
    assert.ok(sent, 'SIGTERM was sent');
    assert.ok(r.exitedAtMs - sent.atMs < 3000, `exited ${r.exitedAtMs - sent.atMs} ms after SIGTERM`);
    const message = errorOf(r);
    assert.match(message, /Notify Hokusai failed: the job was cancelled \(SIGTERM\)/);
    assert.match(message, /after models:\/hokusai-cancel\/1 was created, so that version stays/);
    assert.match(message, /mode: promote, model-name: hokusai-cancel, version: 1/);
    assert.equal(r.outputs['model-version'], '1');
    assert.equal(r.outputs['model-uri'], 'models:/hokusai-cancel/1');
    assert.equal(r.state['run-ended'], 'true', 'the post step has nothing to end');
    assert.equal(proxy.events.filter((e) => e.status === 200).length, before, 'the aborted event never reached the handler');
    const tags = await versionTags('hokusai-cancel', '1');
    assert.equal(tags.hokusai_token_id, 'XRAY-7');
    assert.equal(tags.hokusai_event, undefined);
    await noRunning();

    // Later, as the hint says: the event alone, for that version.
    const announce = await runAction(inputs({ mode: 'promote', 'model-name': 'hokusai-cancel', version: '1', ...token }));
    assert.equal(announce.code, 0, announce.stdout);
    assert.equal(announce.outputs['hokusai-event'], 'sent');
    assert.match((await versionTags('hokusai-cancel', '1')).hokusai_event ?? '', /^sent:/);
  });

  test('cancelled between creating the version and setting its alias: the version is named, and a re-run finishes the job', async () => {
    const sha = '3333333333333333333333333333333333333333';
    proxy.faults.push({ method: 'POST', path: /registered-models\/alias/, delayMs: 20_000, times: 1 });
    const r = await runAction(inputs({ 'model-name': 'hokusai-alias-cancel', aliases: 'staging', ...token }), {
      env: { GITHUB_SHA: sha },
      signals: [{ signal: 'SIGTERM', when: /new version 1 \(READY\)/, delayMs: 300 }],
    });
    assert.equal(r.code, 1, r.stdout);
    const message = errorOf(r);
    assert.match(
      message,
      /the job was cancelled \(SIGTERM\) during this step \(version 1 of "hokusai-alias-cancel" was created, but cancelled\)/,
    );
    assert.match(
      message,
      /after models:\/hokusai-alias-cancel\/1 was created, so that version stays\. Re-running the job with the same model files reuses it/,
    );
    assert.equal(r.outputs['model-version'], '1');
    await noRunning();

    const rerun = await runAction(inputs({ 'model-name': 'hokusai-alias-cancel', aliases: 'staging', ...token }), {
      env: { GITHUB_SHA: sha },
    });
    assert.equal(rerun.code, 0, rerun.stdout);
    assert.equal(rerun.outputs.reused, 'true');
    assert.equal(rerun.outputs['hokusai-event'], 'sent');
    const state = await registryState(mlflow.url);
    assert.equal(state.registeredModels.find((m) => m.name === 'hokusai-alias-cancel')?.aliases.staging, '1');
    assert.equal(state.versions.filter((v) => v.name === 'hokusai-alias-cancel').length, 1);
  });

  test('a key without write scope for events, and notify-hokusai: false', async () => {
    const denied = await runAction(inputs({ 'api-key': READ_ONLY_KEY, 'model-name': 'hokusai-scope', ...token }));
    assert.equal(denied.code, 1, denied.stdout);
    assert.match(errorOf(denied), /HTTP 403/);
    assert.match(errorOf(denied), /needs the "write" scope/);
    assertNoSecret(denied, [READ_ONLY_KEY]);

    const count = proxy.events.length;
    const quiet = await runAction(inputs({ 'model-name': 'hokusai-quiet', 'notify-hokusai': 'false', ...token }));
    assert.equal(quiet.code, 0, quiet.stdout);
    assert.equal(quiet.outputs['hokusai-event'], 'skipped');
    assert.equal(proxy.events.length, count);
    assert.equal((await versionTags('hokusai-quiet', '1')).hokusai_token_id, 'XRAY-7');
  });

  test('bad token metadata is refused before anything is written', async () => {
    const before = await registryState(mlflow.url);
    const r = await runAction(
      inputs({ 'model-name': 'hokusai-bad', 'token-id': '-bad-', 'benchmark-metric': 'logloss', 'benchmark-value': '82' }),
    );
    assert.equal(r.code, 1);
    const message = errorOf(r);
    assert.match(message, /token-id: must be letters, digits and hyphens/);
    assert.match(message, /benchmark-metric: must be one of/);
    assert.deepEqual(await registryState(mlflow.url), before);
  });

  test('on GHES the receipt upload becomes a notice, and the registration succeeds', async () => {
    const created = results.artifacts.length;
    const r = await runAction(inputs({ 'model-name': 'hokusai-ghes' }), {
      env: { ...results.env(), GITHUB_SERVER_URL: 'https://ghes.example.com' },
    });
    assert.equal(r.code, 0, r.stdout);
    assert.match(r.stdout, /::notice title=Receipt not uploaded::.*GitHub Enterprise Server/);
    assert.equal(results.artifacts.length, created);
    assert.ok(readFileSync(r.outputs['receipt-path']!, 'utf8').includes('"hokusai-ghes"'));
  });

  test('hostile names, descriptions, tags and server messages are escaped in the summary', async () => {
    const ok = await runAction(
      inputs({
        'model-name': 'evil<img src=x onerror=alert(1)>',
        description: '</details><script>alert(1)</script>',
        tags: 'note=<b>|x|</b> [y](javascript:alert(1))',
      }),
    );
    assert.equal(ok.code, 0, ok.stdout);
    assert.match(ok.summary, /evil&#60;img/);
    assert.doesNotMatch(ok.summary, /<script|<img|javascript:/i);

    refuseEvents(422, { detail: '<script>alert("server")</script>' });
    const bad = await runAction(inputs({ 'model-name': 'evil-event', ...token }));
    assert.equal(bad.code, 1);
    assert.doesNotMatch(bad.summary, /<script/i);
    assert.match(bad.summary, /&#60;script/);
  });
});
