/**
 * Proves the front proxy's registration-event route (the Hokusai API's
 * POST /api/models/tokenized-registration-events, hokusai-platform.md §3): keys, schema (422),
 * the server hook's checks (502), success, recording, faults, and that the MLflow route is unchanged.
 * Run: node_modules/.bin/node --test test/support/harness-events.test.ts
 *
 * The upstream is a tiny local echo server: the events route must never reach it.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { startFrontProxy } from './front-proxy.ts';
import type { FrontProxy, FrontProxyOptions, FrontProxyRequest } from './front-proxy.ts';
import { EMIT_FAILED, REGISTRATION_EVENT_PATH } from './registration-event-contract.ts';

const WRITER = 'fake-key-events-writer';
const READER = 'fake-key-events-reader';
const EVENTS_FAULT_PATH = /^\/api\/models\/tokenized-registration-events$/;

let echo: http.Server;
let upstreamUrl: string;
const upstreamSeen: string[] = [];
const proxies: FrontProxy[] = [];

before(async () => {
  echo = http.createServer((req, res) => {
    upstreamSeen.push(`${req.method} ${req.url}`);
    req.resume();
    req.once('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ echo: req.url }));
    });
  });
  await new Promise<void>((r) => echo.listen(0, '127.0.0.1', () => r()));
  upstreamUrl = `http://127.0.0.1:${(echo.address() as AddressInfo).port}`;
});

after(async () => {
  await Promise.allSettled(proxies.map((p) => p.stop()));
  await new Promise<void>((r) => {
    echo.close(() => r());
    echo.closeAllConnections();
  });
});

async function proxy(opts: Partial<FrontProxyOptions> = {}): Promise<FrontProxy> {
  const p = await startFrontProxy({ upstream: upstreamUrl, validKeys: [WRITER, READER], events: { writeKeys: [WRITER] }, ...opts });
  proxies.push(p);
  return p;
}

/** A full, valid event: every optional field set. */
const FULL = {
  model_name: 'hokusai-XRAY',
  version: '3',
  token_id: 'XRAY',
  proposal_identifier: 'XRAY',
  metric_name: 'auroc',
  baseline_value: 0.82,
  mlflow_run_id: 'a1b2c3d4e5f6',
  current_value: 0.85,
  model_uri: 'models:/hokusai-XRAY/3',
  eval_spec: 'eval/spec@1',
  scorer_ref: 'scorers/auroc',
  primary_metric: 'auroc',
  benchmark_spec_id: 'bench-7',
  api_schema: { inputSchema: { type: 'object' }, outputSchema: { type: 'array' } },
  tags: { team: 'vision', 'hokusai.source': 'github-action' },
};
const MINIMAL = {
  model_name: 'hokusai-XRAY',
  version: '4',
  token_id: 'XRAY',
  proposal_identifier: 'XRAY',
  metric_name: 'auroc',
  baseline_value: 0.82,
  mlflow_run_id: 'r1',
};

interface Res {
  status: number;
  headers: Headers;
  /** the parsed JSON body, or the text when it is not JSON */
  json: unknown;
}
interface PostInit {
  /** Bearer key; null sends no authorization header */
  key?: string | null;
  /** raw body text instead of JSON.stringify(body) */
  raw?: string | Uint8Array;
  contentType?: string | null;
  url?: string;
  method?: string;
}
async function post(p: FrontProxy, body: unknown, init: PostInit = {}): Promise<Res> {
  const headers: Record<string, string> = {};
  const key = init.key === undefined ? WRITER : init.key;
  if (key !== null) headers.authorization = `Bearer ${key}`;
  const contentType = init.contentType === undefined ? 'application/json' : init.contentType;
  if (contentType !== null) headers['content-type'] = contentType;
  const res = await fetch(init.url ?? p.eventsUrl, {
    method: init.method ?? 'POST',
    headers,
    body: init.method === 'GET' ? undefined : (init.raw ?? JSON.stringify(body)),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  let json: unknown = text;
  try {
    json = text ? (JSON.parse(text) as unknown) : undefined;
  } catch {
    // a fault's plain-text body: keep the text
  }
  return { status: res.status, headers: res.headers, json };
}

test('without `events` (the default) the route is a plain 404 and nothing is recorded or forwarded', async () => {
  const p = await proxy({ events: undefined });
  const r = await post(p, MINIMAL);
  assert.deepEqual([r.status, r.json], [404, { detail: 'Not Found' }]);
  assert.deepEqual(p.events, []);
  assert.deepEqual(
    p.requests.map((q) => [q.method, q.path, q.status]),
    [['POST', REGISTRATION_EVENT_PATH, 404]],
  );
  assert.deepEqual(upstreamSeen, []);
});

test('success: 200 with the contract body, the exact body recorded, never forwarded', async () => {
  const p = await proxy();
  assert.equal(p.eventsUrl, `${p.url}/api/models/tokenized-registration-events`);

  // api-url ending in /api: the SDK appends /models/..., which is the same route.
  const r = await post(p, FULL, { url: `${p.url}/api/models/tokenized-registration-events` });
  assert.equal(r.status, 200);
  assert.equal(r.headers.get('content-type'), 'application/json');
  assert.deepEqual(r.json, {
    status: 'ok',
    model_id: 'hokusai-XRAY/3/XRAY',
    model_name: 'hokusai-XRAY',
    version: '3',
    event_emitted: true,
    detail: null,
  });
  const ev = p.events[0];
  assert.ok(ev);
  assert.equal(ev.method, 'POST');
  assert.equal(ev.path, REGISTRATION_EVENT_PATH);
  assert.equal(ev.authorization, `Bearer ${WRITER}`);
  assert.equal(ev.contentType, 'application/json');
  assert.equal(ev.rawBody, JSON.stringify(FULL));
  assert.deepEqual(ev.body, FULL);
  assert.equal(ev.status, 200);
  assert.deepEqual(ev.response, r.json);
  assert.equal(ev.rejection, undefined);
  assert.equal(ev.fault, undefined);
  assert.equal(p.requests[0], ev, 'the event record is also the request record');

  // Strings are stripped as pydantic's validators do; unknown fields are ignored (extra="ignore");
  // current_value may be null; with no content-type at all FastAPI still parses JSON.
  const padded = { ...MINIMAL, model_name: '  hokusai-XRAY ', version: ' 4', current_value: null, surprise: { anything: [1] } };
  const r2 = await post(p, undefined, { raw: new TextEncoder().encode(JSON.stringify(padded)), contentType: null });
  assert.equal(r2.status, 200, JSON.stringify(r2.json));
  assert.deepEqual(r2.json, {
    status: 'ok',
    model_id: 'hokusai-XRAY/4/XRAY',
    model_name: 'hokusai-XRAY',
    version: '4',
    event_emitted: true,
    detail: null,
  });
  assert.equal(p.events[1]?.contentType, undefined);
  assert.deepEqual(p.events[1]?.body, padded);

  // A client that joins /api twice, a trailing slash, and another method.
  const doubled = await post(p, MINIMAL, { url: `${p.url}/api/api/models/tokenized-registration-events` });
  assert.deepEqual([doubled.status, doubled.json], [404, { detail: 'Not Found' }]);
  assert.equal((await post(p, MINIMAL, { url: `${p.eventsUrl}/` })).status, 404);
  const get = await post(p, undefined, { method: 'GET' });
  assert.deepEqual([get.status, get.json, get.headers.get('allow')], [405, { detail: 'Method Not Allowed' }, 'POST']);

  assert.deepEqual(
    p.requests.map((q) => [q.method, q.path, q.status]),
    [
      ['POST', REGISTRATION_EVENT_PATH, 200],
      ['POST', REGISTRATION_EVENT_PATH, 200],
      ['POST', `/api${REGISTRATION_EVENT_PATH}`, 404],
      ['POST', `${REGISTRATION_EVENT_PATH}/`, 404],
      ['GET', REGISTRATION_EVENT_PATH, 405],
    ],
  );
  assert.equal(p.events.length, 3);
  assert.deepEqual(upstreamSeen, []);
});

test('keys: 401 without a key or with an unknown one, 403 without write scope; the body is recorded anyway', async () => {
  const p = await proxy();
  const none = await post(p, MINIMAL, { key: null });
  assert.deepEqual([none.status, none.json], [401, { detail: 'API key required' }]);
  const unknown = await post(p, MINIMAL, { key: 'fake-key-unknown' });
  assert.deepEqual([unknown.status, unknown.json], [401, { detail: 'Invalid or expired API key' }]);
  const reader = await post(p, MINIMAL, { key: READER });
  assert.deepEqual([reader.status, reader.json], [403, { detail: 'Insufficient permissions for model registration events' }]);
  // Only the Bearer scheme is accepted here (the action sends nothing else).
  const res = await fetch(p.eventsUrl, { method: 'POST', headers: { authorization: `ApiKey ${WRITER}` }, body: '{}' });
  assert.deepEqual([res.status, await res.json()], [401, { detail: 'API key required' }]);
  // The scope check comes before the body is looked at.
  const readerBadJson = await post(p, undefined, { key: READER, raw: '{' });
  assert.equal(readerBadJson.status, 403);

  assert.deepEqual(
    p.events.map((e) => [e.status, e.authorization, e.body, e.response, e.rejection]),
    [
      [401, undefined, MINIMAL, undefined, undefined],
      [401, 'Bearer fake-key-unknown', MINIMAL, undefined, undefined],
      [403, `Bearer ${READER}`, MINIMAL, undefined, undefined],
      [401, `ApiKey ${WRITER}`, {}, undefined, undefined],
      [403, `Bearer ${READER}`, undefined, undefined, undefined],
    ],
  );

  // Without writeKeys every valid key may write; the MLflow adminKeys do not apply to this route.
  const open = await proxy({ events: {}, adminKeys: [WRITER] });
  assert.equal((await post(open, MINIMAL, { key: READER })).status, 200);
  const mlflow = await fetch(`${open.trackingUri}/api/2.0/mlflow/experiments/search`, { headers: { authorization: `Bearer ${READER}` } });
  assert.equal(mlflow.status, 403);
  await mlflow.arrayBuffer();
});

test('422: FastAPI-shaped errors for missing, mistyped and too-long fields, bad JSON and non-JSON bodies', async () => {
  const p = await proxy();
  const missing = await post(p, {});
  assert.equal(missing.status, 422);
  assert.deepEqual(missing.json, {
    detail: ['model_name', 'version', 'token_id', 'proposal_identifier', 'metric_name', 'baseline_value', 'mlflow_run_id'].map((f) => ({
      type: 'missing',
      loc: ['body', f],
      msg: 'Field required',
      input: {},
    })),
  });

  const long = 'x'.repeat(501);
  const mistyped = await post(p, {
    ...MINIMAL,
    version: 7,
    token_id: '   ',
    baseline_value: '0.82',
    current_value: null,
    model_uri: ' ',
    eval_spec: long,
    scorer_ref: 5,
    api_schema: [],
    tags: { team: 'vision', n: 1 },
  });
  assert.equal(mistyped.status, 422);
  const valueError = (field: string, input: unknown, msg: string): unknown => ({
    type: 'value_error',
    loc: ['body', field],
    msg: `Value error, ${msg}`,
    input,
    ctx: { error: {} },
  });
  assert.deepEqual(mistyped.json, {
    detail: [
      valueError('version', 7, 'must be a non-empty string'),
      valueError('token_id', '   ', 'must be a non-empty string'),
      { type: 'float_type', loc: ['body', 'baseline_value'], msg: 'Input should be a valid number', input: '0.82' },
      valueError('model_uri', ' ', 'model_uri must be a non-empty string when provided'),
      {
        type: 'string_too_long',
        loc: ['body', 'eval_spec'],
        msg: 'String should have at most 500 characters',
        input: long,
        ctx: { max_length: 500 },
      },
      valueError('scorer_ref', 5, 'scorer_ref must be a non-empty string when provided'),
      { type: 'dict_type', loc: ['body', 'api_schema'], msg: 'Input should be a valid dictionary', input: [] },
      { type: 'string_type', loc: ['body', 'tags', 'n'], msg: 'Input should be a valid string', input: 1 },
    ],
  });
  assert.match(p.events[1]?.rejection ?? '', /^body\.version: Value error, must be a non-empty string; body\.token_id: /);

  // 500 characters is the limit, counted in code points after stripping; model_uri has no limit.
  const atLimit = await post(p, { ...MINIMAL, eval_spec: ` ${'😀'.repeat(500)} `, model_uri: `models:/${'m'.repeat(600)}/4` });
  assert.equal(atLimit.status, 200, JSON.stringify(atLimit.json));
  const wrongNumbers = await post(p, { ...MINIMAL, baseline_value: true, current_value: '0.9' });
  assert.deepEqual(wrongNumbers.json, {
    detail: [
      { type: 'float_type', loc: ['body', 'baseline_value'], msg: 'Input should be a valid number', input: true },
      { type: 'float_type', loc: ['body', 'current_value'], msg: 'Input should be a valid number', input: '0.9' },
    ],
  });
  const infinite = await post(p, undefined, { raw: JSON.stringify(MINIMAL).replace('0.82', '1e400') });
  assert.deepEqual(infinite.json, { detail: [valueError('baseline_value', null, 'must be a finite number')] });

  const badJson = await post(p, undefined, { raw: '{"model_name": ' });
  assert.equal(badJson.status, 422);
  const item = (badJson.json as { detail: Array<{ type: string; loc: unknown[]; msg: string; input: unknown; ctx: { error: unknown } }> })
    .detail;
  assert.equal(item.length, 1);
  assert.deepEqual([item[0]?.type, item[0]?.loc[0], item[0]?.msg, item[0]?.input], ['json_invalid', 'body', 'JSON decode error', {}]);
  assert.equal(typeof item[0]?.loc[1], 'number');
  assert.equal(typeof item[0]?.ctx.error, 'string');
  assert.equal(p.events.at(-1)?.body, undefined);
  assert.equal(p.events.at(-1)?.rawBody, '{"model_name": ');

  const asText = await post(p, MINIMAL, { contentType: 'text/plain' });
  assert.deepEqual(asText.json, {
    detail: [
      {
        type: 'model_attributes_type',
        loc: ['body'],
        msg: 'Input should be a valid dictionary or object to extract fields from',
        input: JSON.stringify(MINIMAL),
      },
    ],
  });
  assert.equal((await post(p, MINIMAL, { contentType: 'application/vnd.api+json; charset=utf-8' })).status, 200);
  const array = await post(p, [MINIMAL]);
  assert.equal((array.json as { detail: Array<{ type: string }> }).detail[0]?.type, 'model_attributes_type');
  const empty = await post(p, undefined, { raw: '' });
  assert.deepEqual([empty.status, empty.json], [422, { detail: [{ type: 'missing', loc: ['body'], msg: 'Field required', input: null }] }]);
});

test("502: the server hook's metric, range and baseline checks; their edge cases pass", async () => {
  const p = await proxy();
  const refused: Array<[Record<string, unknown>, RegExp]> = [
    [{ metric_name: 'logloss' }, /^metric_name "logloss" is not one of accuracy, auroc, /],
    [{ metric_name: 'auroc', baseline_value: 1.2, current_value: 1.3 }, /^baseline_value 1\.2 is outside \[0, 1\] for auroc$/],
    [{ metric_name: 'reply_rate', baseline_value: -0.1 }, /^baseline_value -0\.1 is outside \[0, 1\] for reply_rate$/],
    [{ metric_name: 'conversion_rate', baseline_value: 0.5, current_value: 1.5 }, /^current_value 1\.5 is outside \[0, 1\]/],
    [{ metric_name: 'r2', baseline_value: 0.5, current_value: 1.01 }, /^current_value 1\.01 is outside \[-inf, 1\] for r2$/],
    [{ metric_name: 'mse', baseline_value: 0 }, /^baseline_value 0 must be > 0 for the error metric mse$/],
    [{ metric_name: 'engagement_score', baseline_value: -1 }, /^baseline_value -1 is outside \[0, inf\]/],
    [{ metric_name: 'auroc', baseline_value: 0.8, current_value: 0.79 }, /^current_value 0\.79 is below baseline_value 0\.8$/],
    // The server compares "higher is better" even for error metrics.
    [{ metric_name: 'rmse', baseline_value: 0.5, current_value: 0.4 }, /^current_value 0\.4 is below baseline_value 0\.5$/],
  ];
  for (const [patch, reason] of refused) {
    const r = await post(p, { ...MINIMAL, ...patch });
    assert.deepEqual([r.status, r.json], [502, EMIT_FAILED], JSON.stringify(patch));
    assert.match(p.events.at(-1)?.rejection ?? '', reason);
  }
  const accepted: Array<Record<string, unknown>> = [
    { metric_name: 'AUROC' }, // matched case-insensitively, as the server lowercases it
    { metric_name: 'accuracy', baseline_value: 0, current_value: 1 },
    { metric_name: 'f1', baseline_value: 1 }, // current_value defaults to the baseline
    { metric_name: 'r2', baseline_value: -3.5, current_value: -1 },
    { metric_name: 'engagement_score', baseline_value: 42, current_value: 1e6 },
    { metric_name: 'mae', baseline_value: 0.001, current_value: 7 },
  ];
  for (const patch of accepted) {
    const r = await post(p, { ...MINIMAL, ...patch });
    assert.equal(r.status, 200, `${JSON.stringify(patch)}: ${p.events.at(-1)?.rejection}`);
  }
  assert.deepEqual(
    p.events.map((e) => e.status),
    [...refused.map(() => 502), ...accepted.map(() => 200)],
  );
});

test('faults on the events route: a 503 burst then success, a 502 once, afterForward, stall and reset', async () => {
  const seenByHook: FrontProxyRequest[] = [];
  const p = await proxy({
    onRequest: (r) => seenByHook.push({ ...r }),
    faults: [
      { path: /./, status: 418 }, // an MLflow fault (the default service): never hits the events route
      {
        service: 'events',
        path: EVENTS_FAULT_PATH,
        status: 503,
        headers: { 'content-type': 'text/plain', 'retry-after': '1' },
        body: 'busy',
        times: 2,
      },
    ],
  });
  assert.equal((await post(p, MINIMAL, { key: null })).status, 401); // faults come after the key check
  assert.equal((await post(p, MINIMAL)).status, 503);
  const burst = await fetch(p.eventsUrl, { method: 'POST', headers: { authorization: `Bearer ${WRITER}` }, body: JSON.stringify(MINIMAL) });
  assert.deepEqual([burst.status, burst.headers.get('retry-after'), await burst.text()], [503, '1', 'busy']);
  assert.equal((await post(p, MINIMAL)).status, 200);
  assert.deepEqual(
    p.events.map((e) => [e.status, e.fault, e.body]),
    [
      [401, undefined, MINIMAL],
      [503, 1, MINIMAL],
      [503, 1, MINIMAL],
      [200, undefined, MINIMAL],
    ],
  );
  assert.deepEqual(
    seenByHook.map((r) => [r.path, r.status]),
    [
      [REGISTRATION_EVENT_PATH, 0],
      [REGISTRATION_EVENT_PATH, 0],
      [REGISTRATION_EVENT_PATH, 0],
    ],
  );
  // ...while the MLflow fault still applies to the MLflow route.
  const teapot = await fetch(`${p.trackingUri}/api/2.0/mlflow/experiments/search`, { headers: { authorization: `Bearer ${WRITER}` } });
  assert.equal(teapot.status, 418);
  await teapot.arrayBuffer();

  // "Registered in MLflow but the platform was not told": a 502 once, then the retry succeeds.
  p.faults.splice(0, p.faults.length, {
    service: 'events',
    method: 'POST',
    path: EVENTS_FAULT_PATH,
    status: 502,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(EMIT_FAILED),
    times: 1,
  });
  const once = await post(p, FULL);
  assert.deepEqual([once.status, once.json], [502, EMIT_FAILED]);
  assert.equal((await post(p, FULL)).status, 200);

  // afterForward: the route handles the event (it was emitted), but the client gets a 500.
  p.faults.push({ service: 'events', path: EVENTS_FAULT_PATH, afterForward: true, status: 500, body: 'Internal Server Error', times: 2 });
  assert.equal((await post(p, FULL)).status, 500);
  await fetch(p.eventsUrl, {
    method: 'POST',
    headers: { authorization: `Bearer ${WRITER}`, 'content-type': 'application/json' },
    body: JSON.stringify({ ...FULL, current_value: 0.5 }),
  }).then((r) => r.arrayBuffer());
  const [handled, refused] = p.events.slice(-2);
  assert.deepEqual([handled?.status, handled?.upstreamStatus, handled?.response, handled?.rejection], [500, 200, undefined, undefined]);
  assert.deepEqual([refused?.status, refused?.upstreamStatus], [500, 502]);
  assert.match(refused?.rejection ?? '', /below baseline_value/);

  // stallMs: the body is read and recorded, then nothing comes back.
  p.faults.push({ service: 'events', path: EVENTS_FAULT_PATH, stallMs: 60_000, times: 1 });
  await assert.rejects(
    fetch(p.eventsUrl, {
      method: 'POST',
      headers: { authorization: `Bearer ${WRITER}` },
      body: '{"stalled":1}',
      signal: AbortSignal.timeout(500),
    }),
    (err: Error) => err.name === 'TimeoutError',
  );
  assert.deepEqual([p.events.at(-1)?.status, p.events.at(-1)?.body], [0, { stalled: 1 }]);

  // resetAfterBytes: the connection is reset, nothing is read or answered.
  p.faults.push({ service: 'events', path: EVENTS_FAULT_PATH, resetAfterBytes: 0, times: 1 });
  await assert.rejects(post(p, FULL), TypeError);
  assert.deepEqual([p.events.at(-1)?.status, p.events.at(-1)?.rawBody], [0, undefined]);
  assert.equal((await post(p, MINIMAL)).status, 200);
  assert.deepEqual(upstreamSeen, []);
});

test('the MLflow route is unchanged: forwarded upstream, events faults and redirect stay on their own route', async () => {
  const p = await proxy({ faults: [{ service: 'events', path: /./, status: 500 }] });
  const r = await fetch(`${p.trackingUri}/api/2.0/mlflow/experiments/search?max_results=1`, {
    headers: { authorization: `Bearer ${READER}` },
  });
  assert.equal(r.status, 200);
  assert.deepEqual(await r.json(), { echo: '/api/2.0/mlflow/experiments/search?max_results=1' });
  assert.deepEqual(upstreamSeen, ['GET /api/2.0/mlflow/experiments/search?max_results=1']);
  assert.equal((await post(p, MINIMAL)).status, 500);
  assert.deepEqual(
    p.requests.map((q) => [q.path, q.status, q.fault]),
    [
      ['/api/mlflow/api/2.0/mlflow/experiments/search', 200, undefined],
      [REGISTRATION_EVENT_PATH, 500, 0],
    ],
  );
  assert.deepEqual(
    p.events.map((e) => e.path),
    [REGISTRATION_EVENT_PATH],
  );

  // redirect answers the MLflow route only.
  const redirecting = await proxy({ redirect: { status: 308, location: 'https://127.0.0.1:1/api/mlflow' } });
  const moved = await fetch(`${redirecting.trackingUri}/health`, { redirect: 'manual' });
  assert.equal(moved.status, 308);
  await moved.arrayBuffer();
  assert.equal((await post(redirecting, MINIMAL)).status, 200);
  upstreamSeen.length = 0;
});
