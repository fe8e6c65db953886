import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MockAgent } from 'undici';
import { requireWrite, validateKey } from '../../src/auth.ts';
import { ActionError } from '../../src/errors.ts';
import { httpOptions } from '../support/http-options.ts';
import { HttpClient } from '../../src/http.ts';

const KEY = 'hk_fake_unit_key_123';
const AUTH = new URL('https://auth.test');

function setup(status: number, body: object) {
  const agent = new MockAgent();
  agent.disableNetConnect();
  const seen: Array<{ headers: Record<string, string>; body: string }> = [];
  agent
    .get('https://auth.test')
    .intercept({ path: '/api/v1/keys/validate', method: 'POST' })
    .reply(status, (opts) => {
      seen.push({ headers: opts.headers as Record<string, string>, body: String(opts.body) });
      return body;
    });
  const http = new HttpClient(httpOptions({ dispatcher: agent, secrets: [KEY], timeoutMs: 1000, authorizedBases: [AUTH] }));
  return { http, seen };
}

async function rejection(p: Promise<unknown>): Promise<ActionError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof ActionError, String(e));
    return e;
  }
  assert.fail('expected a rejection');
}

test('sends the key as Bearer with the service id in the body', async () => {
  const { http, seen } = setup(200, { is_valid: true, service_id: 'platform', scopes: ['read', 'write'], key_id: 'k1' });
  const info = await validateKey(http, AUTH, KEY, 'platform');
  assert.deepEqual(info, { keyId: 'k1', serviceId: 'platform', scopes: ['read', 'write'], canWrite: true });
  assert.equal(seen[0]?.headers.authorization, `Bearer ${KEY}`);
  assert.deepEqual(JSON.parse(seen[0]!.body), { service_id: 'platform' });
});

test('HTTP 200 is not enough: is_valid must be true', async () => {
  const { http } = setup(200, { is_valid: false, error: 'API key has expired' });
  const err = await rejection(validateKey(http, AUTH, KEY, 'platform'));
  assert.match(err.message, /not valid: API key has expired/);
});

test('a 200 without service_id, or a 2xx other than 200, is not a validation', async () => {
  let { http } = setup(200, { is_valid: true, scopes: ['write'] });
  assert.match((await rejection(validateKey(http, AUTH, KEY, 'platform'))).message, /did not say which service/);
  ({ http } = setup(204, {}));
  assert.match((await rejection(validateKey(http, AUTH, KEY, 'platform'))).message, /answered HTTP 204, not 200/);
});

test('a key for another service is named, with the ml-platform history in the hint', async () => {
  const { http } = setup(200, { is_valid: true, service_id: 'ml-platform', scopes: ['write'] });
  const err = await rejection(validateKey(http, AUTH, KEY, 'platform'));
  assert.match(err.message, /issued for service "ml-platform", but this action needs a key for "platform"/);
  assert.match(err.hint, /"ml-platform" keys were replaced by "platform" keys/);
});

test('401 from the auth service: invalid key vs wrong service get their own hints, and the key is redacted', async () => {
  let { http } = setup(401, { detail: `Invalid API key ${KEY}` });
  let err = await rejection(validateKey(http, AUTH, KEY, 'platform'));
  assert.equal(err.status, 401);
  assert.equal(err.path, '/api/v1/keys/validate');
  assert.match(err.hint, /invalid, expired or revoked/);
  assert.doesNotMatch(err.serverMessage ?? '', new RegExp(KEY));
  assert.match(err.serverMessage ?? '', /Invalid API key \*\*\*/);
  ({ http } = setup(401, { detail: 'Key not authorized for this service' }));
  err = await rejection(validateKey(http, AUTH, KEY, 'platform'));
  assert.match(err.hint, /issued for another service/);
});

test('a read-only key cannot register; unknown scopes are not held against the key', () => {
  assert.throws(
    () => requireWrite({ keyId: undefined, serviceId: 'platform', scopes: ['read'], canWrite: false }),
    /no write scope \(its scopes: read\)/,
  );
  requireWrite({ keyId: undefined, serviceId: 'platform', scopes: undefined, canWrite: undefined });
});
