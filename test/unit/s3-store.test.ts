// The bucket road's store against a small S3 stand-in on loopback, for what moto never does:
// a bucket in another region than the SDK's default (301 with x-amz-bucket-region), and an
// endpoint whose listing says "truncated" for ever.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { after, before, test } from 'node:test';
import type { Clock } from '../../src/clock.ts';
import type { ModelFile } from '../../src/model-dir.ts';
import { s3Store } from '../../src/stores/s3.ts';

interface Seen {
  method: string;
  url: string;
  region: string | undefined;
}

let server: http.Server;
let url: string;
const seen: Seen[] = [];
const objects = new Map<string, number>();
const stored = new Map<string, Buffer>();
const partsOf = new Map<string, Map<number, Buffer>>();
let endlessListing = false;

before(async () => {
  // The SDK's credential chain reads the process's own environment, as in a job.
  process.env.AWS_ACCESS_KEY_ID = 'AKIATEST';
  process.env.AWS_SECRET_ACCESS_KEY = 'secret-test';
  server = http.createServer((req, res) => {
    const region = /Credential=[^/]+\/\d+\/([^/]+)\//.exec(req.headers.authorization ?? '')?.[1];
    seen.push({ method: req.method ?? '', url: req.url ?? '', region });
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      // Like S3 for a bucket in eu-west-2 asked in another region: a redirect naming the region.
      if (region !== 'eu-west-2') {
        res.writeHead(301, { 'x-amz-bucket-region': 'eu-west-2', 'content-type': 'application/xml' });
        return res.end(req.method === 'HEAD' ? undefined : '<Error><Code>PermanentRedirect</Code><Message>wrong region</Message></Error>');
      }
      const u = new URL(req.url ?? '/', 'http://s3');
      if (req.method === 'HEAD') return res.writeHead(200, { 'x-amz-bucket-region': 'eu-west-2' }).end();
      const key = decodeURIComponent(u.pathname.replace(/^\/bkt\//, ''));
      if (req.method === 'PUT' && u.searchParams.has('partNumber')) {
        (partsOf.get(key) ?? partsOf.set(key, new Map()).get(key)!).set(Number(u.searchParams.get('partNumber')), Buffer.concat(chunks));
        return res.writeHead(200, { etag: `"p${u.searchParams.get('partNumber')}"` }).end();
      }
      if (req.method === 'PUT') {
        objects.set(key, Buffer.concat(chunks).length);
        stored.set(key, Buffer.concat(chunks));
        return res.writeHead(200, { etag: '"e"' }).end();
      }
      if (req.method === 'POST' && u.searchParams.has('uploads')) {
        res.writeHead(200, { 'content-type': 'application/xml' });
        return res.end(
          `<?xml version="1.0" encoding="UTF-8"?><InitiateMultipartUploadResult><Bucket>bkt</Bucket><Key>${key}</Key><UploadId>u1</UploadId></InitiateMultipartUploadResult>`,
        );
      }
      if (req.method === 'POST' && u.searchParams.has('uploadId')) {
        const parts = [...(partsOf.get(key) ?? new Map<number, Buffer>())].sort(([a], [b]) => a - b).map(([, b]) => b);
        stored.set(key, Buffer.concat(parts));
        objects.set(key, Buffer.concat(parts).length);
        res.writeHead(200, { 'content-type': 'application/xml' });
        return res.end(
          `<?xml version="1.0" encoding="UTF-8"?><CompleteMultipartUploadResult><Bucket>bkt</Bucket><Key>${key}</Key><ETag>"m"</ETag></CompleteMultipartUploadResult>`,
        );
      }
      const prefix = u.searchParams.get('prefix') ?? '';
      const listed = endlessListing ? [] : [...objects].filter(([k]) => k.startsWith(prefix));
      const contents = listed.map(([k, size]) => `<Contents><Key>${k}</Key><Size>${size}</Size></Contents>`).join('');
      const more = endlessListing
        ? '<IsTruncated>true</IsTruncated><NextContinuationToken>again</NextContinuationToken>'
        : '<IsTruncated>false</IsTruncated>';
      res.writeHead(200, { 'content-type': 'application/xml' });
      res.end(
        `<?xml version="1.0" encoding="UTF-8"?><ListBucketResult><Name>bkt</Name><Prefix>${prefix}</Prefix><KeyCount>${listed.length}</KeyCount>${more}${contents}</ListBucketResult>`,
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(() => new Promise<void>((resolve) => server.close(() => resolve())));

const clock: Clock = { now: () => Date.now(), sleep: async () => {} };

function store(env: Record<string, string>) {
  return s3Store(
    { kind: 's3', base: { bucket: 'bkt', key: 'models' }, explicit: true, why: 'artifact-store is set' },
    {
      env: { AWS_ACCESS_KEY_ID: 'AKIATEST', AWS_SECRET_ACCESS_KEY: 'secret-test', AWS_ENDPOINT_URL_S3: url, ...env },
      clock,
      random: () => 0.5,
      retry: { maxRetries: 1, baseDelayMs: 1, maxDelayMs: 1, budgetMs: 10_000 },
      timeoutMs: 10_000,
      allowInsecureHttp: false,
      artifactPath: 'model',
      secrets: ['secret-test'],
    },
  );
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const sha256b = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const digestsOf = (files: ModelFile[], content = (f: ModelFile) => 'x'.repeat(f.size)) =>
  new Map(files.map((f) => [f.relPath, { path: f.relPath, size: f.size, sha256: sha256(content(f)) }]));

const run = { run_id: 'r1', experiment_id: '7', status: 'RUNNING', artifact_uri: 'mlflow-artifacts:/7/r1/artifacts' };

test('no region in the environment: found once from the bucket, and every upload is signed for it and sent once', async () => {
  seen.length = 0;
  objects.clear();
  const dir = mkdtempSync(path.join(tmpdir(), 's3-store-'));
  const files: ModelFile[] = ['MLmodel', 'model.pkl'].map((name, i) => {
    writeFileSync(path.join(dir, name), 'x'.repeat(100 + i));
    return { relPath: name, absPath: path.join(dir, name), size: 100 + i };
  });
  const s = store({});
  assert.match(await s.probe(undefined), /Files go straight to s3:\/\/bkt\/models/);
  await s.upload(run, files, { concurrency: 2, multipartThreshold: 1 << 30, digests: digestsOf(files) });
  await s.verify(run, files);
  assert.equal(s.source(run), 's3://bkt/models/7/r1/artifacts/model');
  assert.deepEqual(seen[0], { method: 'HEAD', url: '/bkt/', region: 'us-east-1' });
  assert.ok(
    seen.slice(1).every((x) => x.region === 'eu-west-2'),
    'after HeadBucket, every request is signed for the bucket’s region',
  );
  assert.deepEqual(
    seen
      .filter((x) => x.method === 'PUT')
      .map((x) => x.url.replace(/\?.*/, ''))
      .sort(),
    ['/bkt/models/7/r1/artifacts/model/MLmodel', '/bkt/models/7/r1/artifacts/model/model.pkl'],
    'each file sent once: no redirected re-send of a body already read',
  );
  assert.equal(objects.get('models/7/r1/artifacts/model/model.pkl'), 101);
});

test('AWS_REGION set: no HeadBucket, and a wrong region is diagnosed with what to do', async () => {
  seen.length = 0;
  await assert.rejects(store({ AWS_REGION: 'us-west-1' }).probe(undefined), (err: Error) => {
    assert.match(err.message, /301|PermanentRedirect|region/i);
    assert.match(JSON.stringify(err), /AWS_REGION/);
    return true;
  });
  assert.equal(seen.filter((x) => x.method === 'HEAD').length, 0);
});

test('a listing that says "truncated" for ever stops after 1,000 pages', async () => {
  seen.length = 0;
  endlessListing = true;
  try {
    await assert.rejects(store({ AWS_REGION: 'eu-west-2' }).verify(run, []), /more than 100,000 objects, or more than 1,000 pages/);
  } finally {
    endlessListing = false;
  }
  assert.equal(seen.filter((x) => x.method === 'GET').length, 1000);
});

test('a file that changed after the digest fails its upload cleanly, with no stray error after it', async () => {
  const stray: unknown[] = [];
  const onStray = (e: unknown) => stray.push(e);
  process.on('uncaughtException', onStray);
  try {
    const dir = mkdtempSync(path.join(tmpdir(), 's3-store-'));
    writeFileSync(path.join(dir, 'model.pkl'), 'changed!');
    const files: ModelFile[] = [{ relPath: 'model.pkl', absPath: path.join(dir, 'model.pkl'), size: 8 }];
    const s = store({ AWS_REGION: 'eu-west-2' });
    await assert.rejects(
      s.upload(run, files, { concurrency: 1, multipartThreshold: 1 << 30, digests: digestsOf(files, () => 'original') }),
      /"model\.pkl" changed after the content digest was computed/,
    );
    await new Promise((resolve) => setTimeout(resolve, 200));
  } finally {
    process.off('uncaughtException', onStray);
  }
  assert.deepEqual(stray, []);
});

test('a file without a digest entry is hashed as it goes to the bucket: whole, and in parts with their hashes', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 's3-store-'));
  const big = Buffer.alloc(12 * 1024 * 1024 + 5, 3);
  big.write('not all the same', 11 * 1024 * 1024);
  writeFileSync(path.join(dir, 'big.bin'), big);
  writeFileSync(path.join(dir, 'MLmodel'), 'flavors: {}');
  const files: ModelFile[] = [
    { relPath: 'big.bin', absPath: path.join(dir, 'big.bin'), size: big.length },
    { relPath: 'MLmodel', absPath: path.join(dir, 'MLmodel'), size: 11 },
  ];
  const got = await store({ AWS_REGION: 'eu-west-2' }).upload(run, files, {
    concurrency: 2,
    multipartThreshold: 5 * 1024 * 1024,
    digests: new Map(),
  });
  const sorted = [...got].sort((a, b) => a.path.localeCompare(b.path));
  assert.deepEqual(sorted, [
    {
      path: 'big.bin',
      size: big.length,
      sha256: sha256b(big),
      partSha256: [sha256b(big.subarray(0, 10 * 1024 * 1024)), sha256b(big.subarray(10 * 1024 * 1024))],
    },
    { path: 'MLmodel', size: 11, sha256: sha256('flavors: {}') },
  ]);
  assert.equal(
    sha256b([...stored].find(([k]) => k.endsWith('/model/big.bin'))![1]),
    sha256b(big),
    'the bucket has the bytes the entry names',
  );
});
