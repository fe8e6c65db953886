// The model review's section: the verdict heading, then metrics, dependencies, MLmodel and files,
// escaped like every other renderer and bounded however large the review.
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { test } from 'node:test';
import * as log from '../../src/log.ts';
import { formatNumber, metricChange, renderReview, reviewVerdict } from '../../src/review-summary.ts';
import type { FileDelta, MetricChange, Review } from '../../src/review.ts';
import { FILE_LIST_BUDGET_BYTES, formatBytes } from '../../src/summary.ts';
import { gfmToHtml, tags } from '../support/gfm.ts';

const SECRET = 'Fake-Review-Secret+Value=Mixed_0456';
const silently = <T>(fn: () => T): T => {
  const write = process.stdout.write;
  process.stdout.write = (() => true) as typeof process.stdout.write;
  try {
    return fn();
  } finally {
    process.stdout.write = write;
  }
};
silently(() => log.addSecret(SECRET));

const noColumns = () => ({ added: [], removed: [], changed: [] });

function review(over: Partial<Review> = {}): Review {
  return {
    modelName: 'churn',
    compareTo: 'champion',
    against: { alias: 'champion', version: '3', source: 'mlflow-artifacts:/2/r3/artifacts/model', runId: 'r3' },
    changed: false,
    files: { basis: 'sha256', added: [], removed: [], changed: [], unchanged: 5 },
    requirements: { added: [], removed: [], changed: [] },
    mlmodel: { flavors: { added: [], removed: [] }, signature: { inputs: noColumns(), outputs: noColumns() } },
    metrics: [],
    notes: [],
    ...over,
  };
}

const metric = (name: string, from: number | null, to: number, verdict?: MetricChange['verdict']): MetricChange => ({
  name,
  from,
  to,
  direction: verdict ? 'higher' : undefined,
  verdict,
});

const changedReview = review({
  changed: true,
  files: {
    basis: 'sha256',
    added: [{ path: 'extra.json', from: null, to: 300 }],
    removed: [{ path: 'old.bin', from: 5_000, to: null }],
    changed: [
      { path: 'model.pkl', from: 2_000_000, to: 2_100_000 },
      { path: 'MLmodel', from: 400, to: 420 },
    ],
    unchanged: 4,
  },
  requirements: { added: ['lightgbm==4.6.0'], removed: [], changed: [] },
  metrics: [metric('auroc', 0.81, 0.84, 'better')],
});

/** Tables keep their cell count, code and details stay balanced, no raw markup gets through. */
function assertWellFormed(md: string): void {
  const lines = md.split('\n');
  const at = (i: number) => lines[i] ?? '';
  for (let i = 0; i < lines.length; i++) {
    if (!at(i).startsWith('|') || at(i - 1).startsWith('|')) continue;
    const cells = at(i).split('|').length;
    assert.match(at(i + 1), /^\|[-:|]+\|$/, `a table header without its separator row: ${at(i)}`);
    let j = i;
    for (; j < lines.length && at(j).startsWith('|'); j++)
      assert.equal(at(j).split('|').length, cells, `a row with the wrong cells: ${at(j)}`);
    assert.ok(j === lines.length || at(j) === '', `text right after a table: ${at(j)}`);
  }
  for (const line of lines) assert.equal(line.split('<code>').length, line.split('</code>').length, `unbalanced <code>: ${line}`);
  assert.equal(md.split('<details>').length, md.split('</details>').length, 'unbalanced <details>');
  assert.doesNotMatch(md, /<script|<!--|javascript:|`|\]\(/i);
}

test('the verdict: no champion yet, everything new, with the count and size of the files', () => {
  const r = review({
    against: null,
    changed: true,
    files: {
      basis: 'sha256',
      added: [
        { path: 'model.pkl', from: null, to: 2 * 1024 * 1024 },
        { path: 'MLmodel', from: null, to: 100 * 1024 },
      ],
      removed: [],
      changed: [],
      unchanged: 0,
    },
  });
  const md = renderReview(r);
  const heading = md.split('\n')[0];
  assert.equal(
    heading,
    `### 🆕 No champion for <code>churn</code> yet: everything is new (2 files, ${formatBytes(2 * 1024 * 1024 + 100 * 1024)})`,
  );
  assert.match(md, /The alias <code>champion<\/code> does not exist yet/);
  assert.match(md, /<summary>📁 0 changed, 2 added, 0 removed \(largest first\)<\/summary>/);
  assert.equal(reviewVerdict(r), 'No champion for churn yet: everything is new (2 files, 2.10 MiB)');
  assertWellFormed(md);
});

test('the verdict: nothing changed is one heading and one line about the files', () => {
  const md = renderReview(review());
  assert.equal(md, '### ✅ No change in <code>churn</code> against champion (version 3)\n\n📁 Files: all 5 unchanged (sha256).\n');
  assert.equal(reviewVerdict(review()), 'No change in churn against champion (version 3)');
});

test('the verdict: what changed, in one line, in a fixed order', () => {
  const md = renderReview(changedReview);
  assert.equal(
    md.split('\n')[0],
    '### 🔍 Review of <code>churn</code> against champion (version 3): 4 files changed, 1 dependency changed, auroc better (0.81 → 0.84)',
  );
  assert.equal(
    reviewVerdict(changedReview),
    'Review of churn against champion (version 3): 4 files changed, 1 dependency changed, auroc better (0.81 → 0.84)',
  );
});

test('the verdict: a worse metric comes first, with a warning icon', () => {
  const r = review({
    changed: true,
    metrics: [metric('auroc', 0.84, 0.81, 'worse'), metric('f1', 0.5, 0.6, 'better'), metric('rows', 10, 12), metric('extra', null, 1)],
  });
  assert.equal(
    renderReview(r).split('\n')[0],
    '### ⚠️ Review of <code>churn</code> against champion (version 3): auroc worse (0.84 → 0.81), f1 better (0.5 → 0.6), 1 metric changed, 1 new metric',
  );
  const many = review({ changed: true, metrics: ['a', 'b', 'c', 'd'].map((n) => metric(n, 1, 0, 'worse')) });
  assert.match(renderReview(many).split('\n')[0]!, /^### ⚠️ .*: a worse \(1 → 0\), b worse \(1 → 0\), 2 more metrics worse$/);
});

test('notes are quotes of their own, after the heading', () => {
  const md = renderReview(review({ changed: true, notes: ['Contents could not be compared, only sizes.', 'Second note.'] }));
  assert.match(md, /^### .*\n\n> Contents could not be compared, only sizes\.\n\n> Second note\.\n\n/);
});

test('numbers: compact, no float noise, exponents only for the extremes', () => {
  assert.equal(formatNumber(0.1 + 0.2), '0.3');
  assert.equal(formatNumber(0.84), '0.84');
  assert.equal(formatNumber(0.123456), '0.1235');
  assert.equal(formatNumber(12345.678912), '12345.6789');
  assert.equal(formatNumber(2), '2');
  assert.equal(formatNumber(-0.0312345), '-0.03123');
  assert.equal(formatNumber(0), '0');
  assert.equal(formatNumber(0.000012346), '1.235e-5');
  assert.equal(formatNumber(1e20), '1e+20');
  assert.equal(formatNumber(Number.NaN), 'NaN');
});

test('the change cell: signed delta, arrow, and better or worse when the direction is known', () => {
  assert.equal(metricChange(metric('auroc', 0.81, 0.84, 'better')), '▲ +0.03 ✅');
  assert.equal(metricChange({ ...metric('rmse', 0.2, 0.1, 'better'), direction: 'lower' }), '▼ -0.1 ✅');
  assert.equal(metricChange({ ...metric('rmse', 0.1, 0.30000000000000004, 'worse'), direction: 'lower' }), '▲ +0.2 ⚠️');
  assert.equal(metricChange(metric('rows', 12, 10)), '▼ -2');
  assert.equal(metricChange(metric('rows', null, 10)), 'new');
  assert.equal(metricChange(metric('auroc', 0.8, 0.8, 'same')), '=');
  assert.equal(metricChange(metric('rows', 3, 3)), '=');
});

test('the metrics table: the alias as the column header, numbers right-aligned', () => {
  const r = review({
    changed: true,
    against: { alias: 'prod', version: '9', source: 's', runId: undefined },
    metrics: [metric('auroc', 0.81, 0.84, 'better'), metric('latency_ms', null, 12.5)],
  });
  const md = renderReview(r);
  assert.ok(
    md.includes(
      '| Metric | prod | this change | Change |\n|---|---:|---:|---:|\n| <code>auroc</code> | 0.81 | 0.84 | ▲ +0.03 ✅ |\n| <code>latency&#95;ms</code> | — | 12.5 | new |\n',
    ),
    md,
  );
  assertWellFormed(md);
  assert.doesNotMatch(renderReview(review({ changed: true })), /\| Metric \|/, 'no table without metrics');
});

test('dependencies: added, removed and changed, one line each; bounded', () => {
  const r = review({
    changed: true,
    requirements: {
      added: ['lightgbm==4.6.0'],
      removed: ['xgboost==2.0.0'],
      changed: [
        { name: 'scikit-learn', from: '1.8.0', to: '1.9.1' },
        { name: 'pandas', from: '', to: '>=2' },
      ],
    },
  });
  const md = renderReview(r);
  assert.ok(
    md.includes(
      '<b>Dependencies</b>\n\n- added <code>lightgbm==4.6.0</code>\n- removed <code>xgboost==2.0.0</code>\n- <code>scikit-learn</code> 1.8.0 → 1.9.1\n- <code>pandas</code> unpinned → &#62;=2\n\n',
    ),
    md,
  );
  const many = renderReview(
    review({ changed: true, requirements: { added: Array.from({ length: 120 }, (_, i) => `pkg${i}==1`), removed: [], changed: [] } }),
  );
  assert.equal(many.match(/^- added /gm)?.length, 50);
  assert.match(many, /^- … and 70 more dependencies$/m);
  assert.doesNotMatch(renderReview(review()), /Dependencies/);
});

test('MLmodel: the signature note, flavors, and columns with their types; bounded', () => {
  const r = review({
    changed: true,
    mlmodel: {
      flavors: { added: ['lightgbm'], removed: ['sklearn'] },
      signature: {
        inputs: {
          added: [{ name: 'age', type: 'long' }],
          removed: [{ name: 'zip', type: 'string' }],
          changed: [{ name: 'income', from: 'long', to: 'double' }],
        },
        outputs: { added: [], removed: [], changed: [{ name: '[0]', from: 'tensor(int64, [-1])', to: 'tensor(float64, [-1])' }] },
      },
      signatureNote: 'The champion has no signature.',
    },
  });
  const md = renderReview(r);
  assert.ok(
    md.includes(
      [
        '<b>MLmodel</b>',
        '',
        '- The champion has no signature.',
        '- flavor added <code>lightgbm</code>',
        '- flavor removed <code>sklearn</code>',
        '- input added <code>age</code> (long)',
        '- input removed <code>zip</code> (string)',
        '- input <code>income</code>: long → double',
        '- output <code>&#91;0&#93;</code>: tensor(int64, &#91;-1&#93;) → tensor(float64, &#91;-1&#93;)',
        '',
      ].join('\n'),
    ),
    md,
  );
  assert.match(md.split('\n')[0]!, /flavors changed, signature changed$/);
  const cols = Array.from({ length: 500 }, (_, i) => ({ name: `c${i}`, type: 'double' }));
  const many = renderReview(
    review({
      changed: true,
      mlmodel: {
        ...r.mlmodel,
        flavors: { added: [], removed: [] },
        signatureNote: undefined,
        signature: { inputs: { added: cols, removed: [], changed: [] }, outputs: noColumns() },
      },
    }),
  );
  assert.equal(many.match(/^- input added /gm)?.length, 200);
  assert.match(many, /^- … and 300 more changes$/m);
});

test('files: one table, largest first by the larger side, collapsed', () => {
  const md = renderReview(changedReview);
  assert.match(
    md,
    /<details><summary>📁 2 changed, 1 added, 1 removed, 4 unchanged \(largest first\)<\/summary>\n\n\| File \| Change \| Before \| After \|\n\|---\|---\|---:\|---:\|\n/,
  );
  const rows = [...md.matchAll(/^\| <code>([^<]*)<\/code> \| (\w+) \| ([^|]+) \| ([^|]+) \|$/gm)].map((m) => m.slice(1));
  assert.deepEqual(rows, [
    ['model.pkl', 'changed', formatBytes(2_000_000), formatBytes(2_100_000)],
    ['old.bin', 'removed', formatBytes(5_000), '—'],
    ['MLmodel', 'changed', '400 B', '420 B'],
    ['extra.json', 'added', '—', '300 B'],
  ]);
  assertWellFormed(md);
  const html = gfmToHtml(md);
  assert.equal(html.slice(html.indexOf('<details>')).match(/<tr>/g)?.length, 5, 'the header and four rows');
});

test('files compared by size only say so; files not compared have no table', () => {
  const bySize = renderReview(review({ changed: true, files: { ...changedReview.files, basis: 'size' } }));
  assert.match(bySize, /<summary>📁 2 changed, 1 added, 1 removed, 4 unchanged \(largest first; compared by size only\)<\/summary>/);
  assert.match(
    renderReview(review({ files: { basis: 'size', added: [], removed: [], changed: [], unchanged: 7 } })),
    /^📁 Files: all 7 unchanged \(size only\)\.$/m,
  );
  const none = renderReview(review({ changed: true, files: { basis: 'none', added: [], removed: [], changed: [], unchanged: 0 } }));
  assert.match(none, /^📁 Files could not be compared/m);
  assert.doesNotMatch(none, /\| File \|/);
  assert.match(none.split('\n')[0]!, /: files not compared$/);
});

test('hostile names and paths are shown escaped, on one line, and secrets are redacted', () => {
  const evil = `</details><script>alert(1)</script> | \`x\` @octocat\n| a | b | ${SECRET} www.example.com [x](javascript:alert(1))`;
  const r = review({
    modelName: evil,
    compareTo: evil,
    against: { alias: evil, version: evil, source: evil, runId: evil },
    changed: true,
    notes: [evil],
    files: {
      basis: 'size',
      added: [{ path: evil, from: null, to: 1 }],
      removed: [],
      changed: [{ path: `dir/${evil}`, from: 1, to: 2 }],
      unchanged: 0,
    },
    requirements: { added: [evil], removed: [evil], changed: [{ name: evil, from: evil, to: evil }] },
    mlmodel: {
      flavors: { added: [evil], removed: [] },
      signature: {
        inputs: { added: [{ name: evil, type: evil }], removed: [], changed: [{ name: evil, from: evil, to: evil }] },
        outputs: noColumns(),
      },
      signatureNote: evil,
    },
    metrics: [metric(evil, 1, 2, 'worse'), metric(evil, null, 2)],
  });
  const md = renderReview(r);
  assertWellFormed(md);
  assert.ok(!md.includes(SECRET) && !md.includes(SECRET.slice(0, 12)), 'the secret is redacted');
  assert.doesNotMatch(md, /@octocat/, 'no mention');
  assert.doesNotMatch(md, /www\.example/, 'no autolink');
  assert.equal(md.split('\n')[0]!.startsWith('### ⚠️ Review of <code>&#60;/details&#62;'), true);
  assert.doesNotMatch(md.split('\n')[0]!, /<br>/, 'the heading is one line');
  // As GitHub renders it: no element but those the renderer writes.
  const html = gfmToHtml(md);
  const allowed = new Set([
    'h3',
    'code',
    'blockquote',
    'p',
    'br',
    'table',
    'thead',
    'tbody',
    'tr',
    'th',
    'td',
    'ul',
    'li',
    'b',
    'details',
    'summary',
  ]);
  for (const t of tags(html)) assert.ok(allowed.has(t.name), `<${t.name}> in the rendered review`);
  assert.doesNotMatch(html, /<a |<script/);

  const plain = reviewVerdict(r);
  assert.ok(!plain.includes('\n'), 'the log line is one line');
  assert.ok(!plain.includes(SECRET), 'the log line is redacted');
});

test('10,000 changed files: the table stays within its budget, largest first, with a line for the rest', () => {
  const changed: FileDelta[] = [];
  for (let i = 0; i < 10_000; i++) {
    const name = `file-${String(i).padStart(5, '0')}.bin`;
    changed.push({ path: `data/${'d'.repeat(200 - 6 - name.length)}/${name}`, from: i, to: (i * 7919) % 1_000_003 });
  }
  const md = renderReview(review({ changed: true, files: { basis: 'sha256', added: [], removed: [], changed, unchanged: 0 } }));
  assertWellFormed(md);
  assert.ok(Buffer.byteLength(md) <= FILE_LIST_BUDGET_BYTES + 2048, `${Buffer.byteLength(md)} bytes`);
  const size = new Map(changed.map((d) => [d.path, Math.max(d.from ?? 0, d.to ?? 0)]));
  const shown = [...md.matchAll(/^\| <code>(data\/[^<]+)<\/code> \|/gm)].map((m) => size.get(m[1]!));
  assert.ok(shown.length > 100 && shown.length < changed.length, `${shown.length} rows`);
  assert.deepEqual(shown, [...size.values()].sort((a, b) => b - a).slice(0, shown.length));
  assert.match(md, new RegExp(`^… and ${(changed.length - shown.length).toLocaleString('en-US')} more files: not listed here\\.$`, 'm'));
  assert.match(md, /<summary>📁 10,000 changed, 0 added, 0 removed/);

  // A smaller budget, as the PR comment needs, is kept too.
  const small = renderReview(review({ changed: true, files: { basis: 'sha256', added: [], removed: [], changed, unchanged: 0 } }), {
    fileListBudgetBytes: 16 * 1024,
  });
  assert.ok(Buffer.byteLength(small) <= 16 * 1024 + 2048, `${Buffer.byteLength(small)} bytes`);
});

test('every section of a huge review is bounded', () => {
  const long = (i: number) => `${'x'.repeat(2000)}<${i}>`;
  const r = review({
    changed: true,
    notes: Array.from({ length: 100 }, (_, i) => long(i)),
    metrics: Array.from({ length: 1000 }, (_, i) => metric(long(i), i, i + 1, 'better')),
    requirements: { added: Array.from({ length: 1000 }, (_, i) => long(i)), removed: [], changed: [] },
    mlmodel: {
      flavors: { added: [], removed: [] },
      signature: {
        inputs: { added: Array.from({ length: 5000 }, (_, i) => ({ name: long(i), type: long(i) })), removed: [], changed: [] },
        outputs: noColumns(),
      },
    },
  });
  const md = renderReview(r);
  assertWellFormed(md);
  assert.ok(Buffer.byteLength(md) < 600 * 1024, `${Buffer.byteLength(md)} bytes`);
  assert.match(md, /^> … and 90 more notes\.$/m);
  assert.match(md, /^… and [\d,]+ more metrics\.$/m);
});
