// The job summary, rendered as markdown by pure functions. Everything that came from a
// user or a server is redacted (the secrets registered in log.ts), clipped and escaped
// here (core.summary does not escape), links are http(s) only, and every renderer ends
// with capSummary: a hostile or huge value can neither break the markup nor push the
// summary past GitHub's 1024 KiB limit.
import { Buffer } from 'node:buffer';
import type { ActionError } from './errors.ts';
import type { Check } from './checks.ts';
import { escapeBidi, redactSecrets } from './log.ts';

export interface FileEntry {
  path: string;
  size: number;
  sha256: string;
}

export interface Timing {
  phase: string;
  ms: number;
}

export interface HokusaiResult {
  tokenId: string;
  metric: string;
  value: string;
  proposalId: string;
  event: 'sent' | 'failed' | 'skipped';
  /** why skipped, or the failure in one line */
  detail?: string;
}

export interface ReceiptInfo {
  path: string;
  artifactName?: string;
  artifactUrl?: string;
  /** why it was not uploaded */
  note?: string;
}

export interface RegisteredResult {
  modelName: string;
  version: string;
  versionUrl: string;
  modelUri: string;
  aliases: readonly string[];
  files: number;
  bytes: number;
  digest: string;
  runId: string;
  experimentId: string;
  experimentName: string;
  source: string;
  commit: string;
  runUrl: string | undefined;
  durationMs: number;
  /** The version was registered before for this commit and content, and reused. */
  reused: boolean;
  /** Something a reader should know, e.g. why the same commit got a new version. */
  note: string | undefined;
  /** Time spent uploading; undefined when nothing was uploaded (a reused version). */
  uploadMs: number | undefined;
  fileList: readonly FileEntry[];
  timings: readonly Timing[];
  hokusai?: HokusaiResult;
  receipt?: ReceiptInfo;
  description: string;
  tags: ReadonlyArray<readonly [string, string]>;
}

export interface PromotionResult {
  modelName: string;
  version: string;
  versionUrl: string;
  modelUri: string;
  /** how the version was chosen */
  chosenBy: { kind: 'version' } | { kind: 'commit'; commit: string };
  /** each alias with the version it pointed at before ('' if none) */
  aliases: ReadonlyArray<{ alias: string; previous: string }>;
  digest: string | undefined;
  source: string | undefined;
  runId: string | undefined;
  runUrl: string | undefined;
  durationMs: number;
  timings: readonly Timing[];
  /** Nothing was written: the aliases would move as shown. */
  dryRun?: boolean;
  /** promote with token-id: the registration event sent for this version. */
  hokusai?: HokusaiResult;
}

/** GitHub rejects a step summary over 1024 KiB; the rest is headroom. */
export const SUMMARY_LIMIT_BYTES = 1000 * 1024;
/** The file list's share of it: about a thousand rows, more than anyone reads. */
export const FILE_LIST_BUDGET_BYTES = 256 * 1024;

// Clip lengths, in characters, before escaping (which may make a character 5 bytes).
const INLINE_MAX = 300;
const TEXT_MAX = 2000;
const PATH_MAX = 300;
const MAX_TAGS = 30;
const MAX_ALIASES = 50;

// HTML specials; markdown's inline syntax (code, links, emphasis, strikethrough, math, table
// pipes, backslash escapes); ':' '@' and "www." so that GFM autolinks (ftp:, mailto:) do not
// form; line breaks, which would end a table row; control characters.
const UNSAFE = /[&<>"'`|\\[\]*_~$:@]|(?<=www)\.|\r\n?|\n|[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/gi;

export function escapeHtml(s: string): string {
  const escaped = s.replace(UNSAFE, (c) => {
    if (c[0] === '\n' || c[0] === '\r') return '<br>';
    const n = c.charCodeAt(0);
    if (n < 0x20 || (n >= 0x7f && n <= 0x9f)) return '\ufffd';
    return `&#${n};`;
  });
  // Bidi controls would reorder what a reader sees (a name that hides its real extension).
  return escapeBidi(escaped, true);
}

/** For an attribute holding a URL that the URL parser has already normalized. */
const escapeAttr = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** Cuts at `end` without leaving half of a surrogate pair. */
function cutAt(s: string, end: number): string {
  const unit = s.charCodeAt(end - 1);
  return s.slice(0, unit >= 0xd800 && unit <= 0xdbff ? end - 1 : end);
}

function clip(s: string, max: number): string {
  return s.length <= max ? s : `${cutAt(s, max - 1)}…`;
}

/** Paths keep their end: the file name says more than the middle directories. */
function clipMiddle(s: string, max: number): string {
  if (s.length <= max) return s;
  const tail = max >> 1;
  let start = s.length - tail;
  const unit = s.charCodeAt(start);
  if (unit >= 0xdc00 && unit <= 0xdfff) start++;
  return `${cutAt(s, max - tail - 1)}…${s.slice(start)}`;
}

// Secrets out before the clip: a secret cut in two is no longer found.
const text = (s: string, max = TEXT_MAX) => escapeHtml(clip(redactSecrets(s), max));
const code = (s: string, max = INLINE_MAX) => `<code>${text(s, max)}</code>`;
const count = (n: number) => n.toLocaleString('en-US');
const plural = (n: number, one: string, many = `${one}s`) => `${count(n)} ${n === 1 ? one : many}`;

/** http(s) URLs only, without credentials; anything else is not a link. */
function safeHref(href: string | undefined): string | undefined {
  if (!href) return undefined;
  let u: URL;
  try {
    u = new URL(href);
  } catch {
    return undefined;
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') return undefined;
  u.username = '';
  u.password = '';
  return u.href;
}

/** `label` is HTML already. A URL that may not be a link is shown as text. */
function link(label: string, href: string | undefined): string {
  const safe = safeHref(href);
  if (safe) return `<a href="${escapeAttr(redactSecrets(safe))}">${label}</a>`;
  return href ? `${label} (${code(href)})` : label;
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v < 10 ? 2 : 1)} ${units[i]}`;
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
}

/** Cells are HTML already. */
function table(rows: Array<[string, string]>): string {
  return ['| | |', '|---|---|', ...rows.map(([k, v]) => `| ${k} | ${v} |`)].join('\n');
}

/** One row per phase, then the total (the whole run when given, else the phases' sum). */
function renderTimings(timings: readonly Timing[], totalMs?: number): string {
  if (!timings.length) return '';
  const total = totalMs ?? timings.reduce((sum, t) => sum + t.ms, 0);
  const share = (ms: number) => (total > 0 ? `${Math.round((100 * ms) / total)} %` : '—');
  const rows = timings.map((t) => `| ${text(t.phase, INLINE_MAX)} | ${formatDuration(t.ms)} | ${share(t.ms)} |`);
  return `\n### ⏱️ Timings\n\n| Phase | Time | Share |\n|---|---:|---:|\n${rows.join('\n')}\n| <b>Total</b> | ${formatDuration(total)} | |\n`;
}

function receiptText(r: ReceiptInfo): string {
  const file = code(r.path, PATH_MAX);
  if (r.artifactName) return `${link(`artifact ${code(r.artifactName)}`, r.artifactUrl)}, file ${file}`;
  return `${file}, not uploaded${r.note ? `: ${text(r.note)}` : ''}`;
}

/** Collapsed; largest files first; rows until the byte budget, then one line for the rest. */
function renderFiles(files: readonly FileEntry[], budgetBytes: number, receipt: ReceiptInfo | undefined): string {
  if (!files.length) return '';
  const totalBytes = files.reduce((sum, f) => sum + f.size, 0);
  const sorted = [...files].sort((a, b) => b.size - a.size || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const open = `\n<details><summary>📁 ${plural(files.length, 'file')}, ${formatBytes(totalBytes)}: largest first</summary>\n\n`;
  const head = '| File | Size | sha256 |\n|---|---:|---|\n';
  const close = '\n</details>\n';
  // Room for the "… and N more" line, whose receipt part is clipped like any value.
  const reserve = 600 + (receipt ? Buffer.byteLength(receiptText(receipt)) : 0);
  let room = budgetBytes - Buffer.byteLength(open + head + close) - reserve;
  const rows: string[] = [];
  for (const f of sorted) {
    const row = `| ${code(clipMiddle(redactSecrets(f.path), PATH_MAX), PATH_MAX)} | ${formatBytes(f.size)} | ${code(f.sha256.replace(/^sha256:/, '').slice(0, 12))} |\n`;
    const bytes = Buffer.byteLength(row);
    if (bytes > room) break;
    rows.push(row);
    room -= bytes;
  }
  const rest = sorted.length - rows.length;
  let more = '';
  if (rest) {
    const restBytes = sorted.slice(rows.length).reduce((sum, f) => sum + f.size, 0);
    const where = receipt ? `every file is listed in the receipt (${receiptText(receipt)})` : 'not listed here';
    more = `\n… and ${plural(rest, 'more file', 'more files')} (${formatBytes(restBytes)}): ${where}.\n`;
  }
  return `${open}${rows.length ? head + rows.join('') : ''}${more}${close}`;
}

function hokusaiEvent(h: HokusaiResult): string {
  return `proposal ${code(h.proposalId)} for token ${code(h.tokenId)} (${code(h.metric)} = ${text(h.value, INLINE_MAX)})`;
}

function hokusaiText(h: HokusaiResult): string {
  const detail = h.detail ? text(h.detail) : '';
  if (h.event === 'sent') return `✅ sent: ${hokusaiEvent(h)}`;
  if (h.event === 'skipped') return `⏭️ ${detail || 'not sent'}; ${hokusaiEvent(h)}`;
  return `❌ <b>not sent</b>: ${hokusaiEvent(h)}${detail ? `<br>${detail}` : ''}`;
}

export interface RenderOptions {
  /** Bytes the file list may take; the default keeps the page quick to open. */
  fileListBudgetBytes?: number;
}

export function renderSuccess(r: RegisteredResult, opts: RenderOptions = {}): string {
  const aliases = r.aliases.slice(0, MAX_ALIASES).map((a) => code(a));
  if (r.aliases.length > MAX_ALIASES) aliases.push(`and ${count(r.aliases.length - MAX_ALIASES)} more`);
  const rows: Array<[string, string]> = [
    ['Model', code(r.modelName)],
    ['Version', link(`version ${text(r.version, INLINE_MAX)}`, r.versionUrl)],
    ['Aliases', aliases.length ? aliases.join(' ') : '—'],
  ];
  if (r.description) rows.push(['Description', text(r.description)]);
  if (r.tags.length) {
    const tags = r.tags.slice(0, MAX_TAGS).map(([k, v]) => `${code(k)} = ${text(v, INLINE_MAX)}`);
    if (r.tags.length > MAX_TAGS) tags.push(`and ${plural(r.tags.length - MAX_TAGS, 'more tag')}`);
    rows.push(['Tags', tags.join('<br>')]);
  }
  rows.push(
    ['Files', `${r.files} files, ${formatBytes(r.bytes)}`],
    [
      'Upload',
      r.uploadMs === undefined
        ? 'none (reused)'
        : `${formatDuration(r.uploadMs)}, ${formatBytes((r.bytes / Math.max(r.uploadMs, 1)) * 1000)}/s`,
    ],
    ['Duration', formatDuration(r.durationMs)],
    ['Model URI', code(r.modelUri)],
    ['Digest', code(r.digest)],
    ['Experiment', `${code(r.experimentName)} (id ${text(r.experimentId, INLINE_MAX)})`],
    ['Run', code(r.runId)],
    ['Source', r.source ? code(r.source, TEXT_MAX) : '—'],
    ['Commit', r.commit ? code(r.commit.slice(0, 12)) : '—'],
  );
  if (r.runUrl) rows.push(['Workflow run', link('this run', r.runUrl)]);
  if (r.hokusai) rows.push(['Hokusai', hokusaiText(r.hokusai)]);
  if (r.receipt) rows.push(['Receipt', receiptText(r.receipt)]);

  const what = r.reused
    ? `♻️ Reused ${code(r.modelName)} version ${text(r.version, INLINE_MAX)}: already registered for this commit with the same content`
    : `✅ Registered ${code(r.modelName)} version ${text(r.version, INLINE_MAX)}`;
  const hokusaiFailed = r.hokusai?.event === 'failed' ? r.hokusai : undefined;
  const heading = `## ${what}${hokusaiFailed ? ' · ⚠️ Hokusai not notified' : ''}`;
  // The version exists, so the step may look green; this is the one thing left to do.
  const warning = hokusaiFailed
    ? `> ⚠️ <b>The model is registered in MLflow, but the Hokusai platform was not told.</b> The event for ${hokusaiEvent(hokusaiFailed)} failed.${hokusaiFailed.detail ? `<br>${text(hokusaiFailed.detail)}` : ''}\n\n`
    : '';
  const note = r.note ? `> ${text(r.note)}\n\n` : '';
  const files = renderFiles(r.fileList, opts.fileListBudgetBytes ?? FILE_LIST_BUDGET_BYTES, r.receipt);
  return capSummary(`${heading}\n\n${warning}${note}${table(rows)}\n${renderTimings(r.timings, r.durationMs)}${files}`);
}

export function renderPromotion(p: PromotionResult): string {
  const version = text(p.version, INLINE_MAX);
  const shown = p.aliases.slice(0, MAX_ALIASES);
  const moves = shown.map(({ alias, previous }) => {
    if (previous === p.version) return `${code(alias)}: ${version} (unchanged)`;
    return `${code(alias)}: ${previous ? text(previous, INLINE_MAX) : 'none'} → ${version}`;
  });
  if (p.aliases.length > MAX_ALIASES) moves.push(`and ${count(p.aliases.length - MAX_ALIASES)} more`);
  const chosenBy =
    p.chosenBy.kind === 'commit'
      ? `the version registered for commit ${code(p.chosenBy.commit.slice(0, 12))}`
      : 'the <code>version</code> input';
  const rows: Array<[string, string]> = [
    ['Model', code(p.modelName)],
    ['Version', link(`version ${version}`, p.versionUrl)],
    ['Chosen by', chosenBy],
    ['Aliases', moves.length ? moves.join('<br>') : '—'],
    ['Model URI', code(p.modelUri)],
  ];
  if (p.digest) rows.push(['Digest', code(p.digest)]);
  if (p.source) rows.push(['Source', code(p.source, TEXT_MAX)]);
  if (p.runId) rows.push(['Run', code(p.runId)]);
  if (p.hokusai) rows.push(['Hokusai', hokusaiText(p.hokusai)]);
  if (p.runUrl) rows.push(['Workflow run', link('this run', p.runUrl)]);
  rows.push(['Duration', formatDuration(p.durationMs)]);
  const to = shown.length ? ` to ${shown.map((a) => code(a.alias)).join(', ')}${p.aliases.length > shown.length ? ', …' : ''}` : '';
  // Without aliases, promote only tags the version with the token and (if it may) announces it.
  const verb = shown.length ? 'Promoted' : p.hokusai?.event === 'sent' ? 'Announced' : 'Tagged';
  const heading = p.dryRun
    ? `## 🧪 Dry run: would ${shown.length ? 'promote' : 'tag'} ${code(p.modelName)} version ${version}${to}\n\nNothing was written to the registry.`
    : `## 🚀 ${verb} ${code(p.modelName)} version ${version}${to}${p.hokusai?.event === 'failed' ? ' · ⚠️ Hokusai not notified' : ''}`;
  return capSummary(`${heading}\n\n${table(rows)}\n${renderTimings(p.timings, p.durationMs)}`);
}

export function renderFailure(err: ActionError, title = 'Model registration', runUrl?: string): string {
  const rows: Array<[string, string]> = [
    ['Step', text(err.step, INLINE_MAX)],
    ['Error', text(err.message)],
  ];
  if (err.method && err.path)
    rows.push(['Request', `${code(`${err.method} ${err.path}`, TEXT_MAX)}${err.status === undefined ? '' : ` → HTTP ${err.status}`}`]);
  if (err.serverMessage) rows.push(['Server said', text(err.serverMessage)]);
  if (err.code) rows.push(['Error code', code(err.code)]);
  if (err.retry) rows.push(['Trying again', `may help: ${text(err.retry.reason)}`]);
  rows.push(['What to do', text(err.hint)]);
  if (runUrl) rows.push(['Workflow run', link('this run', runUrl)]);
  return capSummary(`## ❌ ${text(title, INLINE_MAX)} failed: ${text(err.step, INLINE_MAX)}\n\n${table(rows)}\n`);
}

const RESULT_ICON: Record<Check['result'], string> = { pass: '✅ pass', warn: '⚠️ warn', fail: '❌ fail', skipped: '⏭️ skipped' };

/** mode: verify — one row per check, with latency and what to do. */
export function renderChecks(checks: readonly Check[], target: { trackingUri: string; modelName: string; runUrl?: string }): string {
  const failed = checks.filter((c) => c.result === 'fail').length;
  const warned = checks.filter((c) => c.result === 'warn').length;
  const heading = failed
    ? `## ❌ Registry check failed: ${failed} of ${checks.length} checks failed`
    : `## ${warned ? '⚠️' : '✅'} Registry check passed${warned ? ` with ${warned} warning${warned === 1 ? '' : 's'}` : ''}`;
  const rows = checks.map((c) => {
    const detail = [text(c.detail)];
    if (c.request) detail.push(`Request: ${code(c.request, TEXT_MAX)}`);
    if (c.hint && c.result !== 'pass') detail.push(`<b>What to do:</b> ${text(c.hint)}`);
    const latency = c.latencyMs === undefined ? '—' : formatDuration(c.latencyMs);
    return `| ${text(c.name, INLINE_MAX)} | ${RESULT_ICON[c.result]} | ${latency} | ${detail.join('<br>')} |`;
  });
  const model = target.modelName ? `, model ${code(target.modelName)}` : '';
  const run = target.runUrl ? ` ${link('Workflow run', target.runUrl)}.` : '';
  const about = `Tracking URI ${code(target.trackingUri, TEXT_MAX)}${model}. Read-only: nothing was written.${run}`;
  return capSummary(`${heading}\n\n${about}\n\n| Check | Result | Latency | Detail |\n|---|---|---|---|\n${rows.join('\n')}\n`);
}

export interface DryRunPlan {
  modelName: string;
  files: number;
  bytes: number;
  digest: string;
  experimentName: string;
  experimentId: string | undefined;
  artifactPath: string;
  aliases: readonly string[];
  commit: string;
  /** Versions already registered for this commit. */
  existingVersions: readonly string[];
  /** The version a real run would reuse (same commit, same content). */
  reuse: string | undefined;
  modelExists: boolean;
  /** Which road the files would take, and why. */
  road: string;
  /** Time spent in each phase so far. */
  timings?: readonly Timing[];
  /** Token metadata a real run would set, and whether it would notify the platform. */
  hokusai?: { tokenId: string; metric: string; value: string; proposalId: string; notify: boolean };
  runUrl?: string;
}

/** register mode with dry-run: what a real run would do. */
export function renderPlan(p: DryRunPlan): string {
  const existing = p.reuse
    ? `version ${text(p.reuse, INLINE_MAX)} has the same content: a real run would reuse it`
    : p.existingVersions.length
      ? `version ${p.existingVersions.map((v) => text(v, INLINE_MAX)).join(', ')} already registered for this commit, with other content: a real run adds a version`
      : 'none yet';
  const rows: Array<[string, string]> = [
    ['Model', `${code(p.modelName)} ${p.modelExists ? '(exists)' : '(would be created)'}`],
    ['Files', `${p.files} files, ${formatBytes(p.bytes)}`],
    ['Digest', code(p.digest)],
    ['Experiment', `${code(p.experimentName)} ${p.experimentId ? `(id ${text(p.experimentId, INLINE_MAX)})` : '(would be created)'}`],
    ['Artifact path', code(p.artifactPath)],
    ['Files would go to', text(p.road, INLINE_MAX)],
    ['Aliases', p.aliases.length ? p.aliases.map((a) => code(a)).join(' ') : '—'],
    ['Commit', p.commit ? code(p.commit.slice(0, 12)) : '—'],
    ['Version for this commit', existing],
  ];
  if (p.hokusai) {
    const h = p.hokusai;
    rows.push([
      'Hokusai',
      `token ${code(h.tokenId)}, proposal ${code(h.proposalId)}, ${code(h.metric)} = ${text(h.value, INLINE_MAX)}; ${h.notify ? 'a real run tags the version and sends the registration event' : 'a real run tags the version (notify-hokusai is false: no event)'}`,
    ]);
  }
  if (p.runUrl) rows.push(['Workflow run', link('this run', p.runUrl)]);
  const heading = `## 🧪 Dry run: would register ${code(p.modelName)}`;
  return capSummary(`${heading}\n\nNothing was written to the registry.\n\n${table(rows)}\n${renderTimings(p.timings ?? [])}`);
}

/**
 * Last guard before writing: removes the registered secrets, then cuts any markdown to the byte
 * limit on a line boundary with a visible note, closing the <details> the cut left open.
 */
export function capSummary(page: string, limitBytes = SUMMARY_LIMIT_BYTES): string {
  const markdown = redactSecrets(page);
  const total = Buffer.byteLength(markdown);
  if (total <= limitBytes) return markdown;
  const buf = Buffer.from(markdown);
  // A blank line first: right after a table row the note would become one more row.
  const note = `\n\n> ✂️ The summary was cut here: it had ${formatBytes(total)}, and GitHub shows at most 1 MiB.\n`;
  const noteBytes = Buffer.byteLength(note);
  if (noteBytes >= limitBytes) return cutBytes(buf, limitBytes);
  let room = limitBytes - noteBytes;
  for (;;) {
    const kept = cutBytes(buf, room);
    const open = (kept.match(/<details[\s>]/g)?.length ?? 0) - (kept.match(/<\/details>/g)?.length ?? 0);
    const closers = '\n\n</details>'.repeat(Math.max(0, open));
    if (!closers || Buffer.byteLength(kept) + Buffer.byteLength(closers) + noteBytes <= limitBytes) return kept + closers + note;
    room -= Buffer.byteLength(closers);
  }
}

/** At most `room` bytes: up to the last newline, or, for one huge line, at a character boundary. */
function cutBytes(buf: Buffer, room: number): string {
  if (room <= 0) return '';
  if (buf.length <= room) return buf.toString();
  const nl = buf.lastIndexOf(0x0a, room);
  if (nl > 0) return buf.subarray(0, nl).toString();
  let end = room;
  while (end > 0 && ((buf[end] ?? 0) & 0xc0) === 0x80) end--;
  // Do not leave half a tag or entity, which could swallow what follows.
  return buf
    .subarray(0, end)
    .toString()
    .replace(/<[^>]*$|&#?[0-9a-z]*$/i, '');
}
