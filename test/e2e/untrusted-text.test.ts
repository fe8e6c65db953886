// Text the action does not control (what a server says, what an input holds) reaches every
// output channel, and none of them may show the key or let the runner act on a command. A
// front proxy in front of a real MLflow server, and the fake auth service, echo the key in
// every field they control, in every spelling (mixed case, lower-cased by a URL parser,
// percent-encoded, form-encoded), and put workflow commands and bidi controls in them. Each
// test then looks at stdout and stderr (log lines, ::debug::, ::warning::, ::error::),
// $GITHUB_OUTPUT, the job summary, the receipt file and the failure_reason tags in MLflow.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startFakeAuth, type FakeAuth } from '../support/fake-auth.ts';
import { startFrontProxy, type FrontProxy, type FrontProxyOptions } from '../support/front-proxy.ts';
import { startMlflowServer, type MlflowServer } from '../support/mlflow-server.ts';
import { SUPPORT_DIR } from '../support/paths.ts';
import { pythonJson } from '../support/python.ts';
import { registryState } from '../support/registry-state.ts';
import { runAction, runPostStep, type ActionRun } from '../support/run-action.ts';

// Mixed case, and "+" and "=", which percent- and form-encoding change; valid in a host name.
const KEY = 'FakeKey-Untrusted+Text=Mixed_0123';
const SPELLINGS = [
  KEY,
  KEY.toLowerCase(),
  KEY.toUpperCase(),
  encodeURIComponent(KEY),
  encodeURIComponent(KEY).toLowerCase(),
  new URLSearchParams({ k: KEY }).toString().slice(2),
];
/** The key in every spelling, in one string, for a server to echo. */
const ECHO = SPELLINGS.join(' | ');
/** Lines the runner would run as commands if they started a line of the log. */
const INJECTIONS = [
  '::error title=INJECTED::from the server',
  '::set-output name=model-uri::models:/INJECTED/1',
  '  ::stop-commands::INJECTED',
  '##[set-output name=model-uri;]INJECTED',
];
const BIDI = '\u202e';
/** The commands the action issues itself. */
const OWN_COMMANDS = new Set(['add-mask', 'debug', 'warning', 'error', 'notice', 'group', 'endgroup']);

let mlflow: MlflowServer;
let auth: FakeAuth;
let modelDir: string;

before(async () => {
  const work = mkdtempSync(path.join(tmpdir(), 'e2e-untrusted-'));
  const [server, made] = await Promise.all([
    startMlflowServer(),
    pythonJson<{ model_dir: string }>(path.join(SUPPORT_DIR, 'make_model.py'), [path.join(work, 'model')]),
  ]);
  mlflow = server;
  modelDir = made.model_dir;
  // The auth service says the key's scopes, and so controls that log line: it echoes the key and injects.
  auth = await startFakeAuth({
    [KEY]: { service_id: 'platform', scopes: ['read', 'write', ECHO, ...INJECTIONS.map((l) => `x\n${l}`), `evil${BIDI}txt.exe`] },
  });
});

after(async () => {
  await auth?.stop();
  await mlflow?.stop();
});

/** Whether a text holds the key in any spelling, or a 12-character piece of it (a key cut in two), in any letter case. */
function hasKey(text: string): boolean {
  const haystack = text.toLowerCase();
  if (SPELLINGS.some((spelling) => haystack.includes(spelling.toLowerCase()))) return true;
  const key = KEY.toLowerCase();
  for (let i = 0; i + 12 <= key.length; i++) if (haystack.includes(key.slice(i, i + 12))) return true;
  return false;
}

/** A log line as the runner shows it: a command's data and properties are %-escaped (%25 is "%"). */
const shown = (line: string) => line.replace(/%(25|0D|0A|3A|2C)/gi, (escape) => decodeURIComponent(escape));

/** What a log line is, for the report: the workflow command it issues, or a plain log line. */
const kindOf = (line: string) => /^::([a-z-]+)/.exec(line)?.[1] ?? 'log line';

/**
 * Every channel of a main or post step; all problems are reported at once, so a failure names
 * each channel that leaked: the key in a log line (by kind: ::debug::, ::warning::, ::error::…),
 * stderr, the outputs, the summary or the receipt; a line that starts a command the action did
 * not mean to issue, or holds a legacy ##[ command; a raw bidi control.
 */
function problemsOf(r: ActionRun, step = 'the step'): string[] {
  const problems = new Set<string>();
  for (const [stream, text] of [
    ['stdout', r.stdout],
    ['stderr', r.stderr],
  ] as const) {
    for (const line of text.split(/\r\n|\r|\n/)) {
      if (!line.startsWith('::add-mask::') && hasKey(shown(line))) problems.add(`${step}: the key in a ${stream} ${kindOf(line)}`);
      if (line.includes('##[')) problems.add(`${step}: a legacy ##[ command in ${stream}: ${line}`);
      const command = /^[\s\u0085]*::([^\s:]*)([^:]*)::/.exec(line);
      if (command && (!OWN_COMMANDS.has(command[1]!) || command[2]!.includes('INJECTED')))
        problems.add(`${step}: an injected command in ${stream}: ${line}`);
    }
    if (text.includes(BIDI)) problems.add(`${step}: a raw bidi control in ${stream}`);
  }
  if (hasKey(JSON.stringify(r.outputs))) problems.add(`${step}: the key in the outputs`);
  if (hasKey(r.summary)) problems.add(`${step}: the key in the summary`);
  if (r.summary.includes(BIDI)) problems.add(`${step}: a raw bidi control in the summary`);
  const receipt = r.outputs['receipt-path'];
  if (receipt && existsSync(receipt) && hasKey(readFileSync(receipt, 'utf8'))) problems.add(`${step}: the key in the receipt`);
  return [...problems];
}

function assertClean(r: ActionRun, step?: string): void {
  assert.deepEqual(problemsOf(r, step), []);
}

/** Every failure_reason tag MLflow holds, read back. */
async function tagProblems(): Promise<string[]> {
  const state = await registryState(mlflow.url);
  return state.runs.filter((run) => hasKey(run.tags.failure_reason ?? '')).map((run) => `the key in run ${run.run_id}'s failure_reason`);
}

async function assertNoKeyInMlflowTags(): Promise<void> {
  assert.deepEqual(await tagProblems(), []);
}

async function withProxy<T>(opts: Partial<FrontProxyOptions>, fn: (proxy: FrontProxy) => Promise<T>): Promise<T> {
  const proxy = await startFrontProxy({ upstream: mlflow.url, validKeys: [KEY], events: {}, ...opts });
  try {
    return await fn(proxy);
  } finally {
    await proxy.stop();
  }
}

const inputsFor = (proxy: FrontProxy, name: string, extra: Record<string, string> = {}) => ({
  'api-key': KEY,
  'auth-url': auth.url,
  'tracking-uri': proxy.trackingUri,
  'model-path': modelDir,
  'model-name': name,
  'max-retries': '0',
  ...extra,
});

const json = (body: unknown) => ({ headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

describe('a server that echoes the key and injects commands reaches no output channel', () => {
  test('success: the key in the run artifact_uri (so the source), the scopes, the event answer and a set-tag redirect', async () => {
    // An experiment whose artifact location holds the key: the server then puts it in every run's artifact_uri.
    const experiment = `untrusted-success-${Date.now()}`;
    const created = await fetch(`${mlflow.url}/api/2.0/mlflow/experiments/create`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: experiment, artifact_location: `mlflow-artifacts:/${KEY}/runs` }),
    });
    assert.equal(created.status, 200, await created.text());
    await withProxy(
      {
        faults: [
          // The platform's answer names a model id; this one echoes the key and injects.
          {
            service: 'events',
            path: /tokenized-registration-events/,
            status: 200,
            ...json({ status: 'ok', model_id: `${ECHO}\n${INJECTIONS.join('\n')}`, event_emitted: true }),
          },
          // Tagging the version afterwards is refused with a redirect to a host named like the key.
          {
            path: /model-versions\/set-tag/,
            status: 302,
            headers: { location: `https://${KEY}.example.com/${encodeURIComponent(KEY)}?k=${encodeURIComponent(KEY)}` },
          },
        ],
      },
      async (proxy) => {
        const r = await runAction(
          inputsFor(proxy, 'untrusted-success', {
            'experiment-name': experiment,
            'token-id': 'UNTRUSTED',
            'benchmark-metric': 'accuracy',
            'benchmark-value': '0.9',
            'api-url': proxy.url,
          }),
        );
        assert.equal(r.code, 0, r.stdout + r.stderr);
        assertClean(r);
        assert.match(r.outputs.source ?? '', /^mlflow-artifacts:\/\*\*\*\/runs\//);
        assert.match(r.stdout, /^::debug::Run artifact URI: mlflow-artifacts:\/\*\*\*\/runs\//m);
        assert.match(r.stdout, /^::warning::The platform has the event, but version 1 could not be tagged/m);
        assert.ok(existsSync(r.outputs['receipt-path'] ?? ''), 'a receipt was written');
      },
    );
    await assertNoKeyInMlflowTags();
  });

  test('failure: a redirect to a host named like the key, the key straddling the 2,000-character cut; failure_reason read back', async () => {
    // The path repeats the key with one character between copies, so one copy straddles any cut.
    const location = `https://${KEY}.example.com/${`p${KEY}`.repeat(70)}`;
    await withProxy(
      { faults: [{ method: 'PUT', path: /^\/api\/2\.0\/mlflow-artifacts\//, status: 302, headers: { location } }] },
      async (proxy) => {
        const r = await runAction(inputsFor(proxy, 'untrusted-redirect'));
        assert.equal(r.code, 1, r.stdout);
        assert.deepEqual([...problemsOf(r), ...(await tagProblems())], []);
        assert.match(
          r.stdout,
          /^::error::Upload model failed: the server answered with a redirect \(HTTP 302\) to https:\/\/\*\*\*\.example\.com\//m,
        );
        const state = await registryState(mlflow.url);
        const run = state.runs.find((x) => x.run_id === r.state['run-id']);
        assert.equal(run?.status, 'FAILED');
        assert.match(run?.tags.failure_reason ?? '', /^Upload model: the server answered with a redirect/);
      },
    );
    await assertNoKeyInMlflowTags();
  });

  test('the cleanup of a failed run: the warnings of the main step and of the post step, when ending the run is redirected', async () => {
    await withProxy(
      {
        faults: [
          // The failure itself: an error body echoing the key in every spelling.
          { method: 'PUT', path: /^\/api\/2\.0\/mlflow-artifacts\//, status: 400, ...json({ error_code: 'BAD_REQUEST', message: ECHO }) },
          // Ending the run, and reading it back in the post step, are redirected to a host named like the key.
          { path: /runs\/update/, status: 302, headers: { location: `https://${KEY}.example.com/${encodeURIComponent(KEY)}` } },
          { path: /runs\/get/, status: 307, headers: { location: `https://${KEY}.example.com/get` }, times: 1 },
        ],
      },
      async (proxy) => {
        const inputs = inputsFor(proxy, 'untrusted-cleanup');
        const r = await runAction(inputs);
        assert.equal(r.code, 1, r.stdout);
        // The post step: reading the run is redirected (its own warning), then ending it is (endRun's warning).
        const first = await runPostStep(inputs, r.state);
        const second = await runPostStep(inputs, r.state);
        assert.deepEqual(
          [...problemsOf(r, 'the main step'), ...problemsOf(first, 'the first post step'), ...problemsOf(second, 'the second post step')],
          [],
        );
        assert.match(r.stdout, /^::warning::Could not mark MLflow run \w+ as FAILED: the server answered with a redirect/m);
        assert.match(first.stdout, /^::warning::Could not check the MLflow run of this job: the server answered with a redirect/m);
        assert.match(second.stdout, /^::warning::Could not mark MLflow run \w+ as KILLED/m);

        // Then the run can be ended after all: nothing left RUNNING.
        proxy.faults.splice(0);
        const last = await runPostStep(inputs, r.state);
        assert.match(last.stdout, /marked KILLED/);
        assertClean(last, 'the last post step');
      },
    );
    await assertNoKeyInMlflowTags();
  });

  test('server-made ids and names, and an experiment-name input, with commands in them: none starts a line of the log', async () => {
    const experimentId = `7\n${INJECTIONS.join('\n')}`;
    const runId = `r1\r${INJECTIONS.join('\r')}`;
    await withProxy(
      {
        faults: [
          {
            path: /experiments\/get-by-name/,
            status: 200,
            ...json({
              experiment: { experiment_id: experimentId, name: ECHO, artifact_location: 'mlflow-artifacts:/7', lifecycle_stage: 'active' },
            }),
          },
          // The artifact probe would refuse the odd id as a path.
          { method: 'GET', path: /^\/api\/2\.0\/mlflow-artifacts\/artifacts$/, status: 200, ...json({ files: [] }) },
          {
            path: /runs\/create/,
            status: 200,
            ...json({
              run: {
                info: {
                  run_id: runId,
                  run_uuid: runId,
                  experiment_id: experimentId,
                  status: 'RUNNING',
                  artifact_uri: `mlflow-artifacts:/${KEY}/r1/artifacts`,
                },
                data: {},
              },
            }),
          },
        ],
      },
      async (proxy) => {
        const r = await runAction(inputsFor(proxy, 'untrusted-ids', { 'experiment-name': `exp\n${INJECTIONS.join('\n')}${BIDI}` }));
        assert.equal(r.code, 1, r.stdout);
        assertClean(r);
        // The lines are there, visibly escaped: from the experiment id, the run id and the input.
        assert.match(r.stdout, /has id 7\n\\::error title=INJECTED::from the server\n/);
        assert.match(r.stdout, /, run r1\r\\::error title=INJECTED::from the server\r/);
        assert.match(r.stdout, /^\\::error title=INJECTED::from the server/m);
        assert.match(r.stdout, /^\\::set-output name=model-uri::models:\/INJECTED\/1/m);
      },
    );
    await assertNoKeyInMlflowTags();
  });

  test('a URL input with a token in its query, fragment or userinfo: masked, and never shown', async () => {
    const token = 'url-token-Abc123+xyz';
    const problems: string[] = [];
    for (const [input, value] of [
      ['tracking-uri', `https://registry.example.com/api/mlflow?token=${encodeURIComponent(token)}`],
      ['auth-url', `https://auth.example.com/#${token}`],
      ['api-url', `https://someone:${encodeURIComponent(token)}@api.example.com`],
    ] as const) {
      const r = await runAction({ 'api-key': KEY, 'model-path': modelDir, 'model-name': 'untrusted-url', [input]: value });
      assert.equal(r.code, 1, r.stdout);
      assert.match(r.stdout, new RegExp(`^::error::Read inputs failed: an input is invalid:%0A  - ${input}: `, 'm'));
      const channels: Array<[string, string]> = [
        ['stdout', shown(r.visibleStdout)],
        ['summary', r.summary],
        ['outputs', JSON.stringify(r.outputs)],
      ];
      for (const [where, text] of channels)
        if ([token, encodeURIComponent(token)].some((t) => text.toLowerCase().includes(t.toLowerCase())))
          problems.push(`${input}: the token in the ${where}`);
      if (!r.stdout.includes(`::add-mask::${token}`)) problems.push(`${input}: the token is not masked for the runner`);
    }
    assert.deepEqual(problems, []);
  });
});
