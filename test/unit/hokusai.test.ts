import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MockAgent } from 'undici';
import { ActionError } from '../../src/errors.ts';
import { benchmarkText, eventFingerprint, eventUrl, hokusaiTags, registrationEvent, sendRegistrationEvent } from '../../src/hokusai.ts';
import { DEFAULT_POLICY, HttpClient } from '../../src/http.ts';
import type { HokusaiToken } from '../../src/inputs.ts';
import { httpOptions } from '../support/http-options.ts';

const token: HokusaiToken = { tokenId: 'XRAY', metric: 'auroc', value: '0.82', proposalId: 'PROP-1', notify: true };

test('version tags are the ones the Hokusai CLI sets', () => {
  assert.deepEqual(
    hokusaiTags(token, 'run123').map((t) => `${t.key}=${t.value}`),
    [
      'hokusai_token_id=XRAY',
      'benchmark_metric=auroc',
      'benchmark_value=0.82',
      'hokusai_status=registered',
      'hokusai_proposal_identifier=PROP-1',
      'mlflow_run_id=run123',
    ],
  );
});

test('the event body has every required field with the documented types', () => {
  const body = registrationEvent(token, {
    modelName: 'churn',
    version: '4',
    runId: 'run123',
    modelUri: 'models:/churn/4',
    tags: [{ key: 'git_sha', value: 'abc' }],
  });
  assert.deepEqual(body, {
    model_name: 'churn',
    version: '4',
    token_id: 'XRAY',
    proposal_identifier: 'PROP-1',
    metric_name: 'auroc',
    baseline_value: 0.82,
    mlflow_run_id: 'run123',
    model_uri: 'models:/churn/4',
    tags: { git_sha: 'abc' },
  });
  assert.equal(typeof body.version, 'string');
  assert.equal(typeof body.baseline_value, 'number');
});

test('event URL: /api is added unless the base already ends in it (the SDK rule)', () => {
  assert.equal(eventUrl(new URL('https://api.hokus.ai')).href, 'https://api.hokus.ai/api/models/tokenized-registration-events');
  assert.equal(eventUrl(new URL('https://api.hokus.ai/api')).href, 'https://api.hokus.ai/api/models/tokenized-registration-events');
  assert.equal(
    eventUrl(new URL('http://127.0.0.1:8080/prefix')).href,
    'http://127.0.0.1:8080/prefix/api/models/tokenized-registration-events',
  );
});

test('benchmark_value is stored as the CLI stores it (str(float))', () => {
  assert.equal(benchmarkText('0.82'), '0.82');
  assert.equal(benchmarkText('8.2e-1'), '0.82');
  assert.equal(benchmarkText('+.82'), '0.82');
  assert.equal(benchmarkText('1'), '1.0');
  assert.equal(hokusaiTags({ ...token, value: '12' }, 'r').find((t) => t.key === 'benchmark_value')?.value, '12.0');
  // Python switches to exponents below 1e-4 and from 1e16, with at least two exponent digits.
  assert.equal(benchmarkText('0.0001'), '0.0001');
  assert.equal(benchmarkText('0.00005'), '5e-05');
  assert.equal(benchmarkText('1.5e-7'), '1.5e-07');
  assert.equal(benchmarkText('1e16'), '1e+16');
  assert.equal(benchmarkText('0'), '0.0');
});

test('the fingerprint changes with what the platform is told, not with the lineage', () => {
  const v = {
    modelName: 'churn',
    version: '4',
    runId: 'r',
    modelUri: 'models:/churn/4',
    tags: [{ key: 'github_run_attempt', value: '1' }],
  };
  const fp = eventFingerprint(registrationEvent(token, v));
  assert.match(fp, /^[0-9a-f]{16}$/);
  assert.equal(eventFingerprint(registrationEvent(token, { ...v, tags: [{ key: 'github_run_attempt', value: '2' }] })), fp);
  assert.notEqual(eventFingerprint(registrationEvent({ ...token, proposalId: 'PROP-2' }, v)), fp);
  assert.notEqual(eventFingerprint(registrationEvent(token, { ...v, version: '5' })), fp);
});

/** The event sent through a MockAgent answering with `statuses` in turn; returns how many POSTs were made. */
async function sendAgainst(statuses: Array<number | 'refused'>): Promise<{ posts: number; error: ActionError | undefined }> {
  const agent = new MockAgent();
  agent.disableNetConnect();
  let posts = 0;
  const pool = agent.get('http://api.test');
  for (const status of statuses) {
    if (status === 'refused') {
      pool
        .intercept({ path: '/api/models/tokenized-registration-events', method: 'POST' })
        .replyWithError(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' }));
      continue;
    }
    pool.intercept({ path: '/api/models/tokenized-registration-events', method: 'POST' }).reply<object>(() => {
      posts++;
      return status === 200
        ? { statusCode: 200, data: { status: 'ok', model_id: 'churn/4/XRAY', event_emitted: true } }
        : { statusCode: status, data: { detail: 'Failed to emit model registration event' } };
    });
  }
  const http = new HttpClient(
    httpOptions({ dispatcher: agent, retry: { ...DEFAULT_POLICY, maxRetries: 5 }, authorizedBases: [new URL('http://api.test')] }),
  );
  const body = registrationEvent(token, { modelName: 'churn', version: '4', runId: 'r', modelUri: 'models:/churn/4', tags: [] });
  try {
    await sendRegistrationEvent(http, new URL('http://api.test'), 'fake-key-events', body);
    return { posts, error: undefined };
  } catch (e) {
    assert.ok(e instanceof ActionError);
    return { posts, error: e };
  }
}

test('the event is retried only when it surely did not reach the handler: 503 and 429 yes, 502 and 500 no', async () => {
  assert.deepEqual(await sendAgainst([503, 429, 200]), { posts: 3, error: undefined });
  const verdict = await sendAgainst([502, 200]);
  assert.equal(verdict.posts, 1);
  assert.equal(verdict.error?.status, 502);
  assert.match(verdict.error?.hint ?? '', /metric it does not know, a value out of range/);
  assert.equal((await sendAgainst([500, 200])).posts, 1);
  assert.equal(verdict.error?.retry, undefined, 'a verdict is not presented as worth retrying');
  // A refused connection never reached the platform: retried.
  assert.deepEqual(await sendAgainst(['refused', 200]), { posts: 1, error: undefined });
});
