// The summaries and comments of the main scenarios, rendered by GitHub's own parser
// (cmark-gfm, with github.com's extensions) and checked on the HTML a reader gets.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { COMMENT_LIMIT, renderComment } from '../../src/comment.ts';
import { ActionError } from '../../src/errors.ts';
import { renderChecks, renderFailure, renderPlan, renderPromotion, renderSuccess, SUMMARY_LIMIT_BYTES } from '../../src/summary.ts';
import { detailsDepthAt, firstHeading, firstScreenLines, gfmToHtml, hrefs, tags } from '../support/gfm.ts';
import {
  checks,
  COMMIT_URL,
  footer,
  manyFiles,
  marker,
  MLFLOW_RUN_URL,
  passing,
  promotion,
  proxy404,
  RUN_URL,
  success,
  VERSION_URL,
} from '../support/summary-examples.ts';

const target = { trackingUri: 'https://registry.hokus.ai/api/mlflow', modelName: 'churn-classifier' };

/** What holds on every page: details balanced and closed, no empty header cells, no script, links http(s). */
function assertSound(html: string, what: string): void {
  let depth = 0;
  for (const t of tags(html)) {
    if (t.name !== 'details') continue;
    depth += t.closing ? -1 : 1;
    assert.ok(depth >= 0, `${what}: a </details> without its <details>`);
  }
  assert.equal(depth, 0, `${what}: a <details> left open`);
  assert.doesNotMatch(html, /<th[^>]*>\s*<\/th>/, `${what}: an empty header cell`);
  for (const t of tags(html)) {
    assert.ok(!['script', 'iframe', 'img', 'style', 'object'].includes(t.name), `${what}: a <${t.name}> tag`);
    assert.doesNotMatch(t.attrs, /\bon\w+\s*=|javascript:/i, `${what}: active content in <${t.name}${t.attrs}>`);
  }
  for (const href of hrefs(html)) assert.match(href, /^https?:\/\//, `${what}: a link that is not http(s)`);
}

const heading = (md: string) => firstHeading(gfmToHtml(md)) ?? '';

test('cmark-gfm is installed and renders GitHub markdown (tables, autolinks off in code)', () => {
  const html = gfmToHtml('| a | b |\n|---|---|\n| 1 | 2 |\n');
  assert.match(html, /<table>\n<thead>\n<tr>\n<th>a<\/th>/);
});

test('success: a green heading with the linked version, about six lines, links where promised', () => {
  const html = gfmToHtml(renderSuccess(success));
  assertSound(html, 'success');
  assert.match(heading(renderSuccess(success)), /^✅ Registered churn-classifier version 7$/);
  assert.match(html, new RegExp(`<h2><a name="[^"]*"[^>]*></a>|<h2>`));
  for (const url of [VERSION_URL, COMMIT_URL, MLFLOW_RUN_URL]) assert.ok(hrefs(html).includes(url), `a link to ${url}`);
  assert.ok(!hrefs(html).includes(RUN_URL), 'no link to the run page the reader is on');
  // The facts before the first <details>: a list of five, no table.
  const top = html.slice(0, html.indexOf('<details>'));
  assert.equal(top.match(/<li>/g)?.length, 5);
  assert.doesNotMatch(top, /<table|Digest|Phase|sha256/);
  assert.ok(firstScreenLines(renderSuccess(success)) <= 8, String(firstScreenLines(renderSuccess(success))));
  // Timings, ids and files are collapsed.
  for (const text of ['Digest:', '<th>Phase</th>', '<th>File</th>'])
    assert.equal(detailsDepthAt(html, html.indexOf(text)), 1, `${text} inside <details>`);
});

test('failure: a red heading naming the cause, what to do as a quote, then the request, each once', () => {
  const md = renderFailure(proxy404);
  const html = gfmToHtml(md);
  assertSound(html, 'failure');
  assert.equal(heading(md), '❌ Model registration failed: artifact proxy /api/2.0/mlflow-artifacts answered 404');
  assert.match(html, /<\/h2>\n<blockquote>\n<p><b>What to do:<\/b> The tracking server has no artifact route/);
  assert.match(html, /<li><b>Request:<\/b> <code>GET \/api\/mlflow\/api\/2\.0\/mlflow-artifacts\/artifacts<\/code><\/li>/);
  assert.equal(html.split('404').length - 1, 2, 'the status in the heading, and in the server page title only');
  assert.doesNotMatch(html, /<table/);
});

test('verify: the failing check in the heading, a table without a latency column whose results stay on one line', () => {
  const md = renderChecks(checks, target);
  const html = gfmToHtml(md);
  assertSound(html, 'verify');
  assert.equal(heading(md), '❌ Registry check failed: Artifact proxy');
  assert.match(html, /<th>Check<\/th>\n<th>Result<\/th>\n<th>Detail<\/th>\n<\/tr>/);
  assert.doesNotMatch(html, /Latency|\d ms/);
  // The failure's table is open; the non-breaking space keeps icon and word together.
  assert.equal(detailsDepthAt(html, html.indexOf('<table>')), 0);
  assert.match(html, /<td>❌\u00a0fail<\/td>/);
  assert.equal(html.split('What to do').length, 2, 'what to do, once');
});

test('verify: all passed is one line with the table collapsed; nothing checked is ⏭️, not ✅', () => {
  const ok = renderChecks(passing, target);
  const html = gfmToHtml(ok);
  assertSound(html, 'verify passed');
  assert.equal(heading(ok), '✅ 6 checks passed');
  assert.equal(detailsDepthAt(html, html.indexOf('<table>')), 1, 'the table is collapsed');
  assert.ok(firstScreenLines(ok) <= 4);

  const skipped = passing.map((c) => ({ ...c, result: 'skipped' as const, detail: 'needs the api-key.' }));
  assert.match(heading(renderChecks(skipped, target)), /^⏭️ Registry not checked/);
  assertSound(gfmToHtml(renderChecks(skipped, target)), 'verify skipped');
});

test('promote: a green heading with the linked version and the aliases; the commit linked', () => {
  const md = renderPromotion(promotion);
  const html = gfmToHtml(md);
  assertSound(html, 'promote');
  assert.equal(heading(md), '✅ Promoted churn-classifier version 7 to champion');
  assert.ok(hrefs(html).includes(VERSION_URL));
  assert.ok(hrefs(html).includes(COMMIT_URL));
  assert.match(html, /<li><b>Aliases:<\/b> <code>champion<\/code>: 5 → 7<\/li>/);
});

test('a failed Hokusai event (the step exits 1): ❌, never ✅, and its error once', () => {
  const failure = new ActionError('HTTP 502', {
    step: 'Notify Hokusai',
    method: 'POST',
    path: '/api/v1/models/register',
    status: 502,
    serverMessage: 'Bad gateway from upstream',
    hint: 'Send it again with mode: promote.',
  });
  const hokusai = { tokenId: 'CHURN', metric: 'auroc', value: '0.91', proposalId: 'P-1', event: 'failed' as const, failure };
  for (const md of [renderSuccess({ ...success, hokusai }), renderPromotion({ ...promotion, hokusai })]) {
    const html = gfmToHtml(md);
    assertSound(html, 'hokusai failed');
    assert.match(heading(md), /^❌ Hokusai not told about churn-classifier version 7: POST \/api\/v1\/models\/register answered 502$/);
    assert.doesNotMatch(html, /✅/);
    assert.equal(html.split('Bad gateway from upstream').length, 2);
    assert.equal(html.split('Send it again with mode').length, 2);
  }
});

test('the PR comment: no timings, one footer line with the commit, when, and the run linked once', () => {
  const comment = renderComment(marker, renderSuccess(success, { comment: true }), footer);
  const html = gfmToHtml(comment);
  assertSound(html, 'comment');
  assert.doesNotMatch(html, /Phase|Total|\d ms/);
  assert.match(
    html,
    /<hr \/>\n<p><sub>For commit <a href="[^"]+"><code>9fceb02d0ae5<\/code><\/a> · updated 2026-12-03 23:50 UTC · <a href="[^"]+">workflow run<\/a><\/sub><\/p>\n$/,
  );
  assert.equal(hrefs(html).filter((h) => h === RUN_URL).length, 1);
  assert.ok(hrefs(html).includes(COMMIT_URL));
});

test('a PR comment for 1,512 files is cut: every element closed first, the notice and the footer outside', () => {
  const files = manyFiles(1512);
  const md = renderSuccess({ ...success, fileList: files, files: files.length }, { comment: true });
  assert.match(md, /<summary>📁 1,512 files, /);
  const comment = renderComment(marker, md, footer);
  assert.ok(comment.length <= COMMENT_LIMIT, String(comment.length));
  const html = gfmToHtml(comment);
  assertSound(html, 'cut comment');
  const notice = html.indexOf('Truncated to fit');
  assert.ok(notice > 0, 'the notice');
  assert.equal(detailsDepthAt(html, notice), 0, 'the notice is outside every <details>');
  assert.match(html.slice(0, notice), /<\/tbody>\n<\/table>\n<\/details>\n<blockquote>\n<p>\[!WARNING\]\n$/);
  assert.equal(detailsDepthAt(html, html.indexOf('<sub>For commit')), 0, 'the footer is outside too');
  assert.ok(hrefs(html).includes(RUN_URL));
});

test('the 1 MiB summary cap: the cut closes the file list and its table; the notice is outside', () => {
  const files = manyFiles(30_000);
  const md = renderSuccess({ ...success, fileList: files, files: files.length }, { fileListBudgetBytes: 4 * SUMMARY_LIMIT_BYTES });
  assert.ok(Buffer.byteLength(md) <= SUMMARY_LIMIT_BYTES);
  const html = gfmToHtml(md);
  assertSound(html, 'capped summary');
  const notice = html.indexOf('The summary was cut here');
  assert.ok(notice > 0);
  assert.equal(detailsDepthAt(html, notice), 0);
  assert.match(html.slice(0, notice), /<\/table>\n<\/details>\n<blockquote>\n<p>✂️ $/);
});

test('a dry run is a green heading, with the plan as a list', () => {
  const md = renderPlan({
    modelName: 'churn-classifier',
    files: 1512,
    bytes: 9_000_000,
    digest: 'sha256:ab',
    experimentName: 'acme/churn',
    experimentId: undefined,
    artifactPath: 'model',
    aliases: ['staging'],
    commit: '9fceb02d0ae598e9',
    commitUrl: COMMIT_URL,
    existingVersions: [],
    reuse: undefined,
    modelExists: true,
    road: 'MLflow artifact proxy (the default)',
  });
  const html = gfmToHtml(md);
  assertSound(html, 'plan');
  assert.equal(heading(md), '✅ Dry run: would register churn-classifier');
  assert.match(html, /<li><b>Files:<\/b> 1,512 files, 8\.58 MiB<\/li>/);
  assert.ok(hrefs(html).includes(COMMIT_URL));
});

test('hostile values stay text through GitHub’s parser', () => {
  const evil = '</details><script>alert(1)</script> | `x` [x](javascript:alert(1)) <img src=x onerror=alert(1)> www.evil.test';
  const md = renderFailure(new ActionError(evil, { step: evil, hint: evil, serverMessage: evil, method: 'GET', path: `/${evil}` }), evil);
  const html = gfmToHtml(md);
  assertSound(html, 'hostile failure');
  assert.doesNotMatch(html, /<img|www\.evil\.test<\/a>/);
  const comment = gfmToHtml(renderComment(marker, renderSuccess({ ...success, modelName: evil, description: evil }), footer));
  assertSound(comment, 'hostile comment');
});
