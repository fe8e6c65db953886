import assert from 'node:assert/strict';
import { test } from 'node:test';
import { diffMlmodel, NOTE_AFTER_UNSIGNED, NOTE_BEFORE_UNSIGNED, readMlmodelSummary, type MlmodelSummary } from '../../src/signature.ts';

// As MLflow 3.17.2 writes it for mlflow.sklearn.save_model with infer_signature on iris.
const SKLEARN_MLMODEL = `flavors:
  python_function:
    env:
      conda: conda.yaml
      virtualenv: python_env.yaml
    loader_module: mlflow.sklearn
    model_path: model.skops
    predict_fn: predict
    python_version: 3.11.7
  sklearn:
    code: null
    pickled_model: model.skops
    serialization_format: skops
    sklearn_version: 1.9.1
    skops_trusted_types: null
is_signature_from_type_hint: false
mlflow_version: 3.17.2
model_id: null
model_size_bytes: 11812
model_uuid: 8e9c3f1fcf29466c836c5b08c6b53469
prompts: null
saved_input_example_info:
  artifact_path: input_example.json
  pandas_orient: split
  serving_input_path: serving_input_example.json
  type: dataframe
signature:
  inputs: '[{"type": "double", "name": "sepal length (cm)", "required": true}, {"type":
    "double", "name": "sepal width (cm)", "required": true}, {"type": "double", "name":
    "petal length (cm)", "required": true}, {"type": "double", "name": "petal width
    (cm)", "required": true}]'
  outputs: '[{"type": "tensor", "tensor-spec": {"dtype": "int64", "shape": [-1]}}]'
  params: null
type_hint_from_example: false
utc_time_created: '2026-12-04 11:18:14.741747'
`;

// ModelSignature(...).to_dict() from MLflow 3.17.2: optional, array, object, map, array of object, named tensor.
const NESTED_INPUTS =
  '[{"type": "double", "name": "x", "required": true}, {"type": "string", "name": "s", "required": false}, {"type": "array", "items": {"type": "string"}, "name": "tags", "required": true}, {"type": "object", "properties": {"a": {"type": "long", "required": true}, "b": {"type": "string", "required": false}}, "name": "obj", "required": true}, {"type": "map", "values": {"type": "double"}, "name": "m", "required": true}, {"type": "array", "items": {"type": "object", "properties": {"k": {"type": "long", "required": true}}}, "name": "ao", "required": true}]';
const NESTED_OUTPUTS = '[{"name": "probs", "type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 3]}}]';

const mlmodel = (flavors: string[], inputs?: string, outputs?: string) =>
  `flavors:\n${flavors.map((f) => `  ${f}: {}\n`).join('')}` +
  (inputs === undefined && outputs === undefined
    ? ''
    : `signature:\n  inputs: ${JSON.stringify(inputs ?? null)}\n  outputs: ${JSON.stringify(outputs ?? null)}\n  params: null\n`);

const IRIS_INPUTS = [
  { name: 'sepal length (cm)', type: 'double' },
  { name: 'sepal width (cm)', type: 'double' },
  { name: 'petal length (cm)', type: 'double' },
  { name: 'petal width (cm)', type: 'double' },
];

test('the MLmodel MLflow writes for sklearn: flavors, columns, an unnamed tensor output', () => {
  assert.deepEqual(readMlmodelSummary(SKLEARN_MLMODEL), {
    flavors: ['python_function', 'sklearn'],
    signature: { inputs: IRIS_INPUTS, outputs: [{ name: '[0]', type: 'tensor(int64, [-1])' }] },
  });
});

test('optional columns, nested types and named tensors are rendered compactly', () => {
  assert.deepEqual(readMlmodelSummary(mlmodel(['pyfunc'], NESTED_INPUTS, NESTED_OUTPUTS)).signature, {
    inputs: [
      { name: 'x', type: 'double' },
      { name: 's', type: 'string (optional)' },
      { name: 'tags', type: 'array<string>' },
      { name: 'obj', type: 'object{a: long, b: string (optional)}' },
      { name: 'm', type: 'map<double>' },
      { name: 'ao', type: 'array<object{k: long}>' },
    ],
    outputs: [{ name: 'probs', type: 'tensor(float32, [-1, 3])' }],
  });
  const tensors =
    '[{"type": "tensor", "tensor-spec": {"dtype": "float64", "shape": [-1, 4]}}, {"type": "tensor", "tensor-spec": {"dtype": "uint8", "shape": [-1, 28, 28]}}]';
  assert.deepEqual(readMlmodelSummary(mlmodel(['pyfunc'], tensors)).signature, {
    inputs: [
      { name: '[0]', type: 'tensor(float64, [-1, 4])' },
      { name: '[1]', type: 'tensor(uint8, [-1, 28, 28])' },
    ],
    outputs: [],
  });
});

test('no signature, or one with neither side readable, is undefined', () => {
  assert.deepEqual(readMlmodelSummary(mlmodel(['sklearn'])), { flavors: ['sklearn'], signature: undefined });
  assert.equal(readMlmodelSummary('flavors: {a: {}}\nsignature: null\n').signature, undefined);
  assert.equal(readMlmodelSummary('signature: {inputs: "[bad json", outputs: null}\n').signature, undefined);
  assert.deepEqual(readMlmodelSummary('signature: {inputs: null, outputs: \'[{"type": "long", "name": "y"}]\'}\n').signature, {
    inputs: [],
    outputs: [{ name: 'y', type: 'long' }],
  });
});

test('malformed MLmodel does not throw: whatever could be read', () => {
  for (const text of [
    '',
    ': : [',
    'flavors: [',
    '- a\n- b',
    'just text',
    'flavors: [a, b]\nsignature: [x]\n',
    'flavors: 3\nsignature: {inputs: 5, outputs: {}}\n',
    'a: &a [*a]\n',
  ]) {
    const s = readMlmodelSummary(text);
    assert.deepEqual(s, { flavors: [], signature: undefined }, text);
  }
  // Odd entries in a readable schema still give a column each.
  assert.deepEqual(
    readMlmodelSummary(
      'flavors: {sklearn: {}}\nsignature:\n  inputs: \'[null, 7, {"type": "tensor"}, {"name": "n"}, {"type": "array"}, {"type": "object", "properties": 3}]\'\n',
    ),
    {
      flavors: ['sklearn'],
      signature: {
        inputs: [
          { name: '[0]', type: 'unknown' },
          { name: '[1]', type: 'unknown' },
          { name: '[2]', type: 'tensor(unknown, [])' },
          { name: 'n', type: 'unknown' },
          { name: '[4]', type: 'array<unknown>' },
          { name: '[5]', type: 'object{}' },
        ],
        outputs: [],
      },
    },
  );
  // Deep nesting is cut short rather than recursed into.
  let deep = '{"type": "double"}';
  for (let i = 0; i < 5000; i++) deep = `{"type": "array", "items": ${deep}}`;
  const [col] = readMlmodelSummary(mlmodel(['x'], `[${deep}]`)).signature!.inputs;
  assert.ok(col!.type.startsWith('array<array<'));
  assert.ok(col!.type.length <= 1000);
});

test('no registered version: every flavor and column is added, with no note', () => {
  const after = readMlmodelSummary(SKLEARN_MLMODEL);
  assert.deepEqual(diffMlmodel(undefined, after), {
    flavors: { added: ['python_function', 'sklearn'], removed: [] },
    signature: {
      inputs: { added: IRIS_INPUTS, removed: [], changed: [] },
      outputs: { added: [{ name: '[0]', type: 'tensor(int64, [-1])' }], removed: [], changed: [] },
    },
  });
});

test('the same MLmodel: nothing changed', () => {
  const s = readMlmodelSummary(SKLEARN_MLMODEL);
  const none = { added: [], removed: [], changed: [] };
  assert.deepEqual(diffMlmodel(s, s), {
    flavors: { added: [], removed: [] },
    signature: { inputs: none, outputs: none },
  });
});

test('flavors and columns added, removed and changed, in the order of the files', () => {
  const before = readMlmodelSummary(
    mlmodel(
      ['python_function', 'sklearn'],
      '[{"type": "double", "name": "a"}, {"type": "long", "name": "gone"}, {"type": "double", "name": "b"}, {"type": "string", "name": "c"}]',
      '[{"type": "tensor", "tensor-spec": {"dtype": "int64", "shape": [-1]}}]',
    ),
  );
  const after = readMlmodelSummary(
    mlmodel(
      ['python_function', 'lightgbm'],
      '[{"type": "string", "name": "c", "required": false}, {"type": "double", "name": "new"}, {"type": "double", "name": "a"}, {"type": "float", "name": "b"}]',
      '[{"type": "tensor", "tensor-spec": {"dtype": "float64", "shape": [-1, 3]}}]',
    ),
  );
  assert.deepEqual(diffMlmodel(before, after), {
    flavors: { added: ['lightgbm'], removed: ['sklearn'] },
    signature: {
      inputs: {
        added: [{ name: 'new', type: 'double' }],
        removed: [{ name: 'gone', type: 'long' }],
        changed: [
          { name: 'c', from: 'string', to: 'string (optional)' },
          { name: 'b', from: 'double', to: 'float' },
        ],
      },
      outputs: {
        added: [],
        removed: [],
        changed: [{ name: '[0]', from: 'tensor(int64, [-1])', to: 'tensor(float64, [-1, 3])' }],
      },
    },
  });
});

test('a signature on one side only: a note, and the other side compared as empty', () => {
  const signed = readMlmodelSummary(SKLEARN_MLMODEL);
  const unsigned: MlmodelSummary = { flavors: ['python_function', 'sklearn'], signature: undefined };
  const gained = diffMlmodel(unsigned, signed);
  assert.equal(gained.signatureNote, NOTE_BEFORE_UNSIGNED);
  assert.deepEqual(gained.signature.inputs.added, IRIS_INPUTS);
  assert.deepEqual(gained.flavors, { added: [], removed: [] });
  const lost = diffMlmodel(signed, unsigned);
  assert.equal(lost.signatureNote, NOTE_AFTER_UNSIGNED);
  assert.deepEqual(lost.signature.inputs, { added: [], removed: IRIS_INPUTS, changed: [] });
  assert.deepEqual(lost.signature.outputs.removed, [{ name: '[0]', type: 'tensor(int64, [-1])' }]);
  assert.equal(diffMlmodel(unsigned, unsigned).signatureNote, undefined);
});
