// The GitHub run context, read from the runner's environment and event file: the few
// fields the action needs, without loading @actions/github (and Octokit) at start-up.
import { readFileSync, statSync } from 'node:fs';
import type { GitHubContext } from './lineage.ts';

/** The event file is the runner's, but a huge or broken one must not stop the step. */
const EVENT_FILE_LIMIT = 16 * 1024 * 1024;

export function githubContext(env: NodeJS.ProcessEnv): GitHubContext {
  return {
    sha: env.GITHUB_SHA ?? '',
    ref: env.GITHUB_REF ?? '',
    workflow: env.GITHUB_WORKFLOW ?? '',
    actor: env.GITHUB_ACTOR ?? '',
    eventName: env.GITHUB_EVENT_NAME ?? '',
    runId: wholeNumber(env.GITHUB_RUN_ID),
    runAttempt: wholeNumber(env.GITHUB_RUN_ATTEMPT),
    serverUrl: env.GITHUB_SERVER_URL || 'https://github.com',
    repository: env.GITHUB_REPOSITORY ?? '',
    payload: readEvent(env.GITHUB_EVENT_PATH),
  };
}

function wholeNumber(v: string | undefined): number {
  const n = Number.parseInt(v ?? '', 10);
  return Number.isFinite(n) ? n : Number.NaN;
}

function readEvent(file: string | undefined): GitHubContext['payload'] {
  if (!file) return {};
  try {
    if (statSync(file).size > EVENT_FILE_LIMIT) return {};
    const payload: unknown = JSON.parse(readFileSync(file, 'utf8'));
    return payload && typeof payload === 'object' ? (payload as GitHubContext['payload']) : {};
  } catch {
    return {};
  }
}
