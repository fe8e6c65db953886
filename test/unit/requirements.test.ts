import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  diffRequirements,
  MAX_REQUIREMENTS,
  parseCondaYaml,
  parsePythonEnv,
  parseRequirementsTxt,
  type RequirementFiles,
} from '../../src/requirements.ts';

// As MLflow 3.17.2 writes them for mlflow.sklearn.save_model on iris (inferred requirements).
const MLFLOW_REQUIREMENTS_TXT = `mlflow==3.17.2
numpy==2.4.6
pandas==3.1.1
scikit-learn==1.9.1
scipy==1.17.1
skops==0.16.0`;

const MLFLOW_CONDA_YAML = `channels:
- conda-forge
dependencies:
- python=3.11.7
- pip<=23.2.1
- pip:
  - mlflow==3.17.2
  - numpy==2.4.6
  - pandas==3.1.1
  - scikit-learn==1.9.1
  - scipy==1.17.1
  - skops==0.16.0
name: mlflow-env
`;

const MLFLOW_PYTHON_ENV_YAML = `python: 3.11.7
build_dependencies:
- pip==23.2.1
- setuptools==65.5.0
- wheel
dependencies:
- -r requirements.txt
`;

const pins = (text: string) => parseRequirementsTxt(text).map((r) => [r.key, r.pin]);

test('requirements.txt as MLflow writes it: plain pins', () => {
  const reqs = parseRequirementsTxt(MLFLOW_REQUIREMENTS_TXT);
  assert.equal(reqs.length, 6);
  assert.deepEqual(reqs[3], { name: 'scikit-learn', key: 'scikit-learn', pin: '1.9.1', text: 'scikit-learn==1.9.1' });
});

test('specifiers of every kind, spaced or not, and unpinned names', () => {
  assert.deepEqual(pins('a == 1.0\nb>=1.2, <2\nc~=1.4\nd!=1.5\ne===1.0\nf<3\ng>1\nh\ni<=2.0\nj (>=1.0)\nk==1.*\n'), [
    ['a', '1.0'],
    ['b', '>=1.2,<2'],
    ['c', '~=1.4'],
    ['d', '!=1.5'],
    ['e', '===1.0'],
    ['f', '<3'],
    ['g', '>1'],
    ['h', ''],
    ['i', '<=2.0'],
    ['j', '>=1.0'],
    ['k', '==1.*'],
  ]);
  assert.equal(parseRequirementsTxt('b >= 1.2 , < 2')[0]!.text, 'b>=1.2,<2');
});

test('extras and markers keep the rest after the name in the pin, with spacing normalized', () => {
  const [r] = parseRequirementsTxt(`pandas [ pyarrow , excel ] >= 1.2 ,<2 ;python_version<'3.12'`);
  assert.deepEqual(r, {
    name: 'pandas',
    key: 'pandas',
    pin: '[pyarrow,excel]>=1.2,<2; python_version < "3.12"',
    text: 'pandas[pyarrow,excel]>=1.2,<2; python_version < "3.12"',
  });
  // A plain pin with a marker is no plain pin.
  assert.equal(parseRequirementsTxt('numpy==2.0; sys_platform == "linux"')[0]!.pin, '==2.0; sys_platform == "linux"');
  assert.equal(parseRequirementsTxt('x[a]==1.0')[0]!.pin, '[a]==1.0');
  // The same marker however spaced or quoted reads the same.
  assert.equal(
    parseRequirementsTxt('y==1; (python_version>="3.9" and os_name=="nt")')[0]!.text,
    parseRequirementsTxt("y==1 ; ( python_version >= '3.9' and os_name == 'nt' )")[0]!.text,
  );
});

test('comments: full-line and trailing, but "#" inside a URL is no comment', () => {
  const reqs = parseRequirementsTxt(
    [
      '# generated',
      '   # indented comment',
      'mlflow==3.17.2  # the tracking client',
      'lightgbm==4.6.0\t# tab before',
      'pkg @ https://example.com/pkg-1.0-py3-none-any.whl#sha256=abc123',
      'other @ https://example.com/o.whl#egg=other ; python_version > "3"',
    ].join('\n'),
  );
  assert.deepEqual(
    reqs.map((r) => [r.key, r.pin]),
    [
      ['mlflow', '3.17.2'],
      ['lightgbm', '4.6.0'],
      ['pkg', '@ https://example.com/pkg-1.0-py3-none-any.whl#sha256=abc123'],
      ['other', '@ https://example.com/o.whl#egg=other; python_version > "3"'],
    ],
  );
  assert.equal(reqs[2]!.text, 'pkg @ https://example.com/pkg-1.0-py3-none-any.whl#sha256=abc123');
});

test('line continuations join lines, trailing options included', () => {
  assert.deepEqual(pins('numpy>=1.0,\\\n  <2\nscipy==1.17.1 \\\n  --hash=sha256:aa \\\n  --hash=sha256:bb\nlast\\'), [
    ['numpy', '>=1.0,<2'],
    ['scipy', '1.17.1'],
    ['last', ''],
  ]);
});

test('options lines, bare URLs and paths, and garbage are no requirements', () => {
  assert.deepEqual(
    pins(
      [
        '-r other.txt',
        '--requirement other.txt',
        '-c constraints.txt',
        '--index-url https://pypi.example/simple',
        '--extra-index-url https://x',
        '-e git+https://github.com/x/y.git#egg=y',
        '--find-links ./wheels',
        'https://example.com/z.whl',
        './local/pkg',
        'not a requirement',
        'foo==1.0 --hash=sha256:abc',
        '',
        '   ',
      ].join('\r\n'),
    ),
    [['foo', '1.0']],
  );
});

test('names are compared PEP 503 normalized: Scikit_Learn is scikit-learn', () => {
  const [a] = parseRequirementsTxt('Scikit_Learn==1.9.1');
  const [b] = parseRequirementsTxt('scikit-learn==1.9.1');
  const [c] = parseRequirementsTxt('SCIKIT.-_learn==1.9.1');
  assert.equal(a!.key, 'scikit-learn');
  assert.equal(a!.name, 'Scikit_Learn');
  assert.equal(b!.key, a!.key);
  assert.equal(c!.key, a!.key);
  const diff = diffRequirements({ 'requirements.txt': 'Scikit_Learn==1.8.0\n' }, { 'requirements.txt': 'scikit-learn==1.9.1\n' });
  assert.deepEqual(diff, { added: [], removed: [], changed: [{ name: 'scikit-learn', from: '1.8.0', to: '1.9.1' }] });
});

test('parsing is bounded', () => {
  const many = Array.from({ length: MAX_REQUIREMENTS + 50 }, (_, i) => `p${i}==1`).join('\n');
  assert.equal(parseRequirementsTxt(many).length, MAX_REQUIREMENTS);
  // Beyond 1 MiB the text is ignored.
  const big = `a==1\n${' '.repeat(1024 * 1024)}\nb==2\n`;
  assert.deepEqual(pins(big), [['a', '1']]);
});

test('conda.yaml as MLflow writes it: conda pins, and its pip section parsed as pip requirements', () => {
  const reqs = parseCondaYaml(MLFLOW_CONDA_YAML);
  assert.deepEqual(reqs.slice(0, 3), [
    { name: 'python', key: 'conda:python', pin: '3.11.7', text: 'python=3.11.7' },
    { name: 'pip', key: 'conda:pip', pin: '<=23.2.1', text: 'pip<=23.2.1' },
    { name: 'mlflow', key: 'mlflow', pin: '3.17.2', text: 'mlflow==3.17.2' },
  ]);
  assert.deepEqual(reqs.slice(2), parseRequirementsTxt(MLFLOW_REQUIREMENTS_TXT), 'the pip section reads like requirements.txt');
});

test('conda specs: channels, operators, build strings', () => {
  const reqs = parseCondaYaml(
    'dependencies:\n- conda-forge::Py-Lib=1.0\n- numpy >=1.2\n- scipy==1.17.1\n- libx 1.0 py_0\n- cudatoolkit\n- pip:\n  - -r requirements.txt\n  - lightgbm==4.6.0\n',
  );
  assert.deepEqual(
    reqs.map((r) => [r.key, r.pin, r.text]),
    [
      ['conda:py-lib', '1.0', 'conda-forge::Py-Lib=1.0'],
      ['conda:numpy', '>=1.2', 'numpy>=1.2'],
      ['conda:scipy', '1.17.1', 'scipy==1.17.1'],
      ['conda:libx', '1.0 py_0', 'libx 1.0 py_0'],
      ['conda:cudatoolkit', '', 'cudatoolkit'],
      ['lightgbm', '4.6.0', 'lightgbm==4.6.0'],
    ],
  );
});

test('conda.yaml and python_env.yaml that are not YAML, or not of the expected shape, read as nothing', () => {
  for (const text of [
    '',
    'dependencies: [\n',
    ': : :\n\t- x',
    'just a string',
    '- a\n- b\n',
    'dependencies: python=3.12',
    'dependencies:\n  pip: [a]\n',
    'dependencies:\n- {pip: 5}\n- [nested]\n',
    'a: &a [*a]\n',
    'x: &x [1,2]\ny: [*x,*x,*x,*x,*x,*x,*x,*x,*x,*x]\nz: [*y,*y,*y,*y,*y,*y,*y,*y,*y,*y]\nw: [*z,*z,*z,*z,*z,*z,*z,*z,*z,*z]\n',
  ]) {
    assert.deepEqual(parseCondaYaml(text), [], text);
    assert.ok(Array.isArray(parsePythonEnv(text)), text);
  }
  assert.deepEqual(parsePythonEnv('python: [3]\nbuild_dependencies: {a: 1}\ndependencies: 7\n'), []);
});

test('python_env.yaml as MLflow writes it: the Python version, build dependencies, "-r requirements.txt" skipped', () => {
  assert.deepEqual(parsePythonEnv(MLFLOW_PYTHON_ENV_YAML), [
    { name: 'python', key: 'python', pin: '3.11.7', text: 'python=3.11.7' },
    { name: 'pip', key: 'pip', pin: '23.2.1', text: 'pip==23.2.1' },
    { name: 'setuptools', key: 'setuptools', pin: '65.5.0', text: 'setuptools==65.5.0' },
    { name: 'wheel', key: 'wheel', pin: '', text: 'wheel' },
  ]);
  // A version YAML would read as a number stays as written.
  assert.equal(parsePythonEnv('python: 3.10\n')[0]!.pin, '3.10');
  assert.deepEqual(
    parsePythonEnv('python: "3.12.3"\ndependencies:\n- -r requirements.txt\n- lightgbm==4.6.0\n').map((r) => r.text),
    ['python=3.12.3', 'lightgbm==4.6.0'],
  );
});

test('the example: one changed, one added', () => {
  assert.deepEqual(
    diffRequirements(
      { 'requirements.txt': 'mlflow==3.17.2\nscikit-learn==1.8.0\n' },
      { 'requirements.txt': 'mlflow==3.17.2\nscikit-learn==1.9.1\nlightgbm==4.6.0\n' },
    ),
    { added: ['lightgbm==4.6.0'], removed: [], changed: [{ name: 'scikit-learn', from: '1.8.0', to: '1.9.1' }] },
  );
});

test('added, removed and changed, sorted by name; unpinned reads as (any)', () => {
  assert.deepEqual(
    diffRequirements(
      { 'requirements.txt': 'zeta==1\nBeta==2\nwheel\nalpha==1\nscipy>=1.0\n' },
      { 'requirements.txt': 'alpha==1\nwheel==0.45\nGamma==3\naaa==1\nscipy\nzeta==1\n' },
    ),
    {
      added: ['aaa==1', 'Gamma==3'],
      removed: ['Beta==2'],
      changed: [
        { name: 'scipy', from: '>=1.0', to: '(any)' },
        { name: 'wheel', from: '(any)', to: '0.45' },
      ],
    },
  );
});

test('within one file the last statement of a package wins', () => {
  assert.deepEqual(diffRequirements({ 'requirements.txt': 'numpy==1.0\nnumpy==2.0\n' }, { 'requirements.txt': 'NumPy==2.0\n' }), {
    added: [],
    removed: [],
    changed: [],
  });
});

test('the model directory MLflow writes: each change is shown once, though it is in several files', () => {
  const before: RequirementFiles = {
    'requirements.txt': MLFLOW_REQUIREMENTS_TXT.replace('scikit-learn==1.9.1', 'scikit-learn==1.8.0').replace(
      'skops==0.16.0',
      'cloudpickle==3.1.1',
    ),
    'conda.yaml': MLFLOW_CONDA_YAML.replace('scikit-learn==1.9.1', 'scikit-learn==1.8.0')
      .replace('skops==0.16.0', 'cloudpickle==3.1.1')
      .replace('python=3.11.7', 'python=3.11.6'),
    'python_env.yaml': MLFLOW_PYTHON_ENV_YAML.replace('3.11.7', '3.11.6'),
  };
  const after: RequirementFiles = {
    'requirements.txt': MLFLOW_REQUIREMENTS_TXT,
    'conda.yaml': MLFLOW_CONDA_YAML,
    'python_env.yaml': MLFLOW_PYTHON_ENV_YAML,
  };
  assert.deepEqual(diffRequirements(before, after), {
    added: ['skops==0.16.0'],
    removed: ['cloudpickle==3.1.1'],
    changed: [
      { name: 'python', from: '3.11.6', to: '3.11.7' },
      { name: 'scikit-learn', from: '1.8.0', to: '1.9.1' },
    ],
  });
  assert.deepEqual(diffRequirements(after, after), { added: [], removed: [], changed: [] });
});

test('a file absent on one side counts as empty; files are not compared with each other', () => {
  assert.deepEqual(diffRequirements({}, { 'python_env.yaml': MLFLOW_PYTHON_ENV_YAML }), {
    added: ['pip==23.2.1', 'python=3.11.7', 'setuptools==65.5.0', 'wheel'],
    removed: [],
    changed: [],
  });
  // conda's pip<=23.2.1 and python_env's pip==23.2.1 are different files: no change between them.
  assert.deepEqual(diffRequirements({ 'conda.yaml': MLFLOW_CONDA_YAML }, { 'conda.yaml': MLFLOW_CONDA_YAML, 'python_env.yaml': '' }), {
    added: [],
    removed: [],
    changed: [],
  });
  assert.deepEqual(diffRequirements({ 'requirements.txt': 'a==1\n' }, {}), {
    added: [],
    removed: ['a==1'],
    changed: [],
  });
});
