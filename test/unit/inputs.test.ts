import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parse } from 'yaml';
import { ActionError } from '../../src/errors.ts';
import { INPUT_DEFAULTS, INPUT_NAMES, parseInputs, parseSize, readRawInputs, type RawInputs } from '../../src/inputs.ts';

const ctx = { cwd: '/work/repo', repository: 'acme/churn' };
const base = (over: Partial<RawInputs> = {}): RawInputs => ({
  ...readRawInputs({}),
  'api-key': 'hk_fake_key_0000',
  'model-path': 'model',
  'model-name': 'churn',
  ...over,
});

function problems(raw: RawInputs, context = ctx): string {
  try {
    parseInputs(raw, context);
  } catch (e) {
    assert.ok(e instanceof ActionError);
    assert.equal(e.step, 'Read inputs');
    return e.message;
  }
  assert.fail('expected the inputs to be rejected');
}

test('defaults give a Hokusai config with the model path resolved against the workspace', () => {
  const cfg = parseInputs(base(), ctx);
  assert.equal(cfg.mode, 'register');
  assert.equal(cfg.trackingUri.href, 'https://registry.hokus.ai/api/mlflow');
  assert.equal(cfg.authUrl?.href, 'https://auth.hokus.ai/');
  assert.equal(cfg.serviceId, 'platform');
  assert.equal(cfg.modelPath, '/work/repo/model');
  assert.equal(cfg.experimentName, 'acme/churn');
  assert.equal(cfg.artifactPath, 'model');
  assert.equal(cfg.awaitTimeoutSeconds, 300);
  assert.deepEqual(cfg.tags, []);
  assert.deepEqual(cfg.aliases, []);
});

test('action.yml declares exactly the inputs the code reads, with the same defaults', () => {
  const action = parse(readFileSync(new URL('../../action.yml', import.meta.url), 'utf8')) as {
    inputs: Record<string, { default?: string }>;
  };
  assert.deepEqual(Object.keys(action.inputs).sort(), [...INPUT_NAMES].sort());
  for (const name of INPUT_NAMES) {
    const declared = action.inputs[name]?.default ?? '';
    // An expression such as ${{ github.token }} only the runner can fill in: outside it, the input is empty.
    assert.equal(declared.startsWith('${{') ? '' : declared, INPUT_DEFAULTS[name] ?? '', `default of ${name}`);
  }
});

test('INPUT_* variables: unset inputs take defaults, an empty auth-url stays empty', () => {
  const raw = readRawInputs({ 'INPUT_AUTH-URL': '', 'INPUT_MODEL-NAME': '  m  ' });
  assert.equal(raw['auth-url'], '');
  assert.equal(raw['tracking-uri'], 'https://registry.hokus.ai/api/mlflow');
  assert.equal(raw['model-name'], 'm');
  const cfg = parseInputs({ ...raw, 'model-path': 'x', 'api-key': '' }, ctx);
  assert.equal(cfg.authUrl, undefined);
  assert.equal(cfg.apiKey, undefined);
});

test('tracking-uri keeps its path prefix and loses a trailing slash', () => {
  const cfg = parseInputs(base({ 'tracking-uri': 'http://127.0.0.1:5000/api/mlflow/' }), ctx);
  assert.equal(cfg.trackingUri.href, 'http://127.0.0.1:5000/api/mlflow');
});

test('every problem is reported at once, each naming its input', () => {
  const msg = problems(
    base({ 'model-path': '', 'model-name': '', 'tracking-uri': 'registry.hokus.ai', 'await-timeout': 'soon', 'api-key': '' }),
  );
  assert.match(msg, /5 inputs are invalid/);
  for (const name of ['model-path', 'model-name', 'tracking-uri', 'await-timeout', 'api-key']) assert.match(msg, new RegExp(`- ${name}: `));
  assert.match(msg, /secrets\.HOKUSAI_API_KEY/);
});

test('bad URLs are explained', () => {
  assert.match(problems(base({ 'tracking-uri': 'ftp://x/y' })), /tracking-uri: .*uses ftp/);
  assert.match(problems(base({ 'tracking-uri': 'https://user:pw@x/api' })), /tracking-uri: .*credentials/);
  assert.match(problems(base({ 'auth-url': 'not a url' })), /auth-url: "not a url" is not a URL/);
  assert.match(problems(base({ mode: 'deploy' })), /mode: must be "register"/);
  assert.match(problems(base({ 'model-name': 'team/churn' })), /model-name: must not contain "\/" or ":"/);
});

test('an empty api-key is fine only when key validation is off', () => {
  assert.match(problems(base({ 'api-key': '' })), /api-key: is empty/);
  assert.equal(parseInputs(base({ 'api-key': '', 'auth-url': '' }), ctx).apiKey, undefined);
});

test('tags: one key=value per line, validated', () => {
  const cfg = parseInputs(base({ tags: 'team = search\n\nstage=dev=1\n' }), ctx);
  assert.deepEqual(cfg.tags, [
    ['team', 'search'],
    ['stage', 'dev=1'],
  ]);
  assert.match(problems(base({ tags: 'novalue' })), /tags: line 1 \("novalue"\) is not key=value/);
  assert.match(problems(base({ tags: 'a=1\na=2' })), /given twice/);
  assert.match(problems(base({ tags: 'bad!key=1' })), /letters, digits/);
  assert.match(problems(base({ tags: 'git_sha=mine' })), /"git_sha" is set by the action itself/);
  assert.match(problems(base({ tags: 'mlflow.user=bob' })), /"mlflow\.user" is set by the action itself/);
});

test('aliases: commas or newlines, deduplicated, reserved names refused', () => {
  assert.deepEqual(parseInputs(base({ aliases: 'staging, canary\nstaging' }), ctx).aliases, ['staging', 'canary']);
  assert.match(problems(base({ aliases: 'latest' })), /reserved/);
  assert.match(problems(base({ aliases: 'v3' })), /reserved/);
  assert.match(problems(base({ aliases: 'prod env' })), /not a valid alias/);
});

test('artifact-path must be a plain relative path', () => {
  assert.equal(parseInputs(base({ 'artifact-path': './nested/model/' }), ctx).artifactPath, 'nested/model');
  assert.match(problems(base({ 'artifact-path': '../up' })), /artifact-path: must be a relative path/);
  assert.match(problems(base({ 'artifact-path': 'a%41b' })), /artifact-path: the part "a%41b" has a percent-escape/);
  assert.match(problems(base({ 'artifact-path': 'm/q?x' })), /artifact-path: the part "q\?x" has "\?"/);
  assert.match(problems(base({ 'artifact-path': ' model' })), /artifact-path: the part " model" has a leading space/);
  assert.equal(parseInputs(base({ 'artifact-path': 'model 100%' }), ctx).artifactPath, 'model 100%');
});

test('experiment-name falls back to the repository, and must not end up empty', () => {
  assert.equal(parseInputs(base({ 'experiment-name': 'exp' }), ctx).experimentName, 'exp');
  assert.throws(() => parseInputs(base(), { cwd: '/', repository: undefined }), /experiment-name: is empty/);
});

test('http:// is refused for hosts other than this machine unless allow-insecure-http', () => {
  assert.match(
    problems(base({ 'tracking-uri': 'http://registry.example.com/api/mlflow' })),
    /tracking-uri: uses http:\/\/ to a host that is not this machine/,
  );
  assert.match(problems(base({ 'auth-url': 'http://auth.example.com' })), /auth-url: uses http:\/\//);
  parseInputs(base({ 'tracking-uri': 'http://registry.example.com', 'allow-insecure-http': 'true' }), ctx);
  for (const local of ['http://127.0.0.1:5000', 'http://127.3.4.5', 'http://localhost:5000', 'http://LOCALHOST', 'http://[::1]:5000'])
    parseInputs(base({ 'tracking-uri': local }), ctx);
  // These look local but are resolved through DNS.
  for (const remote of [
    'http://registry.localhost',
    'http://a.b.localhost:5000',
    'http://localhost.example.com',
    'http://127.0.0.1.nip.io',
  ])
    assert.match(problems(base({ 'tracking-uri': remote })), /tracking-uri: uses http:\/\/ to a host that is not this machine/, remote);
});

test('model-path must not be the root of the file system, however it is written', () => {
  assert.match(problems(base({ 'model-path': '/' })), /model-path: resolves to \/, the root of the file system/);
  assert.match(problems(base({ 'model-path': '.' }), { cwd: '/', repository: 'o/r' }), /model-path: resolves to \/, the root/);
  assert.match(problems(base({ 'model-path': '../..' }), { cwd: '/a', repository: 'o/r' }), /model-path: resolves to \/, the root/);
  assert.equal(parseInputs(base({ 'model-path': './model' }), { cwd: '/', repository: 'o/r' }).modelPath, '/model');
});

test('max-retries is a whole number up to 20', () => {
  assert.equal(parseInputs(base({ 'max-retries': '0' }), ctx).maxRetries, 0);
  assert.match(problems(base({ 'max-retries': 'many' })), /max-retries: must be a whole number/);
  assert.match(problems(base({ 'max-retries': '50' })), /max-retries: must be at most 20/);
});

test('multipart-threshold takes sizes with units; upload-concurrency is bounded', () => {
  assert.equal(parseSize('100MiB'), 100 * 1024 * 1024);
  assert.equal(parseSize('1.5 GB'), 1.5e9);
  assert.equal(parseSize('6291456'), 6291456);
  assert.ok(Number.isNaN(parseSize('lots')));
  assert.equal(parseInputs(base(), ctx).multipartThreshold, 100 * 1024 * 1024);
  assert.match(problems(base({ 'multipart-threshold': '1MiB' })), /multipart-threshold: must be at least 5MiB/);
  assert.match(problems(base({ 'multipart-threshold': 'big' })), /multipart-threshold: must be a size/);
  assert.match(problems(base({ 'upload-concurrency': '0' })), /upload-concurrency: must be at least 1/);
});

const token = { 'token-id': 'xray-2', 'benchmark-metric': 'auroc', 'benchmark-value': '0.82' };

test('token metadata: the id is upper-cased, the proposal defaults to it, the event is on by default', () => {
  const cfg = parseInputs(base(token), ctx);
  assert.deepEqual(cfg.hokusai, { tokenId: 'XRAY-2', metric: 'auroc', value: '0.82', proposalId: 'XRAY-2', notify: true });
  assert.equal(cfg.apiUrl?.href, 'https://api.hokus.ai/');
  assert.equal(parseInputs(base({ ...token, 'proposal-id': 'PROP-7' }), ctx).hokusai?.proposalId, 'PROP-7');
  assert.equal(parseInputs(base(), ctx).hokusai, undefined);
});

test("token metadata: the CLI's token-id rule, known metrics, numeric values in range", () => {
  const bad = (over: Partial<RawInputs>) => problems(base({ ...token, ...over }));
  for (const id of ['-xray', 'xray-', 'x ray', 'x_ray', 'a'.repeat(65)])
    assert.match(bad({ 'token-id': id }), /token-id: must be letters, digits and hyphens/);
  assert.equal(parseInputs(base({ ...token, 'token-id': 'a'.repeat(64) }), ctx).hokusai?.tokenId, 'A'.repeat(64));
  assert.match(bad({ 'benchmark-metric': 'logloss' }), /benchmark-metric: must be one of accuracy, auroc/);
  assert.match(bad({ 'benchmark-value': 'high' }), /benchmark-value: must be a number/);
  assert.match(bad({ 'benchmark-value': '82' }), /benchmark-value: is 82, but auroc is a fraction between 0 and 1/);
  assert.match(bad({ 'benchmark-metric': 'rmse', 'benchmark-value': '0' }), /rmse is an error metric and must be greater than 0/);
  assert.equal(parseInputs(base({ ...token, 'benchmark-metric': 'rmse', 'benchmark-value': '12.5' }), ctx).hokusai?.value, '12.5');
  assert.match(
    bad({ 'benchmark-metric': '', 'benchmark-value': '' }),
    /benchmark-metric: is required with token-id[\s\S]*benchmark-value: is required/,
  );
  assert.match(problems(base({ 'benchmark-metric': 'auroc' })), /benchmark-metric: describes a Hokusai token: set token-id too/);
  assert.match(problems(base({ tags: 'hokusai_token_id=X' })), /is set by the action itself/);
});

test('the registration event needs an API URL and the key', () => {
  assert.match(problems(base({ ...token, 'api-url': '' })), /api-url: is empty, but notify-hokusai is true/);
  assert.match(problems(base({ ...token, 'api-url': 'http://api.example.com' })), /api-url: uses http:\/\//);
  assert.match(
    problems(base({ ...token, 'auth-url': '', 'api-key': '' })),
    /api-key: is empty, but notify-hokusai is true: the registration event is sent with the API key/,
  );
  const quiet = parseInputs(base({ ...token, 'auth-url': '', 'api-key': '', 'notify-hokusai': 'false' }), ctx);
  assert.equal(quiet.hokusai?.notify, false);
});

test('promote: aliases required, version or git-sha (not both), no model path needed', () => {
  const promote = (over: Partial<RawInputs>) => base({ mode: 'promote', 'model-path': '', aliases: 'champion', ...over });
  const cfg = parseInputs(promote({ version: '12' }), ctx);
  assert.equal(cfg.mode, 'promote');
  assert.equal(cfg.version, '12');
  assert.equal(cfg.gitSha, undefined);
  const sha = 'a'.repeat(40);
  assert.equal(parseInputs(promote({ 'git-sha': sha }), ctx).gitSha, sha);
  assert.match(problems(promote({ aliases: '' })), /aliases: is empty: promote points aliases at an existing version/);
  assert.match(problems(promote({ version: '3', 'git-sha': sha })), /version: and git-sha are both set/);
  assert.match(problems(promote({ version: 'v3' })), /version: must be a version number/);
  assert.match(problems(promote({ 'git-sha': 'abc1234' })), /git-sha: must be a full commit sha/);
  assert.match(problems(promote({ 'model-name': '' })), /model-name: is required/);
  assert.match(problems(promote({ 'api-key': '' })), /api-key: is empty/);
  // With token metadata, promote announces the version: aliases become optional.
  assert.equal(parseInputs(promote({ ...token, aliases: '', version: '2' }), ctx).hokusai?.tokenId, 'XRAY-2');
  assert.match(problems(base({ mode: 'verify', ...token })), /token-id: applies to mode: register or promote/);
  assert.match(problems(base({ version: '3' })), /version: applies to mode: promote only/);
});

test('comment needs a token; the token input is read like any other', () => {
  assert.match(problems(base({ comment: 'true' })), /github-token: is empty, but comment is true/);
  const cfg = parseInputs(base({ comment: 'true', 'github-token': 'fake-gh-token' }), ctx);
  assert.equal(cfg.comment, true);
  assert.equal(cfg.githubToken, 'fake-gh-token');
  assert.equal(parseInputs(base(), ctx).uploadReceipt, true);
});

test('benchmark ranges match the platform for r2 and engagement_score too', () => {
  const with_ = (metric: string, value: string) => base({ ...token, 'benchmark-metric': metric, 'benchmark-value': value });
  assert.match(problems(with_('r2', '1.5')), /r2 is at most 1/);
  assert.equal(parseInputs(with_('r2', '-3'), ctx).hokusai?.value, '-3');
  assert.match(problems(with_('engagement_score', '-1')), /engagement_score cannot be negative/);
  assert.equal(parseInputs(with_('engagement_score', '42'), ctx).hokusai?.value, '42');
});

test('metrics: one name=value per line, numbers, in the order given', () => {
  assert.deepEqual(parseInputs(base(), ctx).metrics, []);
  const cfg = parseInputs(base({ metrics: '\nauroc = 0.84\n\n  val/rmse=1e-3 \r\ndelta=-2\nf1 =.5\nlog_loss= +1.25E2\n  \n' }), ctx);
  assert.deepEqual(cfg.metrics, [
    ['auroc', 0.84],
    ['val/rmse', 0.001],
    ['delta', -2],
    ['f1', 0.5],
    ['log_loss', 125],
  ]);
  assert.deepEqual(parseInputs(base({ metrics: 'test.f1: macro=1' }), ctx).metrics, [['test.f1: macro', 1]]);
});

test('metrics: each bad line is reported, naming metrics and the line', () => {
  const metric = (text: string) => problems(base({ metrics: text }));
  assert.match(metric('auroc 0.84'), /- metrics: line 1 \("auroc 0\.84"\) is not name=value/);
  assert.match(metric('auroc=1\n=0.5'), /- metrics: line 2 \("=0\.5"\) is not name=value/);
  assert.match(metric('auroc=1\n  = 0.5'), /- metrics: line 2 \("= 0\.5"\) is not name=value/);
  for (const name of ['auc!', 'métrique', 'a"b', 'a\tb'])
    assert.match(metric(`${name}=1`), /- metrics: line 1 \(.*\): the name may hold only letters, digits/, name);
  assert.match(metric(`${'m'.repeat(251)}=1`), /- metrics: line 1 .*: the name may hold only .* at most 250 characters/);
  for (const value of ['abc', '0.8x', 'NaN', 'Infinity', '-Infinity', '1e999', '', '0x10', '1,5', '1..2', '.'])
    assert.match(
      metric(`auroc=${value}`),
      new RegExp(`- metrics: line 1 \\(.*\\): "${value.replace(/\./g, '\\.')}" is not a number`),
      value,
    );
  assert.match(metric('auroc=0.8\nf1=0.7\nauroc=0.9'), /- metrics: line 3 \("auroc=0\.9"\): the metric "auroc" is given twice/);
});

test('metrics: every problem is reported together, with the other inputs', () => {
  const msg = problems(base({ metrics: 'auroc 0.84\nf1=abc\nauroc=1\nauroc=2\nbad!=1', 'await-timeout': 'soon', 'compare-to': 'latest' }));
  // One line per problem: four metrics lines (line 3 is fine), await-timeout, compare-to.
  assert.match(msg, /6 inputs are invalid/);
  assert.doesNotMatch(msg, /line 3/);
  assert.match(msg, /- metrics: line 1 \("auroc 0\.84"\) is not name=value/);
  assert.match(msg, /- metrics: line 2 \("f1=abc"\): "abc" is not a number/);
  assert.match(msg, /- metrics: line 4 \("auroc=2"\): the metric "auroc" is given twice/);
  assert.match(msg, /- metrics: line 5 \("bad!=1"\): the name may hold only/);
  assert.match(msg, /- await-timeout: /);
  assert.match(msg, /- compare-to: /);
});

test('metrics: at most 1000', () => {
  const lines = (n: number) => Array.from({ length: n }, (_, i) => `m${i}=${i}`).join('\n');
  assert.equal(parseInputs(base({ metrics: lines(1000) }), ctx).metrics.length, 1000);
  assert.match(problems(base({ metrics: lines(1001) })), /- metrics: has more than 1000 metrics/);
});

test('compare-to: an alias, champion by default', () => {
  assert.equal(parseInputs(base(), ctx).compareTo, 'champion');
  assert.equal(parseInputs(base({ 'compare-to': 'staging-2_a' }), ctx).compareTo, 'staging-2_a');
  for (const bad of ['latest', 'Latest', 'v3', 'V12', 'a b', '', 'prod/1', 'a'.repeat(256)])
    assert.match(problems(base({ 'compare-to': bad })), /- compare-to: must be an alias such as "champion"/, bad);
  assert.equal(parseInputs(base({ 'compare-to': 'a'.repeat(255) }), ctx).compareTo, 'a'.repeat(255));
  assert.equal(parseInputs(base({ 'compare-to': 'v' }), ctx).compareTo, 'v');
});

test('verify: model-path needs model-name; without model-path neither is needed', () => {
  const verify = (over: Partial<RawInputs>) => base({ mode: 'verify', 'api-key': '', ...over });
  assert.match(problems(verify({ 'model-name': '' })), /- model-name: is required with model-path in verify mode/);
  const review = parseInputs(verify({ metrics: 'auroc=0.84', 'compare-to': 'staging' }), ctx);
  assert.equal(review.modelPath, '/work/repo/model');
  assert.equal(review.modelName, 'churn');
  assert.deepEqual(review.metrics, [['auroc', 0.84]]);
  assert.equal(review.compareTo, 'staging');
  const bare = parseInputs(verify({ 'model-path': '', 'model-name': '' }), ctx);
  assert.equal(bare.mode, 'verify');
  assert.equal(bare.modelPath, '');
  assert.equal(bare.modelName, '');
});

test('metrics in promote mode are refused; register logs them', () => {
  const promote = base({ mode: 'promote', 'model-path': '', aliases: 'champion', version: '3', metrics: 'auroc=0.84' });
  assert.match(problems(promote), /an input is invalid:\n {2}- metrics: applies to mode: register .* or to verify with model-path/);
  assert.match(
    problems({ ...promote, metrics: 'auroc=oops' }),
    /- metrics: line 1 .*is not a number[\s\S]*- metrics: applies to mode: register/,
  );
  assert.deepEqual(parseInputs({ ...promote, metrics: ' \n ' }, ctx).metrics, []);
  assert.deepEqual(parseInputs(base({ metrics: 'auroc=0.84' }), ctx).metrics, [['auroc', 0.84]]);
  // verify: only with model-path, where the review compares them.
  const verify = base({ mode: 'verify', 'model-path': '', metrics: 'auroc=0.84' });
  assert.match(problems(verify), /- metrics: applies to mode: register .* or to verify with model-path/);
  assert.deepEqual(parseInputs({ ...verify, 'model-path': 'model' }, ctx).metrics, [['auroc', 0.84]]);
});

test('metric names MLflow would refuse at log-batch are refused up front; too many is said once', () => {
  for (const name of ['a//b', './a', 'a/', '/a', 'a/../b', '..', '.'])
    assert.match(problems(base({ metrics: `${name}=1` })), /- metrics: line 1 .*is not a plain path/, name);
  assert.deepEqual(parseInputs(base({ metrics: 'val/auroc=1\ntest.f1=2' }), ctx).metrics, [
    ['val/auroc', 1],
    ['test.f1', 2],
  ]);
  const many = Array.from({ length: 1005 }, (_, i) => `m${i}=${i}`).join('\n');
  assert.equal(problems(base({ metrics: many })).match(/more than 1000 metrics/g)?.length, 1);
});
