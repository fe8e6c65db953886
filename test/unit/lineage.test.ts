import assert from 'node:assert/strict';
import { test } from 'node:test';
import { lineageFrom, lineageTags, mlflowSourceTags, type GitHubContext } from '../../src/lineage.ts';

const push: GitHubContext = {
  sha: 'a'.repeat(40),
  ref: 'refs/heads/main',
  workflow: 'register',
  actor: 'octocat',
  eventName: 'push',
  runId: 42,
  runAttempt: 2,
  serverUrl: 'https://github.com',
  repository: 'acme/churn',
  payload: {},
};

test('on push: the pushed commit and branch, and the run URL of this attempt', () => {
  const l = lineageFrom(push);
  assert.equal(l.commit, 'a'.repeat(40));
  assert.equal(l.branch, 'main');
  assert.equal(l.runUrl, 'https://github.com/acme/churn/actions/runs/42/attempts/2');
  assert.equal(l.commitUrl, `https://github.com/acme/churn/commit/${'a'.repeat(40)}`);
  assert.equal(l.prNumber, undefined);
  const tags = Object.fromEntries(lineageTags(l, 'sha256:d').map((t) => [t.key, t.value]));
  assert.deepEqual(tags, {
    git_sha: 'a'.repeat(40),
    git_ref: 'refs/heads/main',
    github_repository: 'acme/churn',
    github_workflow: 'register',
    github_run_id: '42',
    github_run_attempt: '2',
    github_run_url: 'https://github.com/acme/churn/actions/runs/42/attempts/2',
    github_actor: 'octocat',
    github_event_name: 'push',
    model_digest: 'sha256:d',
  });
});

test('on pull_request: the PR head commit and branch, not the merge commit', () => {
  const l = lineageFrom({
    ...push,
    eventName: 'pull_request',
    ref: 'refs/pull/7/merge',
    payload: { pull_request: { number: 7, head: { sha: 'b'.repeat(40), ref: 'feature/x' } } },
  });
  assert.equal(l.commit, 'b'.repeat(40));
  assert.equal(l.commitUrl, `https://github.com/acme/churn/commit/${'b'.repeat(40)}`, 'the head commit the comment is for');
  assert.equal(l.prNumber, '7');
  const source = Object.fromEntries(mlflowSourceTags(l, 'https://github.com').map((t) => [t.key, t.value]));
  assert.equal(source['mlflow.source.git.commit'], 'b'.repeat(40));
  assert.equal(source['mlflow.source.git.branch'], 'feature/x');
  assert.equal(source['mlflow.source.name'], 'https://github.com/acme/churn');
});

test('outside a workflow run, empty values are left out rather than written as ""', () => {
  const l = lineageFrom({ ...push, ref: 'refs/tags/v1', runId: 0, runAttempt: 0, repository: '', actor: '', workflow: '' });
  assert.equal(l.runUrl, undefined);
  assert.equal(l.commitUrl, undefined);
  const keys = lineageTags(l, 'sha256:d').map((t) => t.key);
  assert.deepEqual(keys, ['git_sha', 'git_ref', 'github_event_name', 'model_digest']);
  assert.equal(
    mlflowSourceTags(l, 'https://github.com').find((t) => t.key === 'mlflow.source.git.branch'),
    undefined,
  );
});
