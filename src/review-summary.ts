// The model review's section of the job summary and the pull-request comment: a verdict heading,
// then metrics, dependencies, MLmodel and files, each shown only when it says something. Pure.
import { Buffer } from 'node:buffer';
import { redactSecrets } from './log.ts';
import type { FileDelta, MetricChange, Review } from './review.ts';
import type { Column, ColumnsDiff } from './signature.ts';
import {
  clip,
  clipMiddle,
  code,
  collapsed,
  count,
  FILE_LIST_BUDGET_BYTES,
  formatBytes,
  INLINE_MAX,
  PATH_MAX,
  plural,
  text,
} from './summary.ts';

export interface ReviewRenderOptions {
  /** Bytes the file table may take (the PR comment has far less room than the job summary). */
  fileListBudgetBytes?: number;
}

// Each list is bounded twice: by lines, for the reader, and by bytes, since every value may be
// long and escape to five bytes a character.
const MAX_NOTES = 10;
const MAX_METRICS = 100;
const MAX_DEPENDENCIES = 50;
const MAX_COLUMNS = 200;
const SECTION_BUDGET_BYTES = 64 * 1024;
const NAME_MAX = 200;
// Names in the heading: the line must stay one line a reader takes in at once.
const HEADING_NAME_MAX = 60;
const HEADING_METRICS = 2;

/**
 * A number as a person compares it: at most 4 decimals, or 4 significant digits below 1, with
 * no float noise (0.1 + 0.2 is "0.3") and no trailing zeros; exponents for the very small or large.
 */
export function formatNumber(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  if (x === 0) return '0';
  const abs = Math.abs(x);
  if (abs < 1e-4 || abs >= 1e15) return Number(x.toPrecision(4)).toExponential();
  return String(abs < 1 ? Number(x.toPrecision(4)) : Number(x.toFixed(4)));
}

/** The change cell: a signed delta with its arrow, and whether it is better when that is known. */
export function metricChange(m: MetricChange): string {
  if (m.from === null) return 'new';
  const delta = m.to - m.from;
  if (delta === 0 || m.verdict === 'same') return '=';
  const shown = formatNumber(delta);
  const arrow = delta > 0 ? `▲ +${shown}` : `▼ ${shown}`;
  const judged = m.verdict === 'better' ? ' ✅' : m.verdict === 'worse' ? ' ⚠️' : '';
  return `${arrow}${judged}`;
}

const fileDeltas = (r: Review) => r.files.added.length + r.files.removed.length + r.files.changed.length;
const dependencyDeltas = (r: Review) => r.requirements.added.length + r.requirements.removed.length + r.requirements.changed.length;
const columnDeltas = (c: ColumnsDiff) => c.added.length + c.removed.length + c.changed.length;
const signatureChanged = (r: Review) =>
  columnDeltas(r.mlmodel.signature.inputs) + columnDeltas(r.mlmodel.signature.outputs) > 0 || !!r.mlmodel.signatureNote;
const flavorsChanged = (r: Review) => r.mlmodel.flavors.added.length + r.mlmodel.flavors.removed.length > 0;
const newBytes = (r: Review) => r.files.added.reduce((sum, f) => sum + (f.to ?? 0), 0);

/** How a headline names things: escaped for markdown, or plain for the log. */
interface Style {
  name: (s: string) => string;
  text: (s: string) => string;
}

// A heading is one line: line breaks in a name become spaces (after redaction, which may need them).
const oneLine = (s: string) => redactSecrets(s).replace(/[\r\n]+/g, ' ');
const MARKDOWN: Style = { name: (s) => code(oneLine(s), HEADING_NAME_MAX), text: (s) => text(oneLine(s), HEADING_NAME_MAX) };
// The log redacts again and shows bidi controls; here only one line, clipped.
const PLAIN: Style = { name: (s) => clip(oneLine(s), HEADING_NAME_MAX), text: (s) => clip(oneLine(s), HEADING_NAME_MAX) };

/** The verdict without its icon, and the icon. */
function verdict(r: Review, s: Style): { icon: string; line: string } {
  const model = s.name(r.modelName);
  if (!r.against) {
    const files = `${plural(r.files.added.length, 'file')}, ${formatBytes(newBytes(r))}`;
    return { icon: '🆕', line: `No ${s.text(r.compareTo)} for ${model} yet: everything is new (${files})` };
  }
  const against = `${s.text(r.against.alias)} (version ${s.text(r.against.version)})`;
  const worse = r.metrics.filter((m) => m.verdict === 'worse');
  const better = r.metrics.filter((m) => m.verdict === 'better');
  const fresh = r.metrics.filter((m) => m.from === null).length;
  const other = r.metrics.filter((m) => m.verdict === undefined && m.from !== null && m.from !== m.to).length;
  const metric = (m: MetricChange, how: string) => `${s.text(m.name)} ${how} (${formatNumber(m.from ?? 0)} → ${formatNumber(m.to)})`;
  const some = (ms: MetricChange[], how: string) => [
    ...ms.slice(0, HEADING_METRICS).map((m) => metric(m, how)),
    ...(ms.length > HEADING_METRICS ? [`${plural(ms.length - HEADING_METRICS, 'more metric')} ${how}`] : []),
  ];
  const files = fileDeltas(r);
  const deps = dependencyDeltas(r);
  // What a reviewer must not miss comes first: a metric that got worse.
  const parts = [
    ...some(worse, 'worse'),
    r.files.basis === 'none'
      ? 'files not compared'
      : files
        ? `${plural(files, 'file')} changed`
        : r.files.basis === 'size'
          ? 'no file changed in size (contents not compared)'
          : '',
    deps ? `${plural(deps, 'dependency', 'dependencies')} changed` : '',
    flavorsChanged(r) ? 'flavors changed' : '',
    signatureChanged(r) ? 'signature changed' : '',
    ...some(better, 'better'),
    other ? `${plural(other, 'metric')} changed` : '',
    fresh ? plural(fresh, 'new metric') : '',
  ].filter((p) => p);
  if (!r.changed && !worse.length) return { icon: '✅', line: `No change in ${model} against ${against}` };
  return {
    icon: worse.length ? '⚠️' : '🔍',
    line: `Review of ${model} against ${against}${parts.length ? `: ${parts.join(', ')}` : ''}`,
  };
}

/** The verdict in one plain line, for the log. */
export function reviewVerdict(r: Review): string {
  return verdict(r, PLAIN).line;
}

/** Lines until `maxLines` or `budgetBytes`; how many were left out. */
function bounded(lines: readonly string[], maxLines: number, budgetBytes: number): { shown: string[]; rest: number } {
  const shown: string[] = [];
  let room = budgetBytes;
  for (const line of lines.slice(0, maxLines)) {
    const bytes = Buffer.byteLength(line) + 1;
    if (bytes > room) break;
    shown.push(line);
    room -= bytes;
  }
  return { shown, rest: lines.length - shown.length };
}

function renderMetrics(r: Review): string {
  if (!r.metrics.length) return '';
  const alias = text(oneLine(r.against?.alias ?? r.compareTo), HEADING_NAME_MAX);
  const rows = r.metrics.map(
    (m) => `| ${code(m.name, NAME_MAX)} | ${m.from === null ? '—' : formatNumber(m.from)} | ${formatNumber(m.to)} | ${metricChange(m)} |`,
  );
  const { shown, rest } = bounded(rows, MAX_METRICS, SECTION_BUDGET_BYTES);
  const table = `| Metric | ${alias} | this change | Change |\n|---|---:|---:|---:|\n${shown.join('\n')}\n`;
  return `${table}${rest ? `\n… and ${plural(rest, 'more metric')}.\n` : ''}\n`;
}

function renderDependencies(r: Review): string {
  const q = r.requirements;
  if (!dependencyDeltas(r)) return '';
  const pin = (p: string) => (p ? text(p, INLINE_MAX) : 'unpinned');
  const lines = [
    ...q.added.map((d) => `- added ${code(d)}`),
    ...q.removed.map((d) => `- removed ${code(d)}`),
    ...q.changed.map((c) => `- ${code(c.name)} ${pin(c.from)} → ${pin(c.to)}`),
  ];
  const { shown, rest } = bounded(lines, MAX_DEPENDENCIES, SECTION_BUDGET_BYTES);
  if (rest) shown.push(`- … and ${plural(rest, 'more dependency', 'more dependencies')}`);
  return `<b>Dependencies</b>\n\n${shown.join('\n')}\n\n`;
}

function renderMlmodel(r: Review): string {
  const m = r.mlmodel;
  if (!flavorsChanged(r) && !signatureChanged(r)) return '';
  const column = (c: Column) => `${code(c.name, NAME_MAX)} (${text(c.type, NAME_MAX)})`;
  const columns = (what: string, d: ColumnsDiff) => [
    ...d.added.map((c) => `- ${what} added ${column(c)}`),
    ...d.removed.map((c) => `- ${what} removed ${column(c)}`),
    ...d.changed.map((c) => `- ${what} ${code(c.name, NAME_MAX)}: ${text(c.from, NAME_MAX)} → ${text(c.to, NAME_MAX)}`),
  ];
  const lines = [
    ...(m.signatureNote ? [`- ${text(m.signatureNote)}`] : []),
    ...m.flavors.added.map((f) => `- flavor added ${code(f)}`),
    ...m.flavors.removed.map((f) => `- flavor removed ${code(f)}`),
    ...columns('input', m.signature.inputs),
    ...columns('output', m.signature.outputs),
  ];
  const { shown, rest } = bounded(lines, MAX_COLUMNS, SECTION_BUDGET_BYTES);
  if (rest) shown.push(`- … and ${plural(rest, 'more change')}`);
  return `<b>MLmodel</b>\n\n${shown.join('\n')}\n\n`;
}

/** Collapsed; every added, removed and changed file in one table, largest first, until the budget. */
function renderFileChanges(r: Review, budgetBytes: number): string {
  const f = r.files;
  if (f.basis === 'none') return "📁 Files could not be compared: the version's files could not be listed.\n";
  const by = f.basis === 'sha256' ? 'sha256' : 'size only';
  if (!fileDeltas(r)) return `📁 Files: all ${count(f.unchanged)} unchanged (${by}).\n`;
  const size = (d: FileDelta) => Math.max(d.from ?? 0, d.to ?? 0);
  const all = (['changed', 'added', 'removed'] as const)
    .flatMap((kind) => f[kind].map((d) => ({ ...d, kind })))
    .sort((a, b) => size(b) - size(a) || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const unchanged = f.unchanged ? `, ${count(f.unchanged)} unchanged` : '';
  const sizeOnly = f.basis === 'size' ? '; compared by size only' : '';
  const summary = `📁 ${count(f.changed.length)} changed, ${count(f.added.length)} added, ${count(f.removed.length)} removed${unchanged} (largest first${sizeOnly})`;
  const head = '| File | Change | Before | After |\n|---|---|---:|---:|\n';
  const bytes = (n: number | null) => (n === null ? '—' : formatBytes(n));
  // Room for the wrapper and the "… and N more" line.
  let room = budgetBytes - Buffer.byteLength(summary + head) - 600;
  const rows: string[] = [];
  for (const d of all) {
    const row = `| ${code(clipMiddle(redactSecrets(d.path), PATH_MAX), PATH_MAX)} | ${d.kind} | ${bytes(d.from)} | ${bytes(d.to)} |\n`;
    const n = Buffer.byteLength(row);
    if (n > room) break;
    rows.push(row);
    room -= n;
  }
  const rest = all.length - rows.length;
  const more = rest ? `\n… and ${plural(rest, 'more file', 'more files')}: not listed here.\n` : '';
  return collapsed(summary, `${rows.length ? head + rows.join('') : ''}${more}`).replace(/^\n/, '');
}

/**
 * mode: verify with model-path. A `###` section: it follows the checks in the job summary and
 * stands alone in the pull-request comment; the caller caps the whole page.
 */
export function renderReview(r: Review, opts: ReviewRenderOptions = {}): string {
  const { icon, line } = verdict(r, MARKDOWN);
  const absent = r.against ? '' : `The alias ${code(r.compareTo)} does not exist yet: there is nothing to compare against.\n\n`;
  // Each note its own quote: adjacent quote lines would run together as one paragraph.
  const notes = bounded(
    r.notes.map((n) => `> ${text(n)}\n\n`),
    MAX_NOTES,
    SECTION_BUDGET_BYTES,
  );
  if (notes.rest) notes.shown.push(`> … and ${plural(notes.rest, 'more note')}.\n\n`);
  return [
    `### ${icon} ${line}\n\n`,
    absent,
    notes.shown.join(''),
    renderMetrics(r),
    renderDependencies(r),
    renderMlmodel(r),
    renderFileChanges(r, opts.fileListBudgetBytes ?? FILE_LIST_BUDGET_BYTES),
  ].join('');
}
