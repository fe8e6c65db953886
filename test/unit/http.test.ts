import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Agent, MockAgent } from 'undici';
import { ActionError } from '../../src/errors.ts';
import { httpOptions } from '../support/http-options.ts';
import { HttpClient, networkError, parseErrorBody } from '../../src/http.ts';
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
