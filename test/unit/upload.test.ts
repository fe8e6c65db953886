import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { MockAgent } from 'undici';
import { httpOptions } from '../support/http-options.ts';
import { HttpClient } from '../../src/http.ts';
import { MlflowClient } from '../../src/mlflow.ts';
import { artifactBaseUrl } from '../../src/urls.ts';
import { uploadFiles } from '../../src/upload.ts';

function files(n: number) {
  const dir = mkdtempSync(path.join(tmpdir(), 'upload-'));
  return Array.from({ length: n }, (_, i) => {
    const abs = path.join(dir, `f${i}.bin`);
    writeFileSync(abs, Buffer.alloc(1000 + i, i));
    return { relPath: `sub/f${i}.bin`, absPath: abs, size: 1000 + i };
  });
}

function setup(statusFor: (n: number) => number) {
  const agent = new MockAgent();
  agent.disableNetConnect();
  const seen: Array<{ path: string; contentLength: string | undefined; bytes: number }> = [];
  agent
    .get('http://mlflow.test')
    .intercept({ path: (p) => p.startsWith('/api/2.0/mlflow-artifacts/artifacts/'), method: 'PUT' })
    .reply(async (opts) => {
      const headers = opts.headers as Record<string, string>;
      let bytes = 0;
      for await (const chunk of opts.body as AsyncIterable<Buffer>) bytes += chunk.length;
      seen.push({ path: opts.path, contentLength: headers['content-length'], bytes });
      return { statusCode: statusFor(seen.length), data: '' };
    })
    .persist();
  const trackingUri = new URL('http://mlflow.test');
  const http = new HttpClient(httpOptions({ dispatcher: agent, secrets: [], timeoutMs: 5000 }));
  const client = new MlflowClient(http, trackingUri, { kind: 'none', header: undefined });
  const base = artifactBaseUrl(trackingUri, 'mlflow-artifacts:/1/r/artifacts', 'S');
  return { client, base, seen };
}

test('every file is streamed with its Content-Length, to its relative path', async () => {
  const { client, base, seen } = setup(() => 200);
  const list = files(6);
  await uploadFiles(client, { base, artifactPath: 'model', files: list }, 3);
  assert.equal(seen.length, 6);
  for (const f of list) {
    const put = seen.find((s) => s.path.endsWith(`/api/2.0/mlflow-artifacts/artifacts/1/r/artifacts/model/${f.relPath}`));
    assert.ok(put, `${f.relPath} was uploaded`);
    assert.equal(put.contentLength, String(f.size));
    assert.equal(put.bytes, f.size);
  }
});

test('the first failure stops the upload: nothing new starts, and the error is the first one', async () => {
  const { client, base, seen } = setup((n) => (n === 1 ? 500 : 200));
  await assert.rejects(uploadFiles(client, { base, artifactPath: 'model', files: files(20) }, 2), /HTTP 500/);
  assert.ok(seen.length <= 3, `${seen.length} uploads were started after the failure`);
});
