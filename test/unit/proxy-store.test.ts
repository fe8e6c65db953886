import assert from 'node:assert/strict';
import { closeSync, mkdtempSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { MockAgent } from 'undici';
import { httpOptions } from '../support/http-options.ts';
import { ActionError } from '../../src/errors.ts';
import { DEFAULT_POLICY, HttpClient } from '../../src/http.ts';
import { MlflowClient } from '../../src/mlflow.ts';
import { artifactBaseUrl } from '../../src/urls.ts';
import { mayBeMangled, multipartUrl, proxyStore, uploadFiles } from '../../src/stores/proxy.ts';
import { planParts } from '../../src/stores/store.ts';
import { progressLine, type UploadOptions } from '../../src/stores/store.ts';
import { buildManifest, type ManifestEntry } from '../../src/manifest.ts';
import { partedFile } from '../../src/stores/checked-read.ts';
import type { ModelFile } from '../../src/model-dir.ts';

/** uploadFiles with the digests of the files as they are now, as register mode passes them. */
async function upload(
  client: MlflowClient,
  plan: { base: URL; artifactPath: string; files: ModelFile[] },
  opts: Omit<UploadOptions, 'digests'>,
) {
  const manifest = await buildManifest(plan.files, (f) => (f.size >= opts.multipartThreshold ? planParts(f.size) : undefined));
  return uploadFiles(client, plan, { ...opts, digests: new Map(manifest.map((e) => [e.path, e])) });
}

function files(n: number) {
  const dir = mkdtempSync(path.join(tmpdir(), 'upload-'));
  return Array.from({ length: n }, (_, i) => {
    const abs = path.join(dir, `f${i}.bin`);
    writeFileSync(abs, Buffer.alloc(1000 + i, i));
    return { relPath: `sub/f${i}.bin`, absPath: abs, size: 1000 + i };
  });
}

function setup(statusFor: (n: number) => number, maxRetries = 0) {
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
  const http = new HttpClient(httpOptions({ dispatcher: agent, secrets: [], timeoutMs: 5000, retry: { ...DEFAULT_POLICY, maxRetries } }));
  const client = new MlflowClient(http, trackingUri, { kind: 'none', header: undefined });
  const base = artifactBaseUrl(trackingUri, 'mlflow-artifacts:/1/r/artifacts', 'S');
  return { client, base, seen };
}

test('every file is streamed with its Content-Length, to its relative path', async () => {
  const { client, base, seen } = setup(() => 200);
  const list = files(6);
  await upload(client, { base, artifactPath: 'model', files: list }, { concurrency: 3, multipartThreshold: Infinity });
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
  await assert.rejects(
    upload(client, { base, artifactPath: 'model', files: files(20) }, { concurrency: 2, multipartThreshold: Infinity }),
    /HTTP 500/,
  );
  assert.ok(seen.length <= 3, `${seen.length} uploads were started after the failure`);
});

test('parts: 10 MiB each (more when 10,000 would not do), covering every byte once', () => {
  const MiB = 1024 * 1024;
  assert.deepEqual(planParts(25 * MiB), [
    { partNumber: 1, start: 0, end: 10 * MiB - 1 },
    { partNumber: 2, start: 10 * MiB, end: 20 * MiB - 1 },
    { partNumber: 3, start: 20 * MiB, end: 25 * MiB - 1 },
  ]);
  const huge = planParts(200 * 1024 * MiB);
  assert.equal(huge.length <= 10_000, true);
  assert.equal(huge.at(-1)!.end, 200 * 1024 * MiB - 1);
});

test("mpu URLs name the destination directory below the run root, like MLflow's client", () => {
  const base = artifactBaseUrl(new URL('https://r.test/api/mlflow'), 'mlflow-artifacts:/1/r/artifacts', 'S');
  const plan = { base, artifactPath: 'model', files: [] };
  assert.equal(
    multipartUrl(plan, 'create', 'data/big.bin').pathname,
    '/api/mlflow/api/2.0/mlflow-artifacts/mpu/create/1/r/artifacts/model/data',
  );
  assert.equal(multipartUrl(plan, 'abort', 'big.bin').pathname, '/api/mlflow/api/2.0/mlflow-artifacts/mpu/abort/1/r/artifacts/model');
});

test('progress lines: files, bytes, rate and time left', () => {
  const MiB = 1024 * 1024;
  assert.equal(
    progressLine({ filesDone: 3, files: 10, bytesDone: 50 * MiB, bytes: 150 * MiB, elapsedMs: 10_000 }),
    'Uploaded 3 of 10 files, 50.0 MiB of 150.0 MiB (5.00 MiB/s, about 20.0 s left)',
  );
});

function multipartServer(mpu: 'on' | 'off', failPart?: number) {
  const agent = new MockAgent();
  agent.disableNetConnect();
  const calls: Array<{ what: string; body?: unknown; auth?: string; bytes?: number }> = [];
  const mlflow = agent.get('http://mlflow.test');
  const s3 = agent.get('http://s3.test');
  mlflow
    .intercept({ path: (p) => p.includes('/mpu/create/'), method: 'POST' })
    .reply((o) => {
      const body = JSON.parse(String(o.body)) as { num_parts: number };
      calls.push({ what: 'create', body });
      if (mpu === 'off')
        return {
          statusCode: 501,
          data: { error_code: 'NOT_IMPLEMENTED', message: 'Multipart upload is not supported for the current artifact repository' },
        };
      const credentials = Array.from({ length: body.num_parts }, (_, i) => ({
        url: `http://s3.test/b/k?partNumber=${i + 1}`,
        part_number: i + 1,
        headers: {},
      }));
      return { statusCode: 200, data: JSON.stringify({ upload_id: 'u1', credentials }) };
    })
    .persist();
  mlflow
    .intercept({ path: (p) => /\/mpu\/(complete|abort)\//.test(p), method: 'POST' })
    .reply((o) => {
      calls.push({ what: o.path.includes('/complete/') ? 'complete' : 'abort', body: JSON.parse(String(o.body)) });
      return { statusCode: 200, data: {} };
    })
    .persist();
  mlflow
    .intercept({ path: (p) => p.startsWith('/api/2.0/mlflow-artifacts/artifacts/'), method: 'PUT' })
    .reply(async (o) => {
      let bytes = 0;
      for await (const c of o.body as AsyncIterable<Buffer>) bytes += c.length;
      calls.push({ what: 'put', bytes });
      return { statusCode: 200, data: '' };
    })
    .persist();
  s3.intercept({ path: (p) => p.startsWith('/b/k'), method: 'PUT' })
    .reply(async (o) => {
      let bytes = 0;
      for await (const c of o.body as AsyncIterable<Buffer>) bytes += c.length;
      const n = Number(new URL(o.path, 'http://s3.test').searchParams.get('partNumber'));
      calls.push({ what: `part ${n}`, bytes, auth: (o.headers as Record<string, string>).authorization });
      if (n === failPart) return { statusCode: 403, data: '<Error><Code>AccessDenied</Code></Error>' };
      return { statusCode: 200, data: '', responseOptions: { headers: { etag: `"etag-${n}"` } } };
    })
    .persist();
  const trackingUri = new URL('http://mlflow.test');
  const http = new HttpClient(httpOptions({ dispatcher: agent, authorizedBases: [trackingUri] }));
  const client = new MlflowClient(http, trackingUri, { kind: 'key', header: 'Bearer fake-key-multipart-000' });
  const base = artifactBaseUrl(trackingUri, 'mlflow-artifacts:/1/r/artifacts', 'S');
  return { client, base, calls };
}

function bigFile(size: number) {
  const dir = mkdtempSync(path.join(tmpdir(), 'mpu-'));
  const abs = path.join(dir, 'big.bin');
  writeFileSync(abs, Buffer.alloc(size, 7));
  return { relPath: 'weights/big.bin', absPath: abs, size };
}

test('multipart: parts in parallel to the signed URLs without our key, ETags completed in part order', async () => {
  const { client, base, calls } = multipartServer('on');
  const f = bigFile(25 * 1024 * 1024);
  let bytes = 0;
  await upload(
    client,
    { base, artifactPath: 'model', files: [f] },
    { concurrency: 3, multipartThreshold: 5 * 1024 * 1024, onBytes: (d) => (bytes += d) },
  );
  assert.deepEqual(calls.find((c) => c.what === 'create')?.body, { path: 'big.bin', num_parts: 3 });
  const parts = calls.filter((c) => c.what.startsWith('part'));
  assert.deepEqual(parts.map((p) => p.bytes).sort(), [10485760, 10485760, 5242880].sort());
  assert.ok(
    parts.every((p) => p.auth === undefined),
    'the key never goes to the storage URLs',
  );
  const complete = calls.find((c) => c.what === 'complete')?.body as {
    upload_id: string;
    parts: Array<{ part_number: number; etag: string }>;
  };
  assert.equal(complete.upload_id, 'u1');
  assert.deepEqual(
    complete.parts.map((p) => [p.part_number, p.etag]),
    [
      [1, '"etag-1"'],
      [2, '"etag-2"'],
      [3, '"etag-3"'],
    ],
  );
  assert.equal(bytes, f.size, 'progress counted every byte once');
});

test('multipart: 501 from a local artifact store falls back to one streamed PUT', async () => {
  const { client, base, calls } = multipartServer('off');
  const f = bigFile(6 * 1024 * 1024);
  await upload(client, { base, artifactPath: 'model', files: [f] }, { concurrency: 3, multipartThreshold: 5 * 1024 * 1024 });
  assert.deepEqual(
    calls.map((c) => [c.what, c.bytes]),
    [
      ['create', undefined],
      ['put', f.size],
    ],
  );
});

test('multipart: a failing part aborts the upload and the error names it', async () => {
  const { client, base, calls } = multipartServer('on', 2);
  await assert.rejects(
    upload(
      client,
      { base, artifactPath: 'model', files: [bigFile(25 * 1024 * 1024)] },
      { concurrency: 1, multipartThreshold: 5 * 1024 * 1024 },
    ),
    /HTTP 403/,
  );
  assert.deepEqual(calls.find((c) => c.what === 'abort')?.body, { path: 'big.bin', upload_id: 'u1' });
  assert.equal(
    calls.some((c) => c.what === 'complete'),
    false,
  );
});

test('names a server may not serve back: non-ASCII, not plain ASCII', () => {
  assert.equal(mayBeMangled('données-été.bin'), true);
  assert.equal(mayBeMangled('dir/模型.pkl'), true);
  assert.equal(mayBeMangled('model.pkl'), false);
  assert.equal(mayBeMangled('sub dir/a-b_c.d (1).txt'), false);
});

/** A run whose listing shows `listed`, and a GET of each file that answers `getStatus`. */
function servedBack(getStatus: number) {
  const agent = new MockAgent();
  agent.disableNetConnect();
  const gets: Array<{ path: string; range: string | undefined }> = [];
  const pool = agent.get('http://mlflow.test');
  pool
    .intercept({ path: (p) => p.startsWith('/api/2.0/mlflow/artifacts/list'), method: 'GET' })
    .reply(200, {
      files: [
        { path: 'model/données-été.bin', is_dir: false, file_size: 3 },
        { path: 'model/MLmodel', is_dir: false, file_size: 5 },
      ],
    })
    .persist();
  pool
    .intercept({ path: (p) => p.startsWith('/api/2.0/mlflow-artifacts/artifacts/'), method: 'GET' })
    .reply((opts) => {
      gets.push({ path: opts.path, range: (opts.headers as Record<string, string>).range });
      return { statusCode: getStatus, data: getStatus >= 400 ? '<html><body>Internal Server Error</body></html>' : 'd' };
    })
    .persist();
  const http = new HttpClient(httpOptions({ dispatcher: agent, retry: { ...DEFAULT_POLICY, maxRetries: 3 } }));
  const client = new MlflowClient(http, new URL('http://mlflow.test'), { kind: 'none', header: undefined });
  const store = proxyStore(client, new URL('http://mlflow.test'), 'model', 4);
  const run = { run_id: 'r', experiment_id: '1', status: 'RUNNING', artifact_uri: 'mlflow-artifacts:/1/r/artifacts' };
  const files = [
    { relPath: 'données-été.bin', absPath: '/nowhere', size: 3 },
    { relPath: 'MLmodel', absPath: '/nowhere', size: 5 },
  ];
  return { store, run, files, gets };
}

test('a file with a non-ASCII name is fetched back with a one-byte range before the version is created', async () => {
  const { store, run, files, gets } = servedBack(206);
  await store.verify(run, files);
  assert.equal(gets.length, 1, 'only the risky name is fetched');
  assert.match(decodeURIComponent(gets[0]!.path), /\/model\/données-été\.bin$/);
  assert.equal(gets[0]!.range, 'bytes=0-0');
});

test('a server that cannot serve the name back fails the check at once: the file, the answer and what to do', async () => {
  const { store, run, files, gets } = servedBack(500);
  const err = await store.verify(run, files).then(
    () => assert.fail('expected a failure'),
    (e: unknown) => e as ActionError,
  );
  assert.ok(err instanceof ActionError);
  assert.match(err.message, /"données-été\.bin" but cannot serve it back \(HTTP 500\)/);
  assert.equal(err.status, 500);
  assert.match(err.hint, /Rename the file .*or upgrade the MLflow server/);
  assert.equal(err.retry, undefined);
  assert.equal(gets.length, 1, 'a 500 on a name is not retried');
});

test('a file changed after the digest (same size) fails its upload at once, without sending its last bytes or retrying', async () => {
  const { client, base, seen } = setup(() => 200, 3);
  const list = files(1);
  const f = list[0]!;
  const manifest = await buildManifest(list);
  writeFileSync(f.absPath, Buffer.alloc(f.size, 0xee));
  await assert.rejects(
    uploadFiles(
      client,
      { base, artifactPath: 'model', files: list },
      { concurrency: 1, multipartThreshold: Infinity, digests: new Map(manifest.map((e) => [e.path, e])) },
    ),
    (e: ActionError) => {
      assert.match(
        e.message,
        /^"sub\/f0\.bin" changed after the content digest was computed: the bytes read for the upload have sha256 [0-9a-f]{64}, the digest lists [0-9a-f]{64}$/,
      );
      assert.equal(e.step, 'Upload model');
      assert.equal(e.method, 'PUT');
      assert.match(e.path!, /\/artifacts\/model\/sub\/f0\.bin$/);
      assert.match(e.hint, /Nothing was registered/);
      assert.equal(e.retry, undefined);
      return true;
    },
  );
  assert.ok(seen.length <= 1, 'not retried');
  assert.ok(
    seen.every((s) => s.bytes < f.size),
    'the server never got the changed file whole',
  );
});

test('a retry hashes what it sends again: a file changed during a failed attempt fails the retry', async () => {
  const list = files(1);
  const f = list[0]!;
  const { client, base, seen } = setup((n) => {
    // The first attempt went up intact and got a 500; the file changes before the retry.
    if (n === 1) writeFileSync(f.absPath, Buffer.alloc(f.size, 0xee));
    return n === 1 ? 500 : 200;
  }, 3);
  const manifest = await buildManifest(list);
  await assert.rejects(
    uploadFiles(
      client,
      { base, artifactPath: 'model', files: list },
      { concurrency: 1, multipartThreshold: Infinity, digests: new Map(manifest.map((e) => [e.path, e])) },
    ),
    /changed after the content digest was computed/,
  );
  assert.equal(seen.length, 1, 'the first attempt reached the server whole');
  assert.equal(seen[0]!.bytes, f.size);
});

test('multipart: each part is hashed as sent against the part sha256 of the digest pass; a changed part aborts the upload', async () => {
  const { client, base, calls } = multipartServer('on');
  const f = bigFile(25 * 1024 * 1024);
  const manifest = await buildManifest([f], (x) => planParts(x.size));
  assert.equal(manifest[0]!.partSha256?.length, 3);
  // Same size, one byte changed in the middle part.
  const fd = openSync(f.absPath, 'r+');
  writeSync(fd, Buffer.from([1]), 0, 1, 15 * 1024 * 1024);
  closeSync(fd);
  await assert.rejects(
    uploadFiles(
      client,
      { base, artifactPath: 'model', files: [f] },
      { concurrency: 1, multipartThreshold: 5 * 1024 * 1024, digests: new Map(manifest.map((e) => [e.path, e])) },
    ),
    /^ActionError: part 2 of 3 of "weights\/big\.bin" changed after the content digest was computed/,
  );
  assert.deepEqual(calls.find((c) => c.what === 'abort')?.body, { path: 'big.bin', upload_id: 'u1' });
  assert.equal(
    calls.some((c) => c.what === 'complete'),
    false,
  );
});

// Hash while uploading: a file without an entry in the digests is read once, as it is sent.

test('a file without a digest entry is hashed as it is sent: upload returns its entry, and only for such files', async () => {
  const { client, base, seen } = setup(() => 200);
  const list = files(3);
  const all = await buildManifest(list);
  const known = all.find((e) => e.path === list[0]!.relPath)!;
  const got = await uploadFiles(
    client,
    { base, artifactPath: 'model', files: list },
    { concurrency: 2, multipartThreshold: Infinity, digests: new Map([[known.path, known]]) },
  );
  assert.equal(seen.length, 3);
  assert.deepEqual(
    [...got].sort((a, b) => a.path.localeCompare(b.path)),
    all.filter((e) => e !== known),
  );
});

test('without a digest entry, the hash is of the attempt that went through', async () => {
  const list = files(1);
  const f = list[0]!;
  const { client, base, seen } = setup((n) => {
    // The first attempt went up and got a 500; the file changes before the retry, which sends it whole.
    if (n === 1) writeFileSync(f.absPath, Buffer.alloc(f.size, 0xee));
    return n === 1 ? 500 : 200;
  }, 3);
  const got = await uploadFiles(
    client,
    { base, artifactPath: 'model', files: list },
    { concurrency: 1, multipartThreshold: Infinity, digests: new Map() },
  );
  assert.equal(seen.length, 2);
  assert.deepEqual(got, await buildManifest(list));
});

test('multipart without a digest entry: parts hashed as sent, the whole file by one sequential read, and they agree', async () => {
  const { client, base, calls } = multipartServer('on');
  const f = bigFile(25 * 1024 * 1024);
  const fd = openSync(f.absPath, 'r+');
  writeSync(fd, Buffer.from('different bytes in each part'), 0, 28, 12 * 1024 * 1024);
  closeSync(fd);
  const got = await uploadFiles(
    client,
    { base, artifactPath: 'model', files: [f] },
    { concurrency: 3, multipartThreshold: 5 * 1024 * 1024, digests: new Map() },
  );
  assert.deepEqual(got, await buildManifest([f], (x) => planParts(x.size)));
  assert.equal(got[0]!.partSha256?.length, 3);
  assert.ok(calls.some((c) => c.what === 'complete'));
});

test('multipart 501 without a digest entry: one streamed PUT, hashed as sent, no part hashes', async () => {
  const { client, base } = multipartServer('off');
  const f = bigFile(6 * 1024 * 1024);
  const got = await uploadFiles(
    client,
    { base, artifactPath: 'model', files: [f] },
    { concurrency: 3, multipartThreshold: 5 * 1024 * 1024, digests: new Map() },
  );
  assert.deepEqual(got, await buildManifest([f]));
});

test('parts of a file that changes between the sequential read and the upload fail it, naming the part', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'parted-'));
  const abs = path.join(dir, 'w.bin');
  writeFileSync(abs, Buffer.alloc(3072, 1));
  const ranges = [
    { start: 0, end: 1023 },
    { start: 1024, end: 2047 },
    { start: 2048, end: 3071 },
  ];
  const where = { method: 'PUT', path: '/x', step: 'Upload model' };
  const parted = partedFile({ relPath: 'w.bin', absPath: abs, size: 3072 }, ranges, undefined, undefined, where, 'stream');
  // The sequential read of 3 KiB is long done; then the middle part changes before it is sent.
  await new Promise((resolve) => setTimeout(resolve, 200));
  const fd = openSync(abs, 'r+');
  writeSync(fd, Buffer.from([9]), 0, 1, 1500);
  closeSync(fd);
  for (const n of [3, 1, 2]) {
    for await (const _ of parted.open(n)()) void _;
    parted.sent(n);
  }
  await assert.rejects(parted.finish(), (e: ActionError) => {
    assert.match(
      e.message,
      /^part 2 of 3 of "w\.bin" changed while it was being uploaded: the bytes read for the upload have sha256 [0-9a-f]{64}, a second read of the file gives [0-9a-f]{64}$/,
    );
    assert.match(e.hint, /Nothing was registered/);
    return true;
  });
});

test('parts with a whole-file sha256 but no part hashes: checked through the sequential read', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'parted-'));
  const abs = path.join(dir, 'w.bin');
  writeFileSync(abs, Buffer.alloc(2048, 1));
  const ranges = [
    { start: 0, end: 1023 },
    { start: 1024, end: 2047 },
  ];
  const where = { method: 'PUT', path: '/x', step: 'Upload model' };
  const f = { relPath: 'w.bin', absPath: abs, size: 2048 };
  const [entry] = await buildManifest([f]);
  const send = async (p: {
    open: (n: number) => () => AsyncIterable<unknown>;
    sent: (n: number) => void;
    finish: () => Promise<ManifestEntry>;
  }) => {
    for (const n of [1, 2]) {
      for await (const _ of p.open(n)()) void _;
      p.sent(n);
    }
    return p.finish();
  };
  const ok = await send(partedFile(f, ranges, entry, undefined, where, 'iterable'));
  assert.equal(ok.sha256, entry!.sha256);
  assert.equal(ok.partSha256?.length, 2);
  await assert.rejects(
    send(partedFile(f, ranges, { ...entry!, sha256: 'f'.repeat(64) }, undefined, where, 'stream')),
    /changed after the content digest was computed/,
  );
});
