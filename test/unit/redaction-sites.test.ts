// Each place that cuts or stores a text redacts it first, with the secrets registered in log.ts:
// the summary's clipped values and its byte cap, the PR comment's cut, the receipt, and the
// failed run's warning and failure_reason tag. And bidi controls are shown, not obeyed.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { COMMENT_LIMIT, renderComment } from '../../src/comment.ts';
import { ActionError } from '../../src/errors.ts';
import type { Lineage } from '../../src/lineage.ts';
import * as log from '../../src/log.ts';
import type { MlflowClient, RunInfo } from '../../src/mlflow.ts';
import { buildReceipt, writeReceipt } from '../../src/receipt.ts';
import { endRun } from '../../src/run-state.ts';
import { capSummary, renderFailure, renderSuccess, type RegisteredResult } from '../../src/summary.ts';

const SECRET = 'Fake-Sites-Secret+Value=Mixed_0123';
const silently = <T>(fn: () => T): T => {
  const write = process.stdout.write;
  process.stdout.write = (() => true) as typeof process.stdout.write;
  try {
    return fn();
  } finally {
    process.stdout.write = write;
  }
};
silently(() => log.addSecret(SECRET));

/** Neither the secret nor any 12-character piece of it, in any letter case. */
function assertNoPiece(text: string, what: string): void {
  const haystack = text.toLowerCase();
  const secret = SECRET.toLowerCase();
  for (let i = 0; i + 12 <= secret.length; i++)
    assert.ok(!haystack.includes(secret.slice(i, i + 12)), `${what}: "${secret.slice(i, i + 12)}"`);
}

test('the summary: a secret that straddles the 2,000-character clip of a message is redacted before the clip', () => {
  for (const at of [1980, 1990, 1995, 1999]) {
    const message = `${'m'.repeat(at)}${SECRET}${'n'.repeat(100)}`;
    const md = renderFailure(new ActionError(message, { step: 'Upload model', hint: `${'h'.repeat(at)}${SECRET.toLowerCase()}` }));
    assertNoPiece(md, `secret at ${at}`);
  }
});

test("the summary: capSummary redacts before its byte cut; a file path's middle clip and bidi controls", () => {
  // One long line, so the cut falls inside it, at every offset around the secret.
  for (let at = 850; at < 1000; at += 5)
    assertNoPiece(capSummary(`${'x'.repeat(at)}${SECRET}${'y'.repeat(100)}`, 1000), `capSummary, ${at}`);
  const result: RegisteredResult = {
    modelName: 'churn',
    version: '1',
    versionUrl: `https://${SECRET}.example.com/#/models/churn/versions/1`,
    modelUri: 'models:/churn/1',
    aliases: [],
    files: 1,
    bytes: 1,
    digest: 'sha256:0',
    runId: 'r',
    experimentId: '1',
    experimentName: 'e',
    source: `mlflow-artifacts:/${SECRET}/r/artifacts/model`,
    commit: '',
    runUrl: undefined,
    durationMs: 1,
    reused: false,
    note: undefined,
    uploadMs: 1,
    fileList: [
      // Across the middle clip of a path to 300 characters (149 kept at the start).
      { path: `${'d'.repeat(125)}${SECRET}/${'f'.repeat(200)}`, size: 1, sha256: 'sha256:0' },
      { path: 'evil\u202eexe.txt', size: 1, sha256: 'sha256:0' },
    ],
    timings: [],
    description: '',
    tags: [],
  };
  const md = renderSuccess(result);
  assertNoPiece(md, 'renderSuccess');
  assert.doesNotMatch(md, /\u202e/, 'the bidi override in a file name is shown, not obeyed');
  assert.match(md, /evil&#60;U\+202E&#62;exe\.txt/);
});

test('the PR comment: a secret that straddles the cut to 65,536 characters is redacted before it; bidi controls are shown', () => {
  const marker = '<!-- m -->';
  for (const before of [COMMENT_LIMIT - 400, COMMENT_LIMIT - 300, COMMENT_LIMIT - 250]) {
    // One long line, so the cut falls inside it.
    const body = renderComment(marker, `${'a'.repeat(before)}${SECRET}${'b'.repeat(2000)}`, undefined);
    assert.ok(body.length <= COMMENT_LIMIT);
    assertNoPiece(body, `comment, secret at ${before}`);
  }
  assert.doesNotMatch(renderComment(marker, 'file evil\u202eexe.txt', undefined), /\u202e/);
});

test('the receipt: a secret in any field (a server-made artifact_uri, so the source) is redacted in the file', async () => {
  const lineage: Lineage = {
    commit: 'c'.repeat(40),
    ref: 'refs/heads/main',
    branch: 'main',
    repository: 'acme/churn',
    workflow: 'register',
    actor: 'octocat',
    eventName: 'push',
    runId: '1',
    runAttempt: '1',
    runUrl: undefined,
    prNumber: undefined,
  };
  const receipt = buildReceipt({
    modelName: 'churn',
    version: '1',
    modelUri: 'models:/churn/1',
    versionUrl: 'https://example.com/#/models/churn/versions/1',
    source: `mlflow-artifacts:/${encodeURIComponent(SECRET)}/r/artifacts/model`,
    runId: SECRET.toLowerCase(),
    experimentId: '1',
    digest: 'sha256:0',
    aliases: [],
    reused: false,
    lineage,
    files: [{ path: `a/${SECRET}.bin`, size: 1, sha256: 'sha256:0' }],
    createdAt: new Date(0),
  });
  const file = await writeReceipt(mkdtempSync(path.join(tmpdir(), 'sites-receipt-')), receipt);
  const text = readFileSync(file, 'utf8');
  assertNoPiece(text, 'receipt');
  assert.equal((JSON.parse(text) as { model: { source: string } }).model.source, 'mlflow-artifacts:/***/r/artifacts/model');
});

test('a failed run: the warning when it cannot be ended, and its failure_reason tag, never hold a secret', async () => {
  const run = { run_id: 'run-1', experiment_id: '1', status: 'RUNNING', artifact_uri: '' } as RunInfo;
  const redirect = new ActionError(
    `the server answered with a redirect (HTTP 302) to https://${SECRET.toLowerCase()}.example.com/${encodeURIComponent(SECRET)}, which the action does not follow`,
    { step: 'Mark run FAILED', hint: 'h' },
  );
  const refusing = {
    updateRun: () => Promise.reject(redirect),
    setRunTag: () => Promise.reject(new Error('not reached')),
  } as unknown as MlflowClient;
  const out: string[] = [];
  const write = process.stdout.write;
  process.stdout.write = ((chunk: string) => (out.push(String(chunk)), true)) as typeof process.stdout.write;
  try {
    await endRun(refusing, run, 'FAILED', 'reason', 0);
  } finally {
    process.stdout.write = write;
  }
  assert.match(out.join(''), /^::warning::Could not mark MLflow run run-1 as FAILED: the server answered with a redirect/m);
  assertNoPiece(out.join(''), 'the warning');

  const tags: string[] = [];
  const accepting = {
    updateRun: () => Promise.resolve(),
    setRunTag: (_step: string, _run: string, _key: string, value: string) => (tags.push(value), Promise.resolve()),
  } as unknown as MlflowClient;
  // The secret straddles the tag's 5,000-character cut.
  await silently(() => endRun(accepting, run, 'FAILED', `Upload model: ${'r'.repeat(4980)}${SECRET}`, 0));
  assert.equal(tags.length, 1);
  assertNoPiece(tags[0]!, 'failure_reason');
});
