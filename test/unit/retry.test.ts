import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MockAgent } from 'undici';
import { ActionError } from '../../src/errors.ts';
import { HttpClient } from '../../src/http.ts';
import { backoffMs, DEFAULT_POLICY, parseRetryAfter, retryReason } from '../../src/retry.ts';
import { fakeClock, httpOptions } from '../support/http-options.ts';

const policy = { ...DEFAULT_POLICY, maxRetries: 5 };

test('what is retried: 408, 429, 5xx but 501, and lost connections; not 4xx, DNS or TLS', () => {
  for (const s of [408, 429, 500, 502, 503, 504]) assert.equal(retryReason(s, []), `HTTP ${s}`);
  for (const s of [400, 401, 403, 404, 409, 413, 501]) assert.equal(retryReason(s, []), undefined);
  for (const c of ['ECONNRESET', 'ECONNREFUSED', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_SOCKET'])
    assert.equal(retryReason(undefined, ['', c]), c);
  for (const c of ['ENOTFOUND', 'DEPTH_ZERO_SELF_SIGNED_CERT']) assert.equal(retryReason(undefined, [c]), undefined);
});

test('backoff doubles with jitter up to a ceiling; Retry-After wins', () => {
  assert.equal(
    backoffMs(1, policy, () => 0),
    500,
  );
  assert.equal(
    backoffMs(1, policy, () => 1),
    1000,
  );
  assert.equal(
    backoffMs(3, policy, () => 1),
    4000,
  );
  assert.equal(
    backoffMs(10, policy, () => 1),
    30_000,
  );
  assert.equal(
    backoffMs(1, policy, () => 0, 7000),
    7000,
  );
  assert.equal(parseRetryAfter('12', 0), 12_000);
  assert.equal(parseRetryAfter(new Date(60_000).toUTCString(), 0), 60_000);
  assert.equal(parseRetryAfter('soon', 0), undefined);
});

function server(replies: Array<{ status: number; headers?: Record<string, string>; body?: string }>) {
  const agent = new MockAgent();
  agent.disableNetConnect();
  const pool = agent.get('http://mlflow.test');
  for (const r of replies) pool.intercept({ path: '/x', method: 'POST' }).reply(r.status, r.body ?? '{}', { headers: r.headers ?? {} });
  return agent;
}

test('a burst of 503 is retried with backoff, each retry logged once, then succeeds', async () => {
  const clock = fakeClock();
  const log: string[] = [];
  const agent = server([{ status: 503 }, { status: 503 }, { status: 200, body: '{"ok":true}' }]);
  const http = new HttpClient(httpOptions({ dispatcher: agent, clock, retry: policy, onRetry: (l) => log.push(l) }));
  const res = await http.send<{ ok: boolean }>({ step: 'S', method: 'POST', url: new URL('http://mlflow.test/x'), json: {} });
  assert.deepEqual(res.data, { ok: true });
  assert.deepEqual(clock.sleeps, [750, 1500]);
  assert.deepEqual(log, ['POST /x: HTTP 503; retry 1 of 5 in 0.8 s', 'POST /x: HTTP 503; retry 2 of 5 in 1.5 s']);
});

test('Retry-After is honoured', async () => {
  const clock = fakeClock();
  const agent = server([{ status: 429, headers: { 'retry-after': '3' } }, { status: 200 }]);
  await new HttpClient(httpOptions({ dispatcher: agent, clock, retry: policy })).send({
    step: 'S',
    method: 'POST',
    url: new URL('http://mlflow.test/x'),
    json: {},
  });
  assert.deepEqual(clock.sleeps, [3000]);
});

test('retries stop at max-retries, and the error says how many attempts were made', async () => {
  const agent = server(Array(3).fill({ status: 502 }));
  const http = new HttpClient(httpOptions({ dispatcher: agent, retry: { ...policy, maxRetries: 2 } }));
  await assert.rejects(http.send({ step: 'S', method: 'POST', url: new URL('http://mlflow.test/x'), json: {} }), (e: ActionError) => {
    assert.equal(e.status, 502);
    assert.match(e.message, /HTTP 502 \(gave up after 3 attempts\)/);
    return true;
  });
});

test('the total time is bounded: a wait past the budget is not started', async () => {
  const clock = fakeClock();
  const agent = server([{ status: 429, headers: { 'retry-after': '400' } }]);
  const http = new HttpClient(httpOptions({ dispatcher: agent, clock, retry: { ...policy, budgetMs: 60_000 } }));
  await assert.rejects(http.send({ step: 'S', method: 'POST', url: new URL('http://mlflow.test/x'), json: {} }), /HTTP 429/);
  assert.deepEqual(clock.sleeps, [], 'no wait was started');
});

test('a create that succeeded before its 500 is recovered, not repeated', async () => {
  const agent = server([{ status: 500 }]);
  let looked = 0;
  const http = new HttpClient(httpOptions({ dispatcher: agent, retry: policy }));
  const res = await http.send<{ id: string }>({
    step: 'S',
    method: 'POST',
    url: new URL('http://mlflow.test/x'),
    json: {},
    recover: async () => {
      looked++;
      return { id: 'made-by-the-failed-attempt' };
    },
  });
  assert.equal(looked, 1);
  assert.deepEqual(res.data, { id: 'made-by-the-failed-attempt' });
  agent.assertNoPendingInterceptors();
});

test('4xx are not retried', async () => {
  const clock = fakeClock();
  const agent = server([{ status: 400, body: '{"error_code":"INVALID_PARAMETER_VALUE","message":"bad"}' }]);
  await assert.rejects(
    new HttpClient(httpOptions({ dispatcher: agent, clock, retry: policy })).send({
      step: 'S',
      method: 'POST',
      url: new URL('http://mlflow.test/x'),
      json: {},
    }),
    /HTTP 400/,
  );
  assert.deepEqual(clock.sleeps, []);
});

test('a create is looked up also when no retry is left, and a failing look-up counts as not found', async () => {
  const found = await new HttpClient(httpOptions({ dispatcher: server([{ status: 500 }]), retry: { ...policy, maxRetries: 0 } })).send<{
    id: string;
  }>({
    step: 'S',
    method: 'POST',
    url: new URL('http://mlflow.test/x'),
    json: {},
    recover: async () => ({ id: 'made' }),
  });
  assert.deepEqual(found.data, { id: 'made' });
  const clock = fakeClock();
  const agent = server([{ status: 503 }, { status: 200, body: '{"id":"second"}' }]);
  let looked = 0;
  const res = await new HttpClient(httpOptions({ dispatcher: agent, clock, retry: policy })).send<{ id: string }>({
    step: 'S',
    method: 'POST',
    url: new URL('http://mlflow.test/x'),
    json: {},
    recover: async () => {
      looked++;
      throw new Error('search refused');
    },
  });
  assert.equal(looked, 1);
  assert.deepEqual(res.data, { id: 'second' }, 'not found: created again');
});

test('a 503 from a server without artifact serving is not retried: it will not change', async () => {
  const clock = fakeClock();
  const agent = server([{ status: 503, body: 'Endpoint disabled due to the mlflow server running with `--no-serve-artifacts`.' }]);
  await assert.rejects(
    new HttpClient(httpOptions({ dispatcher: agent, clock, retry: policy })).send({
      step: 'S',
      method: 'POST',
      url: new URL('http://mlflow.test/x'),
      json: {},
    }),
    /HTTP 503/,
  );
  assert.deepEqual(clock.sleeps, []);
});
