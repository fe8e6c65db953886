// npm run examples: writes one job summary or comment of each kind (success, failure, verify,
// promote, PR comment) to docs/examples/, as the markdown the action writes and as the HTML
// GitHub's parser (cmark-gfm) makes of it, and the success summary into the README.
// test/unit/examples-docs.test.ts fails when these files are not what this script writes.
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gfmToHtml } from '../test/support/gfm.ts';
import { examples } from '../test/support/summary-examples.ts';

const ROOT = new URL('../', import.meta.url);
export const README_START = '<!-- example:success (written by npm run examples) -->';
export const README_END = '<!-- /example:success -->';

const TITLES: Record<string, string> = {
  success: 'Job summary: a model registered',
  failure: 'Job summary: a registration that failed',
  verify: 'Job summary: mode: verify, one check failed',
  promote: 'Job summary: mode: promote',
  'pr-comment': 'Pull-request comment: mode: verify, every check passed',
};

/** A page close to GitHub's look: its font, width, table and code styles, <details> open by default for the reader. */
function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${title}</title>
<style>
body { font: 14px/1.5 -apple-system, BlinkMacSystemFont, "Segoe UI", "Noto Sans", Helvetica, Arial, sans-serif; color: #1f2328; max-width: 880px; margin: 24px auto; padding: 0 16px; }
h2 { font-size: 1.5em; border-bottom: 1px solid #d1d9e0; padding-bottom: .3em; }
code { font: 85% ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; background: #eff1f3; padding: .2em .4em; border-radius: 6px; }
table { border-collapse: collapse; } th, td { border: 1px solid #d1d9e0; padding: 6px 13px; } tr:nth-child(2n) { background: #f6f8fa; }
blockquote { margin: 0 0 16px; padding: 0 1em; color: #59636e; border-left: .25em solid #d1d9e0; }
a { color: #0969da; } sub { color: #59636e; } hr { border: 0; border-top: 1px solid #d1d9e0; }
</style>
</head>
<body>
<!-- ${title}: rendered by cmark-gfm from ${title.startsWith('Pull') ? 'the comment body' : 'the job summary'} the action writes (docs/examples/*.md). -->
${body}</body>
</html>
`;
}

/** Every file this script writes: path below the repository root → content. */
export function examplePages(readme = readFileSync(new URL('README.md', ROOT), 'utf8')): Record<string, string> {
  const files: Record<string, string> = {};
  const all = examples();
  for (const [name, markdown] of Object.entries(all)) {
    files[`docs/examples/${name}.md`] = markdown;
    files[`docs/examples/${name}.html`] = page(TITLES[name] ?? name, gfmToHtml(markdown));
  }
  const start = readme.indexOf(README_START);
  const end = readme.indexOf(README_END);
  if (start < 0 || end < start) throw new Error(`README.md has no ${README_START} … ${README_END} block`);
  // Prettier leaves the block alone, so it stays byte for byte what the action writes.
  const block = `${README_START}\n<!-- prettier-ignore-start -->\n\n${all.success}\n<!-- prettier-ignore-end -->\n\n`;
  files['README.md'] = readme.slice(0, start) + block + readme.slice(end);
  return files;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  mkdirSync(new URL('docs/examples/', ROOT), { recursive: true });
  for (const [file, content] of Object.entries(examplePages())) {
    writeFileSync(new URL(file, ROOT), content);
    console.log(`wrote ${file}`);
  }
}
