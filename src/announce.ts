// Telling Hokusai about a version, for register and promote alike: the token tags on the
// version, and the registration event that moves the token out of draft.
import { ActionError, redact, toActionError } from './errors.ts';
import { benchmarkText, EVENT_SENT_TAG, eventFingerprint, hokusaiTags, registrationEvent, sendRegistrationEvent } from './hokusai.ts';
import type { HokusaiToken } from './inputs.ts';
import { lineageTags } from './lineage.ts';
import * as log from './log.ts';
import type { ModelVersion } from './mlflow.ts';
import { versionTag } from './registration.ts';
import { settleAll } from './settle.ts';
import { phase, type Session } from './session.ts';
import type { HokusaiResult } from './summary.ts';

/** The registration event, when token-id is given; a failure is returned, not thrown, so the outputs still get written. */
export async function notifyHokusai(
  s: Session,
  version: ModelVersion,
  runId: string,
  modelUri: string,
): Promise<{ result: HokusaiResult; error?: ActionError } | undefined> {
  const { cfg } = s;
  const token = cfg.hokusai;
  if (!token) return undefined;
  const about = tokenAbout(token);
  if (!token.notify) return { result: { ...about, event: 'skipped', detail: 'notify-hokusai is false' } };
  const { apiUrl, apiKey } = cfg;
  if (!apiUrl || !apiKey) return { result: { ...about, event: 'skipped', detail: 'api-url or api-key is empty' } }; // refused by the inputs
  const body = registrationEvent(token, {
    modelName: cfg.modelName,
    version: version.version,
    runId,
    modelUri,
    tags: lineageTags(s.lineage, ''),
  });
  // The tag holds a fingerprint of what was sent: other token inputs for the same version are sent again.
  const sent = `sent:${eventFingerprint(body)}`;
  if (versionTag(version, EVENT_SENT_TAG) === sent)
    return { result: { ...about, event: 'skipped', detail: `the platform was told about version ${version.version} by an earlier run` } };
  try {
    await phase(s, 'Notify Hokusai', async () => {
      const { modelId } = await sendRegistrationEvent(s.http, apiUrl, apiKey, body);
      log.info(`The Hokusai platform accepted the registration event${modelId ? ` (model id ${modelId})` : ''}.`);
      await s.mlflow.setModelVersionTag('Notify Hokusai', cfg.modelName, version.version, EVENT_SENT_TAG, sent).catch((e: unknown) => {
        log.warning(
          `The platform has the event, but version ${version.version} could not be tagged ${EVENT_SENT_TAG} (${e instanceof Error ? e.message : String(e)}): a re-run would send the event again.`,
        );
        if (e instanceof ActionError && e.code === 'CANCELLED') throw e;
      });
    });
    return { result: { ...about, event: 'sent' } };
  } catch (thrown) {
    const error = toActionError(thrown, 'Notify Hokusai');
    if (error.code === 'CANCELLED') throw error;
    const said = error.serverMessage ? ` The server said: ${error.serverMessage}.` : '';
    return { result: { ...about, event: 'failed', detail: redact(`${error.message}.${said} ${error.hint}`, s.secrets) }, error };
  }
}

/** The token tags on an existing version, where they differ from what it carries. */
export async function tagWithToken(s: Session, version: ModelVersion): Promise<void> {
  const { cfg, mlflow } = s;
  if (!cfg.hokusai) return;
  const changed = hokusaiTags(cfg.hokusai, version.run_id ?? '').filter((t) => versionTag(version, t.key) !== t.value);
  await settleAll(changed.map((t) => mlflow.setModelVersionTag('Tag version', cfg.modelName, version.version, t.key, t.value)));
  version.tags = [...(version.tags ?? []).filter((t) => !changed.some((n) => n.key === t.key)), ...changed];
}

/** The step fails over a failed event, but only once the version is in the outputs and the summary. */
export function eventFailure(err: ActionError, modelUri: string, hint: string): ActionError {
  return new ActionError(`${modelUri} is registered in MLflow, but the Hokusai platform was not told: ${err.message}`, {
    ...err.details(),
    hint: `${err.hint} ${hint}`,
    reported: true,
  });
}

/**
 * The event's result with the step's failure, for a summary written before the step fails:
 * its "what to do" is the one the error annotation gives, retry instructions included.
 */
export function withFailure(
  event: { result: HokusaiResult; error?: ActionError },
  modelUri: string,
  hint: string,
): { result: HokusaiResult; error?: ActionError } {
  if (!event.error) return event;
  const error = eventFailure(event.error, modelUri, hint);
  // The cause is the event's own (the request that failed), not the wrapping sentence.
  return { result: { ...event.result, failure: { ...event.error.details(), message: event.error.message, hint: error.hint } }, error };
}

/** The token metadata as the summary and the receipt show it (the value as the tag stores it). */
export const tokenAbout = (t: HokusaiToken) => ({
  tokenId: t.tokenId,
  metric: t.metric,
  value: benchmarkText(t.value),
  proposalId: t.proposalId,
});

/** How to send the event for one existing version, without registering anything. */
export const eventRetryHint = (model: string, version: string) =>
  `To send it for this version alone, run the action with mode: promote, model-name: ${model}, version: ${version} and the same token-id, benchmark-metric and benchmark-value.`;
