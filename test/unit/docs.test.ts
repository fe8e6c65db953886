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

/** The rows of the markdown table under a "## <heading>": first-column name, then the other cells. */
function tableRows(heading: string): Array<[string, string[]]> {
  const section = readme.split(/^## /m).find((s) => s.startsWith(`${heading}\n`)) ?? '';
  return [...section.matchAll(/^\| `([a-z-]+)` +\|(.*)\|$/gm)].map((m) => [m[1]!, m[2]!.split(' | ').map((c) => c.trim())]);
}
const tableNames = (heading: string) => tableRows(heading).map(([name]) => name);

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

test("the README's Default column shows action.yml's default of every input that has one", () => {
  const defaults = parse(readFileSync(new URL('action.yml', root), 'utf8')) as { inputs: Record<string, { default?: string }> };
  for (const [name, [readmeDefault = '']] of tableRows('Inputs')) {
    const declared = defaults.inputs[name]?.default ?? '';
    if (declared) assert.ok(readmeDefault.includes(`\`${declared}\``), `${name}: README default "${readmeDefault}" is not \`${declared}\``);
    else assert.doesNotMatch(readmeDefault, /^`[^`]+`$/, `${name}: README shows a default that action.yml does not have`);
  }
});
