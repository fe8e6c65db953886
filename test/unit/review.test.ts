// The model review's pure pieces: which way a metric is better, metrics and files compared,
// and the `diff` output's JSON exactly as docs/inputs.md shows it.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import type { ManifestEntry } from '../../src/manifest.ts';
import { buildReview, compareMetrics, diffFiles, metricDirection, reviewJson, type ReviewSide } from '../../src/review.ts';
import { readMlmodelSummary } from '../../src/signature.ts';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

test('metric direction: known names, better higher or lower', () => {
  for (const name of ['accuracy', 'auroc', 'f1', 'precision', 'recall', 'r2']) assert.equal(metricDirection(name), 'higher', name);
  for (const name of ['mse', 'rmse', 'mae', 'log_loss']) assert.equal(metricDirection(name), 'lower', name);
});

test('metric direction: prefixed names resolve to the known name, case-insensitively', () => {
  assert.equal(metricDirection('val_auroc'), 'higher');
  assert.equal(metricDirection('test/rmse'), 'lower');
  assert.equal(metricDirection('eval.f1'), 'higher');
  assert.equal(metricDirection('validation_accuracy'), 'higher');
  assert.equal(metricDirection('train:mae'), 'lower');
  assert.equal(metricDirection('AUROC'), 'higher');
  assert.equal(metricDirection('Val_RMSE'), 'lower');
  assert.equal(metricDirection('Test/Log_Loss'), 'lower');
});

test('metric direction: unknown names are undefined', () => {
  // "latency" is known (lower), but not with a suffix.
  assert.equal(metricDirection('latency'), 'lower');
  for (const name of ['latency_p99', 'my_metric', 'val_my_metric', '', 'auroc_delta', 'f1x'])
    assert.equal(metricDirection(name), undefined, name);
});

test('compareMetrics: better, worse and same for higher and lower metrics, in the order given', () => {
  const champion = new Map([
    ['auroc', 0.81],
    ['rmse', 12],
    ['f1', 0.7],
    ['mae', 3],
    ['accuracy', 0.9],
    ['val_loss', 0.5],
  ]);
  const got = compareMetrics(
    [
      ['rmse', 11.5],
      ['auroc', 0.84],
      ['f1', 0.65],
      ['mae', 3.5],
      ['accuracy', 0.9],
      ['val_loss', 0.5],
    ],
    champion,
  );
  assert.deepEqual(got, [
    { name: 'rmse', from: 12, to: 11.5, direction: 'lower', verdict: 'better' },
    { name: 'auroc', from: 0.81, to: 0.84, direction: 'higher', verdict: 'better' },
    { name: 'f1', from: 0.7, to: 0.65, direction: 'higher', verdict: 'worse' },
    { name: 'mae', from: 3, to: 3.5, direction: 'lower', verdict: 'worse' },
    { name: 'accuracy', from: 0.9, to: 0.9, direction: 'higher', verdict: 'same' },
    { name: 'val_loss', from: 0.5, to: 0.5, direction: 'lower', verdict: 'same' },
  ]);
});

test('compareMetrics: no verdict without the champion value or without a known direction', () => {
  const got = compareMetrics(
    [
      ['precision', 0.6],
      ['my_metric', 2],
      ['latency_p99', 40],
    ],
    new Map([
      ['my_metric', 1],
      ['latency_p99', 50],
    ]),
  );
  assert.deepEqual(got, [
    { name: 'precision', from: null, to: 0.6, direction: 'higher', verdict: undefined },
    { name: 'my_metric', from: 1, to: 2, direction: undefined, verdict: undefined },
    { name: 'latency_p99', from: 50, to: 40, direction: undefined, verdict: undefined },
  ]);
  assert.deepEqual(compareMetrics([], new Map([['auroc', 1]])), []);
  // A champion value of 0 is a value, not a missing one.
  assert.deepEqual(compareMetrics([['mse', 0.1]], new Map([['mse', 0]])), [
    { name: 'mse', from: 0, to: 0.1, direction: 'lower', verdict: 'worse' },
  ]);
});

const f = (path: string, size: number, content = path) => ({ path, size, sha256: sha(content) });

test('diffFiles by sha256: added, removed, changed (also at the same size), unchanged counted', () => {
  const before = [f('MLmodel', 400), f('model.pkl', 2000, 'v1'), f('old.json', 50), f('conda.yaml', 120), f('same.txt', 10)];
  const after = [f('MLmodel', 420), f('model.pkl', 2000, 'v2'), f('extra.json', 300), f('conda.yaml', 120), f('same.txt', 10)];
  assert.deepEqual(diffFiles(before, after, 'sha256'), {
    basis: 'sha256',
    added: [{ path: 'extra.json', from: null, to: 300 }],
    removed: [{ path: 'old.json', from: 50, to: null }],
    changed: [
      { path: 'model.pkl', from: 2000, to: 2000 },
      { path: 'MLmodel', from: 400, to: 420 },
    ],
    unchanged: 2,
  });
});

test('diffFiles by size: the same size counts as unchanged whatever the sha256; a side without sha256 is fine', () => {
  const before = [
    { path: 'model.pkl', size: 2000 },
    { path: 'MLmodel', size: 400 },
    { path: 'gone.bin', size: 7 },
  ];
  const after = [f('model.pkl', 2000, 'v2'), f('MLmodel', 401), f('new.bin', 8)];
  assert.deepEqual(diffFiles(before, after, 'size'), {
    basis: 'size',
    added: [{ path: 'new.bin', from: null, to: 8 }],
    removed: [{ path: 'gone.bin', from: 7, to: null }],
    changed: [{ path: 'MLmodel', from: 400, to: 401 }],
    unchanged: 1,
  });
});

test("diffFiles with basis 'none' compares nothing", () => {
  assert.deepEqual(diffFiles([f('a', 1)], [f('b', 2), f('a', 3)], 'none'), {
    basis: 'none',
    added: [],
    removed: [],
    changed: [],
    unchanged: 0,
  });
  assert.deepEqual(diffFiles(undefined, [f('b', 2)], 'none'), { basis: 'none', added: [], removed: [], changed: [], unchanged: 0 });
});

test('diffFiles without a version: every file is added, largest first, then by path', () => {
  const after = [f('b.txt', 10), f('a.txt', 10), f('model.pkl', 5000), f('MLmodel', 400), f('Z', 10)];
  assert.deepEqual(diffFiles(undefined, after, 'sha256'), {
    basis: 'sha256',
    added: [
      { path: 'model.pkl', from: null, to: 5000 },
      { path: 'MLmodel', from: null, to: 400 },
      // Equal sizes: by path in code-unit order (upper case first).
      { path: 'Z', from: null, to: 10 },
      { path: 'a.txt', from: null, to: 10 },
      { path: 'b.txt', from: null, to: 10 },
    ],
    removed: [],
    changed: [],
    unchanged: 0,
  });
});

test('diffFiles sorts changed and removed files by their larger side', () => {
  const before = [f('grew', 10), f('shrank', 900), f('mid', 500), f('r-small', 1), f('r-big', 1000)];
  const after = [f('grew', 1000, 'x'), f('shrank', 5, 'y'), f('mid', 500, 'z')];
  const d = diffFiles(before, after, 'sha256');
  assert.deepEqual(
    d.changed.map((x) => x.path),
    ['grew', 'shrank', 'mid'],
  );
  assert.deepEqual(
    d.removed.map((x) => x.path),
    ['r-big', 'r-small'],
  );
});

// ---- buildReview + reviewJson ----

const MLMODEL = `artifact_path: model
flavors:
  python_function:
    loader_module: mlflow.sklearn
    model_path: model.pkl
    python_version: 3.12.3
  sklearn:
    pickled_model: model.pkl
    serialization_format: cloudpickle
    sklearn_version: 1.8.0
mlflow_version: 2.22.4
model_uuid: 5b1c0a3e2f6d4b8a9c7e1d2f3a4b5c6d
signature:
  inputs: '[{"type": "double", "name": "tenure", "required": true}, {"type": "long", "name": "age", "required": true}]'
  outputs: '[{"type": "tensor", "tensor-spec": {"dtype": "int64", "shape": [-1]}}]'
  params: null
`;

const REQUIREMENTS = `mlflow==2.22.4
cloudpickle==3.1.1
numpy==2.2.6
scikit-learn==1.8.0
scipy==1.15.3
`;

const FILES: ManifestEntry[] = [f('MLmodel', 640), f('model.pkl', 20480), f('requirements.txt', 80), f('conda.yaml', 240)];

/** One side; cast because `after` needs sha256 on every file, which a test of the size basis leaves out on `before`. */
const side = (over: Partial<ReviewSide> = {}) =>
  ({
    files: FILES,
    requirements: { 'requirements.txt': REQUIREMENTS },
    mlmodel: readMlmodelSummary(MLMODEL),
    metrics: new Map([
      ['auroc', 0.81],
      ['rmse', 12.5],
    ]),
    ...over,
  }) as ReviewSide & { files: ManifestEntry[] };

const champion = { alias: 'champion', version: '3', source: 'mlflow-artifacts:/2/r3/artifacts/model', runId: 'r3' };

const review = (p: Partial<Parameters<typeof buildReview>[0]> = {}) =>
  buildReview({
    modelName: 'churn',
    compareTo: 'champion',
    against: champion,
    before: side(),
    after: side(),
    metrics: [
      ['auroc', 0.81],
      ['rmse', 12.5],
    ],
    basis: 'sha256',
    notes: [],
    ...p,
  });

const json = (p: Partial<Parameters<typeof buildReview>[0]> = {}) => JSON.parse(reviewJson(review(p))) as Record<string, unknown>;

const noColumns = { added: [], removed: [], changed: [] };
const unchanged = {
  against: { alias: 'champion', version: '3' },
  changed: false,
  files: { added: [], removed: [], changed: [], compared: 'sha256' },
  requirements: { added: [], removed: [], changed: [] },
  signature: { inputs: noColumns, outputs: noColumns },
  flavors: { added: [], removed: [] },
  metrics: [
    { name: 'auroc', from: 0.81, to: 0.81, better: 'higher', verdict: 'same' },
    { name: 'rmse', from: 12.5, to: 12.5, better: 'lower', verdict: 'same' },
  ],
};

test('the review JSON has the documented keys, in order', () => {
  const text = reviewJson(review());
  assert.deepEqual(Object.keys(JSON.parse(text)), ['against', 'changed', 'files', 'requirements', 'signature', 'flavors', 'metrics']);
  assert.doesNotMatch(text, /\n/, 'one line, as an output');
});

test('identical sides: nothing changed', () => {
  const r = review();
  assert.equal(r.changed, false);
  assert.equal(r.files.unchanged, 4);
  assert.deepEqual(json(), unchanged);
});

test('no version behind the alias: against is null, changed, every file, requirement, column and flavor new', () => {
  const got = json({
    against: null,
    before: undefined,
    basis: 'none',
    metrics: [
      ['auroc', 0.84],
      ['my_metric', 3],
    ],
  });
  assert.deepEqual(got, {
    against: null,
    changed: true,
    // The basis given is ignored without a version: every file is listed as added.
    files: { added: ['model.pkl', 'MLmodel', 'conda.yaml', 'requirements.txt'], removed: [], changed: [], compared: 'sha256' },
    requirements: {
      added: ['cloudpickle==3.1.1', 'mlflow==2.22.4', 'numpy==2.2.6', 'scikit-learn==1.8.0', 'scipy==1.15.3'],
      removed: [],
      changed: [],
    },
    signature: {
      inputs: {
        added: [
          { name: 'tenure', type: 'double' },
          { name: 'age', type: 'long' },
        ],
        removed: [],
        changed: [],
      },
      outputs: { added: [{ name: '[0]', type: 'tensor(int64, [-1])' }], removed: [], changed: [] },
    },
    flavors: { added: ['python_function', 'sklearn'], removed: [] },
    metrics: [
      { name: 'auroc', from: null, to: 0.84, better: 'higher' },
      { name: 'my_metric', from: null, to: 3 },
    ],
  });
});

test('a metric change alone makes the review changed', () => {
  const got = json({
    metrics: [
      ['auroc', 0.84],
      ['rmse', 12.5],
    ],
  });
  assert.deepEqual(got, {
    ...unchanged,
    changed: true,
    metrics: [
      { name: 'auroc', from: 0.81, to: 0.84, better: 'higher', verdict: 'better' },
      { name: 'rmse', from: 12.5, to: 12.5, better: 'lower', verdict: 'same' },
    ],
  });
  // A metric the champion's run does not have is a change too; one of unknown direction has no better/verdict.
  assert.deepEqual(json({ metrics: [['my_metric', 1]] }), {
    ...unchanged,
    changed: true,
    metrics: [{ name: 'my_metric', from: null, to: 1 }],
  });
  // The champion's other metrics are not listed: only those given.
  assert.deepEqual(json({ metrics: [] }), { ...unchanged, metrics: [] });
});

test('a requirements change alone makes the review changed', () => {
  const after = side({
    requirements: {
      'requirements.txt': `mlflow==2.22.4
cloudpickle==3.1.1
numpy==2.2.6
scikit-learn==1.9.1
lightgbm==4.6.0
`,
    },
  });
  assert.deepEqual(json({ after }), {
    ...unchanged,
    changed: true,
    requirements: {
      added: ['lightgbm==4.6.0'],
      removed: ['scipy==1.15.3'],
      changed: [{ name: 'scikit-learn', from: '1.8.0', to: '1.9.1' }],
    },
  });
});

test('a signature change alone makes the review changed', () => {
  const mlmodel = readMlmodelSummary(
    MLMODEL.replace(
      /inputs: '.*'/,
      `inputs: '[{"type": "double", "name": "tenure", "required": true}, {"type": "double", "name": "age", "required": true}, {"type": "string", "name": "plan", "required": false}]'`,
    ),
  );
  assert.equal(mlmodel.signature?.inputs.length, 3, 'the edited MLmodel is read');
  assert.deepEqual(json({ after: side({ mlmodel }) }), {
    ...unchanged,
    changed: true,
    signature: {
      inputs: { added: [{ name: 'plan', type: 'string (optional)' }], removed: [], changed: [{ name: 'age', from: 'long', to: 'double' }] },
      outputs: noColumns,
    },
  });
});

test('a flavor change alone makes the review changed', () => {
  const mlmodel = readMlmodelSummary(MLMODEL.replace(/ {2}sklearn:\n(?: {4}.*\n)+/, ''));
  assert.deepEqual(mlmodel.flavors, ['python_function']);
  assert.deepEqual(json({ after: side({ mlmodel }) }), { ...unchanged, changed: true, flavors: { added: [], removed: ['sklearn'] } });
});

test('a file change alone makes the review changed; by size, changed stays true: contents were not compared', () => {
  const edited = FILES.map((e) => (e.path === 'model.pkl' ? f('model.pkl', 20480, 'retrained') : e));
  assert.deepEqual(json({ after: side({ files: edited }) }), {
    ...unchanged,
    changed: true,
    files: { added: [], removed: [], changed: ['model.pkl'], compared: 'sha256' },
  });
  const listing = side({ files: FILES.map(({ path, size }) => ({ path, size })) });
  assert.deepEqual(json({ before: listing, after: side({ files: edited }), basis: 'size' }), {
    ...unchanged,
    changed: true,
    files: { added: [], removed: [], changed: [], compared: 'size' },
  });
  const r = review({ after: side({ files: [...FILES, f('extra.json', 30)] }), basis: 'none' });
  assert.equal(r.changed, true, 'files that could not be compared are not reported unchanged');
  assert.deepEqual(JSON.parse(reviewJson(r)).files, { added: [], removed: [], changed: [], compared: 'none' });
});

test('a part of the version that could not be read is not compared, never taken as empty, and makes changed true', () => {
  const r = review({
    before: side({ files: FILES, requirements: {}, mlmodel: undefined, unread: new Set(['requirements', 'MLmodel', 'metrics'] as const) }),
    after: side({ files: FILES }),
  });
  const out = JSON.parse(reviewJson(r)) as {
    changed: boolean;
    requirements: unknown;
    signature: unknown;
    flavors: unknown;
    metrics: Array<{ from: unknown }>;
  };
  assert.equal(out.changed, true);
  assert.deepEqual(out.requirements, { added: [], removed: [], changed: [] });
  assert.deepEqual(out.flavors, { added: [], removed: [] });
  assert.deepEqual(out.signature, {
    inputs: { added: [], removed: [], changed: [] },
    outputs: { added: [], removed: [], changed: [] },
  });
  assert.ok(out.metrics.every((m) => m.from === null));
  assert.deepEqual(r.notes, [
    'The requirements of version 3 could not be read: not compared.',
    'The MLmodel file of version 3 could not be read: not compared.',
    'The metrics of version 3 could not be read: not compared.',
  ]);
});

test('the review keeps what the summary needs beside the JSON', () => {
  const r = review({ notes: ['The registered version has no stored manifest.'] });
  assert.equal(r.modelName, 'churn');
  assert.equal(r.compareTo, 'champion');
  assert.deepEqual(r.against, champion);
  assert.deepEqual(r.notes, ['The registered version has no stored manifest.']);
  assert.doesNotMatch(reviewJson(r), /mlflow-artifacts|r3|manifest/, 'source, run id and notes are not in the output');
});
