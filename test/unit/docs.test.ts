import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parse } from 'yaml';

const root = new URL('../../', import.meta.url);
const action = parse(readFileSync(new URL('action.yml', root), 'utf8')) as {
  runs: { using: string; main: string };
  inputs: Record<string, { description?: string }>;
  outputs: Record<string, { description?: string }>;
};
const readme = readFileSync(new URL('README.md', root), 'utf8');

/** First-column names of the markdown table under a "## <heading>". */
function tableNames(heading: string): string[] {
  const section = readme.split(/^## /m).find((s) => s.startsWith(`${heading}\n`)) ?? '';
  return [...section.matchAll(/^\| `([a-z-]+)` +\|/gm)].map((m) => m[1]!);
}

test('action.yml runs the committed bundle on node24', () => {
  assert.equal(action.runs.using, 'node24');
  assert.equal(action.runs.main, 'dist/index.js');
});

test('the README documents exactly the inputs and outputs of action.yml, all described', () => {
  assert.deepEqual(tableNames('Inputs'), Object.keys(action.inputs));
  assert.deepEqual(tableNames('Outputs'), Object.keys(action.outputs));
  for (const [name, spec] of [...Object.entries(action.inputs), ...Object.entries(action.outputs)])
    assert.ok(spec.description, `${name} has no description`);
});
