// The repository's own workflows (.github/workflows/) cannot be run here, so what can be
// checked without a runner is: GitHub's parser accepts them, every third-party action is
// pinned to a commit, the action is given only inputs action.yml declares, the self-test runs
// all three modes against a loopback server, and every script and file they name exists.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { parse } from 'yaml';
import { ROOT } from '../support/paths.ts';
import { actionInputs, inputProblems, modeOf, scriptProblems, text, workflowErrors } from '../support/workflows.ts';
import type { ActionUse, Job, Step, Workflow } from '../support/workflows.ts';

const DIR = path.join(ROOT, '.github', 'workflows');
const NAMES = ['check-dist.yml', 'ci.yml', 'self-test.yml'];
const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  scripts: Record<string, string>;
  devDependencies: Record<string, string>;
};
const action = parse(readFileSync(path.join(ROOT, 'action.yml'), 'utf8')) as { runs: { using: string }; outputs: Record<string, unknown> };

const workflowNames = (): string[] =>
  readdirSync(DIR)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort();
const read = (name: string): string => readFileSync(path.join(DIR, name), 'utf8');
const workflows = (): [string, string, Workflow][] => workflowNames().map((name) => [name, read(name), parse(read(name)) as Workflow]);
const steps = (wf: Workflow): [string, Job, Step, number][] =>
  Object.entries(wf.jobs ?? {}).flatMap(([id, job]) => (job.steps ?? []).map((step, i): [string, Job, Step, number] => [id, job, step, i]));

/** Steps that run this repository's action (`uses: ./`). */
const selfUses = (wf: Workflow): ActionUse[] =>
  steps(wf)
    .filter(([, , step]) => step.uses === './')
    .map(([id, job, step, i]) => ({ where: `jobs.${id}.steps[${i}]`, job, with: step.with ?? {} }));

/**
 * Third-party actions not pinned to a full commit sha with the release it is (`# vX.Y.Z`), so
 * that a moved or hijacked tag cannot change what runs, and a reader still sees the version.
 * Read from the text, since YAML parsing drops comments; the parsed `uses:` count makes sure
 * no `uses:` is missed.
 */
function pinProblems(content: string): string[] {
  const lines = [...content.matchAll(/^\s*(?:-\s+)?uses:\s*(\S+)[ \t]*(#.*)?$/gm)];
  const parsed = steps(parse(content) as Workflow).filter(([, , step]) => step.uses !== undefined).length;
  const problems = lines.length === parsed ? [] : [`found ${lines.length} "uses:" lines for ${parsed} steps with uses`];
  for (const [, ref = '', comment = ''] of lines) {
    if (ref.startsWith('./')) continue;
    if (!/^[\w.-]+\/[\w./-]+@[0-9a-f]{40}$/.test(ref)) problems.push(`${ref}: pin by a full 40-hex commit sha`);
    else if (!/^#\s*v\d+\.\d+\.\d+\s*$/.test(comment)) problems.push(`${ref}: add the release as a "# vX.Y.Z" comment`);
  }
  return problems;
}

/** Each action at one commit and one release comment across all workflows. */
function pinsByAction(contents: string[]): Map<string, Set<string>> {
  const pins = new Map<string, Set<string>>();
  for (const content of contents)
    for (const [, name = '', pin = ''] of content.matchAll(/uses:\s*([\w.-]+\/[\w./-]+)@(\S+(?:\s+#\s*\S+)?)/g))
      pins.set(name, (pins.get(name) ?? new Set()).add(pin));
  return pins;
}

/** `npm run X`, `npm run-script X` and `npm test` for which package.json has no script. */
function npmScriptProblems(wf: Workflow, scripts: Record<string, string>): string[] {
  const problems: string[] = [];
  for (const [id, , step, i] of steps(wf))
    for (const [, command, script] of (step.run ?? '').matchAll(/\bnpm\s+(run|run-script|test|t)\b(?:\s+(?:--\S+\s+)*([\w:.-]+))?/g)) {
      const name = command === 'test' || command === 't' ? 'test' : script;
      if (!name || !(name in scripts)) problems.push(`jobs.${id}.steps[${i}]: package.json has no script "${name ?? ''}"`);
    }
  return problems;
}

/** Repository files a step names (scripts, test helpers, examples, requirements) that do not exist. */
function missingPaths(wf: Workflow): string[] {
  const named = steps(wf).flatMap(([, , step]) => [
    ...[...(step.run ?? '').matchAll(/(?<![\w/$])(?:scripts|test|examples)\/[\w./-]*[\w]|\brequirements[\w-]*\.txt\b/g)].map((m) => m[0]),
    ...(step.uses === './' && step.with?.['model-path'] ? [`${text(step.with['model-path'])}/MLmodel`] : []),
  ]);
  return [...new Set(named)].filter((p) => !existsSync(path.join(ROOT, p)));
}

const runs = (wf: Workflow): string =>
  steps(wf)
    .map(([, , step]) => step.run ?? '')
    .join('\n');
const usesOf = (wf: Workflow, name: string): Step[] =>
  steps(wf)
    .map(([, , s]) => s)
    .filter((s) => s.uses?.startsWith(`${name}@`));

test('.github/workflows holds CI, the dist/ check and the self-test', () => {
  assert.deepEqual(workflowNames(), NAMES);
});

test("every workflow passes GitHub's workflow parser with no errors", async () => {
  for (const [name, content] of workflows()) assert.deepEqual(await workflowErrors(name, content), [], name);
});

test('every third-party action is pinned by a full commit sha with a "# vX.Y.Z" comment, the same one everywhere', () => {
  for (const [name, content] of workflows()) assert.deepEqual(pinProblems(content), [], name);
  for (const [name, pins] of pinsByAction(workflows().map(([, content]) => content)))
    assert.equal(pins.size, 1, `${name} is pinned differently: ${[...pins].join(' / ')}`);
});

test('the pin check fails on a tag, a branch, a short sha, a missing or partial version comment', () => {
  const sha = '3d3c42e5aac5ba805825da76410c181273ba90b1';
  const bad = `
jobs:
  j:
    steps:
      - uses: actions/checkout@v7
      - uses: actions/setup-node@main # v7.0.0
      - uses: actions/setup-python@5fda3b9 # v7.0.0
      - uses: actions/upload-artifact@${sha}
      - name: named first
        uses: actions/cache@${sha} # v5
      - uses: actions/labeler@${sha.toUpperCase()} # v6.0.0
      - uses: ./
      - uses: actions/checkout@${sha} # v7.0.1
`;
  assert.deepEqual(pinProblems(bad), [
    'actions/checkout@v7: pin by a full 40-hex commit sha',
    'actions/setup-node@main: pin by a full 40-hex commit sha',
    'actions/setup-python@5fda3b9: pin by a full 40-hex commit sha',
    `actions/upload-artifact@${sha}: add the release as a "# vX.Y.Z" comment`,
    `actions/cache@${sha}: add the release as a "# vX.Y.Z" comment`,
    `actions/labeler@${sha.toUpperCase()}: pin by a full 40-hex commit sha`,
  ]);
  // A `uses:` the line scan cannot see (flow style) is reported, not skipped.
  assert.deepEqual(pinProblems('jobs:\n  j:\n    steps: [{ uses: actions/checkout@v7 }]\n'), [
    'found 0 "uses:" lines for 1 steps with uses',
  ]);
  assert.equal(pinsByAction([bad]).get('actions/checkout')?.size, 2);
});

test('every use of the action (uses: ./) gives only inputs of action.yml, and what its mode needs', () => {
  const inputs = actionInputs();
  for (const [name, , wf] of workflows())
    assert.deepEqual(
      selfUses(wf).flatMap((use) => inputProblems(use, inputs)),
      [],
      name,
    );
  // A misspelt input is caught.
  const wf = parse(read('self-test.yml').replace('auth-url:', 'auth_url:')) as Workflow;
  assert.match(selfUses(wf).flatMap((use) => inputProblems(use, inputs))[0] ?? '', /"auth_url" is not an input in action\.yml/);
});

test('the self-test registers, verifies, registers again and promotes against mlflow server on 127.0.0.1, key validation off', () => {
  const wf = parse(read('self-test.yml')) as Workflow;
  const uses = selfUses(wf);
  assert.deepEqual(uses.map(modeOf), ['register', 'verify', 'register', 'promote']);
  assert.equal(Object.keys(wf.jobs ?? {}).length, 1, 'one job: the server lives only as long as its job');
  const job = Object.values(wf.jobs ?? {})[0]!;
  const resolve = (value: unknown) => text(value).replace(/\$\{\{\s*env\.(\w+)\s*\}\}/g, (_m, name: string) => text(job.env?.[name]));

  const trackingUris = new Set(uses.map((use) => resolve(use.with['tracking-uri'])));
  assert.equal(trackingUris.size, 1);
  const [uri = ''] = trackingUris;
  const port = /^http:\/\/127\.0\.0\.1:(\d+)$/.exec(uri)?.[1];
  assert.ok(port, `tracking-uri "${uri}" is not http://127.0.0.1:PORT`);
  for (const use of uses) {
    // Present and empty: left out, the default (the Hokusai auth service) would apply.
    assert.equal(use.with['auth-url'], '', `${use.where}: auth-url must be '' for a plain MLflow server`);
    assert.equal(use.with['api-key'], undefined, `${use.where}: no key for a plain MLflow server`);
  }
  assert.match(runs(wf), new RegExp(`mlflow server --host 127\\.0\\.0\\.1 --port ${port}\\b`));
  assert.match(runs(wf), /\/health\b/);
  assert.equal(job.env?.TRACKING_URI, uri, 'the server, the action and the read-back use one URI');

  // The MLflow the self-test installs is the one requirements-test.txt pins.
  const grep = /grep -E '([^']+)' requirements-test\.txt/.exec(runs(wf))?.[1];
  assert.ok(grep, 'the install step reads the MLflow pin from requirements-test.txt');
  const pins = readFileSync(path.join(ROOT, 'requirements-test.txt'), 'utf8')
    .split('\n')
    .filter((line) => new RegExp(grep).test(line));
  assert.equal(pins.length, 1);
  assert.match(pins[0]!, /^mlflow(\[[a-z,]+\])?==\d+\.\d+\.\d+$/);

  const [register, , again, promote] = uses;
  assert.equal(text(promote?.with.aliases), 'champion');
  assert.equal(text(again?.with['model-path']), text(register?.with['model-path']));

  // The outputs are checked, each by an id that exists and a name action.yml declares: the
  // version the promotion moved champion to is the one registered.
  const stepIds = steps(wf).map(([, , step]) => step.id);
  const refs = [...read('self-test.yml').matchAll(/steps\.([\w-]+)\.outputs\.([\w-]+)/g)];
  const promoteId = steps(wf).find(([, , step]) => step.uses === './' && step.with?.mode === 'promote')?.[2].id;
  assert.ok(
    refs.some(([ref]) => ref === `steps.${promoteId}.outputs.model-version`),
    'the promoted version is checked',
  );
  for (const [ref, id = '', out = ''] of refs) {
    assert.ok(stepIds.includes(id), `${ref}: no step has id "${id}"`);
    assert.ok(out in action.outputs, `${ref}: action.yml has no output "${out}"`);
  }
  const readback = steps(wf).find(([, , step]) => step.run?.includes('test/support/readback.py'))?.[2];
  assert.ok(readback, "a step reads the version back with MLflow's client (test/support/readback.py)");
  assert.match(text(readback.env?.VERSION), /steps\.register\.outputs\.model-version/);
  assert.match(readback.run ?? '', /--alias champion/);
  assert.match(readback.run ?? '', /@champion/);
});

test('Node 24 for npm, Python 3.11 for the MLflow virtualenv, as the action and package.json have it', () => {
  assert.equal(action.runs.using, 'node24');
  assert.match(pkg.devDependencies.node ?? '', /^\^24\./, 'the "node" dev dependency that runs the npm scripts');
  for (const [name, , wf] of workflows()) {
    const node = usesOf(wf, 'actions/setup-node');
    const python = usesOf(wf, 'actions/setup-python');
    for (const step of node) assert.equal(text(step.with?.['node-version']), '24', name);
    for (const step of python) assert.equal(text(step.with?.['python-version']), '3.11', name);
    if (/\bnpm\b/.test(runs(wf))) assert.equal(node.length, 1, `${name} runs npm: set up Node 24`);
    if (/scripts\/setup\.sh|npm test|mlflow/.test(runs(wf))) assert.equal(python.length, 1, `${name} makes a virtualenv: set up Python`);
  }
});

test('the commands and files the workflows name exist: npm scripts in package.json, paths in the repository', () => {
  for (const [name, , wf] of workflows()) {
    assert.deepEqual(npmScriptProblems(wf, pkg.scripts), [], name);
    assert.deepEqual(missingPaths(wf), [], name);
  }
  const ci = runs(parse(read('ci.yml')) as Workflow);
  for (const script of ['format:check', 'lint', 'typecheck']) assert.match(ci, new RegExp(`npm run ${script}\\b`));
  assert.match(ci, /\bnpm test\b/);
  // Caught: a script that is not in package.json, and a file that is not in the repository.
  const bad = parse(`
jobs:
  j:
    steps:
      - run: npm run --silent format:fix && npm test
      - run: bash scripts/check-dist.sh && bash scripts/nothing-here.sh
`) as Workflow;
  assert.deepEqual(npmScriptProblems(bad, pkg.scripts), ['jobs.j.steps[0]: package.json has no script "format:fix"']);
  assert.deepEqual(missingPaths(bad), ['scripts/nothing-here.sh']);
});

test('check-dist rebuilds with scripts/check-dist.sh and uploads the expected dist/ when it differs', () => {
  const wf = parse(read('check-dist.yml')) as Workflow;
  assert.match(pkg.scripts['check-dist'] ?? '', /scripts\/check-dist\.sh/);
  const check = steps(wf).find(([, , step]) => /npm run check-dist\b|scripts\/check-dist\.sh/.test(step.run ?? ''))?.[2];
  assert.ok(check?.id, 'the check step has an id, for the upload condition');
  const [upload] = usesOf(wf, 'actions/upload-artifact');
  assert.ok(upload, 'an upload-artifact step');
  assert.match(text(upload.if), new RegExp(`failure\\(\\) && steps\\.${check.id}\\.outcome == 'failure'`));
  assert.equal(text(upload.with?.path).replace(/\/$/, ''), 'dist');
});

test('least privilege, a timeout per job, superseded pull-request runs cancelled, checkout without stored credentials', () => {
  for (const [name, , wf] of workflows()) {
    assert.deepEqual(wf.permissions, { contents: 'read' }, name);
    const on = wf.on as Record<string, { branches?: string[] } | null>;
    assert.ok('pull_request' in on && !('pull_request_target' in on), `${name}: runs on pull_request, never pull_request_target`);
    assert.deepEqual(on.push?.branches, ['main'], name);
    assert.deepEqual(
      wf.concurrency,
      {
        group: '${{ github.workflow }}-${{ github.event.pull_request.number || github.ref }}',
        'cancel-in-progress': "${{ github.event_name == 'pull_request' }}",
      },
      name,
    );
    for (const [id, job] of Object.entries(wf.jobs ?? {})) {
      assert.equal(job.permissions, undefined, `${name} jobs.${id}: no job-level permissions`);
      assert.ok(Number(job['timeout-minutes']) > 0 && Number(job['timeout-minutes']) <= 60, `${name} jobs.${id}: timeout-minutes`);
    }
    for (const step of usesOf(wf, 'actions/checkout')) assert.equal(step.with?.['persist-credentials'], false, name);
    assert.deepEqual(scriptProblems(wf), [], name);
  }
});
