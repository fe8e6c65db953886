// npm run demo: starts a local MLflow server, registers examples/model through the built
// action (dist/index.js, run as the GitHub runner runs it), then shows the outputs, the
// job summary, a release promoting that version to "champion" (mode: promote), and
// MLflow's own client loading the registered version and predicting.
// Pass --keep to leave the server running for a look at the MLflow UI.
import path from 'node:path';
import { startMlflowServer } from '../test/support/mlflow-server.ts';
import { ROOT, SUPPORT_DIR } from '../test/support/paths.ts';
import { pythonJson } from '../test/support/python.ts';
import { runAction } from '../test/support/run-action.ts';

const keep = process.argv.includes('--keep');
const rule = (title: string) => console.log(`\n\x1b[1m── ${title} ${'─'.repeat(Math.max(0, 70 - title.length))}\x1b[0m`);

rule('Starting a local MLflow server');
const server = await startMlflowServer();
console.log(`MLflow tracking server at ${server.url} (artifacts served through its proxy)`);

let code = 1;
try {
  const inputs = {
    'tracking-uri': server.url,
    'auth-url': '', // a plain MLflow server: no Hokusai key validation
    'model-path': 'examples/model',
    'model-name': 'iris-classifier',
    'experiment-name': 'demo',
    description: 'Logistic regression on the iris data set',
    tags: 'team=demo\ndataset=iris',
    aliases: 'staging',
  };
  rule('Running dist/index.js with these inputs');
  console.log('(as the runner would; GITHUB_* variables simulate a push to acme/churn-model)');
  for (const [k, v] of Object.entries(inputs)) console.log(`  ${k}: ${JSON.stringify(v)}`);

  const r = await runAction(inputs);
  code = r.code ?? 1;
  rule(`Action log (exit code ${r.code})`);
  // As the Actions log shows it: debug lines hidden, groups as headings.
  for (const line of r.visibleStdout.split('\n')) {
    if (line.startsWith('::debug::') || line.startsWith('::endgroup::')) continue;
    console.log(
      line
        .replace(/^::group::/, '▸ ')
        .replace(/^::(error|warning|notice)[^:]*::/, (_, kind: string) => `${kind.toUpperCase()}: `)
        .replace(/%0A/g, '\n'),
    );
  }
  if (r.stderr.trim()) process.stdout.write(r.stderr);

  rule('Outputs (GITHUB_OUTPUT)');
  for (const [k, v] of Object.entries(r.outputs)) console.log(`  ${k.padEnd(14)} ${v}`);

  rule('Job summary (GITHUB_STEP_SUMMARY, markdown)');
  console.log(r.summary);

  if (code === 0) {
    rule('A release: mode promote points "champion" at the version registered for this commit');
    const promoted = await runAction(
      { 'tracking-uri': server.url, 'auth-url': '', mode: 'promote', 'model-name': 'iris-classifier', aliases: 'champion' },
      { eventName: 'release' },
    );
    code = promoted.code ?? 1;
    for (const line of promoted.visibleStdout.split('\n')) if (/^(Version|Alias|Promoted|::error)/.test(line)) console.log(`  ${line}`);
    console.log(`\n${promoted.summary.split('\n### ')[0]}`);
  }

  if (code === 0) {
    rule("MLflow's own Python client reads the version back");
    const back = await pythonJson<{
      files_identical: boolean;
      predictions_match: boolean;
      predictions: unknown[];
      aliases: Record<string, string>;
    }>(
      path.join(SUPPORT_DIR, 'readback.py'),
      [
        '--tracking-uri',
        server.url,
        '--name',
        'iris-classifier',
        '--version',
        r.outputs['model-version'] ?? '',
        '--original',
        path.join(ROOT, 'examples/model'),
        '--expected',
        path.join(ROOT, 'examples/model.expected.json'),
        '--alias',
        'staging',
        '--alias',
        'champion',
      ],
      { timeoutMs: 180_000 },
    );
    console.log(`  files byte-identical: ${back.files_identical}`);
    console.log(`  alias staging → version ${back.aliases.staging}, champion → version ${back.aliases.champion}`);
    console.log(`  predictions on 10 iris rows: ${JSON.stringify(back.predictions)} (as trained: ${back.predictions_match})`);
  }

  if (keep) {
    rule('Server left running');
    console.log(`Open ${r.outputs['version-url'] ?? server.url} ; press Ctrl-C to stop.`);
    await new Promise<void>((resolve) => process.once('SIGINT', () => resolve()));
  }
} finally {
  await server.stop();
}
process.exit(code);
