// The job summary, rendered as markdown by pure functions. Everything that came from a
// user or a server is redacted (the secrets registered in log.ts), clipped and escaped
// here (core.summary does not escape), links are http(s) only, and every renderer ends
// with capSummary: a hostile or huge value can neither break the markup nor push the
// summary past GitHub's 1024 KiB limit.
//
// Each page opens with one heading whose icon matches the step's exit code (✅ ⚠️ exit 0,
// ❌ exit 1, ⏭️ nothing was checked), then the few facts a reader needs, as a list; the
// rest (ids, digest, source, timings, files) is collapsed in <details>.
import { Buffer } from 'node:buffer';
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
  /** A failed event, for the heading and "what to do" when the step fails over it. */
  failure?: Failure;
}

/** What failed, as an ActionError carries it (an ActionError is one). */
export interface Failure {
  message: string;
  hint: string;
  step?: string;
  method?: string | undefined;
  path?: string | undefined;
  status?: number | undefined;
  code?: string | undefined;
  serverMessage?: string | undefined;
  retry?: { reason: string } | undefined;
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
  /** The commit on GitHub. */
  commitUrl?: string;
  /** The MLflow run and its experiment in the registry UI. */
  mlflowRunUrl?: string;
  experimentUrl?: string;
  /** The workflow run. Not linked: the summary is on its page (the PR comment's footer links it). */
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
  chosenBy: { kind: 'version' } | { kind: 'commit'; commit: string; commitUrl?: string };
  /** each alias with the version it pointed at before ('' if none) */
  aliases: ReadonlyArray<{ alias: string; previous: string }>;
  digest: string | undefined;
  source: string | undefined;
  runId: string | undefined;
  /** The workflow run. Not linked: the summary is on its page (the PR comment's footer links it). */
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
export const INLINE_MAX = 300;
export const TEXT_MAX = 2000;
export const PATH_MAX = 300;
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

export function clip(s: string, max: number): string {
  return s.length <= max ? s : `${cutAt(s, max - 1)}…`;
}

/** Paths keep their end: the file name says more than the middle directories. */
export function clipMiddle(s: string, max: number): string {
  if (s.length <= max) return s;
  const tail = max >> 1;
  let start = s.length - tail;
  const unit = s.charCodeAt(start);
  if (unit >= 0xdc00 && unit <= 0xdfff) start++;
  return `${cutAt(s, max - tail - 1)}…${s.slice(start)}`;
}

// Secrets out before the clip: a secret cut in two is no longer found.
export const text = (s: string, max = TEXT_MAX) => escapeHtml(clip(redactSecrets(s), max));
export const code = (s: string, max = INLINE_MAX) => `<code>${text(s, max)}</code>`;
export const count = (n: number) => n.toLocaleString('en-US');
export const plural = (n: number, one: string, many = `${one}s`) => `${count(n)} ${n === 1 ? one : many}`;

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
export function link(label: string, href: string | undefined): string {
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

/**
 * Key/value facts as a list: a table would need a header row, and GitHub shows an empty one
 * as a blank bar. Keys and values are HTML already; rows without a value are left out.
 */
function facts(rows: ReadonlyArray<Row>): string {
  const shown = rows.filter((r): r is readonly [string, string] => !!r[1]);
  return shown.length ? `${shown.map(([k, v]) => `- <b>${k}:</b> ${v}`).join('\n')}\n` : '';
}

/** Collapsed; the summary line says what is inside. `body` is markdown and ends with a newline. */
export function collapsed(summary: string, body: string): string {
  return body.trim() ? `\n<details><summary>${summary}</summary>\n\n${body}\n</details>\n` : '';
}

/** The collapsed rest of a page: its facts, then the timings table when there is one. */
function details(what: string, rest: readonly Row[], timings: string): string {
  return collapsed(`Details: ${what}${timings ? ', timings' : ''}`, `${facts(rest)}${timings ? `\n${timings}` : ''}`);
}

/** What to do, as a quote: the one line a reader of a failure or warning acts on. */
const whatToDo = (hint: string) => (hint ? `> <b>What to do:</b> ${text(hint)}\n\n` : '');

/** One row per phase, then the total (the whole run when given, else the phases' sum). */
function renderTimings(timings: readonly Timing[], totalMs?: number): string {
  if (!timings.length) return '';
  const total = totalMs ?? timings.reduce((sum, t) => sum + t.ms, 0);
  const share = (ms: number) => (total > 0 ? `${Math.round((100 * ms) / total)} %` : '—');
  const rows = timings.map((t) => `| ${text(t.phase, INLINE_MAX)} | ${formatDuration(t.ms)} | ${share(t.ms)} |`);
  return `| Phase | Time | Share |\n|---|---:|---:|\n${rows.join('\n')}\n| <b>Total</b> | ${formatDuration(total)} | |\n`;
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

/** A failed event fails the step: its heading is red even when no request details came with it. */
const eventFailed = (h: HokusaiResult): Failure | undefined =>
  h.event !== 'failed' ? undefined : (h.failure ?? { message: h.detail || 'the registration event was not sent', hint: '' });

/** A failed event's reason is in the heading, not here: each fact once. */
function hokusaiText(h: HokusaiResult): string {
  const detail = h.detail ? text(h.detail) : '';
  if (h.event === 'sent') return `✅ event sent: ${hokusaiEvent(h)}`;
  if (h.event === 'skipped') return `⏭️ ${detail || 'not sent'}; ${hokusaiEvent(h)}`;
  return `❌ <b>event not sent</b>: ${hokusaiEvent(h)}`;
}

/**
 * The cause in words: "HTTP 404" becomes "artifact proxy /api/2.0/mlflow-artifacts answered
 * 404", naming what answered; other messages (a host that did not resolve) say it already.
 */
export function failureCause(f: Pick<Failure, 'message' | 'method' | 'path' | 'status'>): string {
  const m = /\bHTTP (\d{3})\b/.exec(f.message);
  if (!m || f.status === undefined || Number(m[1]) !== f.status || !f.path) return f.message;
  return `${f.message.slice(0, m.index)}${answeredBy(f.method ?? '', f.path)} answered ${m[1]}${f.message.slice(m.index + m[0].length)}`;
}

/** What a request path belongs to, in a reader's words. */
function answeredBy(method: string, path: string): string {
  const artifacts = /\/api\/2\.0\/mlflow-artifacts(?=\/|$)/.exec(path);
  if (artifacts) return `artifact proxy ${artifacts[0]}`;
  const mlflow = /\/api\/2\.0\/(?:preview\/)?mlflow\/(.*)$/.exec(path);
  if (mlflow) return `MLflow ${mlflow[1]}`;
  return `${method} ${path}`.trim();
}

type Row = readonly [string, string | undefined];

/**
 * Heading and what to do, then the request details as rows, each fact once: the status and
 * error code are in the heading, so the request line and the server's words do not repeat them.
 */
function failureBlock(heading: string, f: Failure): { head: string; rows: Row[] } {
  const cause = failureCause(f);
  const [first = '', ...rest] = cause.split(/\r\n?|\n/);
  const inHeading = (s: string) => first.length <= INLINE_MAX && first.includes(s);
  let said = f.serverMessage;
  if (said && f.code && said.startsWith(`${f.code}: `) && inHeading(f.code)) said = said.slice(f.code.length + 2);
  if (said && f.code && said === f.code && inHeading(f.code)) said = undefined;
  const status = f.status !== undefined && !inHeading(String(f.status)) ? ` → HTTP ${f.status}` : '';
  const codeShown = f.code && !inHeading(f.code) && !said?.includes(f.code) ? code(f.code) : undefined;
  return {
    head: `## ❌ ${heading}: ${text(first, INLINE_MAX)}\n\n${whatToDo(f.hint)}`,
    rows: [
      ['Details', rest.length || first.length > INLINE_MAX ? text(cause) : undefined],
      ['Step', f.step ? text(f.step, INLINE_MAX) : undefined],
      ['Request', f.method && f.path ? `${code(`${f.method} ${f.path}`, TEXT_MAX)}${status}` : undefined],
      ['Server said', said ? text(said) : undefined],
      ['Error code', codeShown],
      ['Trying again', f.retry ? `may help: ${text(f.retry.reason)}` : undefined],
    ],
  };
}

export interface RenderOptions {
  /** Bytes the file list may take; the default keeps the page quick to open. */
  fileListBudgetBytes?: number;
  /** For the pull-request comment: no timings there. */
  comment?: boolean;
}

const shortCommit = (sha: string) => code(sha.slice(0, 12));

export function renderSuccess(r: RegisteredResult, opts: RenderOptions = {}): string {
  const aliases = r.aliases.slice(0, MAX_ALIASES).map((a) => code(a));
  if (r.aliases.length > MAX_ALIASES) aliases.push(`and ${count(r.aliases.length - MAX_ALIASES)} more`);
  const version = link(`version ${text(r.version, INLINE_MAX)}`, r.versionUrl);
  const h = r.hokusai;
  const failed = h && eventFailed(h);

  // The first screen: what a reader came for.
  const main: Row[] = [
    ['Model URI', code(r.modelUri)],
    ['Aliases', aliases.length ? aliases.join(' ') : undefined],
    ['Commit', r.commit ? link(shortCommit(r.commit), r.commitUrl) : undefined],
    [
      'MLflow run',
      r.runId
        ? `${link(code(r.runId.slice(0, 12)), r.mlflowRunUrl)} in experiment ${link(code(r.experimentName), r.experimentUrl)}`
        : undefined,
    ],
    ['Hokusai', h ? hokusaiText(h) : undefined],
  ];

  // Everything else, collapsed.
  const tags = r.tags.slice(0, MAX_TAGS).map(([k, v]) => `${code(k)} = ${text(v, INLINE_MAX)}`);
  if (r.tags.length > MAX_TAGS) tags.push(`and ${plural(r.tags.length - MAX_TAGS, 'more tag')}`);
  const upload =
    r.uploadMs === undefined
      ? '; nothing uploaded (reused)'
      : opts.comment
        ? ''
        : `; uploaded in ${formatDuration(r.uploadMs)}, ${formatBytes((r.bytes / Math.max(r.uploadMs, 1)) * 1000)}/s`;
  const rest: Row[] = [
    ['Files', `${plural(r.files, 'file')}, ${formatBytes(r.bytes)}${upload}`],
    ['Digest', code(r.digest)],
    ['Source', r.source ? code(r.source, TEXT_MAX) : undefined],
    ['Run id', r.runId ? code(r.runId) : undefined],
    ['Experiment id', r.experimentId ? text(r.experimentId, INLINE_MAX) : undefined],
    ['Description', r.description ? text(r.description) : undefined],
    ['Tags', tags.length ? tags.join('<br>') : undefined],
    ['Receipt', r.receipt ? receiptText(r.receipt) : undefined],
  ];
  const more = details('digest, source, ids', rest, opts.comment ? '' : renderTimings(r.timings, r.durationMs));

  const note = r.note ? `> ${text(r.note)}\n\n` : '';
  let top: string;
  let list = main;
  if (failed) {
    // The step exits 1: the heading says so, and why; the version stands all the same.
    const block = failureBlock(`Hokusai not told about ${code(r.modelName)} ${version}`, failed);
    top = block.head;
    list = [...block.rows, ...main];
  } else {
    const what = r.reused
      ? `✅ Reused ${code(r.modelName)} ${version}: already registered for this commit with the same content`
      : `✅ Registered ${code(r.modelName)} ${version}`;
    top = `## ${what}\n\n`;
  }
  const files = renderFiles(r.fileList, opts.fileListBudgetBytes ?? FILE_LIST_BUDGET_BYTES, r.receipt);
  return capSummary(`${top}${note}${facts(list)}${more}${files}`);
}

export function renderPromotion(p: PromotionResult, opts: RenderOptions = {}): string {
  const version = text(p.version, INLINE_MAX);
  const versionLink = link(`version ${version}`, p.versionUrl);
  const shown = p.aliases.slice(0, MAX_ALIASES);
  const moves = shown.map(({ alias, previous }) => {
    if (previous === p.version) return `${code(alias)}: ${version} (unchanged)`;
    return `${code(alias)}: ${previous ? text(previous, INLINE_MAX) : 'none'} → ${version}`;
  });
  if (p.aliases.length > MAX_ALIASES) moves.push(`and ${count(p.aliases.length - MAX_ALIASES)} more`);
  const chosenBy =
    p.chosenBy.kind === 'commit'
      ? `the version registered for commit ${link(shortCommit(p.chosenBy.commit), p.chosenBy.commitUrl)}`
      : 'the <code>version</code> input';
  const main: Row[] = [
    ['Aliases', moves.length ? moves.join('<br>') : undefined],
    ['Model URI', code(p.modelUri)],
    ['Chosen by', chosenBy],
    ['Hokusai', p.hokusai ? hokusaiText(p.hokusai) : undefined],
  ];
  const rest: Row[] = [
    ['Digest', p.digest ? code(p.digest) : undefined],
    ['Source', p.source ? code(p.source, TEXT_MAX) : undefined],
    ['Run id', p.runId ? code(p.runId) : undefined],
  ];
  const more = details('digest, source, run', rest, opts.comment ? '' : renderTimings(p.timings, p.durationMs));
  const to = shown.length ? ` to ${shown.map((a) => code(a.alias)).join(', ')}${p.aliases.length > shown.length ? ', …' : ''}` : '';
  const failed = p.hokusai && eventFailed(p.hokusai);
  // Without aliases, promote only tags the version with the token and (if it may) announces it.
  const verb = shown.length ? 'Promoted' : p.hokusai?.event === 'sent' ? 'Announced' : 'Tagged';
  let top: string;
  let list = main;
  if (p.dryRun) {
    top = `## ✅ Dry run: would ${shown.length ? 'promote' : 'tag'} ${code(p.modelName)} ${versionLink}${to}\n\nNothing was written to the registry.\n\n`;
  } else if (failed) {
    // The step exits 1 over the event; the aliases moved all the same.
    const block = failureBlock(`Hokusai not told about ${code(p.modelName)} ${versionLink}`, failed);
    top = block.head;
    list = [...block.rows, ...main];
  } else {
    top = `## ✅ ${verb} ${code(p.modelName)} ${versionLink}${to}\n\n`;
  }
  return capSummary(`${top}${facts(list)}${more}`);
}

/** A failed step: the cause in the heading, what to do, then the request details. */
export function renderFailure(err: Failure, title = 'Model registration', opts: { modelUrl?: string } = {}): string {
  const { head, rows } = failureBlock(`${text(title, INLINE_MAX)} failed`, err);
  const model: Row = ["The model's page", opts.modelUrl ? link('in the registry UI', opts.modelUrl) : undefined];
  return capSummary(`${head}${facts([...rows, model])}`);
}

// A non-breaking space keeps the icon and the word on one line in a narrow column.
const RESULT_ICON: Record<Check['result'], string> = {
  pass: '✅&nbsp;pass',
  warn: '⚠️&nbsp;warn',
  fail: '❌&nbsp;fail',
  skipped: '⏭️&nbsp;skipped',
};

/**
 * mode: verify. The heading names the failing checks; what to do comes next, as a quote.
 * When nothing needs doing, one line and the checks collapsed. Latency is in the checks output.
 */
export function renderChecks(checks: readonly Check[], target: { trackingUri: string; modelName: string; runUrl?: string }): string {
  const by = (result: Check['result']) => checks.filter((c) => c.result === result);
  const [failed, warned, passed, skipped] = [by('fail'), by('warn'), by('pass'), by('skipped')];
  const names = (cs: readonly Check[]) => cs.map((c) => text(c.name, INLINE_MAX)).join(', ');
  const tally = [
    passed.length ? `${plural(passed.length, 'check')} passed` : '',
    warned.length ? plural(warned.length, 'warning') : '',
    skipped.length ? `${count(skipped.length)} skipped` : '',
  ].filter((s) => s);
  let heading: string;
  if (failed.length) heading = `❌ Registry check failed: ${names(failed)}`;
  else if (warned.length) heading = `⚠️ ${tally.join(', ')}: ${names(warned)}`;
  else if (passed.length) heading = `✅ ${tally.join(', ')}`;
  // Nothing was checked (no key on a fork's pull request): not a pass.
  else heading = `⏭️ Registry not checked: ${checks.length === 1 ? 'the check was' : `all ${count(checks.length)} checks were`} skipped`;

  const act = [...failed, ...warned].filter((c) => c.hint);
  const todo =
    act.length === 1
      ? whatToDo(act[0]!.hint ?? '')
      : act
          .map((c) => `> <b>${text(c.name, INLINE_MAX)}:</b> ${text(c.hint ?? '')}\n>\n`)
          .join('')
          .replace(/>\n$/, '\n');
  const why = !failed.length && !warned.length && !passed.length && skipped[0] ? `${text(skipped[0].detail)}\n\n` : '';
  const rows = checks.map((c) => {
    // "HTTP 404" and "GET /x → HTTP 404" say the status twice: once, as what answered.
    const req = c.request ? /^(\S+) (\S+) → HTTP (\d{3})$/.exec(c.request) : null;
    const cause = req ? failureCause({ message: c.detail, method: req[1], path: req[2], status: Number(req[3]) }) : c.detail;
    const detail = [text(cause)];
    if (c.request) detail.push(`Request: ${code(cause !== c.detail && req ? `${req[1]} ${req[2]}` : c.request, TEXT_MAX)}`);
    return `| ${text(c.name, INLINE_MAX)} | ${RESULT_ICON[c.result]} | ${detail.join('<br>')} |`;
  });
  const table = `| Check | Result | Detail |\n|---|---|---|\n${rows.join('\n')}\n`;
  const model = target.modelName ? `, model ${code(target.modelName)}` : '';
  const about = `Tracking URI ${code(target.trackingUri, TEXT_MAX)}${model}. Read-only: nothing was written.\n`;
  // A failure is what the reader came for: its table stays open.
  const checksPart = failed.length ? `\n${table}` : collapsed(`The ${plural(checks.length, 'check')}`, table);
  return capSummary(`## ${heading}\n\n${todo}${todo && !todo.endsWith('\n\n') ? '\n' : ''}${why}${about}${checksPart}`);
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
  commitUrl?: string;
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
  /** The workflow run. Not linked: the summary is on its page (the PR comment's footer links it). */
  runUrl?: string;
  /** The metrics a real run would log on its run. */
  metrics?: ReadonlyArray<readonly [string, number]>;
}

/** At most this many metrics are named in the plan; the rest are counted. */
const PLAN_METRICS = 20;

/** register mode with dry-run: what a real run would do. */
export function renderPlan(p: DryRunPlan, opts: RenderOptions = {}): string {
  const existing = p.reuse
    ? `version ${text(p.reuse, INLINE_MAX)} has the same content: a real run would reuse it`
    : p.existingVersions.length
      ? `version ${p.existingVersions.map((v) => text(v, INLINE_MAX)).join(', ')} already registered for this commit, with other content: a real run adds a version`
      : 'none yet';
  const h = p.hokusai;
  const main: Row[] = [
    ['Model', `${code(p.modelName)} ${p.modelExists ? '(exists)' : '(would be created)'}`],
    ['Files', `${plural(p.files, 'file')}, ${formatBytes(p.bytes)}`],
    ['Files would go to', text(p.road, INLINE_MAX)],
    ['Aliases', p.aliases.length ? p.aliases.map((a) => code(a)).join(' ') : undefined],
    [
      'Metrics',
      p.metrics?.length
        ? `${p.metrics
            .slice(0, PLAN_METRICS)
            .map(([k, v]) => `${code(k)} = ${text(String(v), INLINE_MAX)}`)
            .join(
              ', ',
            )}${p.metrics.length > PLAN_METRICS ? ` and ${count(p.metrics.length - PLAN_METRICS)} more` : ''}: a real run logs them on its run`
        : undefined,
    ],
    ['Commit', p.commit ? link(shortCommit(p.commit), p.commitUrl) : undefined],
    ['Version for this commit', existing],
    [
      'Hokusai',
      h
        ? `token ${code(h.tokenId)}, proposal ${code(h.proposalId)}, ${code(h.metric)} = ${text(h.value, INLINE_MAX)}; ${h.notify ? 'a real run tags the version and sends the registration event' : 'a real run tags the version (notify-hokusai is false: no event)'}`
        : undefined,
    ],
  ];
  const rest: Row[] = [
    ['Experiment', `${code(p.experimentName)} ${p.experimentId ? `(id ${text(p.experimentId, INLINE_MAX)})` : '(would be created)'}`],
    ['Artifact path', code(p.artifactPath)],
    ['Digest', code(p.digest)],
  ];
  const more = details('experiment, digest', rest, opts.comment ? '' : renderTimings(p.timings ?? []));
  const heading = `## ✅ Dry run: would register ${code(p.modelName)}`;
  return capSummary(`${heading}\n\nNothing was written to the registry.\n\n${facts(main)}${more}`);
}

/** What closes every block a cut left open, innermost first, ending on a blank line. */
export function closeOpenBlocks(kept: string): string {
  const n = (re: RegExp) => kept.match(re)?.length ?? 0;
  let out = '';
  // A code fence first: inside it, the closing tags below would be shown as text.
  if (n(/^ {0,3}(```|~~~)/gm) % 2 === 1) out += '\n```';
  const lastLine = kept.slice(kept.lastIndexOf('\n') + 1);
  if (n(/<code>/g) > n(/<\/code>/g) && lastLine.includes('<code>')) out += '</code>';
  out += '\n';
  out += '\n</table>\n'.repeat(Math.max(0, n(/<table[\s>]/g) - n(/<\/table>/g)));
  out += '\n</details>\n'.repeat(Math.max(0, n(/<details[\s>]/g) - n(/<\/details>/g)));
  return out;
}

/**
 * `page` cut to `limit` (as `size` measures it) with `notice` after it: the cut keeps what
 * `cut(room)` keeps, then closes every open block, so the notice stands outside all of them.
 */
export function cutWithNotice(limit: number, notice: string, size: (s: string) => number, cut: (room: number) => string): string {
  let room = limit - size(notice);
  for (;;) {
    const kept = cut(room);
    const closed = kept + closeOpenBlocks(kept);
    const over = size(closed) + size(notice) - limit;
    if (over <= 0 || room <= 0) return closed + notice;
    room -= over;
  }
}

/**
 * Last guard before writing: removes the registered secrets, then cuts any markdown to the byte
 * limit on a line boundary, closes what the cut left open, and says so below it.
 */
export function capSummary(page: string, limitBytes = SUMMARY_LIMIT_BYTES): string {
  const markdown = redactSecrets(page);
  const total = Buffer.byteLength(markdown);
  if (total <= limitBytes) return markdown;
  const buf = Buffer.from(markdown);
  const note = `\n> ✂️ The summary was cut here: it had ${formatBytes(total)}, and GitHub shows at most 1 MiB.\n`;
  if (Buffer.byteLength(note) + 40 >= limitBytes) return cutBytes(buf, limitBytes);
  return cutWithNotice(
    limitBytes,
    note,
    (s) => Buffer.byteLength(s),
    (room) => cutBytes(buf, room),
  );
}

/** At most `room` bytes: up to the last newline, or, for one huge line, at a character boundary. */
function cutBytes(buf: Buffer, room: number): string {
  if (room <= 0) return '';
  if (buf.length <= room) return buf.toString();
  const nl = buf.lastIndexOf(0x0a, room);
  if (nl > 0) return buf.subarray(0, nl).toString();
  let end = room;
  while (end > 0 && ((buf[end] ?? 0) & 0xc0) === 0x80) end--;
  return dropPartialTag(buf.subarray(0, end).toString());
}

/** Do not leave half a tag or entity, which could swallow what follows. */
export const dropPartialTag = (s: string) => s.replace(/<[^>]*$|&#?[0-9a-z]*$/i, '');
