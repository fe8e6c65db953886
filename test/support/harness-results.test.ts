// Self-test of the fake results service: it holds the library to the protocol instead of
// accepting anything, and unzipEntry reads what the library's zip writer produces.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { DefaultArtifactClient } from '@actions/artifact';
import { startFakeResults, unzipEntry, type FakeResults } from './fake-results.ts';

const TWIRP = '/twirp/github.actions.results.api.v1.ArtifactService/';

let fake: FakeResults;
let dir: string;

before(async () => {
  fake = await startFakeResults();
  dir = await mkdtemp(path.join(tmpdir(), 'fake-results-'));
});
after(async () => {
  await fake.close();
  await rm(dir, { recursive: true, force: true });
});

async function post(method: string, body: unknown, token = fake.token): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(new URL(TWIRP + method, fake.url), {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

function backendIds(): { workflow_run_backend_id: string; workflow_job_run_backend_id: string } {
  const payload = JSON.parse(Buffer.from(fake.token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { scp: string };
  const scope = payload.scp.split(' ').find((s) => s.startsWith('Actions.Results:'));
  const [, run, job] = (scope ?? '').split(':');
  return { workflow_run_backend_id: run ?? '', workflow_job_run_backend_id: job ?? '' };
}

test('the token is a JWT whose scp claim carries the backend ids the library parses', () => {
  assert.equal(fake.token.split('.').length, 3);
  const ids = backendIds();
  assert.match(ids.workflow_run_backend_id, /^[0-9a-f-]{36}$/);
  assert.match(ids.workflow_job_run_backend_id, /^[0-9a-f-]{36}$/);
  assert.deepEqual(Object.keys(fake.env()).slice(0, 2), ['ACTIONS_RUNTIME_TOKEN', 'ACTIONS_RESULTS_URL']);
});

test('CreateArtifact refuses a wrong token, wrong backend ids, a bad name and a duplicate', async () => {
  const ids = backendIds();
  const ok = { ...ids, name: 'direct', version: 7 };
  assert.equal((await post('CreateArtifact', ok, 'fake-key-wrong')).status, 401);
  assert.equal((await post('CreateArtifact', { ...ok, workflow_run_backend_id: 'other' })).status, 400);
  assert.equal((await post('CreateArtifact', { ...ok, name: 'a/b' })).status, 400);
  const created = await post('CreateArtifact', ok);
  assert.equal(created.status, 200);
  assert.equal(created.body.ok, true);
  assert.match(String(created.body.signed_upload_url), /^http:\/\/127\.0\.0\.1:\d+\/[^/]+\/[^/]+\/.+\.zip\?/);
  const again = await post('CreateArtifact', ok);
  assert.deepEqual([again.status, again.body.code], [409, 'already_exists']);
  // Nothing was uploaded, so it cannot be finalized.
  assert.equal((await post('FinalizeArtifact', { ...ids, name: 'direct', size: '0' })).status, 400);
  assert.equal((await post('NoSuchMethod', ok)).status, 404);
});

test('failCreate fails exactly `times` calls, then the service answers again', async () => {
  const ids = backendIds();
  fake.failCreate({ status: 503, times: 2 });
  assert.equal((await post('CreateArtifact', { ...ids, name: 'f1', version: 7 })).status, 503);
  assert.equal((await post('CreateArtifact', { ...ids, name: 'f2', version: 7 })).status, 503);
  assert.equal((await post('CreateArtifact', { ...ids, name: 'f3', version: 7 })).status, 200);
});

test("unzipEntry reads the library's zips, stored and deflated, and checks the CRC", async () => {
  const root = path.join(dir, 'files');
  await mkdir(path.join(root, 'sub'), { recursive: true });
  const big = Buffer.from('receipt line\n'.repeat(5000));
  await writeFile(path.join(root, 'a.json'), big);
  await writeFile(path.join(root, 'sub', 'b.txt'), 'second file');
  const saved = { ...process.env };
  Object.assign(process.env, fake.env());
  try {
    const client = new DefaultArtifactClient();
    for (const level of [0, 9]) {
      const name = `zip-level-${level}`;
      await client.uploadArtifact(name, [path.join(root, 'a.json'), path.join(root, 'sub', 'b.txt')], root, { compressionLevel: level });
      const artifact = fake.artifacts.find((a) => a.name === name);
      assert.ok(artifact?.finalized);
      assert.equal(artifact.reportedSize, String(artifact.zip.length));
      assert.deepEqual(unzipEntry(artifact.zip, 'a.json'), big);
      assert.equal(unzipEntry(artifact.zip, 'sub/b.txt').toString(), 'second file');
      assert.throws(() => unzipEntry(artifact.zip, 'missing.json'), /no entry "missing\.json".*"a\.json"/);
      if (level === 9) assert.ok(artifact.zip.length < big.length / 10, 'level 9 deflates');
    }
  } finally {
    for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
    Object.assign(process.env, saved);
  }
  const zip = Buffer.from(fake.artifacts.find((a) => a.name === 'zip-level-0')?.zip ?? []);
  const at = zip.indexOf('second file');
  assert.ok(at > 0);
  zip[at] = 'S'.charCodeAt(0);
  assert.throws(() => unzipEntry(zip, 'sub/b.txt'), /CRC-32 mismatch/);
});
