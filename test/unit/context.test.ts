// The run context is read from the runner's environment and event file, as
// @actions/github reads it, without loading Octokit.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { githubContext } from '../../src/context.ts';
import { lineageFrom } from '../../src/lineage.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'context-'));
const eventFile = (name: string, text: string) => {
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return file;
};

test('a pull_request run: fields from the environment, the head commit and number from the event file', () => {
  const ctx = githubContext({
    GITHUB_SHA: 'a'.repeat(40),
    GITHUB_REF: 'refs/pull/7/merge',
    GITHUB_WORKFLOW: 'verify',
    GITHUB_ACTOR: 'octocat',
    GITHUB_EVENT_NAME: 'pull_request',
    GITHUB_RUN_ID: '123',
    GITHUB_RUN_ATTEMPT: '2',
    GITHUB_REPOSITORY: 'o/r',
    GITHUB_EVENT_PATH: eventFile('pr.json', JSON.stringify({ pull_request: { number: 7, head: { sha: 'b'.repeat(40), ref: 'feature' } } })),
  });
  assert.equal(ctx.serverUrl, 'https://github.com');
  assert.equal(ctx.runId, 123);
  assert.equal(ctx.runAttempt, 2);
  const l = lineageFrom(ctx);
  assert.equal(l.commit, 'b'.repeat(40));
  assert.equal(l.branch, 'feature');
  assert.equal(l.prNumber, '7');
  assert.equal(l.runUrl, 'https://github.com/o/r/actions/runs/123/attempts/2');
});

test('outside Actions, or with a missing or broken event file: empty fields, no throw', () => {
  for (const env of [
    {},
    { GITHUB_EVENT_PATH: path.join(dir, 'missing.json') },
    { GITHUB_EVENT_PATH: eventFile('bad.json', '{not json') },
    { GITHUB_EVENT_PATH: eventFile('null.json', 'null') },
  ]) {
    const ctx = githubContext(env);
    assert.deepEqual(ctx.payload, {});
    assert.equal(ctx.sha, '');
    assert.ok(Number.isNaN(ctx.runId));
    assert.equal(lineageFrom(ctx).runUrl, undefined);
  }
});

test('GHES: the server URL comes from the environment', () => {
  assert.equal(githubContext({ GITHUB_SERVER_URL: 'https://ghes.example.com' }).serverUrl, 'https://ghes.example.com');
});
