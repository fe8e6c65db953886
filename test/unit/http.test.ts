import assert from 'node:assert/strict';
import { createReadStream } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { Agent, MockAgent } from 'undici';
import { ActionError, toActionError } from '../../src/errors.ts';
import { httpOptions } from '../support/http-options.ts';
import { HttpClient, JSON_LIMIT_BYTES, networkError, parseErrorBody } from '../../src/http.ts';
import { freePort } from '../support/ports.ts';

const KEY = 'fake-unit-key-abcdef';

function client(reply: (agent: MockAgent) => void): HttpClient {
  const agent = new MockAgent();
  agent.disableNetConnect();
  reply(agent);
  return new HttpClient(
    httpOptions({
      dispatcher: agent,
      secrets: [KEY],
      timeoutMs: 1000,
      authorizedBases: [new URL('http://mlflow.test'), new URL('https://registry.test')],
    }),
  );
}

async function failure(p: Promise<unknown>): Promise<ActionError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof ActionError, String(e));
    return e;
  }
  assert.fail('expected a failure');
}

test('a redirect is never followed, and the message names where it pointed', async () => {
  const http = client((a) =>
    a
      .get('https://registry.test')
      .intercept({ path: '/api/mlflow/api/2.0/mlflow/experiments/search', method: 'GET' })
      .reply(302, '', { headers: { location: 'https://login.example.com/sso?next=x' } }),
  );
  const err = await failure(
    http.send({
      step: 'S',
      method: 'GET',
      url: new URL('https://registry.test/api/mlflow/api/2.0/mlflow/experiments/search'),
      authorization: `Bearer ${KEY}`,
    }),
  );
  assert.equal(err.status, 302);
  assert.equal(err.path, '/api/mlflow/api/2.0/mlflow/experiments/search');
  assert.match(err.message, /redirect \(HTTP 302\) to https:\/\/login\.example\.com\/sso/);
  assert.doesNotMatch(err.message, /next=x/);
});

test('a refused connection is named with the host', async () => {
  const port = await freePort();
  const http = new HttpClient(httpOptions({ dispatcher: new Agent(), secrets: [], timeoutMs: 2000 }));
  const err = await failure(http.send({ step: 'S', method: 'GET', url: new URL(`http://127.0.0.1:${port}/x`) }));
  assert.match(err.message, new RegExp(`connection refused by 127\\.0\\.0\\.1:${port}`));
  assert.equal(err.status, undefined);
});

test('a 2xx body that is not JSON means the URL is not an MLflow API', async () => {
  const http = client((a) => a.get('https://x.test').intercept({ path: '/p' }).reply(200, '<html>portal</html>'));
  const err = await failure(http.send({ step: 'S', method: 'GET', url: new URL('https://x.test/p') }));
  assert.match(err.message, /not JSON/);
});

test('server words: MLflow JSON, FastAPI JSON, HTML and text; the key is redacted', () => {
  assert.deepEqual(parseErrorBody('{"error_code":"RESOURCE_DOES_NOT_EXIST","message":"nope"}', 'application/json', []), {
    code: 'RESOURCE_DOES_NOT_EXIST',
    message: 'nope',
  });
  assert.deepEqual(
    parseErrorBody('{"detail":"Admin access required for the model registry","error":"REGISTRY_ADMIN_REQUIRED"}', 'application/json', []),
    {
      code: 'REGISTRY_ADMIN_REQUIRED',
      message: 'Admin access required for the model registry',
    },
  );
  assert.deepEqual(parseErrorBody('<html><head><style>x{}</style></head><body><h1>404 Not Found</h1></body></html>', 'text/html', []), {
    message: '404 Not Found',
  });
  assert.deepEqual(parseErrorBody(`bad key ${KEY} echoed`, 'text/plain', [KEY]), { message: 'bad key *** echoed' });
  assert.equal(parseErrorBody('x'.repeat(1000), 'text/plain', []).message?.length, 301);
});

test('network failures before any status are named: DNS, timeouts, TLS, resets', () => {
  const url = new URL('https://registry.example.test:8443/api/mlflow/x');
  const where = { step: 'S', method: 'GET', path: url.pathname };
  const named = (code: string) =>
    networkError(Object.assign(new Error('fetch failed'), { cause: { code, message: code } }), url, where, 5000);
  assert.match(named('ENOTFOUND').message, /could not resolve host registry\.example\.test/);
  assert.match(named('EAI_AGAIN').message, /could not resolve host/);
  assert.match(named('UND_ERR_CONNECT_TIMEOUT').message, /no answer from registry\.example\.test:8443 within 5 s/);
  assert.match(named('UND_ERR_HEADERS_TIMEOUT').message, /within 5 s/);
  const tls = named('UNABLE_TO_VERIFY_LEAF_SIGNATURE');
  assert.match(tls.message, /TLS verification failed for registry\.example\.test:8443 \(UNABLE_TO_VERIFY_LEAF_SIGNATURE\)/);
  assert.match(tls.hint, /NODE_EXTRA_CA_CERTS/);
  assert.match(named('ECONNRESET').message, /closed unexpectedly/);
  assert.equal(named('ENOTFOUND').path, '/api/mlflow/x');
});

/** A local server for what MockAgent cannot do (a body that trickles, one that never ends). */
async function localServer(handler: http.RequestListener): Promise<{ url: string; close: () => Promise<void> }> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Headers at once, then a space every 100 ms for at most 20 s: bytes keep coming, the answer never ends. */
const trickle: http.RequestListener = (_req, res) => {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.write('{"experiments": [');
  const timer = setInterval(() => res.write(' '), 100);
  const stop = setTimeout(() => res.end(']}'), 20_000);
  res.once('close', () => {
    clearInterval(timer);
    clearTimeout(stop);
  });
};

test('request-timeout bounds the whole answer: a body that trickles a byte at a time is a timeout, and retried', async () => {
  const server = await localServer(trickle);
  try {
    const http = new HttpClient(httpOptions({ dispatcher: new Agent(), timeoutMs: 1000 }));
    const started = Date.now();
    const err = await failure(http.send({ step: 'S', method: 'GET', url: new URL(`${server.url}/api/2.0/mlflow/experiments/search`) }));
    assert.ok(Date.now() - started < 3000, `gave up after ${Date.now() - started} ms`);
    assert.match(err.message, /^no answer from 127\.0\.0\.1:\d+ within 1 s$/);
    assert.equal(err.path, '/api/2.0/mlflow/experiments/search');
    assert.equal(err.retry?.reason, 'UND_ERR_BODY_TIMEOUT');
  } finally {
    await server.close();
  }
});

test('cancellation during a trickling answer is reported as cancellation, not as a timeout', async () => {
  const server = await localServer(trickle);
  try {
    const cancel = new AbortController();
    const http = new HttpClient(httpOptions({ dispatcher: new Agent(), timeoutMs: 5000, signal: cancel.signal }));
    setTimeout(() => cancel.abort(), 300);
    const err = await failure(http.send({ step: 'S', method: 'GET', url: new URL(`${server.url}/p`) }));
    assert.equal(err.code, 'CANCELLED');
    assert.equal(err.message, 'cancelled');
  } finally {
    await server.close();
  }
});

test('a JSON answer larger than the cap is refused, by its content-length or once the cap is read', async () => {
  const big = `{"x":"${'a'.repeat(JSON_LIMIT_BYTES)}"}`;
  const http = client((a) => {
    a.get('https://x.test')
      .intercept({ path: '/declared' })
      .reply(200, big, { headers: { 'content-type': 'application/json' } });
  });
  const err = await failure(http.send({ step: 'S', method: 'GET', url: new URL('https://x.test/declared') }));
  assert.equal(err.message, 'the server answered HTTP 200 with more than 8 MiB, far more than any MLflow API answer');
  assert.equal(err.path, '/declared');
  assert.match(err.hint, /something other than the MLflow REST API/);
  assert.equal(err.retry, undefined);

  // Streamed without a length: the client reads no more than the cap, then drops the connection.
  let written = 0;
  const server = await localServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    const chunk = Buffer.alloc(64 * 1024, ' ');
    const pump = () => {
      while (written < 256 * 1024 * 1024) {
        written += chunk.length;
        if (!res.write(chunk)) return void res.once('drain', pump);
      }
      res.end();
    };
    res.on('error', () => undefined);
    pump();
  });
  try {
    const streamed = new HttpClient(httpOptions({ dispatcher: new Agent(), timeoutMs: 10_000 }));
    const err2 = await failure(streamed.send({ step: 'S', method: 'GET', url: new URL(`${server.url}/streamed`) }));
    assert.match(err2.message, /more than 8 MiB/);
    assert.ok(written < 64 * 1024 * 1024, `the server wrote ${written} bytes`);
  } finally {
    await server.close();
  }
});

test('only the start of an error body is read', async () => {
  let written = 0;
  const server = await localServer((_req, res) => {
    res.writeHead(500, { 'content-type': 'text/plain' });
    const chunk = Buffer.alloc(64 * 1024, 'e');
    const pump = () => {
      while (written < 256 * 1024 * 1024) {
        written += chunk.length;
        if (!res.write(chunk)) return void res.once('drain', pump);
      }
      res.end();
    };
    res.on('error', () => undefined);
    pump();
  });
  try {
    const http = new HttpClient(httpOptions({ dispatcher: new Agent(), timeoutMs: 10_000 }));
    const err = await failure(http.send({ step: 'S', method: 'GET', url: new URL(`${server.url}/p`) }));
    assert.equal(err.status, 500);
    assert.match(err.serverMessage ?? '', /^e{300}…$/);
    assert.ok(written < 64 * 1024 * 1024, `the server wrote ${written} bytes`);
  } finally {
    await server.close();
  }
});

test('a JSON answer that is not an object names the step, method and path', async () => {
  for (const body of ['null', '[]', '"x"', '42']) {
    const http = client((a) =>
      a
        .get('https://x.test')
        .intercept({ path: '/api/2.0/mlflow/runs/get?run_id=r' })
        .reply(200, body, { headers: { 'content-type': 'application/json' } }),
    );
    const err = await failure(
      http.send({ step: 'Create run', method: 'GET', url: new URL('https://x.test/api/2.0/mlflow/runs/get?run_id=r') }),
    );
    assert.equal(err.message, 'the server answered HTTP 200 with JSON that is not an object', body);
    assert.equal(err.step, 'Create run');
    assert.equal(err.method, 'GET');
    assert.equal(err.path, '/api/2.0/mlflow/runs/get');
    assert.match(err.hint, /Every answer of the MLflow REST API is a JSON object/);
  }
  // GitHub's lists are arrays: allowed where the caller says so.
  const http = client((a) => a.get('https://x.test').intercept({ path: '/list' }).reply(200, '[{"id":1}]'));
  const res = await http.send({ step: 'S', method: 'GET', url: new URL('https://x.test/list'), jsonArray: true });
  assert.deepEqual(res.data, [{ id: 1 }]);
});

test('the reachability hint only for network failures', async () => {
  const url = new URL('https://registry.example.test/api/mlflow/x');
  const where = { step: 'S', method: 'GET', path: url.pathname };
  const withCode = (code: string) =>
    networkError(Object.assign(new Error('fetch failed'), { cause: { code, message: code } }), url, where, 5000);
  for (const code of ['ENOTFOUND', 'ECONNREFUSED', 'ECONNRESET', 'UND_ERR_HEADERS_TIMEOUT', 'ENETUNREACH']) {
    const e = withCode(code);
    assert.match(`${e.message} ${e.hint}`, /reach|listening|DNS|dropped|slow/, code);
  }
  assert.match(withCode('ENETUNREACH').hint, /can reach the host/);
  const bug = networkError(new RangeError('Invalid string length'), url, where, 5000);
  assert.doesNotMatch(bug.hint, /reach/);
  assert.match(bug.hint, /not a network failure/);
  assert.equal(bug.retry, undefined);
  // Anything thrown outside a request is reported as a bug, never as reachability.
  assert.doesNotMatch(toActionError(new TypeError("Cannot read properties of null (reading 'x')"), 'S').hint, /reach/);

  // An upload whose file cannot be read is not a network failure either.
  const server = await localServer((req, res) => {
    req.resume();
    req.on('end', () => res.end('{}'));
  });
  try {
    const http = new HttpClient(httpOptions({ dispatcher: new Agent(), timeoutMs: 5000 }));
    const err = await failure(
      http.send({
        step: 'Upload model',
        method: 'PUT',
        url: new URL(`${server.url}/f`),
        openBody: () => createReadStream(path.join(tmpdir(), 'no-such-dir-h11', 'model.pkl')),
        contentLength: 10,
      }),
    );
    assert.doesNotMatch(err.hint, /reach/);
    assert.match(err.hint, /could not be read/);
  } finally {
    await server.close();
  }
});

test('credentials go only below the authorized bases: a request with them anywhere else is refused unsent', async () => {
  const agent = new MockAgent();
  agent.disableNetConnect();
  let sent = 0;
  const pool = agent.get('https://registry.test');
  pool
    .intercept({ path: () => true, method: () => true })
    .reply(() => {
      sent++;
      return { statusCode: 200, data: '{}' };
    })
    .persist();
  const http = new HttpClient(
    httpOptions({ dispatcher: agent, secrets: [KEY], authorizedBases: [new URL('https://registry.test/api/mlflow')] }),
  );
  const authorization = `Bearer ${KEY}`;
  await http.send({
    step: 'S',
    method: 'GET',
    url: new URL('https://registry.test/api/mlflow/api/2.0/mlflow/experiments/search'),
    authorization,
  });
  assert.equal(sent, 1);
  for (const url of [
    'https://registry.test/api/2.0/mlflow/experiments/search',
    'https://registry.test/api/mlflowx',
    'https://registry.test/api/mlflow/../x',
  ]) {
    const err = await failure(http.send({ step: 'S', method: 'PUT', url: new URL(url), authorization }));
    assert.match(err.message, /^the action does not send credentials to https:\/\/registry\.test\//);
    assert.match(err.hint, /auth-url, tracking-uri and \(for the registration event\) api-url/);
    assert.equal(err.retry, undefined);
  }
  // Without credentials (e.g. a presigned part URL) any URL is fine.
  await http.send({ step: 'S', method: 'GET', url: new URL('https://registry.test/elsewhere') });
  assert.equal(sent, 2);
});
