// The example workflows in examples/workflows/ are meant to be copied as they are, so each
// must pass GitHub's own workflow parser, give the action only inputs that action.yml has
// (read here at run time) and values its input validation accepts, hand secrets only to the
// action's secret inputs, pin every third-party action to a commit, and appear verbatim in
// docs/workflows.md. The action steps in the README (the quick start) pass the same input checks.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parse } from 'yaml';
import { parseInputs, readRawInputs } from '../../src/inputs.ts';
import { actionInputs, inputProblems, modeOf, scriptProblems, text, workflowErrors } from '../support/workflows.ts';
import type { ActionUse, Step, Workflow } from '../support/workflows.ts';

const root = new URL('../../', import.meta.url);
const ACTION = 'hokusai-protocol/register-model-action@';
/** Each example and the modes its steps use the action in, in order. */
const EXPECTED_MODES: Record<string, string[]> = {
  'promote.yml': ['promote'],
  'register.yml': ['register'],
  'register-s3.yml': ['register'],
  'verify.yml': ['verify', 'verify', 'register'],
};
const SECRET_INPUTS = new Set(['api-key', 'tracking-password', 'github-token']);
const SECRET_EXPRESSION = /^\$\{\{\s*secrets\.[A-Za-z_][A-Za-z0-9_]*\s*\}\}$/;
const SHA = '0123456789abcdef0123456789abcdef01234567';
/**
 * What the runner would put in place of each expression the examples give the action (an
 * expression missing here fails the test). Variant n of every entry goes together: n = 0 a
 * push or release event (repository variables unset), n = 1 promote.yml run by hand with a
 * version, and register-s3.yml with HOKUSAI_ARTIFACT_STORE set.
 */
const STAND_INS: Record<string, string[]> = {
  'secrets.HOKUSAI_API_KEY': ['fake-key-examples-0000'],
  'github.sha': [SHA],
  'github.token': ['fake-token-examples-0000'],
  'inputs.version': ['', '7'],
  "inputs.version == '' && github.sha || ''": [SHA, ''],
  'vars.HOKUSAI_ARTIFACT_STORE': ['', 's3://acme-models/hokusai'],
  'steps.train.outputs.metrics': ['auroc=0.84\nrmse=0.31\n'],
};
/** Actions that GitHub itself publishes, and this action: the examples follow their major tags. */
const FIRST_PARTY = /^(actions\/[\w.-]+|hokusai-protocol\/register-model-action)@/;

const exampleNames = (): string[] =>
  readdirSync(new URL('examples/workflows/', root))
    .filter((f) => f.endsWith('.yml'))
    .sort();
const readExample = (name: string): string => readFileSync(new URL(`examples/workflows/${name}`, root), 'utf8');

/** Every step that uses this action, with where it is. */
function actionUses(wf: Workflow): ActionUse[] {
  return Object.entries(wf.jobs ?? {}).flatMap(([id, job]) =>
    (job.steps ?? []).flatMap((step, i) =>
      step.uses?.startsWith(ACTION) ? [{ where: `jobs.${id}.steps[${i}]`, job, with: step.with ?? {} }] : [],
    ),
  );
}

/** Every string in a parsed YAML document, with its path. */
function strings(node: unknown, path: string): [string, string][] {
  if (typeof node === 'string') return [[path, node]];
  if (Array.isArray(node)) return node.flatMap((item, i) => strings(item, `${path}[${i}]`));
  if (node && typeof node === 'object')
    return Object.entries(node).flatMap(([key, value]) => strings(value, path ? `${path}.${key}` : key));
  return [];
}

/** Secrets anywhere but `${{ secrets.NAME }}`, whole, in a secret input of the action. */
function secretProblems(wf: Workflow): string[] {
  const secretInputs = new Set(
    actionUses(wf).flatMap((use) =>
      Object.keys(use.with)
        .filter((key) => SECRET_INPUTS.has(key))
        .map((key) => `${use.where}.with.${key}`),
    ),
  );
  const problems: string[] = [];
  for (const [path, value] of strings(wf, '')) {
    if (secretInputs.has(path)) {
      const ok = SECRET_EXPRESSION.test(value) || (path.endsWith('.github-token') && /^\$\{\{\s*github\.token\s*\}\}$/.test(value));
      if (!ok) problems.push(`${path}: a secret input takes exactly \${{ secrets.NAME }}, not "${value}"`);
    } else if (/\bsecrets\./.test(value)) {
      problems.push(`${path}: secrets go only to the action's secret inputs (${[...SECRET_INPUTS].join(', ')})`);
    }
  }
  return problems;
}

/**
 * Third-party actions (not GitHub's actions/* and not this one) pinned to a full commit sha
 * with the release it is (`# vX.Y.Z`), so that a moved tag cannot change what runs with the
 * job's credentials. Read from the text, since YAML parsing drops comments; the parsed
 * `uses:` count makes sure no `uses:` is missed.
 */
function pinProblems(content: string): string[] {
  const lines = [...content.matchAll(/^\s*(?:-\s+)?uses:\s*(\S+)[ \t]*(#.*)?$/gm)];
  const wf = parse(content) as Workflow;
  const parsed = Object.values(wf.jobs ?? {}).flatMap((job) => (job.steps ?? []).filter((step) => step.uses !== undefined)).length;
  const problems = lines.length === parsed ? [] : [`found ${lines.length} "uses:" lines for ${parsed} steps with uses`];
  for (const [, ref = '', comment = ''] of lines) {
    if (ref.startsWith('./') || FIRST_PARTY.test(ref)) continue;
    if (!/^[\w.-]+\/[\w./-]+@[0-9a-f]{40}$/.test(ref)) problems.push(`${ref}: pin a third-party action by a full 40-hex commit sha`);
    else if (!/^#\s*v\d+\.\d+\.\d+\s*$/.test(comment)) problems.push(`${ref}: add the release as a "# vX.Y.Z" comment`);
  }
  return problems;
}

const AWS_CREDENTIALS = 'aws-actions/configure-aws-credentials@';

/**
 * Least privilege is declared; the comment has the permission it needs; a role assumed with
 * GitHub's OIDC token has "id-token: write"; no pull_request_target.
 */
function permissionProblems(wf: Workflow): string[] {
  const problems: string[] = [];
  if (!wf.permissions || typeof wf.permissions !== 'object') problems.push('the workflow sets no "permissions:" mapping');
  const events = typeof wf.on === 'string' ? [wf.on] : Array.isArray(wf.on) ? wf.on : Object.keys(wf.on ?? {});
  if (events.includes('pull_request_target')) problems.push('pull_request_target runs fork code with secrets: use pull_request');
  for (const use of actionUses(wf)) {
    if (use.with.comment !== true && use.with.comment !== 'true') continue;
    const granted = (use.job.permissions ?? wf.permissions) as Record<string, string> | undefined;
    if (granted?.['pull-requests'] !== 'write') problems.push(`${use.where}: comment: true needs "pull-requests: write"`);
  }
  for (const [id, job] of Object.entries(wf.jobs ?? {}))
    (job.steps ?? []).forEach((step, i) => {
      const w = step.with ?? {};
      const oidc =
        step.uses?.startsWith(AWS_CREDENTIALS) && w['role-to-assume'] && !w['aws-access-key-id'] && !w['web-identity-token-file'];
      const granted = (job.permissions ?? wf.permissions) as Record<string, string> | undefined;
      if (oidc && granted?.['id-token'] !== 'write')
        problems.push(`jobs.${id}.steps[${i}]: role-to-assume with GitHub's OIDC token needs "id-token: write"`);
    });
  return problems;
}

/**
 * The action's inputs as the runner would pass them, one set per stand-in variant: the step's
 * `with:` over action.yml's defaults, expressions evaluated.
 */
function asRunnerWould(use: ActionUse): ReturnType<typeof readRawInputs>[] {
  const variants = Math.max(...Object.values(STAND_INS).map((v) => v.length));
  const given = { ...Object.fromEntries([...actionInputs()].filter(([, value]) => value !== undefined)), ...use.with };
  return Array.from({ length: variants }, (_, n) => {
    const env: Record<string, string> = {};
    for (const [key, value] of Object.entries(given)) {
      env[`INPUT_${key.toUpperCase()}`] = text(value).replace(/\$\{\{\s*(.*?)\s*\}\}/g, (_match, expr: string) => {
        const values = STAND_INS[expr];
        assert.ok(values, `${use.where}.with.${key}: add a stand-in for \${{ ${expr} }} to STAND_INS`);
        return values[Math.min(n, values.length - 1)]!;
      });
    }
    return readRawInputs(env);
  });
}

/** Where the examples are shown, each under a "## … `NAME.yml`" heading. */
const WORKFLOWS_DOC = 'docs/workflows.md';

/** The ```yaml block under each "## … `NAME.yml`" heading of docs/workflows.md. */
function docBlocks(doc: string): Map<string, string> {
  const blocks = new Map<string, string>();
  for (const sub of doc.split(/^## /m).slice(1)) {
    const name = /`([\w.-]+\.yml)`/.exec(sub.slice(0, sub.indexOf('\n')))?.[1];
    const block = /^```yaml\n([\s\S]*?)^```$/m.exec(sub)?.[1];
    if (name && block !== undefined) blocks.set(name, block);
  }
  return blocks;
}

/** Examples whose copy in docs/workflows.md is missing or differs from the file. */
function docDrift(doc: string, files: Map<string, string>): string[] {
  const blocks = docBlocks(doc);
  return [...files].filter(([name, content]) => blocks.get(name) !== content).map(([name]) => name);
}

const examples = (): [string, string, Workflow][] =>
  exampleNames().map((name) => {
    const content = readExample(name);
    return [name, content, parse(content) as Workflow];
  });

test('examples/workflows holds the example workflows', () => {
  assert.deepEqual(exampleNames(), Object.keys(EXPECTED_MODES).sort());
});

test("every example passes GitHub's workflow parser with no errors", async () => {
  for (const [name, content] of examples()) assert.deepEqual(await workflowErrors(name, content), [], name);
});

test('the parser check fails on broken workflows (a bad top-level key, event, job key, expression or YAML)', async () => {
  const good = readExample('register.yml');
  const breaks: [string, string, RegExp][] = [
    ['\npermissions:', '\npermisions:', /Unexpected value 'permisions'/],
    ['\n  push:', '\n  pushed:', /Unexpected value 'pushed'/],
    ['runs-on:', 'run-on:', /Required property is missing: runs-on/],
    ['${{ secrets.HOKUSAI_API_KEY }}', '${{ secret.HOKUSAI_API_KEY }}', /Unrecognized named-value: 'secret'/],
    ['${{ secrets.HOKUSAI_API_KEY }}', '${{ secrets.HOKUSAI_API_KEY || }}', /Unexpected end of expression/],
    ['branches: [main]', 'branches: [main', /Flow sequence|must be sufficiently indented/],
  ];
  for (const [from, to, expected] of breaks) {
    const broken = good.replace(from, to);
    assert.notEqual(broken, good, `"${from}" is not in register.yml`);
    const errors = await workflowErrors('broken.yml', broken);
    assert.ok(
      errors.some((e) => expected.test(e)),
      `${from} -> ${to}: expected ${expected}, got ${JSON.stringify(errors)}`,
    );
  }
});

test('every use of the action gives only inputs of action.yml, and what its mode needs', () => {
  const inputs = actionInputs();
  for (const [name, , wf] of examples()) {
    const uses = actionUses(wf);
    assert.deepEqual(uses.map(modeOf), EXPECTED_MODES[name], name);
    assert.deepEqual(
      uses.flatMap((use) => inputProblems(use, inputs)),
      [],
      name,
    );
  }
});

test('the values given to the action pass its own input validation, as the runner would pass them', () => {
  const ctx = { cwd: '/work/repo', repository: 'acme/churn' };
  for (const [name, , wf] of examples())
    for (const use of actionUses(wf))
      for (const raw of asRunnerWould(use)) assert.doesNotThrow(() => parseInputs(raw, ctx), `${name} ${use.where}`);
});

test('secrets reach the action only as ${{ secrets.* }}; scripts get expressions only through env', () => {
  for (const [name, , wf] of examples()) {
    assert.deepEqual(secretProblems(wf), [], name);
    assert.deepEqual(scriptProblems(wf), [], name);
    assert.deepEqual(permissionProblems(wf), [], name);
  }
});

test('every third-party action in the examples is pinned by a full commit sha with a "# vX.Y.Z" comment', () => {
  for (const name of exampleNames()) assert.deepEqual(pinProblems(readExample(name)), [], name);
  assert.ok(
    examples().some(([, content]) => content.includes(AWS_CREDENTIALS)),
    'an example uses aws-actions/configure-aws-credentials',
  );
});

test('the pin check fails on a tag, a branch, a short sha or a missing version comment of a third-party action', () => {
  const sha = 'e6de054238d6b7531b4efff3b6587d9aade6a06c';
  const content = `
jobs:
  j:
    steps:
      - uses: actions/checkout@v5
      - uses: ${ACTION}v1
      - uses: ./
      - uses: aws-actions/configure-aws-credentials@v6
      - uses: aws-actions/configure-aws-credentials@main # v6.2.3
      - uses: aws-actions/configure-aws-credentials@e6de054 # v6.2.3
      - uses: aws-actions/configure-aws-credentials@${sha}
      - name: named first
        uses: aws-actions/configure-aws-credentials@${sha} # v6
      - uses: aws-actions/configure-aws-credentials@${sha} # v6.2.3
`;
  assert.deepEqual(pinProblems(content), [
    'aws-actions/configure-aws-credentials@v6: pin a third-party action by a full 40-hex commit sha',
    'aws-actions/configure-aws-credentials@main: pin a third-party action by a full 40-hex commit sha',
    'aws-actions/configure-aws-credentials@e6de054: pin a third-party action by a full 40-hex commit sha',
    `aws-actions/configure-aws-credentials@${sha}: add the release as a "# vX.Y.Z" comment`,
    `aws-actions/configure-aws-credentials@${sha}: add the release as a "# vX.Y.Z" comment`,
  ]);
  assert.deepEqual(pinProblems('jobs:\n  j:\n    steps: [{ uses: aws-actions/configure-aws-credentials@v6 }]\n'), [
    'found 0 "uses:" lines for 1 steps with uses',
  ]);
});

test('the step checks catch unknown inputs, missing model inputs, stray secrets, inline expressions and missing permissions (also id-token for OIDC)', () => {
  const bad = parse(`
on: pull_request_target
jobs:
  j:
    permissions:
      contents: read
    steps:
      - uses: ${ACTION}v1
        with:
          mode: register
          api_key: \${{ secrets.HOKUSAI_API_KEY }}
          api-key: fake-key-pasted-in-0000
          model-name: m
          comment: true
      - uses: ${ACTION}v1
        with:
          mode: promot
      - run: echo "\${{ steps.x.outputs.model-uri }}"
        env:
          KEY: \${{ secrets.HOKUSAI_API_KEY }}
      - uses: aws-actions/configure-aws-credentials@v6
        with:
          role-to-assume: arn:aws:iam::123456789012:role/r
`) as Workflow;
  assert.deepEqual(
    actionUses(bad).flatMap((use) => inputProblems(use, actionInputs())),
    [
      'jobs.j.steps[0]: "api_key" is not an input in action.yml',
      'jobs.j.steps[0]: register mode needs "model-path"',
      'jobs.j.steps[1]: mode "promot" is not register, verify or promote',
    ],
  );
  assert.deepEqual(secretProblems(bad), [
    "jobs.j.steps[0].with.api_key: secrets go only to the action's secret inputs (api-key, tracking-password, github-token)",
    'jobs.j.steps[0].with.api-key: a secret input takes exactly ${{ secrets.NAME }}, not "fake-key-pasted-in-0000"',
    "jobs.j.steps[2].env.KEY: secrets go only to the action's secret inputs (api-key, tracking-password, github-token)",
  ]);
  assert.deepEqual(scriptProblems(bad), ['jobs.j.steps[2].run: pass expressions through env, not inline']);
  assert.deepEqual(permissionProblems(bad), [
    'the workflow sets no "permissions:" mapping',
    'pull_request_target runs fork code with secrets: use pull_request',
    'jobs.j.steps[0]: comment: true needs "pull-requests: write"',
    'jobs.j.steps[3]: role-to-assume with GitHub\'s OIDC token needs "id-token: write"',
  ]);
});

test('the input validation check fails on a value the action refuses', () => {
  const wf = parse(readExample('register.yml').replace('benchmark-metric: auroc', 'benchmark-metric: auroc2')) as Workflow;
  const [use] = actionUses(wf);
  assert.ok(use);
  assert.throws(() => parseInputs(asRunnerWould(use)[0]!, { cwd: '/work/repo', repository: 'acme/churn' }), /benchmark-metric/);
});

test(`${WORKFLOWS_DOC} shows every example verbatim under its heading`, () => {
  const files = new Map(exampleNames().map((name) => [name, readExample(name)]));
  const doc = readFileSync(new URL(WORKFLOWS_DOC, root), 'utf8');
  assert.deepEqual([...docBlocks(doc).keys()].sort(), [...files.keys()]);
  assert.deepEqual(docDrift(doc, files), []);
  // A copy one character off is caught.
  const drifted = doc.replace('aliases: champion', 'aliases: champion2');
  assert.notEqual(drifted, doc);
  assert.deepEqual(docDrift(drifted, files), ['promote.yml']);
});

/** The README's ```yaml blocks that use the action, each a list of steps, as one workflow. */
function readmeSteps(readme: string): Workflow {
  const blocks = [...readme.matchAll(/^```yaml\n([\s\S]*?)^```$/gm)].map((m) => parse(m[1]!) as unknown);
  const steps = blocks.filter((b): b is Step[] => Array.isArray(b)).flat();
  return { jobs: { readme: { steps } } };
}

test("the README's action steps (the quick start first) give only inputs of action.yml, valid values, and secrets only as ${{ secrets.* }}", () => {
  const readme = readFileSync(new URL('README.md', root), 'utf8');
  const wf = readmeSteps(readme);
  const uses = actionUses(wf);
  assert.ok(uses.length >= 2, 'the README shows the quick start and the plain MLflow step');
  assert.deepEqual(uses[0]!.with['api-key'], '${{ secrets.HOKUSAI_API_KEY }}', 'the quick start takes the key from a secret');
  assert.deepEqual(
    uses.flatMap((use) => inputProblems(use, actionInputs())),
    [],
  );
  assert.deepEqual(secretProblems(wf), []);
  const ctx = { cwd: '/work/repo', repository: 'acme/churn' };
  for (const use of uses) for (const raw of asRunnerWould(use)) assert.doesNotThrow(() => parseInputs(raw, ctx), use.where);
});

test("the README's review step is verify.yml's, word for word", () => {
  const readme = readFileSync(new URL('README.md', root), 'utf8');
  const block = [...readme.matchAll(/^```yaml\n([\s\S]*?)^```$/gm)].map((m) => m[1]!).find((b) => b.includes('compare-to:'));
  assert.ok(block, 'the README shows the review step');
  // In verify.yml the step sits in a job's steps, six spaces in.
  const indented = block
    .split('\n')
    .map((line) => (line ? `      ${line}` : line))
    .join('\n');
  assert.ok(readExample('verify.yml').includes(indented), 'the README copy differs from verify.yml');
});
