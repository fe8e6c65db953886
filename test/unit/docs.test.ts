import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { posix } from 'node:path';
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

/** The markdown files whose links are checked: the README and every page under docs/. */
const markdownFiles = (): string[] => [
  'README.md',
  ...readdirSync(new URL('docs/', root))
    .filter((f) => f.endsWith('.md'))
    .sort()
    .map((f) => `docs/${f}`),
];

/**
 * The relative link targets in one markdown file (inline `[text](target)`, images and
 * reference definitions) that name no file or directory of the repository, as
 * "file: target". Code blocks and inline code are skipped; web, mail and in-page links too.
 */
function brokenLinks(file: string, markdown: string, exists: (path: string) => boolean): string[] {
  const prose = markdown.replace(/^(```|~~~)[\s\S]*?^\1/gm, '').replace(/`[^`\n]*`/g, '');
  const targets = [
    ...[...prose.matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((m) => m[1]!),
    ...[...prose.matchAll(/^ {0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)/gm)].map((m) => m[1]!),
  ];
  return targets
    .filter((target) => !/^([a-z][a-z0-9+.-]*:|#|\/\/)/i.test(target))
    .filter((target) => {
      const path = posix.normalize(posix.join(posix.dirname(file), decodeURIComponent(target.split(/[#?]/)[0]!))).replace(/\/$/, '');
      return path.startsWith('../') || !exists(path);
    })
    .map((target) => `${file}: ${target}`);
}

test('every relative link in README.md and docs/*.md points to a file of the repository', () => {
  const exists = (path: string) => existsSync(new URL(path, root));
  assert.ok(markdownFiles().includes(INPUTS_DOC));
  assert.deepEqual(
    markdownFiles().flatMap((file) => brokenLinks(file, readFileSync(new URL(file, root), 'utf8'), exists)),
    [],
  );
});

test('the link check finds missing targets and leaves web links, anchors and code alone', () => {
  const exists = (path: string) => ['README.md', 'docs/inputs.md', 'examples/workflows'].includes(path);
  const markdown = [
    'See [inputs](inputs.md#outputs), [the README](../README.md), [examples](../examples/workflows/) and [Hokusai](https://hokus.ai).',
    'Also [a gap](gone.md), ![a picture](img/missing.png "title"), [up and out](../../outside.md) and [here](#layout).',
    '`[not a link](nowhere.md)`',
    '```md',
    '[in a code block](nowhere.md)',
    '```',
    '[ref]: missing-too.md',
  ].join('\n');
  assert.deepEqual(brokenLinks('docs/page.md', markdown, exists), [
    'docs/page.md: gone.md',
    'docs/page.md: img/missing.png',
    'docs/page.md: ../../outside.md',
    'docs/page.md: missing-too.md',
  ]);
});
