import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MockAgent } from 'undici';
import { fakeClock, httpOptions } from '../support/http-options.ts';
import { HttpClient } from '../../src/http.ts';
import { MlflowClient } from '../../src/mlflow.ts';
import { awaitReady, currentAliases, pickCommitVersion, POLL_INTERVAL_MS } from '../../src/registration.ts';
import { ActionError } from '../../src/errors.ts';
import { compareUpload } from '../../src/stores/store.ts';

function clientReturning(statuses: string[]) {
  const agent = new MockAgent();
  agent.disableNetConnect();
  const pool = agent.get('http://mlflow.test');
  for (const status of statuses) {
    pool.intercept({ path: (p) => p.startsWith('/api/2.0/mlflow/model-versions/get?'), method: 'GET' }).reply(200, {
      model_version: { name: 'm', version: '1', status, status_message: status === 'FAILED_REGISTRATION' ? 'copy failed' : '' },
    });
  }
  const http = new HttpClient(httpOptions({ dispatcher: agent, secrets: [], timeoutMs: 1000 }));
  return new MlflowClient(http, new URL('http://mlflow.test'), { kind: 'none', header: undefined });
}

test('a version created READY needs no polling', async () => {
  const clock = fakeClock();
  const v = await awaitReady(clientReturning([]), clock, { name: 'm', version: '1', status: 'READY' }, 300);
  assert.equal(v.status, 'READY');
  assert.deepEqual(clock.sleeps, []);
});

test('PENDING_REGISTRATION is polled every 3 s until READY', async () => {
  const clock = fakeClock();
  const v = await awaitReady(
    clientReturning(['PENDING_REGISTRATION', 'READY']),
    clock,
    { name: 'm', version: '1', status: 'PENDING_REGISTRATION' },
    300,
  );
  assert.equal(v.status, 'READY');
  assert.deepEqual(clock.sleeps, [POLL_INTERVAL_MS, POLL_INTERVAL_MS]);
});

test('FAILED_REGISTRATION fails with the status message', async () => {
  await assert.rejects(
    awaitReady(clientReturning(['FAILED_REGISTRATION']), fakeClock(), { name: 'm', version: '1', status: 'PENDING_REGISTRATION' }, 300),
    /ended as FAILED_REGISTRATION: copy failed/,
  );
});

test('await-timeout bounds the wait', async () => {
  const clock = fakeClock();
  await assert.rejects(
    awaitReady(
      clientReturning(Array(10).fill('PENDING_REGISTRATION')),
      clock,
      { name: 'm', version: '1', status: 'PENDING_REGISTRATION' },
      7,
    ),
    /still PENDING_REGISTRATION after 7 s/,
  );
  assert.equal(clock.now(), 7000);
});

test('upload verification finds missing and short files', () => {
  const files = [
    { relPath: 'MLmodel', absPath: '/x/MLmodel', size: 10 },
    { relPath: 'data/model.pkl', absPath: '/x/data/model.pkl', size: 2000 },
    { relPath: 'conda.yaml', absPath: '/x/conda.yaml', size: 5 },
  ];
  const listed = [
    { path: 'model/MLmodel', file_size: 10 },
    { path: 'model/data/model.pkl', file_size: 0 },
  ];
  assert.deepEqual(compareUpload(files, 'model', listed), [
    'data/model.pkl: 0 bytes on the server, 2000 bytes here',
    'conda.yaml: missing on the server',
  ]);
  assert.deepEqual(compareUpload(files.slice(0, 1), 'model', [{ path: 'model/MLmodel', file_size: '10' }]), []);
  // MLflow lists an empty file without file_size.
  assert.deepEqual(compareUpload([{ relPath: 'empty', absPath: '/x/empty', size: 0 }], 'model', [{ path: 'model/empty' }]), []);
});

test('re-runs: the same commit and digest reuse the newest good version; other content gets a new one with a reason', async () => {
  const { decideReuse } = await import('../../src/registration.ts');
  const v = (version: string, digest: string, status = 'READY') => ({
    name: 'm',
    version,
    status,
    tags: [{ key: 'model_digest', value: digest }],
  });
  assert.deepEqual(decideReuse([], 'sha256:a', 'c'.repeat(40)), { kind: 'new', reason: undefined });
  const reuse = decideReuse(
    [v('1', 'sha256:a'), v('3', 'sha256:a'), v('4', 'sha256:a', 'FAILED_REGISTRATION')],
    'sha256:a',
    'c'.repeat(40),
  );
  assert.equal(reuse.kind === 'reuse' && reuse.version.version, '3');
  const other = decideReuse([v('2', 'sha256:b')], 'sha256:a', 'c'.repeat(40));
  assert.equal(other.kind, 'new');
  assert.match(
    other.kind === 'new' ? (other.reason ?? '') : '',
    /^Commit cccccccccccc already has version 2 \(sha256:b\), but the model directory now has digest sha256:a/,
  );
});

test('promote: the newest usable version of the commit is chosen; none is a clear error', () => {
  const v = (version: string, status = 'READY') => ({ name: 'm', version, status });
  const picked = pickCommitVersion([v('2'), v('5', 'FAILED_REGISTRATION'), v('4'), v('3')], 'm', 'a'.repeat(40));
  assert.equal(picked.version.version, '4');
  assert.deepEqual(picked.others, ['3', '2']);
  assert.throws(
    () => pickCommitVersion([], 'm', 'abcdef1234567890'),
    (e: unknown) =>
      e instanceof ActionError &&
      /no version of "m" was registered for commit abcdef123456/.test(e.message) &&
      /version input/.test(e.hint),
  );
  assert.throws(() => pickCommitVersion([v('7', 'FAILED_REGISTRATION')], 'm', 'abc'), /version 7 failed to register/);
});

test('promote: each alias with the version it points at before', () => {
  const model = { aliases: [{ alias: 'champion', version: '3' }] };
  assert.deepEqual(currentAliases(model, ['champion', 'prod']), [
    { alias: 'champion', previous: '3' },
    { alias: 'prod', previous: '' },
  ]);
  assert.deepEqual(currentAliases(undefined, ['x']), [{ alias: 'x', previous: '' }]);
});
