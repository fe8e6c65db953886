import assert from 'node:assert/strict';
import { test } from 'node:test';
import { eventUrl, hokusaiTags, registrationEvent } from '../../src/hokusai.ts';
import type { HokusaiToken } from '../../src/inputs.ts';

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
