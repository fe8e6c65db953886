// The MLflow run a step has open. The main step records it in the runner's step state as
// it goes, so that the post: step can end a run the main step was killed before ending.
// Kept apart from the session so the post step's bundle stays small.
import * as core from '@actions/core';
import { ActionError } from './errors.ts';
import * as log from './log.ts';
import type { MlflowClient, RunInfo } from './mlflow.ts';

const STATE_RUN_ID = 'run-id';
const STATE_RUN_ENDED = 'run-ended';
const STATE_RUN_REQUEST = 'run-request';
/** The tracking URI as the main step parsed it: the post step needs no input parsing of its own. */
const STATE_TRACKING_URI = 'tracking-uri';

export const saveTrackingUri = (uri: URL) => core.saveState(STATE_TRACKING_URI, uri.href);
export const saveRunRequest = (experimentId: string, requestId: string) =>
  core.saveState(STATE_RUN_REQUEST, `${experimentId}/${requestId}`);
export const saveRunId = (runId: string) => core.saveState(STATE_RUN_ID, runId);
export const saveRunEnded = () => core.saveState(STATE_RUN_ENDED, 'true');

/** What the main step left behind for the post step: a run it may not have ended. */
export function leftOpen(): { trackingUri: string; runId: string; experimentId: string; requestId: string } | undefined {
  const runId = core.getState(STATE_RUN_ID);
  const request = core.getState(STATE_RUN_REQUEST);
  const trackingUri = core.getState(STATE_TRACKING_URI);
  if ((!runId && !request) || !trackingUri || core.getState(STATE_RUN_ENDED) === 'true') return undefined;
  const [experimentId = '', requestId = ''] = request.split('/');
  return { trackingUri, runId, experimentId, requestId };
}

/** Best effort: a failure here must not hide the original error. */
export async function endRun(
  client: MlflowClient,
  runInfo: RunInfo,
  status: 'FAILED' | 'KILLED',
  reason: string,
  now: number,
): Promise<void> {
  const step = `Mark run ${status}`;
  // The status first: after SIGTERM there are 2.5 s until SIGKILL.
  try {
    await client.updateRun(step, runInfo.run_id, status, now);
    saveRunEnded();
    log.info(`MLflow run ${runInfo.run_id} marked ${status}.`);
  } catch (e) {
    log.warning(
      `Could not mark MLflow run ${runInfo.run_id} as ${status}: ${e instanceof ActionError ? e.message : String(e)}. The post step will try again; otherwise end it in the MLflow UI.`,
    );
    return;
  }
  // Redacted before the cut: a secret cut in two would no longer be found.
  await client.setRunTag(step, runInfo.run_id, 'failure_reason', log.redactSecrets(reason).slice(0, 5000)).catch(() => undefined);
}
