import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ActionError } from '../../src/errors.ts';
import { escapeHtml, formatBytes, formatDuration, renderFailure, renderSuccess, type RegisteredResult } from '../../src/summary.ts';

const result: RegisteredResult = {
  modelName: 'churn<script>',
  version: '7',
  versionUrl: 'http://127.0.0.1:5000/#/models/churn/versions/7',
  modelUri: 'models:/churn/7',
  aliases: ['staging'],
  files: 5,
  bytes: 2048,
  digest: 'sha256:abc',
  runId: 'r1',
  experimentId: '2',
  experimentName: 'acme/churn',
  source: 'mlflow-artifacts:/2/r1/artifacts/model',
  commit: '0123456789abcdef',
  runUrl: 'https://github.com/acme/churn/actions/runs/1/attempts/1',
  durationMs: 4200,
  reused: false,
  note: undefined,
  uploadMs: 2000,
};

test('the success summary shows model, linked version, alias, files, bytes and duration', () => {
  const md = renderSuccess(result);
  assert.match(md, /^## ✅ Registered <code>churn&#60;script&#62;<\/code> version 7/);
  assert.match(md, /\| Version \| <a href="http:\/\/127\.0\.0\.1:5000\/#\/models\/churn\/versions\/7">version 7<\/a> \|/);
  assert.match(md, /\| Aliases \| <code>staging<\/code> \|/);
  assert.match(md, /\| Files \| 5 files, 2\.00 KiB \|/);
  assert.match(md, /\| Duration \| 4\.2 s \|/);
  assert.match(md, /\| Upload \| 2\.0 s, 1\.00 KiB\/s \|/);
  assert.match(md, /\| Commit \| <code>0123456789ab<\/code> \|/);
  assert.doesNotMatch(md, /<script>/);
});

test('the failure summary names the step, request, server message and what to do', () => {
  const err = new ActionError('HTTP 404', {
    step: 'Upload model',
    method: 'PUT',
    path: '/api/2.0/mlflow-artifacts/artifacts/x',
    status: 404,
    serverMessage: '<h1>Not Found</h1>',
    hint: 'Route it.',
  });
  const md = renderFailure(err);
  assert.match(md, /## ❌ Model registration failed: Upload model/);
  assert.match(md, /<code>PUT \/api\/2\.0\/mlflow-artifacts\/artifacts\/x<\/code> → HTTP 404/);
  assert.match(md, /&#60;h1&#62;Not Found/);
  assert.match(md, /\| What to do \| Route it\. \|/);
});

test('escaping covers HTML and markdown table breakers', () => {
  assert.equal(escapeHtml('a|b<c>&"'), 'a&#124;b&#60;c&#62;&#38;&#34;');
});

test('bytes and durations read at a glance', () => {
  assert.equal(formatBytes(512), '512 B');
  assert.equal(formatBytes(5 * 1024 * 1024), '5.00 MiB');
  assert.equal(formatBytes(1536 * 1024 * 1024), '1.50 GiB');
  assert.equal(formatDuration(250), '250 ms');
  assert.equal(formatDuration(125_000), '2 min 5 s');
});
