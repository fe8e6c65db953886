// What makes an MLflow registration a Hokusai registration: the version tags the Hokusai
// CLI sets, and the registration event that tells the platform (and moves the token out of
// draft). Contract: POST {api-url}/api/models/tokenized-registration-events, Bearer key.
import { createHash } from 'node:crypto';
import { ActionError } from './errors.ts';
import type { HttpClient } from './http.ts';
import type { HokusaiToken } from './inputs.ts';
import type { Tag } from './mlflow.ts';
import { apiUrl } from './urls.ts';

/** Set on the version once the platform accepted its event, so a re-run sends only what is missing. */
export const EVENT_SENT_TAG = 'hokusai_event';

/** The version tags, as `hokusai model register` sets them (pure). */
export function hokusaiTags(token: HokusaiToken, runId: string): Tag[] {
  return [
    { key: 'hokusai_token_id', value: token.tokenId },
    { key: 'benchmark_metric', value: token.metric },
    { key: 'benchmark_value', value: benchmarkText(token.value) },
    { key: 'hokusai_status', value: 'registered' },
    { key: 'hokusai_proposal_identifier', value: token.proposalId },
    { key: 'mlflow_run_id', value: runId },
  ];
}

/**
 * The value as the CLI stores it (Python's str(float)): "8.2e-1" and "+.82" give "0.82", "1"
 * gives "1.0", "0.00005" gives "5e-05". Python writes exponents below 1e-4 and from 1e16 on.
 */
export function benchmarkText(value: string): string {
  const n = Number(value);
  const abs = Math.abs(n);
  if (n !== 0 && (abs < 1e-4 || abs >= 1e16)) return n.toExponential().replace(/e([+-])(\d)$/, 'e$10$2');
  return Number.isInteger(n) ? n.toFixed(1) : String(n);
}

/** A fingerprint of what the platform was told, so a re-run can tell whether it must tell it again. */
export function eventFingerprint(e: RegistrationEvent): string {
  // The lineage tags differ per attempt and are not part of what the platform records.
  return createHash('sha256')
    .update(JSON.stringify({ ...e, tags: undefined }))
    .digest('hex')
    .slice(0, 16);
}

export interface RegistrationEvent {
  model_name: string;
  version: string;
  token_id: string;
  proposal_identifier: string;
  metric_name: string;
  baseline_value: number;
  mlflow_run_id: string;
  model_uri: string;
  tags: Record<string, string>;
}

/** The event body (pure). Only documented fields; the lineage goes in `tags`. */
export function registrationEvent(
  token: HokusaiToken,
  v: { modelName: string; version: string; runId: string; modelUri: string; tags: readonly Tag[] },
): RegistrationEvent {
  return {
    model_name: v.modelName,
    version: v.version,
    token_id: token.tokenId,
    proposal_identifier: token.proposalId,
    metric_name: token.metric,
    baseline_value: Number(token.value),
    mlflow_run_id: v.runId,
    model_uri: v.modelUri,
    tags: Object.fromEntries(v.tags.map((t) => [t.key, t.value])),
  };
}

/** The SDK's rule: a base that already ends in /api takes the path without it. */
export function eventUrl(base: URL): URL {
  const path = '/models/tokenized-registration-events';
  return apiUrl(base, /\/api\/?$/.test(base.pathname) ? path : `/api${path}`);
}

const STEP = 'Notify Hokusai';
const NOT_SENT = new Set(['ECONNREFUSED', 'UND_ERR_CONNECT_TIMEOUT']);

/** Sends the event; the platform's refusal comes back as an ActionError saying what to change. */
export async function sendRegistrationEvent(
  http: HttpClient,
  base: URL,
  apiKey: string,
  event: RegistrationEvent,
): Promise<{ modelId: string | undefined }> {
  const url = eventUrl(base);
  const res = await http.send<{ status?: string; model_id?: string; event_emitted?: boolean }>({
    step: STEP,
    method: 'POST',
    url,
    json: event,
    authorization: `Bearer ${apiKey}`,
    hintFor: (status) => eventHint(status, event),
    // Each accepted POST emits an event: retry only what surely did not reach the platform's
    // handler (rate limit, service unavailable, no connection). Its 502 is a verdict, not a glitch.
    retryWhen: (e) => e.status === 429 || e.status === 503 || NOT_SENT.has(e.retry?.reason ?? ''),
  });
  if (res.data?.event_emitted === false)
    throw new ActionError('the Hokusai API answered, but says it did not emit the event (event_emitted: false)', {
      step: STEP,
      method: 'POST',
      path: url.pathname,
      status: res.status,
      hint: 'Re-run the job to send the event again, or contact Hokusai support if it keeps happening.',
    });
  return { modelId: res.data?.model_id };
}

function eventHint(status: number, e: RegistrationEvent): string | undefined {
  switch (status) {
    case 401:
      return 'The Hokusai API refused the key: check that api-key holds a valid "platform" key.';
    case 402:
      return 'The Hokusai account behind the key has no balance left for this call: top it up, then re-run the job.';
    case 403:
      return 'The key may not send registration events: it needs the "write" scope. Create a key with write access.';
    case 404:
      return 'No registration-event route at api-url: check that api-url is the Hokusai API (default https://api.hokus.ai).';
    case 422:
      return 'The Hokusai API refused the event body: check token-id, benchmark-metric, benchmark-value and proposal-id.';
    case 502:
      return `The platform could not accept the event. It refuses a metric it does not know, a value out of range, or a token that is not in a state to register; check that token ${e.token_id} exists and that ${e.metric_name}=${e.baseline_value} is right.`;
    default:
      return undefined;
  }
}
