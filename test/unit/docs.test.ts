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
/** Where the Inputs and Outputs tables live. */
const INPUTS_DOC = 'docs/inputs.md';
const inputsDoc = readFileSync(new URL(INPUTS_DOC, root), 'utf8');

/** The rows of the markdown table under a "## <heading>" of docs/inputs.md: first-column name, then the other cells. */
function tableRows(heading: string): Array<[string, string[]]> {
  const section = inputsDoc.split(/^## /m).find((s) => s.startsWith(`${heading}\n`)) ?? '';
  return [...section.matchAll(/^\| `([a-z-]+)` +\|(.*)\|$/gm)].map((m) => [m[1]!, m[2]!.split(' | ').map((c) => c.trim())]);
}
const tableNames = (heading: string) => tableRows(heading).map(([name]) => name);

test('action.yml runs the committed bundle on node24', () => {
  assert.equal(action.runs.using, 'node24');
  assert.equal(action.runs.main, 'dist/index.js');
});

test(`${INPUTS_DOC} documents exactly the inputs and outputs of action.yml, all described`, () => {
  assert.deepEqual(tableNames('Inputs'), Object.keys(action.inputs));
  assert.deepEqual(tableNames('Outputs'), Object.keys(action.outputs));
  for (const [name, spec] of [...Object.entries(action.inputs), ...Object.entries(action.outputs)])
    assert.ok(spec.description, `${name} has no description`);
  for (const [name, cells] of [...tableRows('Inputs'), ...tableRows('Outputs')])
    assert.ok(cells.at(-1), `${name} has no meaning in ${INPUTS_DOC}`);
});

test(`the Default column of ${INPUTS_DOC} shows action.yml's default of every input that has one`, () => {
  const defaults = parse(readFileSync(new URL('action.yml', root), 'utf8')) as { inputs: Record<string, { default?: string }> };
  for (const [name, [docDefault = '']] of tableRows('Inputs')) {
    const declared = defaults.inputs[name]?.default ?? '';
    if (declared) assert.ok(docDefault.includes(`\`${declared}\``), `${name}: documented default "${docDefault}" is not \`${declared}\``);
    else assert.doesNotMatch(docDefault, /^`[^`]+`$/, `${name}: ${INPUTS_DOC} shows a default that action.yml does not have`);
  }
});
