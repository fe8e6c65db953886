// Which file names the action refuses, established by MLflow's own client: every candidate
// name is logged and downloaded back by the Python client against a real server, and the
// action must refuse exactly the names that do not come back (and accept, register and
// serve back byte for byte all the others), before anything is created.
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { startMlflowServer, type MlflowServer } from '../support/mlflow-server.ts';
import { SUPPORT_DIR } from '../support/paths.ts';
import { pythonJson } from '../support/python.ts';
import { registryState } from '../support/registry-state.ts';
import { runAction } from '../support/run-action.ts';

// Every ASCII punctuation character inside a name, and the places where spaces, dots and
// percent signs might matter; "/" separates directories. Non-ASCII names are checked by
// the serve-back step instead, so only one is here, as a name that must be accepted.
const PUNCTUATION = [...'!"#$%&\'()*+,-.:;<=>?@[\\]^_`{|}~'];
const CANDIDATES = [
  ...PUNCTUATION.map((c) => `p${c}q.txt`),
  ' ',
  '   ',
  ' lead.txt',
  'trail.txt ',
  'in side.txt',
  '...',
  '.hidden',
  'dots..txt',
  'pct%41.txt',
  'pct%2F.txt',
  'pct%25.txt',
  'pct%zz.txt',
  'pct%',
  '?start',
  '#start',
  'tab\tname',
  'del\u007fname',
  'é-non-ascii.txt',
  ' space-dir/inner.txt',
  'q?dir/inner.txt',
  'dir /inner.txt',
  'dir/ inner.txt',
];

interface Roundtrip {
  posix: string;
  windows: string;
}

let mlflow: MlflowServer;
let work: string;
let modelDir: string;
let expectedPath: string;
let client: Record<string, Roundtrip>;

before(async () => {
  work = mkdtempSync(path.join(tmpdir(), 'e2e-names-'));
  mlflow = await startMlflowServer();
  const made = await pythonJson<{ model_dir: string; expected: string }>(path.join(SUPPORT_DIR, 'make_model.py'), [
    path.join(work, 'model'),
  ]);
  modelDir = made.model_dir;
  expectedPath = made.expected;
  client = await pythonJson<Record<string, Roundtrip>>(
    path.join(SUPPORT_DIR, 'name_roundtrip.py'),
    ['--tracking-uri', mlflow.url, JSON.stringify(CANDIDATES)],
    { timeoutMs: 240_000 },
  );
});

after(async () => {
  await mlflow?.stop();
});

/** The model plus one file per name. */
function modelWith(names: readonly string[]): string {
  const dir = mkdtempSync(path.join(work, 'm-'));
  cpSync(modelDir, dir, { recursive: true });
  for (const name of names) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), `payload of ${name}`);
  }
  return dir;
}

const roundTrips = (name: string) => client[name]?.posix === 'ok' && client[name]?.windows === 'ok';

test("MLflow's client loses or fails on the names the action refuses, for each reason", () => {
  assert.deepEqual(Object.keys(client).sort(), [...CANDIDATES].sort());
  // Each reason the action gives, with MLflow's own outcome on this server.
  assert.match(client['p?q.txt']!.posix, /^lost: \['control.txt', 'p'\]/, '"?" starts a query string');
  assert.match(client['?start']!.posix, /^error/);
  assert.match(client['p#q.txt']!.posix, /^lost/, '"#" is refused by the server');
  assert.match(client['#start']!.posix, /^error/);
  assert.match(client['pct%41.txt']!.posix, /^lost: \[.*'pctA.txt'/, 'a percent-escape is decoded');
  assert.match(client['pct%25.txt']!.posix, /^lost: \[.*'pct%.txt'/);
  assert.match(client[' ']!.posix, /^error/, 'a name that is only a space');
  assert.match(client['   ']!.posix, /^error/);
  assert.match(client[' lead.txt']!.posix, /^error/, 'a leading space');
  assert.match(client[' space-dir/inner.txt']!.posix, /^lost/, 'a directory with a leading space');
  assert.match(client['dir/ inner.txt']!.posix, /^error/);
  assert.match(client['tab\tname']!.posix, /^lost: \[.*'tabname'/, 'control characters are renamed');
  assert.match(client['del\u007fname']!.posix, /^lost: \[.*'del%7fname'/);
  // "\" comes back here, but MLflow's client on Windows refuses it when listing.
  assert.equal(client['p\\q.txt']!.posix, 'ok');
  assert.match(client['p\\q.txt']!.windows, /^error/);
  // What round-trips: the rest of ASCII punctuation, spaces inside and at the end, dots, a lone "%".
  for (const ok of ['p%q.txt', 'pct%zz.txt', 'pct%', 'trail.txt ', 'in side.txt', '...', 'dir /inner.txt', 'é-non-ascii.txt'])
    assert.ok(roundTrips(ok), `${JSON.stringify(ok)}: ${JSON.stringify(client[ok])}`);
});

test("the action refuses exactly the names MLflow's client cannot bring back, each one named, before anything is created", async () => {
  const failing = CANDIDATES.filter((n) => !roundTrips(n));
  const before = await registryState(mlflow.url);
  const r = await runAction({
    'tracking-uri': mlflow.url,
    'auth-url': '',
    'model-path': modelWith(CANDIDATES),
    'model-name': 'names-refused',
    'experiment-name': 'names',
  });
  assert.equal(r.code, 1, r.stdout);
  // The annotation's text, decoded as the runner shows it.
  const annotation = r.stdout.split('\n').find((l) => l.startsWith('::error::')) ?? '';
  const message = annotation.replace(/%0A/g, '\n').replace(/%0D/g, '\r').replace(/%25/g, '%');
  assert.match(message, /Validate model directory failed: the model directory has \d+ files that cannot be uploaded/);
  assert.match(message, /what to do: Rename/);
  // Each refused entry is listed once, as a JSON string (a directory stands for the files in it).
  const refused = [...message.matchAll(/^ {2}- ("(?:[^"\\]|\\.)*"): the name has /gm)].map((m) => JSON.parse(m[1]!) as string);
  const refusedCandidates = CANDIDATES.filter((n) => refused.some((p) => n === p || n.startsWith(`${p}/`)));
  assert.deepEqual(refusedCandidates.sort(), [...failing].sort());
  assert.equal(refused.length, failing.length, 'nothing else is refused');
  assert.deepEqual(await registryState(mlflow.url), before, 'nothing was created');
});

test("the names MLflow's client brings back are accepted, registered, and read back byte for byte", async () => {
  const accepted = CANDIDATES.filter(roundTrips);
  assert.ok(accepted.length >= 30, `only ${accepted.length} names round-trip`);
  const dir = modelWith(accepted);
  const r = await runAction({
    'tracking-uri': mlflow.url,
    'auth-url': '',
    'model-path': dir,
    'model-name': 'names-accepted',
    'experiment-name': 'names',
  });
  assert.equal(r.code, 0, r.stdout);
  const back = await pythonJson<{ files_identical: boolean; mismatches: unknown[]; predictions_match: boolean }>(
    path.join(SUPPORT_DIR, 'readback.py'),
    ['--tracking-uri', mlflow.url, '--name', 'names-accepted', '--version', '1', '--original', dir, '--expected', expectedPath],
    { timeoutMs: 180_000 },
  );
  assert.deepEqual(back.mismatches, []);
  assert.equal(back.files_identical, true);
  assert.equal(back.predictions_match, true);
});
