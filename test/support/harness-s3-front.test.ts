/**
 * Proves the logging front before moto (s3-front.ts): it forwards, it sees a secret wherever a
 * request carries it (URL, header, or a body that splits it across chunks), and faults answer
 * in S3's XML error shape. s3.test.ts relies on it to show the key never reaches the bucket.
 * Run: node_modules/.bin/node --test test/support/harness-s3-front.test.ts
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, test } from 'node:test';
import { startMoto, type MotoServer } from './moto.ts';
import { startS3Front, type S3Front } from './s3-front.ts';

const SECRET = 'hk-secret-front-0123456789';
let moto: MotoServer;
let front: S3Front;

before(async () => {
  moto = await startMoto();
  front = await startS3Front({ upstream: moto.url, secrets: [SECRET] });
  assert.equal((await fetch(`${front.url}/probe`, { method: 'PUT' })).status, 200);
});

after(async () => {
  await front?.stop();
  await moto?.stop();
});

/** PUT with a body written in the given chunks. */
function put(pathname: string, chunks: string[], headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const u = new URL(front.url);
    const length = String(Buffer.byteLength(chunks.join('')));
    const req = http.request(
      { host: u.hostname, port: u.port, method: 'PUT', path: pathname, headers: { 'content-length': length, ...headers } },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    for (const c of chunks) req.write(c);
    req.end();
  });
}

test('forwards to moto and records the request; a clean request shows no secret', async () => {
  front.requests.length = 0;
  assert.equal(await put('/probe/clean.txt', ['hello']), 200);
  // moto's own answer comes back: the front invents nothing without a fault.
  assert.equal(await put('/no-such-bucket-here/x.txt', ['hello']), 404);
  assert.deepEqual(
    front.requests.map((r) => [r.method, r.path, r.status, r.secretsSeen]),
    [
      ['PUT', '/probe/clean.txt', 200, []],
      ['PUT', '/no-such-bucket-here/x.txt', 404, []],
    ],
  );
});

test('sees the secret in a header, in the URL, and split across two body chunks', async () => {
  front.requests.length = 0;
  await put('/probe/a.txt', ['x'], { authorization: `Bearer ${SECRET}` });
  await put(`/probe/${SECRET}.txt`, ['x']);
  await put('/probe/b.txt', [`head ${SECRET.slice(0, 7)}`, `${SECRET.slice(7)} tail`]);
  assert.deepEqual(
    front.requests.map((r) => r.secretsSeen),
    [[0], [0], [0]],
  );
});

test('a fault answers in S3 XML, the given number of times, then the request goes through', async () => {
  front.requests.length = 0;
  front.faults.push({ method: 'PUT', status: 503, code: 'SlowDown', times: 1 });
  const res = await fetch(`${front.url}/probe/c.txt`, { method: 'PUT', body: 'c' });
  assert.equal(res.status, 503);
  assert.match(await res.text(), /<Code>SlowDown<\/Code>/);
  assert.equal(await put('/probe/c.txt', ['c']), 200);
  assert.deepEqual(
    front.requests.map((r) => [r.status, r.fault]),
    [
      [503, 0],
      [200, undefined],
    ],
  );
});
