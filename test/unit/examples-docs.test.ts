import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { examplePages, README_END, README_START } from '../../scripts/render-examples.ts';
import { examples } from '../support/summary-examples.ts';

const root = new URL('../../', import.meta.url);

test('docs/examples/ and the README example are what npm run examples writes from the renderers', () => {
  const pages = examplePages();
  assert.deepEqual(Object.keys(pages).sort(), [
    'README.md',
    ...['failure', 'pr-comment', 'promote', 'review', 'success', 'verify'].flatMap((n) => [
      `docs/examples/${n}.html`,
      `docs/examples/${n}.md`,
    ]),
  ]);
  for (const [file, content] of Object.entries(pages))
    assert.equal(readFileSync(new URL(file, root), 'utf8'), content, `${file} is stale: run npm run examples`);
});

test('the README shows the success summary byte for byte, between its markers', () => {
  const readme = readFileSync(new URL('README.md', root), 'utf8');
  const block = readme.slice(readme.indexOf(README_START), readme.indexOf(README_END));
  assert.ok(block.includes(examples().success ?? 'missing'), 'the success summary is in the README');
  assert.match(block, /^## ✅ Registered /m);
});

test('a stale README block is rewritten, the text around it kept', () => {
  const stale = `intro\n${README_START}\nold\n${README_END}\noutro\n`;
  const readme = examplePages(stale)['README.md'] ?? '';
  assert.ok(readme.startsWith(`intro\n${README_START}\n`));
  assert.ok(readme.endsWith(`${README_END}\noutro\n`));
  assert.ok(!readme.includes('\nold\n'));
  assert.throws(() => examplePages('no markers'), /no <!-- example:success/);
});
