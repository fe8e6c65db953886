import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import dns from 'node:dns';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { after, before, mock, test } from 'node:test';
import { GHESNotSupportedError, NetworkError, UsageError } from '@actions/artifact';
import type { Lineage } from '../../src/lineage.ts';
import {
  ARTIFACT_NAME_MAX_BYTES,
  artifactName,
  buildReceipt,
  classifyUploadError,
  RECEIPT_SCHEMA,
  uploadReceipt,
  writeReceipt,
  type Receipt,
  type ReceiptInput,
} from '../../src/receipt.ts';
import { startFakeResults, unzipEntry, type FakeResults } from '../support/fake-results.ts';

const lineage: Lineage = {
  commit: 'c'.repeat(40),
  ref: 'refs/heads/main',
  branch: 'main',
  repository: 'acme/churn',
  workflow: 'register',
  actor: 'octocat',
  eventName: 'push',
  runId: '42',
  runAttempt: '2',
  runUrl: 'https://github.com/acme/churn/actions/runs/42/attempts/2',
  prNumber: undefined,
};

const input: ReceiptInput = {
  modelName: 'churn-classifier',
  version: '7',
  modelUri: 'models:/churn-classifier/7',
  versionUrl: 'https://registry.example/#/models/churn-classifier/versions/7',
  source: 'mlflow-artifacts:/3/r1/artifacts/model',
  runId: 'r1',
  experimentId: '3',
  digest: 'sha256:' + 'd'.repeat(64),
  aliases: ['staging', 'candidate'],
  reused: false,
  lineage,
  files: [
    { path: 'model.pkl', size: 1000, sha256: '2'.repeat(64) },
    { path: 'MLmodel', size: 300, sha256: '1'.repeat(64) },
    { path: 'conda.yaml', size: 24, sha256: '3'.repeat(64) },
  ],
  createdAt: new Date('2026-11-26T10:00:00.000Z'),
};

/** The characters the artifact service refuses in a name (@actions/artifact's own list). */
const REFUSED = /[":<>|*?\r\n\\/]/;

test('buildReceipt: every field, in a fixed key order, files sorted by path, totals summed', () => {
  const before = JSON.stringify(input);
  const r = buildReceipt(input);
  const expected: Receipt = {
    schema: 'hokusai-register-model/receipt@1',
    createdAt: '2026-11-26T10:00:00.000Z',
    model: {
      name: 'churn-classifier',
      version: '7',
      uri: 'models:/churn-classifier/7',
      versionUrl: 'https://registry.example/#/models/churn-classifier/versions/7',
      source: 'mlflow-artifacts:/3/r1/artifacts/model',
      aliases: ['staging', 'candidate'],
      reused: false,
    },
    run: { id: 'r1', experimentId: '3' },
    digest: 'sha256:' + 'd'.repeat(64),
    lineage: {
      commit: 'c'.repeat(40),
      ref: 'refs/heads/main',
      branch: 'main',
      repository: 'acme/churn',
      workflow: 'register',
      actor: 'octocat',
      eventName: 'push',
      runId: '42',
      runAttempt: '2',
      runUrl: 'https://github.com/acme/churn/actions/runs/42/attempts/2',
      prNumber: null,
    },
    totals: { files: 3, bytes: 1324 },
    files: [
      { path: 'MLmodel', size: 300, sha256: '1'.repeat(64) },
      { path: 'conda.yaml', size: 24, sha256: '3'.repeat(64) },
      { path: 'model.pkl', size: 1000, sha256: '2'.repeat(64) },
    ],
  };
  // Stringified comparison also pins the key order of the file people read.
  assert.equal(JSON.stringify(r), JSON.stringify(expected));
  assert.equal(r.schema, RECEIPT_SCHEMA);
  assert.equal('hokusai' in r, false);
  assert.equal(JSON.stringify(input), before, 'the input is not changed (files not sorted in place)');
});

test('buildReceipt: the Hokusai section sits before the totals; extra input fields do not leak', () => {
  const hokusai = { tokenId: '12', metric: 'auroc', value: '0.91', proposalId: 'p-9', event: 'sent' as const };
  const r = buildReceipt({
    ...input,
    reused: true,
    lineage: { ...lineage, prNumber: '5', runUrl: undefined, secret: 'fake-key-x' } as Lineage,
    files: [{ path: 'b', size: 1, sha256: 'e'.repeat(64), extra: 1 } as never, { path: 'a', size: 2, sha256: 'f'.repeat(64) }],
    hokusai,
  });
  assert.deepEqual(r.hokusai, hokusai);
  assert.deepEqual(Object.keys(r), ['schema', 'createdAt', 'model', 'run', 'digest', 'lineage', 'hokusai', 'totals', 'files']);
  assert.equal(r.model.reused, true);
  assert.equal(r.lineage.prNumber, '5');
  assert.equal(r.lineage.runUrl, null);
  assert.doesNotMatch(JSON.stringify(r), /fake-key-x|extra/);
  assert.deepEqual(r.totals, { files: 2, bytes: 3 });
  assert.deepEqual(
    r.files.map((f) => f.path),
    ['a', 'b'],
  );
});

test('artifactName: readable; differs between attempts and between jobs', () => {
  const base = { modelName: 'churn-classifier', version: '7', job: 'register', runAttempt: '1' };
  assert.equal(artifactName(base), 'hokusai-receipt-churn-classifier-v7-register-attempt1');
  assert.notEqual(artifactName(base), artifactName({ ...base, runAttempt: '2' }));
  assert.notEqual(artifactName(base), artifactName({ ...base, job: 'register-eu' }));
  assert.notEqual(artifactName(base), artifactName({ ...base, version: '8' }));
  assert.equal(artifactName({ ...base, job: '', runAttempt: '' }), 'hokusai-receipt-churn-classifier-v7-attempt1');
});

test('artifactName: hostile names give a valid, bounded name, and different names stay different', () => {
  const hostile = [
    'a/b:c*?"<>|\\',
    'x'.repeat(300),
    'x'.repeat(299) + 'y',
    'модель-ünïcödé-模型',
    '𝔐𝔬𝔡𝔢𝔩'.repeat(40),
    'emoji 🚀 model',
    'line\r\nbreak\u0000nul\u202eRLO',
    'lone \ud800 surrogate',
    '../../etc/passwd',
    '...',
    '',
    ' ',
  ];
  const names = new Set<string>();
  for (const modelName of hostile) {
    for (const job of ['register', 'job/with:bad*chars', 'j'.repeat(200)]) {
      const name = artifactName({ modelName, version: '1\n2/3', job, runAttempt: '3' });
      assert.doesNotMatch(name, REFUSED, name);
      assert.doesNotMatch(name, /[\u0000-\u001f\u007f\s]/, name);
      assert.ok(Buffer.byteLength(name) <= ARTIFACT_NAME_MAX_BYTES, `${Buffer.byteLength(name)} bytes: ${name}`);
      assert.equal(Buffer.from(name).toString(), name, 'no lone surrogates (they would not survive UTF-8)');
      assert.match(name, /-attempt3$/);
      names.add(name);
    }
  }
  assert.equal(names.size, hostile.length * 3, 'no two hostile inputs share a name');
  assert.ok(ARTIFACT_NAME_MAX_BYTES <= 200);
  // Readable where it can be: letters of any script are kept.
  assert.match(artifactName({ modelName: 'модель-ü', version: '1', job: 'j', runAttempt: '1' }), /^hokusai-receipt-модель-ü-/);
});

test('writeReceipt: valid JSON, directly under the given directory, for a hostile model name', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'receipt-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  for (const name of ['../../a/b:c*?"<>|\\', 'x'.repeat(300), '𝔐'.repeat(200)]) {
    const receipt = buildReceipt({ ...input, modelName: name });
    const file = await writeReceipt(path.join(dir, 'out'), receipt);
    assert.ok(path.isAbsolute(file));
    assert.equal(path.dirname(file), path.join(dir, 'out'));
    assert.ok(Buffer.byteLength(path.basename(file)) <= 255);
    assert.match(path.basename(file), /^hokusai-receipt-.+-v7\.json$/);
    assert.deepEqual(JSON.parse(await readFile(file, 'utf8')), receipt);
  }
  assert.equal((await readdir(path.join(dir, 'out'))).length, 3);
  assert.deepEqual(await readdir(dir), ['out']);
});

// @actions/artifact reads process.env itself: each upload runs with exactly these variables set.
const MANAGED = [
  'ACTIONS_RUNTIME_TOKEN',
  'ACTIONS_RESULTS_URL',
  'GITHUB_SERVER_URL',
  'GITHUB_REPOSITORY',
  'GITHUB_RUN_ID',
  'GITHUB_RETENTION_DAYS',
  'ACTIONS_ARTIFACT_UPLOAD_CONCURRENCY',
  'ACTIONS_ARTIFACT_UPLOAD_TIMEOUT_MS',
];

async function withEnv<T>(vars: Record<string, string>, fn: () => Promise<T>): Promise<T> {
  const saved = new Map(MANAGED.map((k) => [k, process.env[k]]));
  for (const k of MANAGED) delete process.env[k];
  Object.assign(process.env, vars);
  try {
    return await fn();
  } finally {
    for (const k of MANAGED) delete process.env[k];
    for (const [k, v] of saved) if (v !== undefined) process.env[k] = v;
  }
}

let fake: FakeResults;
let dir: string;
let receipt: Receipt;
let file: string;

before(async () => {
  fake = await startFakeResults();
  dir = await mkdtemp(path.join(tmpdir(), 'receipt-upload-'));
  receipt = buildReceipt({ ...input, modelName: 'a/b:c*?"<>|\\ model' });
  file = await writeReceipt(dir, receipt);
});
after(async () => {
  await fake.close();
  await rm(dir, { recursive: true, force: true });
});

test('uploadReceipt: uploaded to the results service; the zip holds the receipt byte for byte', async () => {
  const name = artifactName({ modelName: receipt.model.name, version: '7', job: 'register', runAttempt: '1' });
  const result = await withEnv(fake.env(), () => uploadReceipt(file, name, process.env));
  const artifact = fake.artifacts.find((a) => a.name === name);
  assert.ok(artifact, `artifact ${name} was created`);
  assert.equal(artifact.finalized, true);
  assert.deepEqual(result, {
    kind: 'uploaded',
    name,
    id: artifact.id,
    size: artifact.zip.length,
    url: `https://github.com/octo-org/octo-repo/actions/runs/4242/artifacts/${artifact.id}`,
  });
  assert.deepEqual(unzipEntry(artifact.zip, path.basename(file)), await readFile(file));
});

test('uploadReceipt: a name already used in this run takes the next free one (matrix legs of one job)', async () => {
  const name = 'hokusai-receipt-dup';
  const first = await withEnv(fake.env(), () => uploadReceipt(file, name, process.env));
  assert.equal(first.kind === 'uploaded' && first.name, name);
  const second = await withEnv(fake.env(), () => uploadReceipt(file, name, process.env));
  assert.equal(second.kind === 'uploaded' && second.name, `${name}-2`);
  assert.deepEqual(
    fake.artifacts.filter((a) => a.name.startsWith(name)).map((a) => a.name),
    [name, `${name}-2`],
  );
});

test('uploadReceipt: CreateArtifact answering 409 for every name gives failed, never a throw', async () => {
  fake.failCreate({ status: 409, times: 3 });
  const result = await withEnv(fake.env(), () => uploadReceipt(file, 'hokusai-receipt-409', process.env));
  assert.equal(result.kind, 'failed');
  assert.match(result.kind === 'failed' ? result.reason : '', /already exists in this workflow run.*registration itself succeeded/s);
  assert.equal(
    fake.artifacts.some((a) => a.name.startsWith('hokusai-receipt-409')),
    false,
  );
});

test('uploadReceipt: CreateArtifact answering 500 is retried by the library, then failed', async () => {
  fake.failCreate({ status: 500, times: 5 });
  const creates = () => fake.requests.filter((r) => r.path.endsWith('/CreateArtifact')).length;
  const before = creates();
  // The library sleeps 3 s, 4.5 s, ... between its 5 attempts: fake only setTimeout and run it forward.
  mock.timers.enable({ apis: ['setTimeout'] });
  try {
    let settled = false;
    const pending = withEnv(fake.env(), () => uploadReceipt(file, 'hokusai-receipt-500', process.env)).finally(() => {
      settled = true;
    });
    const deadline = performance.now() + 20_000;
    while (!settled && performance.now() < deadline) {
      await new Promise((resolve) => setImmediate(resolve));
      mock.timers.tick(60_000);
    }
    const result = await pending;
    assert.equal(result.kind, 'failed');
    assert.match(result.kind === 'failed' ? result.reason : '', /after 5 attempts.*\(500\).*Re-run the job/s);
  } finally {
    mock.timers.reset();
  }
  assert.equal(creates() - before, 5);
});

test('uploadReceipt: a used-up storage quota says so', async () => {
  fake.failCreate({ status: 403, times: 1, msg: 'insufficient usage to create artifact' });
  const result = await withEnv(fake.env(), () => uploadReceipt(file, 'hokusai-receipt-quota', process.env));
  assert.equal(result.kind, 'failed');
  assert.match(result.kind === 'failed' ? result.reason : '', /quota.*delete old artifacts/);
});

test('uploadReceipt: an unreachable results service says to allow-list the endpoints', async () => {
  const closed = await startFakeResults();
  const env = closed.env();
  await closed.close();
  const result = await withEnv(env, () => uploadReceipt(file, 'hokusai-receipt-net', process.env));
  assert.equal(result.kind, 'failed');
  assert.match(result.kind === 'failed' ? result.reason : '', /ECONNREFUSED.*self-hosted runner.*allow/s);
});

test('uploadReceipt: on GHES it is unavailable, and nothing is sent nor resolved', async () => {
  const lookups: string[] = [];
  // Never resolves for real: any lookup would be recorded and refused.
  const blocked = mock.method(dns, 'lookup', (host: string, ...rest: unknown[]) => {
    lookups.push(host);
    const cb = rest.at(-1) as (err: Error) => void;
    process.nextTick(cb, Object.assign(new Error(`blocked lookup of ${host}`), { code: 'ENOTFOUND' }));
  });
  const sent = fake.requests.length;
  try {
    const result = await withEnv({ ...fake.env(), GITHUB_SERVER_URL: 'https://ghes.example.com' }, () =>
      uploadReceipt(file, 'hokusai-receipt-ghes', process.env),
    );
    assert.equal(result.kind, 'unavailable');
    assert.match(result.kind === 'unavailable' ? result.reason : '', /not available on GitHub Enterprise Server/);
  } finally {
    blocked.mock.restore();
  }
  assert.deepEqual(lookups, []);
  assert.equal(fake.requests.length, sent);
});

test("classifyUploadError: the library's own error types get their own advice", () => {
  const ghes = classifyUploadError(new GHESNotSupportedError());
  assert.equal(ghes.kind, 'unavailable');
  assert.match(ghes.reason, /GitHub Enterprise Server/);
  const quota = classifyUploadError(new UsageError());
  assert.equal(quota.kind, 'failed');
  assert.match(quota.reason, /quota/);
  const net = classifyUploadError(new NetworkError('ETIMEDOUT'));
  assert.match(net.reason, /ETIMEDOUT.*allow the GitHub Actions endpoints/);
  assert.doesNotMatch(net.reason, /\n/);
  assert.match(classifyUploadError('boom').reason, /artifact upload failed: boom/);
});

const execFileP = promisify(execFile);

test('uploadReceipt: without the Actions runtime it is unavailable and @actions/artifact is never loaded', async () => {
  // A fresh process, so nothing else has loaded the library yet; a resolve hook records it.
  const script = `
    import { registerHooks } from 'node:module';
    const seen = [];
    registerHooks({ resolve(specifier, context, next) { if (specifier.startsWith('@actions/artifact')) seen.push(specifier); return next(specifier, context); } });
    const { uploadReceipt } = await import(${JSON.stringify(pathToFileURL(path.resolve(import.meta.dirname, '../../src/receipt.ts')).href)});
    const [file, fakeEnv] = [process.argv[1], JSON.parse(process.argv[2])];
    const noRuntime = await uploadReceipt(file, 'n1', process.env);
    const afterNoRuntime = seen.length;
    const ghes = await uploadReceipt(file, 'n2', { ...fakeEnv, GITHUB_SERVER_URL: 'https://ghes.example.com' });
    const afterGhes = seen.length;
    Object.assign(process.env, fakeEnv);
    const real = await uploadReceipt(file, 'hokusai-receipt-child', process.env);
    console.log('RESULT ' + JSON.stringify({ noRuntime, afterNoRuntime, ghes, afterGhes, real, seen }));
  `;
  const env: Record<string, string> = { PATH: process.env.PATH ?? '' };
  const { stdout } = await execFileP(process.execPath, ['--input-type=module', '-e', script, file, JSON.stringify(fake.env())], { env });
  const line = stdout.split('\n').find((l) => l.startsWith('RESULT '));
  assert.ok(line, stdout);
  const out = JSON.parse(line.slice('RESULT '.length)) as {
    noRuntime: { kind: string; reason: string };
    afterNoRuntime: number;
    ghes: { kind: string };
    afterGhes: number;
    real: { kind: string };
    seen: string[];
  };
  assert.equal(out.noRuntime.kind, 'unavailable');
  assert.match(out.noRuntime.reason, /ACTIONS_RUNTIME_TOKEN.*not set/);
  assert.equal(out.afterNoRuntime, 0);
  assert.equal(out.ghes.kind, 'unavailable');
  assert.equal(out.afterGhes, 0);
  // The control: the hook does see the library once an upload really happens.
  assert.equal(out.real.kind, 'uploaded');
  assert.deepEqual(out.seen, ['@actions/artifact']);
});
