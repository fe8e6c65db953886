/**
 * The harness runs the other MLflow versions too (paths.ts EXTRA_VENVS): their servers start
 * with the options the tests use, and what those servers do differently is pinned here.
 * Run: node_modules/.bin/node --test test/support/harness-versions.test.ts
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startMlflowServer } from './mlflow-server.ts';
import { EXTRA_VENVS } from './paths.ts';
import { pythonJson } from './python.ts';

for (const venv of Object.values(EXTRA_VENVS)) {
  test(`MLflow ${venv.mlflowVersion}: its python runs the helpers; its server starts with --static-prefix and --no-serve-artifacts`, async () => {
    const version = await pythonJson<string>('-c', ['import json, mlflow; print(json.dumps(mlflow.__version__))'], { venv });
    assert.equal(version, venv.mlflowVersion);

    // 2.x refuses --no-serve-artifacts without --default-artifact-root: the harness gives it one.
    const s = await startMlflowServer({ venv, serveArtifacts: false, extraArgs: ['--static-prefix', '/p'] });
    try {
      assert.equal(s.mlflowVersion, venv.mlflowVersion);
      const probes = `${s.url}${venv.mlflowVersion.startsWith('2.') ? '' : '/p'}`;
      assert.equal(await (await fetch(`${probes}/version`)).text(), venv.mlflowVersion);
      // FINDING: before 3.12 the prefix does not move the REST API (only /ajax-api), so a
      // tracking URI with the prefix finds no API; 3.9.0 moves /health, 2.22.4 does not.
      const status = async (p: string) => (await fetch(`${s.url}${p}`)).status;
      assert.equal(await status('/api/2.0/mlflow/experiments/search?max_results=1'), 200);
      assert.equal(await status('/p/api/2.0/mlflow/experiments/search?max_results=1'), 404);
      assert.equal(await status('/p/ajax-api/2.0/mlflow/experiments/search?max_results=1'), 200);
      assert.equal((await fetch(`${probes}/health`)).status, 200);
      assert.equal(await status('/health'), venv.mlflowVersion.startsWith('2.') ? 200 : 404);
      // Artifact serving off: the proxy routes answer 503.
      assert.equal(await status('/api/2.0/mlflow-artifacts/artifacts'), 503);
    } finally {
      await s.stop();
    }
  });
}
