import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ActionError } from '../../src/errors.ts';
import { apiUrl, artifactBaseUrl, encodePath, experimentUiUrl, isBelow, modelUiUrl, runUiUrl, versionUiUrl } from '../../src/urls.ts';
import { fileUrl } from '../../src/stores/proxy.ts';

const hokusai = new URL('https://registry.hokus.ai/api/mlflow');
const plain = new URL('http://127.0.0.1:5000');

test('REST paths hang below the tracking URI prefix', () => {
  assert.equal(apiUrl(hokusai, '/api/2.0/mlflow/runs/create').href, 'https://registry.hokus.ai/api/mlflow/api/2.0/mlflow/runs/create');
  assert.equal(apiUrl(plain, '/api/2.0/mlflow/runs/create').href, 'http://127.0.0.1:5000/api/2.0/mlflow/runs/create');
  assert.equal(
    apiUrl(hokusai, '/api/2.0/mlflow/experiments/get-by-name', { experiment_name: 'a/b c' }).href,
    'https://registry.hokus.ai/api/mlflow/api/2.0/mlflow/experiments/get-by-name?experiment_name=a%2Fb+c',
  );
});

test('mlflow-artifacts: URIs map to the artifact proxy below the prefix, as MLflow resolves them', () => {
  assert.equal(
    artifactBaseUrl(hokusai, 'mlflow-artifacts:/3/abc/artifacts', 'S').href,
    'https://registry.hokus.ai/api/mlflow/api/2.0/mlflow-artifacts/artifacts/3/abc/artifacts',
  );
  assert.equal(
    artifactBaseUrl(plain, 'mlflow-artifacts://127.0.0.1:5000/1//r/artifacts/', 'S').href,
    'http://127.0.0.1:5000/api/2.0/mlflow-artifacts/artifacts/1/r/artifacts',
  );
});

test('artifact locations the proxy does not serve, or on another host, are refused', () => {
  assert.throws(
    () => artifactBaseUrl(hokusai, 's3://bucket/artifacts/1', 'S'),
    (e: ActionError) => /does not proxy \(s3\)/.test(e.message) && /--serve-artifacts/.test(e.hint),
  );
  assert.throws(() => artifactBaseUrl(plain, '/tmp/mlruns/1/r/artifacts', 'S'), /does not proxy \(a local path\)/);
  assert.throws(() => artifactBaseUrl(hokusai, 'mlflow-artifacts://evil.example/1/r', 'S'), /on host evil\.example/);
  assert.throws(() => artifactBaseUrl(hokusai, 'https://evil.example/api/2.0/mlflow-artifacts/artifacts/1', 'S'), /does not proxy/);
});

test('file URLs encode every segment and keep the separators', () => {
  assert.equal(encodePath('data/my file+1.pkl'), 'data/my%20file%2B1.pkl');
  const plan = { base: artifactBaseUrl(hokusai, 'mlflow-artifacts:/3/abc/artifacts', 'S'), artifactPath: 'model', files: [] };
  assert.equal(
    fileUrl(plan, 'sub dir/MLmodel').pathname,
    '/api/mlflow/api/2.0/mlflow-artifacts/artifacts/3/abc/artifacts/model/sub%20dir/MLmodel',
  );
});

test('version pages: Hokusai serves its UI at /mlflow, a plain server at its root', () => {
  assert.equal(versionUiUrl(hokusai, 'churn model', '3'), 'https://registry.hokus.ai/mlflow/#/models/churn%20model/versions/3');
  assert.equal(versionUiUrl(plain, 'm', '1'), 'http://127.0.0.1:5000/#/models/m/versions/1');
  // A plain server started with --static-prefix /api/mlflow serves its UI there.
  assert.equal(
    versionUiUrl(new URL('http://127.0.0.1:5000/api/mlflow'), 'm', '1'),
    'http://127.0.0.1:5000/api/mlflow/#/models/m/versions/1',
  );
  // The model, the experiment and the run, below the same UI.
  assert.equal(modelUiUrl(hokusai, 'churn model'), 'https://registry.hokus.ai/mlflow/#/models/churn%20model');
  assert.equal(experimentUiUrl(hokusai, '12'), 'https://registry.hokus.ai/mlflow/#/experiments/12');
  assert.equal(runUiUrl(hokusai, '12', 'abc'), 'https://registry.hokus.ai/mlflow/#/experiments/12/runs/abc');
  assert.equal(runUiUrl(plain, '0', 'r/1'), 'http://127.0.0.1:5000/#/experiments/0/runs/r%2F1');
});

test('artifact locations that leave the tracking URI after normalisation are refused, however the dots are written', () => {
  for (const uri of [
    'mlflow-artifacts:/../../../../../../admin',
    'mlflow-artifacts:/1/%2e%2e/%2E%2E/%2e%2e/%2e%2e/%2e%2e/%2e%2e/x',
    'mlflow-artifacts:/1/%252e%252e/x',
    'mlflow-artifacts:/1/./r',
    'https://registry.hokus.ai/api/mlflow/api/2.0/mlflow-artifacts/artifacts/1/%252e%252e/x',
  ])
    assert.throws(
      () => artifactBaseUrl(hokusai, uri, 'S'),
      (e: ActionError) => /has a "\." or "\.\." segment/.test(e.message) && /only below tracking-uri/.test(e.hint),
      uri,
    );
  // An http(s) location must be the tracking URI's own artifact route: same scheme, host, port and path prefix.
  for (const uri of [
    'http://registry.hokus.ai/api/mlflow/api/2.0/mlflow-artifacts/artifacts/1',
    'https://registry.hokus.ai/api/2.0/mlflow-artifacts/artifacts/1',
    'https://registry.hokus.ai:8443/api/mlflow/api/2.0/mlflow-artifacts/artifacts/1',
    'https://registry.hokus.ai/other/api/mlflow/api/2.0/mlflow-artifacts/artifacts/1',
    // Normalised by the URL parser to /api/mlflow/api/2.0/x.
    'https://registry.hokus.ai/api/mlflow/api/2.0/mlflow-artifacts/artifacts/1/%2e%2e/%2e%2e/%2e%2e/x',
  ])
    assert.throws(() => artifactBaseUrl(hokusai, uri, 'S'), /does not proxy/, uri);
  assert.equal(
    artifactBaseUrl(hokusai, 'https://registry.hokus.ai/api/mlflow/api/2.0/mlflow-artifacts/artifacts/1/r/artifacts/', 'S').href,
    'https://registry.hokus.ai/api/mlflow/api/2.0/mlflow-artifacts/artifacts/1/r/artifacts',
  );
});

test('isBelow: same origin, and the base path as whole segments', () => {
  const base = new URL('https://registry.hokus.ai/api/mlflow');
  assert.equal(isBelow(new URL('https://registry.hokus.ai/api/mlflow'), base), true);
  assert.equal(isBelow(new URL('https://registry.hokus.ai/api/mlflow/api/2.0/mlflow/runs/get?x=1'), base), true);
  assert.equal(isBelow(new URL('https://registry.hokus.ai/api/mlflowx/y'), base), false);
  assert.equal(isBelow(new URL('https://registry.hokus.ai/api/mlflow/../admin'), base), false);
  assert.equal(isBelow(new URL('https://registry.hokus.ai/api/mlflow/%2e%2e/admin'), base), false);
  assert.equal(isBelow(new URL('http://registry.hokus.ai/api/mlflow/x'), base), false);
  assert.equal(isBelow(new URL('https://registry.hokus.ai:444/api/mlflow/x'), base), false);
  assert.equal(isBelow(new URL('https://evil.example/api/mlflow/x'), base), false);
  assert.equal(isBelow(new URL('https://auth.hokus.ai/api/v1/keys/validate'), new URL('https://auth.hokus.ai')), true);
});
