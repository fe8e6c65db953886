import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { test } from 'node:test';
import { ActionError } from '../../src/errors.ts';
import type { Check } from '../../src/checks.ts';
import {
  capSummary,
  escapeHtml,
  formatBytes,
  formatDuration,
  renderChecks,
  renderFailure,
  renderPlan,
  renderPromotion,
  renderSuccess,
  SUMMARY_LIMIT_BYTES,
  type DryRunPlan,
  type FileEntry,
  type PromotionResult,
  type RegisteredResult,
} from '../../src/summary.ts';

const MiB = 1024 * 1024;
const sha = (i: number) => String(i).repeat(64).slice(0, 64);

const result: RegisteredResult = {
  modelName: 'churn<script>',
  version: '7',
  versionUrl: 'http://127.0.0.1:5000/#/models/churn/versions/7',
  modelUri: 'models:/churn/7',
  aliases: ['staging'],
  files: 3,
  bytes: 2048,
  digest: 'sha256:abc',
  runId: 'r1',
  experimentId: '2',
  experimentName: 'acme/churn',
  source: 'mlflow-artifacts:/2/r1/artifacts/model',
  commit: '0123456789abcdef',
  runUrl: 'https://github.com/acme/churn/actions/runs/1/attempts/1',
  durationMs: 4200,
  reused: false,
  note: undefined,
  uploadMs: 2000,
  fileList: [
    { path: 'MLmodel', size: 48, sha256: sha(1) },
    { path: 'model.pkl', size: 1900, sha256: sha(2) },
    { path: 'conda.yaml', size: 100, sha256: sha(3) },
  ],
  timings: [
    { phase: 'Validate API key', ms: 200 },
    { phase: 'Upload model', ms: 2000 },
    { phase: 'Register version', ms: 1500 },
  ],
  description: 'Weekly retrain',
  tags: [['team', 'search']],
};

const promotion: PromotionResult = {
  modelName: 'churn',
  version: '5',
  versionUrl: 'http://127.0.0.1:5000/#/models/churn/versions/5',
  modelUri: 'models:/churn/5',
  chosenBy: { kind: 'commit', commit: 'fedcba9876543210' },
  aliases: [
    { alias: 'champion', previous: '3' },
    { alias: 'staging', previous: '' },
    { alias: 'canary', previous: '5' },
  ],
  digest: 'sha256:def',
  source: 'mlflow-artifacts:/2/r9/artifacts/model',
  runId: 'r9',
  runUrl: 'https://github.com/acme/churn/actions/runs/2/attempts/1',
  durationMs: 900,
  timings: [{ phase: 'Find version', ms: 300 }],
};

const plan: DryRunPlan = {
  modelName: 'churn',
  files: 3,
  bytes: 2048,
  digest: 'sha256:abc',
  experimentName: 'acme/churn',
  experimentId: '2',
  artifactPath: 'model',
  aliases: ['staging'],
  commit: '0123456789abcdef',
  existingVersions: [],
  reuse: undefined,
  modelExists: true,
  road: "s3://models/artifacts/2, with the job's AWS credentials (the artifact location s3://models/artifacts/2 is a bucket)",
};

/** The markup the renderers produce stays intact, whatever the values held. */
function assertWellFormed(md: string): void {
  const lines = md.split('\n');
  const at = (i: number) => lines[i] ?? '';
  for (let i = 0; i < lines.length; i++) {
    if (!at(i).startsWith('|') || at(i - 1).startsWith('|')) continue;
    // A table: every row has as many cell separators as its header, and a blank line ends it
    // (a non-blank line right after a table would become one more row).
    const cells = at(i).split('|').length;
    assert.match(at(i + 1), /^\|[-:|]+\|$/, `a table header without its separator row: ${at(i)}`);
    let j = i;
    for (; j < lines.length && at(j).startsWith('|'); j++) {
      assert.equal(at(j).split('|').length, cells, `a row with the wrong number of cells: ${at(j)}`);
      assert.ok(at(j).endsWith(' |') || /^\|[-:|]+\|$/.test(at(j)), `a row that does not end its last cell: ${at(j)}`);
    }
    assert.ok(j === lines.length || at(j) === '', `text right after a table: ${at(j)}`);
  }
  for (const line of lines) {
    assert.equal(line.split('<code>').length, line.split('</code>').length, `unbalanced <code>: ${line}`);
  }
  let depth = 0;
  for (const tag of md.matchAll(/<(\/?)details[\s>]/g)) {
    depth += tag[1] ? -1 : 1;
    assert.ok(depth >= 0, 'a </details> without its <details>');
  }
  assert.equal(depth, 0, 'a <details> left open');
  assert.equal(md.split('<summary>').length, md.split('</summary>').length, 'unbalanced <summary>');
  for (const [, href = ''] of md.matchAll(/href="([^"]*)"/g)) assert.match(href, /^https?:\/\//, `a link that is not http(s): ${href}`);
  assert.doesNotMatch(md, /<script|<!--|javascript:|`|\]\(|\]\[/i);
  assert.ok(Buffer.byteLength(md) < MiB, 'over 1 MiB');
}

test('the success summary: the linked version in the heading, a short list, and the rest collapsed', () => {
  const md = renderSuccess({
    ...result,
    commitUrl: 'https://github.com/acme/churn/commit/0123456789abcdef',
    mlflowRunUrl: 'http://127.0.0.1:5000/#/experiments/2/runs/r1',
  });
  assert.match(
    md,
    /^## ✅ Registered <code>churn&#60;script&#62;<\/code> <a href="http:\/\/127\.0\.0\.1:5000\/#\/models\/churn\/versions\/7">version 7<\/a>\n\n- <b>Model URI:<\/b>/,
  );
  const [top = '', details = ''] = md.split('<details>');
  assert.match(top, /^- <b>Aliases:<\/b> <code>staging<\/code>$/m);
  assert.match(
    top,
    /^- <b>Commit:<\/b> <a href="https:\/\/github\.com\/acme\/churn\/commit\/0123456789abcdef"><code>0123456789ab<\/code><\/a>$/m,
  );
  assert.match(
    top,
    /^- <b>MLflow run:<\/b> <a href="http:\/\/127\.0\.0\.1:5000\/#\/experiments\/2\/runs\/r1"><code>r1<\/code><\/a> in experiment <code>acme\/churn<\/code>$/m,
  );
  // Ids, digest, files and timings are one click away; the workflow run is the page the reader is on.
  assert.doesNotMatch(top, /Digest|Source|Description|Timings|Upload|this run|Workflow run/);
  assert.match(details, /<summary>Details: digest, source, ids, timings<\/summary>/);
  assert.match(md, /^- <b>Description:<\/b> Weekly retrain$/m);
  assert.match(md, /^- <b>Tags:<\/b> <code>team<\/code> = search$/m);
  assert.match(md, /^- <b>Files:<\/b> 3 files, 2\.00 KiB; uploaded in 2\.0 s, 1\.00 KiB\/s$/m);
  assert.match(md, /^- <b>Digest:<\/b> <code>sha256&#58;abc<\/code>$/m);
  assert.doesNotMatch(md, /\| \| \||<script>|runs\/1\/attempts/);
  assertWellFormed(md);
});

test('the PR comment version of a page has no timings', () => {
  for (const md of [
    renderSuccess(result, { comment: true }),
    renderPromotion(promotion, { comment: true }),
    renderPlan({ ...plan, timings: [{ phase: 'Scan', ms: 3 }] }, { comment: true }),
  ]) {
    assert.doesNotMatch(md, /Phase|Total|\d ms|Timings|timings/);
    assertWellFormed(md);
  }
  assert.match(renderSuccess(result), /\| Upload model \| 2\.0 s \|/);
});

test('timings: one row per phase, then the whole run, collapsed', () => {
  const md = renderSuccess(result);
  assert.match(md, /\| Phase \| Time \| Share \|/);
  assert.match(
    md,
    /\| Validate API key \| 200 ms \| 5 % \|\n\| Upload model \| 2\.0 s \| 48 % \|\n\| Register version \| 1\.5 s \| 36 % \|\n\| <b>Total<\/b> \| 4\.2 s \| \|/,
  );
  assert.ok(md.indexOf('| Phase |') > md.indexOf('<details>'), 'inside the details');
  const dry = renderPlan({ ...plan, timings: [{ phase: 'Scan model directory', ms: 30 }] });
  assert.match(dry, /\| Scan model directory \| 30 ms \| 100 % \|/);
  assert.doesNotMatch(renderPlan(plan), /Phase|timings/, 'no empty timings table');
});

test('the plan says which road the files would take, and why', () => {
  assert.match(
    renderPlan(plan),
    /^- <b>Files would go to:<\/b> s3&#58;\/\/models\/artifacts\/2, with the job&#39;s AWS credentials \(the artifact location s3&#58;\/\/models\/artifacts\/2 is a bucket\)$/m,
  );
});

test('the plan names the metrics a real run would log, escaped, and counts what it leaves out', () => {
  assert.match(
    renderPlan({
      ...plan,
      metrics: [
        ['auroc', 0.84],
        ['val_<b>', -1.5e-3],
      ],
    }),
    /^- <b>Metrics:<\/b> <code>auroc<\/code> = 0\.84, <code>val&#95;&#60;b&#62;<\/code> = -0\.0015: a real run logs them on its run$/m,
  );
  const many = Array.from({ length: 25 }, (_, i) => [`m${i}`, i] as const);
  assert.match(renderPlan({ ...plan, metrics: many }), /<code>m19<\/code> = 19 and 5 more: a real run logs them/);
  assert.doesNotMatch(renderPlan(plan), /Metrics/);
});

test('the file list is collapsed, largest first, with size and a short sha256', () => {
  const md = renderSuccess(result);
  assert.match(md, /<details><summary>📁 3 files, 2\.00 KiB: largest first<\/summary>\n\n\| File \| Size \| sha256 \|/);
  const rows = [...md.matchAll(/^\| <code>([^<]*)<\/code> \| ([^|]+) \| <code>([0-9a-f]+)<\/code> \|$/gm)].map((m) => m.slice(1));
  assert.deepEqual(rows, [
    ['model.pkl', '1.86 KiB', sha(2).slice(0, 12)],
    ['conda.yaml', '100 B', sha(3).slice(0, 12)],
    ['MLmodel', '48 B', sha(1).slice(0, 12)],
  ]);
  assert.doesNotMatch(md, /more file/, 'everything fits');
});

test('hostile values cannot break out of cells, code, details or links', () => {
  const evil =
    '</details><script>alert(1)</script> | --- | `x` [x](javascript:alert(1)) ![i](x)\n| a | b |\r\n<!-- *b* _i_ ~~s~~ $m$ \\| ftp://x.example a@b.example www.example.com </code></summary>';
  const err = new ActionError(`bad ${evil}`, {
    step: `Upload ${evil}`,
    hint: `Fix ${evil}`,
    method: 'PUT',
    path: `/x/${evil}`,
    status: 500,
    serverMessage: evil,
    code: evil,
    retry: { reason: evil },
  });
  const success = renderSuccess({
    ...result,
    modelName: evil,
    version: evil,
    versionUrl: 'javascript:alert(1)',
    runUrl: ' JaVaScRiPt:alert(1)',
    aliases: [evil],
    description: evil,
    tags: [[evil, evil]],
    note: evil,
    experimentName: evil,
    source: evil,
    fileList: [{ path: evil, size: 10, sha256: evil }, ...result.fileList],
    timings: [{ phase: evil, ms: 5 }],
    hokusai: { tokenId: evil, metric: evil, value: evil, proposalId: evil, event: 'failed', detail: evil },
    receipt: { path: evil, artifactName: evil, artifactUrl: 'data:text/html,<script>alert(1)</script>', note: evil },
  });
  const rendered = {
    success,
    failure: renderFailure(err, evil),
    checks: renderChecks([{ name: evil, result: 'fail', latencyMs: 3, detail: evil, hint: evil, request: evil }], {
      trackingUri: evil,
      modelName: evil,
      runUrl: 'javascript:alert(1)',
    }),
    plan: renderPlan({
      ...plan,
      modelName: evil,
      aliases: [evil],
      artifactPath: evil,
      existingVersions: [evil],
      timings: [{ phase: evil, ms: 1 }],
    }),
    promotion: renderPromotion({
      ...promotion,
      modelName: evil,
      versionUrl: 'javascript:alert(1)',
      aliases: [{ alias: evil, previous: evil }],
      chosenBy: { kind: 'commit', commit: evil },
    }),
  };
  for (const [name, md] of Object.entries(rendered)) {
    try {
      assertWellFormed(md);
    } catch (e) {
      assert.fail(`${name}: ${(e as Error).message}`);
    }
  }
  // The values are shown, escaped, not dropped; the first line is still the heading.
  assert.ok(success.includes(escapeHtml('</details><script>alert(1)</script> |')));
  assert.match(success, /^## ❌ Hokusai not told about <code>&#60;\/details&#62;/);
  // A URL that may not be a link is shown as text.
  assert.match(success, /version &#60;\/details.*\(<code>javascript&#58;alert\(1\)<\/code>\)/);
});

test('escaping covers HTML, markdown syntax, autolinks, line breaks and control characters', () => {
  assert.equal(escapeHtml('a|b<c>&"'), 'a&#124;b&#60;c&#62;&#38;&#34;');
  assert.equal(escapeHtml('`*_~[]\\$'), '&#96;&#42;&#95;&#126;&#91;&#93;&#92;&#36;');
  assert.equal(escapeHtml('a\nb\r\nc\rd'), 'a<br>b<br>c<br>d');
  assert.equal(escapeHtml('ftp://h mail@h www.h WWW.h'), 'ftp&#58;//h mail&#64;h www&#46;h WWW&#46;h');
  assert.equal(escapeHtml('a\u0000b\u001bc\td'), 'a\ufffdb\ufffdc\td');
  assert.equal(escapeHtml('plain text, 1.5 (ok) # - + é 🚀'), 'plain text, 1.5 (ok) # - + é 🚀');
});

test('100,000 files with long paths: under 1 MiB, largest first, and a line for the rest', () => {
  const files: FileEntry[] = [];
  for (let i = 0; i < 100_000; i++) {
    const name = `file-${String(i).padStart(6, '0')}.bin`;
    files.push({ path: `data/${'d'.repeat(200 - 6 - name.length)}/${name}`, size: (i * 7919) % 1_000_003, sha256: sha(i) });
  }
  assert.ok(files.every((f) => f.path.length === 200));
  const md = renderSuccess({
    ...result,
    fileList: files,
    files: files.length,
    receipt: {
      path: 'receipt.json',
      artifactName: 'model-receipt',
      artifactUrl: 'https://github.com/acme/churn/actions/runs/1/artifacts/9',
    },
  });
  assert.ok(Buffer.byteLength(md) < MiB, `${Buffer.byteLength(md)} bytes`);
  assertWellFormed(md);

  const sizeOf = new Map(files.map((f) => [f.path, f.size]));
  const shown = [...md.matchAll(/^\| <code>(data\/[^<]+)<\/code> \| ([^|]+) \|/gm)].map((m) => sizeOf.get(m[1] ?? ''));
  assert.ok(shown.length > 100, `only ${shown.length} rows`);
  assert.ok(shown.length < files.length);
  const bySize = files.map((f) => f.size).sort((a, b) => b - a);
  assert.deepEqual(shown, bySize.slice(0, shown.length), 'the largest files, largest first');

  const rest = files.length - shown.length;
  const restBytes = bySize.slice(shown.length).reduce((a, b) => a + b, 0);
  const more = md.match(/^… and ([\d,]+) more files \(([^)]+)\): every file is listed in the receipt \(.*$/m);
  assert.ok(more, 'the "more files" line');
  assert.equal(Number(more[1]?.replace(/,/g, '')), rest);
  assert.equal(more[2], formatBytes(restBytes));
  assert.match(
    more[0],
    /<a href="https:\/\/github\.com\/acme\/churn\/actions\/runs\/1\/artifacts\/9">artifact <code>model-receipt<\/code><\/a>/,
  );
  assert.match(md, /<summary>📁 100,000 files, /);

  // Even with no budget of its own, the list cannot push the summary past the limit.
  const unbounded = renderSuccess({ ...result, fileList: files }, { fileListBudgetBytes: 100 * MiB });
  assert.ok(Buffer.byteLength(unbounded) <= SUMMARY_LIMIT_BYTES);
  assert.match(unbounded, /The summary was cut here/);
  assertWellFormed(unbounded);
});

test('capSummary cuts 2 MiB on a line boundary, says so, and closes what it left open', () => {
  const row = '| <code>a/€/file.bin</code> | 1.00 KiB | <code>0123456789ab</code> |\n';
  const big = `## ✅ Registered\n\n<details><summary>files</summary>\n\n| File | Size | sha256 |\n|---|---:|---|\n${row.repeat(Math.ceil((2 * MiB) / Buffer.byteLength(row)))}\n</details>\n`;
  assert.ok(Buffer.byteLength(big) > 2 * MiB);
  const capped = capSummary(big);
  assert.ok(Buffer.byteLength(capped) <= SUMMARY_LIMIT_BYTES);
  assert.ok(Buffer.byteLength(capped) > SUMMARY_LIMIT_BYTES - 1024, 'keeps as much as fits');
  const cut = capped.indexOf('\n\n</details>');
  assert.ok(cut > 0);
  assert.ok(big.startsWith(capped.slice(0, cut)) && big[cut] === '\n', 'cut at the end of a line');
  assert.match(capped, /\n\n> ✂️ The summary was cut here: it had 2\.\d+ MiB, and GitHub shows at most 1 MiB\.\n$/);
  assertWellFormed(capped);

  const small = capSummary(big, 4096);
  assert.ok(Buffer.byteLength(small) <= 4096);
  assertWellFormed(small);

  // One line with no break: cut between characters, never inside one, nor inside a tag.
  const line = `${'€'.repeat(MiB)}<code>x</code>`;
  const cutLine = capSummary(line, 1000);
  assert.ok(Buffer.byteLength(cutLine) <= 1000);
  assert.ok(!cutLine.includes('\ufffd'));
  assert.equal(capSummary(`${'€'.repeat(300)}<code class="${'y'.repeat(2000)}">`, 1000).split('\n')[0], '€'.repeat(300));
  assert.equal(capSummary(`${'€'.repeat(300)}&#${'1'.repeat(2000)}`, 1000).split('\n')[0], '€'.repeat(300));

  assert.equal(capSummary('short'), 'short');
});

test('promotion: each alias with the version it pointed at before, and links', () => {
  const md = renderPromotion({
    ...promotion,
    chosenBy: { kind: 'commit', commit: 'fedcba9876543210', commitUrl: 'https://github.com/acme/churn/commit/fedcba9876543210' },
  });
  assert.match(
    md,
    /^## ✅ Promoted <code>churn<\/code> <a href="http:\/\/127\.0\.0\.1:5000\/#\/models\/churn\/versions\/5">version 5<\/a> to <code>champion<\/code>, <code>staging<\/code>, <code>canary<\/code>\n/,
  );
  assert.match(md, /<code>champion<\/code>: 3 → 5<br><code>staging<\/code>: none → 5<br><code>canary<\/code>: 5 \(unchanged\)/);
  assert.match(
    md,
    /^- <b>Chosen by:<\/b> the version registered for commit <a href="https:\/\/github\.com\/acme\/churn\/commit\/fedcba9876543210"><code>fedcba987654<\/code><\/a>$/m,
  );
  assert.match(md, /\| Find version \| 300 ms \| 33 % \|/);
  assert.doesNotMatch(md, /this run|Workflow run/, 'the reader is on that page');
  assertWellFormed(md);

  const byInput = renderPromotion({ ...promotion, chosenBy: { kind: 'version' }, digest: undefined, runUrl: undefined });
  assert.match(byInput, /^- <b>Chosen by:<\/b> the <code>version<\/code> input$/m);
  assert.doesNotMatch(byInput, /Digest/);

  const dry = renderPromotion({ ...promotion, dryRun: true });
  assert.match(dry, /^## ✅ Dry run: would promote <code>churn<\/code> <a [^>]+>version 5<\/a> to /);
  assert.match(dry, /Nothing was written/);
});

test('a failed Hokusai event fails the step: a red heading with the cause, what to do once, the version still named', () => {
  const failure = {
    message: 'HTTP 503',
    method: 'POST',
    path: '/api/v1/models/register',
    status: 503,
    serverMessage: 'upstream unavailable',
    hint: 'Re-run this job, or send the event with mode: promote, version: 7.',
  };
  const detail = 'HTTP 503. The server said: upstream unavailable. Re-run this job';
  const md = renderSuccess({
    ...result,
    hokusai: { tokenId: 'tok-1', metric: 'auroc', value: '0.91', proposalId: 'p-1', event: 'failed', detail, failure },
  });
  const [heading = '', blank, todo = ''] = md.split('\n');
  assert.equal(
    heading,
    '## ❌ Hokusai not told about <code>churn&#60;script&#62;</code> <a href="http://127.0.0.1:5000/#/models/churn/versions/7">version 7</a>: POST /api/v1/models/register answered 503',
  );
  assert.equal(blank, '');
  assert.equal(todo, `> <b>What to do:</b> ${escapeHtml(failure.hint)}`);
  // Each fact once: the hint, the server's words and the status.
  assert.equal(md.split(escapeHtml(failure.hint)).length, 2);
  assert.equal(md.split('upstream unavailable').length, 2);
  assert.doesNotMatch(md, /HTTP 503/);
  assert.doesNotMatch(md, /✅/);
  assert.match(
    md,
    /^- <b>Hokusai:<\/b> ❌ <b>event not sent<\/b>: proposal <code>p-1<\/code> for token <code>tok-1<\/code> \(<code>auroc<\/code> = 0\.91\)$/m,
  );
  assert.match(md, /^- <b>Model URI:<\/b> <code>models&#58;\/churn\/7<\/code>$/m);
  assertWellFormed(md);

  const sent = renderSuccess({
    ...result,
    hokusai: { tokenId: 'tok-1', metric: 'auroc', value: '0.91', proposalId: 'p-1', event: 'sent' },
  });
  assert.match(sent, /^- <b>Hokusai:<\/b> ✅ event sent: proposal <code>p-1<\/code>/m);
  assert.match(sent, /^## ✅ /);
  const skipped = renderSuccess({
    ...result,
    hokusai: { tokenId: 'XRAY', metric: 'auroc', value: '0.82', proposalId: 'XRAY', event: 'skipped', detail: 'notify-hokusai is false' },
  });
  assert.match(
    skipped,
    /^- <b>Hokusai:<\/b> ⏭️ notify-hokusai is false; proposal <code>XRAY<\/code> for token <code>XRAY<\/code> \(<code>auroc<\/code> = 0\.82\)$/m,
  );
});

test('the receipt row links the artifact, or says why it was not uploaded', () => {
  const uploaded = renderSuccess({
    ...result,
    receipt: {
      path: '/tmp/receipt.json',
      artifactName: 'receipt',
      artifactUrl: 'https://github.com/acme/churn/actions/runs/1/artifacts/9',
    },
  });
  assert.match(
    uploaded,
    /^- <b>Receipt:<\/b> <a href="https:\/\/github\.com\/[^"]+\/artifacts\/9">artifact <code>receipt<\/code><\/a>, file <code>\/tmp\/receipt\.json<\/code>$/m,
  );
  const local = renderSuccess({ ...result, receipt: { path: 'receipt.json', note: 'not on a runner' } });
  assert.match(local, /^- <b>Receipt:<\/b> <code>receipt\.json<\/code>, not uploaded: not on a runner$/m);
});

test('links drop credentials; reused versions say so in the heading', () => {
  const md = renderSuccess({
    ...result,
    versionUrl: 'https://user:fake-key-123@registry.example.test/#/m/7',
    reused: true,
    uploadMs: undefined,
  });
  assert.match(
    md,
    /^## ✅ Reused <code>churn&#60;script&#62;<\/code> <a href="https:\/\/registry\.example\.test\/#\/m\/7">version 7<\/a>: already registered/,
  );
  assert.doesNotMatch(md, /fake-key/);
  assert.match(md, /^- <b>Files:<\/b> 3 files, 2\.00 KiB; nothing uploaded \(reused\)$/m);
});

test('the failure heading names the cause in words; what to do, then the request, each fact once', () => {
  const err = new ActionError('HTTP 404', {
    step: 'Check artifact proxy',
    method: 'GET',
    path: '/api/mlflow/api/2.0/mlflow-artifacts/artifacts',
    status: 404,
    serverMessage: '<h1>Not Found</h1>',
    hint: 'Route it.',
  });
  const md = renderFailure(err);
  assert.equal(
    md,
    [
      '## ❌ Model registration failed: artifact proxy /api/2.0/mlflow-artifacts answered 404',
      '',
      '> <b>What to do:</b> Route it.',
      '',
      '- <b>Step:</b> Check artifact proxy',
      '- <b>Request:</b> <code>GET /api/mlflow/api/2.0/mlflow-artifacts/artifacts</code>',
      '- <b>Server said:</b> &#60;h1&#62;Not Found&#60;/h1&#62;',
      '',
    ].join('\n'),
  );
  assertWellFormed(md);

  // 403 with an error code: the code once, in the heading.
  const admin = renderFailure(
    new ActionError('HTTP 403 REGISTRY_ADMIN_REQUIRED', {
      step: 'Register model version',
      method: 'POST',
      path: '/api/mlflow/api/2.0/mlflow/registered-models/create',
      status: 403,
      code: 'REGISTRY_ADMIN_REQUIRED',
      serverMessage: 'REGISTRY_ADMIN_REQUIRED: Admin access required for the model registry',
      hint: 'Ask for an admin key.',
    }),
  );
  assert.match(admin, /^## ❌ Model registration failed: MLflow registered-models\/create answered 403 REGISTRY&#95;ADMIN&#95;REQUIRED\n/);
  assert.equal(admin.split('REGISTRY&#95;ADMIN&#95;REQUIRED').length, 2, admin);
  assert.match(admin, /^- <b>Server said:<\/b> Admin access required for the model registry$/m);

  // A message that says it in words already stays as it is; a second line goes below.
  const dns = renderFailure(
    new ActionError('could not resolve host mlflow.example.test\nsecond line', { step: 'Preflight', hint: 'Check it.' }),
  );
  assert.match(dns, /^## ❌ Model registration failed: could not resolve host mlflow\.example\.test\n/);
  assert.match(dns, /^- <b>Details:<\/b> could not resolve host mlflow\.example\.test<br>second line$/m);
  assert.match(
    renderFailure(err, 'Promotion', { modelUrl: 'https://r.example.test/#/models/churn' }),
    /^- <b>The model's page:<\/b> <a href="https:\/\/r\.example\.test\/#\/models\/churn">in the registry UI<\/a>$/m,
  );
});

test('verify: the heading names the failing check; the status once; results that do not wrap; no latency column', () => {
  const checks: Check[] = [
    { name: 'Tracking server', result: 'pass', latencyMs: 12, detail: 'answered' },
    {
      name: 'Artifact proxy',
      result: 'fail',
      latencyMs: 30,
      detail: 'HTTP 404',
      hint: 'Serve artifacts.',
      request: 'GET /api/2.0/mlflow-artifacts/artifacts → HTTP 404',
    },
  ];
  const md = renderChecks(checks, { trackingUri: 'http://127.0.0.1:5000/', modelName: 'churn', runUrl: result.runUrl });
  assert.match(md, /^## ❌ Registry check failed: Artifact proxy\n\n> <b>What to do:<\/b> Serve artifacts\.\n\n/);
  assert.match(md, /^\| Check \| Result \| Detail \|$/m);
  assert.match(
    md,
    /^\| Artifact proxy \| ❌&nbsp;fail \| artifact proxy \/api\/2\.0\/mlflow-artifacts answered 404<br>Request: <code>GET \/api\/2\.0\/mlflow-artifacts\/artifacts<\/code> \|$/m,
  );
  assert.match(md, /^\| Tracking server \| ✅&nbsp;pass \| answered \|$/m);
  assert.doesNotMatch(md, /Latency|30 ms|<details>|this run|Workflow run/);
  assertWellFormed(md);

  const two = renderChecks([{ ...checks[1]!, name: 'Key validation' }, checks[1]!], { trackingUri: 'http://x.test/', modelName: '' });
  assert.match(two, /^## ❌ Registry check failed: Key validation, Artifact proxy\n/);
});

test('verify: all passed is one line, the table collapsed; warnings name the check; all skipped is not a pass', () => {
  const pass = (name: string): Check => ({ name, result: 'pass', latencyMs: 5, detail: 'ok' });
  const six = ['A', 'B', 'C', 'D', 'E', 'F'].map(pass);
  const target = { trackingUri: 'http://127.0.0.1:5000/', modelName: 'churn' };
  const ok = renderChecks(six, target);
  assert.match(ok, /^## ✅ 6 checks passed\n/);
  assert.match(ok, /<details><summary>The 6 checks<\/summary>\n\n\| Check \| Result \| Detail \|/);
  assertWellFormed(ok);

  const warned = renderChecks(
    [...six.slice(0, 5), { name: 'Key validation', result: 'warn', latencyMs: 1, detail: 'read-only', hint: 'Use a write key.' }],
    target,
  );
  assert.match(warned, /^## ⚠️ 5 checks passed, 1 warning: Key validation\n\n> <b>What to do:<\/b> Use a write key\.\n/);

  const none = renderChecks(
    [
      { name: 'API key present', result: 'skipped', latencyMs: undefined, detail: 'No api-key: expected on pull requests from forks.' },
      { name: 'Key validation', result: 'skipped', latencyMs: undefined, detail: 'needs the api-key.' },
    ],
    target,
  );
  assert.match(none, /^## ⏭️ Registry not checked: all 2 checks were skipped\n\nNo api-key&#58; expected on pull requests from forks\.\n/);
  assert.doesNotMatch(none, /✅/);
  assertWellFormed(none);

  const someSkipped = renderChecks([pass('A'), { name: 'B', result: 'skipped', latencyMs: undefined, detail: 'not used' }], target);
  assert.match(someSkipped, /^## ✅ 1 check passed, 1 skipped\n/);
});

test('bytes and durations read at a glance', () => {
  assert.equal(formatBytes(512), '512 B');
  assert.equal(formatBytes(5 * 1024 * 1024), '5.00 MiB');
  assert.equal(formatBytes(1536 * 1024 * 1024), '1.50 GiB');
  assert.equal(formatDuration(250), '250 ms');
  assert.equal(formatDuration(125_000), '2 min 5 s');
});

test('a dry run with token metadata says what a real run would set and send', () => {
  const hokusai = { tokenId: 'XRAY', metric: 'auroc', value: '0.82', proposalId: 'P-1', notify: true };
  const md = renderPlan({ ...plan, hokusai });
  assert.match(md, /^## ✅ Dry run: would register <code>churn<\/code>\n\nNothing was written to the registry\.\n/);
  assert.match(
    md,
    /^- <b>Hokusai:<\/b> token <code>XRAY<\/code>, proposal <code>P-1<\/code>, <code>auroc<\/code> = 0\.82; a real run tags the version and sends the registration event$/m,
  );
  assert.match(renderPlan({ ...plan, hokusai: { ...hokusai, notify: false } }), /notify-hokusai is false: no event/);
  assert.doesNotMatch(renderPlan(plan), /Hokusai/);
  assertWellFormed(md);
});

test('the dry run links the commit, not the workflow run the reader is on', () => {
  const md = renderPlan({
    ...plan,
    commitUrl: 'https://github.com/o/r/commit/0123456789abcdef',
    runUrl: 'https://github.com/o/r/actions/runs/1/attempts/1',
  });
  assert.match(md, /^- <b>Commit:<\/b> <a href="https:\/\/github\.com\/o\/r\/commit\/0123456789abcdef"><code>0123456789ab<\/code><\/a>$/m);
  assert.doesNotMatch(md, /actions\/runs/);
});

test('promote without aliases names what it did: announced, tagged, or would tag', () => {
  const about = { tokenId: 'XRAY', metric: 'auroc', value: '0.82', proposalId: 'XRAY' };
  const bare = { ...promotion, aliases: [] };
  const v5 = '<a href="http://127.0.0.1:5000/#/models/churn/versions/5">version 5</a>';
  assert.ok(renderPromotion({ ...bare, hokusai: { ...about, event: 'sent' } }).startsWith(`## ✅ Announced <code>churn</code> ${v5}\n`));
  assert.ok(
    renderPromotion({ ...bare, hokusai: { ...about, event: 'skipped', detail: 'notify-hokusai is false' } }).startsWith(
      `## ✅ Tagged <code>churn</code> ${v5}\n`,
    ),
  );
  const failed = renderPromotion({
    ...bare,
    hokusai: { ...about, event: 'failed', detail: 'HTTP 502', failure: { message: 'HTTP 502', status: 502, hint: 'Run it again.' } },
  });
  assert.ok(
    failed.startsWith(`## ❌ Hokusai not told about <code>churn</code> ${v5}: HTTP 502\n\n> <b>What to do:</b> Run it again.\n`),
    failed,
  );
  assertWellFormed(failed);
  const dry = renderPromotion({
    ...bare,
    dryRun: true,
    hokusai: { ...about, event: 'skipped', detail: 'dry run: a real run tags the version' },
  });
  assert.ok(dry.startsWith(`## ✅ Dry run: would tag <code>churn</code> ${v5}`));
  assert.match(
    dry,
    /^- <b>Hokusai:<\/b> ⏭️ dry run&#58; a real run tags the version; proposal <code>XRAY<\/code> for token <code>XRAY<\/code>/m,
  );
});
