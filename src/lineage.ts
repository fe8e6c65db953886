// Where a registration came from: commit, ref, workflow run. Set as tags on the run and
// the version, so anyone looking at a model version can find the code and the job.
import type { Tag } from './mlflow.ts';

/** The parts of @actions/github's context the action reads. */
export interface GitHubContext {
  sha: string;
  ref: string;
  workflow: string;
  actor: string;
  eventName: string;
  runId: number;
  runAttempt: number;
  serverUrl: string;
  repository: string;
  payload: { pull_request?: { number?: number; head?: { sha?: string; ref?: string } } };
}

export interface Lineage {
  /** The commit the model was built from: the PR head on pull_request events, not the merge commit. */
  commit: string;
  ref: string;
  /** The branch the commit is on: the PR's head branch on pull requests; "" for tags. */
  branch: string;
  repository: string;
  workflow: string;
  actor: string;
  eventName: string;
  runId: string;
  runAttempt: string;
  runUrl: string | undefined;
  /** The commit's page on GitHub, for the summary and the comment. */
  commitUrl?: string;
  prNumber: string | undefined;
}

export function lineageFrom(ctx: GitHubContext): Lineage {
  const pr = ctx.payload.pull_request;
  const runUrl =
    ctx.repository && ctx.runId
      ? `${ctx.serverUrl}/${ctx.repository}/actions/runs/${ctx.runId}/attempts/${ctx.runAttempt || 1}`
      : undefined;
  const commit = pr?.head?.sha || ctx.sha;
  return {
    commit,
    ref: ctx.ref,
    branch: pr?.head?.ref || (ctx.ref.startsWith('refs/heads/') ? ctx.ref.slice('refs/heads/'.length) : ''),
    repository: ctx.repository,
    workflow: ctx.workflow,
    actor: ctx.actor,
    eventName: ctx.eventName,
    runId: ctx.runId ? String(ctx.runId) : '',
    runAttempt: ctx.runAttempt ? String(ctx.runAttempt) : '',
    runUrl,
    commitUrl: ctx.repository && commit ? commitPageUrl(ctx.serverUrl, ctx.repository, commit) : undefined,
    prNumber: pr?.number === undefined ? undefined : String(pr.number),
  };
}

/** A commit's page on GitHub. */
export const commitPageUrl = (serverUrl: string, repository: string, sha: string): string =>
  `${serverUrl}/${repository}/commit/${encodeURIComponent(sha)}`;

/** Lineage tags, set on both the run and the version. Empty values are left out. */
export function lineageTags(l: Lineage, digest: string): Tag[] {
  const pairs: Array<[string, string | undefined]> = [
    ['git_sha', l.commit],
    ['git_ref', l.ref],
    ['github_repository', l.repository],
    ['github_workflow', l.workflow],
    ['github_run_id', l.runId],
    ['github_run_attempt', l.runAttempt],
    ['github_run_url', l.runUrl],
    ['github_actor', l.actor],
    ['github_event_name', l.eventName],
    ['github_pr_number', l.prNumber],
    ['model_digest', digest],
  ];
  return pairs.filter((p): p is [string, string] => !!p[1]).map(([key, value]) => ({ key, value }));
}

/** MLflow's own source tags, so the tracking UI shows the commit and the user. */
export function mlflowSourceTags(l: Lineage, serverUrl: string): Tag[] {
  const pairs: Array<[string, string | undefined]> = [
    ['mlflow.source.type', 'JOB'],
    ['mlflow.source.name', l.repository ? `${serverUrl}/${l.repository}` : undefined],
    ['mlflow.source.git.commit', l.commit],
    ['mlflow.source.git.branch', l.branch],
    ['mlflow.user', l.actor],
  ];
  return pairs.filter((p): p is [string, string] => !!p[1]).map(([key, value]) => ({ key, value }));
}
