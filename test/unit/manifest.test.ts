import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import {
  buildManifest,
  completeManifest,
  hashedFirst,
  hashFile,
  hashFileAndParts,
  MANIFEST_SCHEMA,
  manifestDigest,
  manifestPathFor,
  manifestUriFor,
  parseStoredManifest,
  renderManifest,
  storedManifest,
} from '../../src/manifest.ts';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

test('the manifest lists sha256, size and path, sorted by path in code-unit order', () => {
  const text = renderManifest([
    { path: 'b.txt', size: 2, sha256: 'bb' },
    { path: 'MLmodel', size: 10, sha256: 'mm' },
    { path: 'a/z.bin', size: 1, sha256: 'zz' },
  ]);
  assert.equal(text, 'mm  10  MLmodel\nzz  1  a/z.bin\nbb  2  b.txt\n');
});

test('the digest is sha256 of the manifest and does not depend on listing order', () => {
  const entries = [
    { path: 'x', size: 1, sha256: 'aa' },
    { path: 'y', size: 2, sha256: 'bb' },
  ];
  const digest = manifestDigest(entries);
  assert.equal(digest, `sha256:${sha('aa  1  x\nbb  2  y\n')}`);
  assert.equal(manifestDigest([...entries].reverse()), digest);
  assert.notEqual(manifestDigest([{ ...entries[0]!, size: 3 }, entries[1]!]), digest);
});

test('files are hashed from disk', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'manifest-'));
  writeFileSync(path.join(dir, 'f'), 'hello');
  assert.equal(await hashFile(path.join(dir, 'f')), sha('hello'));
  const entries = await buildManifest([{ relPath: 'f', absPath: path.join(dir, 'f'), size: 5 }]);
  assert.deepEqual(entries, [{ path: 'f', size: 5, sha256: sha('hello') }]);
});

test('a file that may go up in parts gets the sha256 of each range too, from the same read, whatever the read size', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'manifest-'));
  const data = Buffer.from(Array.from({ length: 1000 }, (_, i) => i % 251));
  writeFileSync(path.join(dir, 'big'), data);
  const ranges = [
    { start: 0, end: 332 },
    { start: 333, end: 665 },
    { start: 666, end: 999 },
  ];
  const hex = (b: Buffer) => createHash('sha256').update(b).digest('hex');
  // Reads of 7 and of 4096 bytes: part ends fall inside reads, and one read holds everything.
  for (const readSize of [7, 4096]) {
    const got = await hashFileAndParts(path.join(dir, 'big'), ranges, Buffer.alloc(readSize));
    assert.equal(got.sha256, hex(data));
    assert.deepEqual(
      got.parts,
      ranges.map((r) => hex(data.subarray(r.start, r.end + 1))),
    );
  }
  const [entry] = await buildManifest([{ relPath: 'big', absPath: path.join(dir, 'big'), size: 1000 }], () => ranges);
  assert.equal(entry!.sha256, hex(data));
  assert.equal(entry!.partSha256?.length, 3);
  assert.equal(manifestDigest([entry!]), manifestDigest([{ path: 'big', size: 1000, sha256: hex(data) }]), 'the digest does not change');
});

test('hash first only the files below the threshold; the manifest is completed from what the upload hashed', () => {
  const files = [
    { relPath: 'b/big.bin', size: 100 },
    { relPath: 'MLmodel', size: 10 },
    { relPath: 'a.txt', size: 99 },
  ];
  assert.deepEqual(
    hashedFirst(files, 100).map((f) => f.relPath),
    ['MLmodel', 'a.txt'],
  );
  const e = (path: string, size: number) => ({ path, size, sha256: path.length.toString(16).padStart(64, '0') });
  const first = [e('MLmodel', 10), e('a.txt', 99)];
  const whole = completeManifest(files, first, [{ ...e('b/big.bin', 100), partSha256: ['x'] }]);
  assert.deepEqual(
    whole.map((x) => x.path),
    ['MLmodel', 'a.txt', 'b/big.bin'],
  );
  assert.equal(manifestDigest(whole), manifestDigest([...first, e('b/big.bin', 100)]), 'part hashes are not in the digest');
  assert.throws(() => completeManifest(files, first, []), /no entry for "b\/big\.bin"/);
  assert.throws(() => completeManifest(files, first, [e('a.txt', 99), e('b/big.bin', 100)]), /"a\.txt" has two entries/);
});

test('the stored manifest sits beside the model directory, whatever trailing slashes the path has', () => {
  assert.equal(manifestPathFor('model'), 'model.manifest.json');
  assert.equal(manifestPathFor('model/'), 'model.manifest.json');
  assert.equal(manifestPathFor('nested/model//'), 'nested/model.manifest.json');
  assert.equal(manifestUriFor('mlflow-artifacts:/2/abc/artifacts/model'), 'mlflow-artifacts:/2/abc/artifacts/model.manifest.json');
  assert.equal(manifestUriFor('s3://bucket/models/churn/model/'), 's3://bucket/models/churn/model.manifest.json');
});

test('a stored manifest reads back as the same entries, sorted by path, without the part hashes', () => {
  const entries = [
    { path: 'model.pkl', size: 20480, sha256: sha('pkl'), partSha256: [sha('p1'), sha('p2')] },
    { path: 'MLmodel', size: 640, sha256: sha('mlmodel') },
    { path: 'empty', size: 0, sha256: sha('') },
    { path: 'dir/with space.json', size: 3, sha256: sha('{}\n') },
  ];
  const digest = manifestDigest(entries);
  const text = storedManifest(entries, digest);
  assert.ok(text.endsWith('}\n'));
  const doc = JSON.parse(text) as { schema: string; digest: string; files: unknown[] };
  assert.equal(doc.schema, MANIFEST_SCHEMA);
  assert.equal(doc.digest, digest);
  assert.doesNotMatch(text, /partSha256/);
  const expected = [
    { path: 'MLmodel', size: 640, sha256: sha('mlmodel') },
    { path: 'dir/with space.json', size: 3, sha256: sha('{}\n') },
    { path: 'empty', size: 0, sha256: sha('') },
    { path: 'model.pkl', size: 20480, sha256: sha('pkl') },
  ];
  assert.deepEqual(doc.files, expected);
  assert.deepEqual(parseStoredManifest(text), expected);
  assert.equal(manifestDigest(expected), digest, 'the entries read back give the same digest');
  assert.deepEqual(parseStoredManifest(storedManifest([], manifestDigest([]))), []);
});

test('a stored manifest that is not what the action wrote is refused, with the reason', () => {
  const good = { path: 'MLmodel', size: 640, sha256: sha('mlmodel') };
  const doc = (files: unknown, schema: unknown = MANIFEST_SCHEMA) => JSON.stringify({ schema, digest: 'sha256:x', files });
  const refused = (text: string, reason: RegExp) => {
    const got = parseStoredManifest(text);
    assert.equal(typeof got, 'string', text);
    assert.match(got as string, reason, text);
  };
  refused('', /not JSON/);
  refused('<html>Not Found</html>', /not JSON/);
  refused('{"schema": ', /not JSON/);
  for (const other of ['null', '[]', '42', '"text"']) refused(other, /is not a hokusai-register-model\/manifest@1 manifest/);
  refused(doc([good], 'hokusai-register-model/manifest@2'), /not a hokusai-register-model\/manifest@1 manifest/);
  refused(JSON.stringify({ digest: 'sha256:x', files: [good] }), /not a hokusai-register-model\/manifest@1 manifest/);
  refused(JSON.stringify({ schema: MANIFEST_SCHEMA, digest: 'sha256:x' }), /no file list/);
  refused(doc({ MLmodel: good }), /no file list/);
  const entry = /an entry has no path, size or sha256/;
  for (const bad of [
    { ...good, size: -1 },
    { ...good, size: 1.5 },
    { ...good, size: '640' },
    { ...good, size: 2 ** 53 },
    { ...good, sha256: 'z'.repeat(64) },
    { ...good, sha256: sha('x').toUpperCase() },
    { ...good, sha256: sha('x').slice(1) },
    { ...good, sha256: `sha256:${sha('x')}` },
    { ...good, path: 7 },
    { size: 1, sha256: sha('x') },
    null,
    'MLmodel',
  ])
    refused(doc([good, bad]), entry);
  assert.deepEqual(parseStoredManifest(doc([good])), [good]);
});
