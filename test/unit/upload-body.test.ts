// The upload body that reuses its read buffers, over a real socket to a server that reads slowly
// (so undici waits for the socket to drain): every byte arrives as it is on disk. And the
// throttling signal an upload pool listens to, with Retry-After honoured.
import assert from 'node:assert/strict';
import { createHash, randomFillSync } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { Agent, MockAgent } from 'undici';
import { fakeClock, httpOptions } from '../support/http-options.ts';
import { DEFAULT_POLICY, HttpClient } from '../../src/http.ts';
import { iterableOpener } from '../../src/stores/checked-read.ts';

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

test('a body read into reused buffers arrives byte for byte through a slow reader, and its hash is kept', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'body-'));
  const abs = path.join(dir, 'w.bin');
  // Random, so a buffer overwritten before it was sent would show; an odd tail, read short.
  writeFileSync(abs, randomFillSync(Buffer.alloc(6 * 1024 * 1024 + 12_345)));
  const onDisk = readFileSync(abs);
  const received: string[] = [];
  const server = http.createServer((req, res) => {
    const hash = createHash('sha256');
    req.on('data', (c: Buffer) => {
      hash.update(c);
      // Read slowly: the client's socket fills and undici waits for it to drain.
      req.pause();
      setTimeout(() => req.resume(), 1);
    });
    req.on('end', () => {
      received.push(hash.digest('hex'));
      res.end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const agent = new Agent();
  try {
    const url = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/put`);
    const client = new HttpClient(httpOptions({ dispatcher: agent, timeoutMs: 30_000 }));
    let bytes = 0;
    const body = iterableOpener(abs, onDisk.length, (d) => (bytes += d), {
      sha256: undefined,
      relPath: 'w.bin',
      method: 'PUT',
      path: '/put',
      step: 'S',
    });
    await client.send({ step: 'S', method: 'PUT', url, openBody: body.open, contentLength: onDisk.length });
    assert.deepEqual(received, [sha256(onDisk)]);
    assert.equal(body.sha256(), sha256(onDisk));
    assert.equal(bytes, onDisk.length);
  } finally {
    await agent.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

test('a 429 or 503 tells the request it was throttled, and Retry-After sets the wait', async () => {
  const agent = new MockAgent();
  agent.disableNetConnect();
  const pool = agent.get('http://s.test');
  pool.intercept({ path: '/x', method: 'PUT' }).reply(429, '', { headers: { 'retry-after': '7' } });
  pool.intercept({ path: '/x', method: 'PUT' }).reply(503, '');
  pool.intercept({ path: '/x', method: 'PUT' }).reply(200, '{}');
  const clock = fakeClock();
  const client = new HttpClient(httpOptions({ dispatcher: agent, clock, retry: { ...DEFAULT_POLICY, maxRetries: 3 } }));
  const throttled: number[] = [];
  await client.send({ step: 'S', method: 'PUT', url: new URL('http://s.test/x'), json: {}, onThrottled: (s) => throttled.push(s) });
  assert.deepEqual(throttled, [429, 503]);
  assert.equal(clock.sleeps[0], 7000, 'the server asked for 7 s');
});
