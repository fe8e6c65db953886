// The job summary, rendered as markdown by pure functions. Everything that came from a
// user or a server is HTML-escaped: core.summary does not escape.
import type { ActionError } from './errors.ts';
import type { Check } from './verify.ts';

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
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"'`|\\[\]*_]/g, (c) => `&#${c.charCodeAt(0)};`);
}

const code = (s: string) => `<code>${escapeHtml(s)}</code>`;

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

function table(rows: Array<[string, string]>): string {
  return ['| | |', '|---|---|', ...rows.map(([k, v]) => `| ${k} | ${v} |`)].join('\n');
}

export function renderSuccess(r: RegisteredResult): string {
  const link = (text: string, href: string) => `<a href="${escapeHtml(href)}">${escapeHtml(text)}</a>`;
  const rows: Array<[string, string]> = [
    ['Model', code(r.modelName)],
    ['Version', link(`version ${r.version}`, r.versionUrl)],
    ['Aliases', r.aliases.length ? r.aliases.map(code).join(' ') : '—'],
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
    ['Experiment', `${code(r.experimentName)} (id ${escapeHtml(r.experimentId)})`],
    ['Run', code(r.runId)],
    ['Commit', r.commit ? code(r.commit.slice(0, 12)) : '—'],
  ];
  if (r.runUrl) rows.push(['Workflow run', link('this run', r.runUrl)]);
  const heading = r.reused
    ? `## ♻️ Reused ${code(r.modelName)} version ${escapeHtml(r.version)}: already registered for this commit with the same content`
    : `## ✅ Registered ${code(r.modelName)} version ${escapeHtml(r.version)}`;
  const note = r.note ? `> ${escapeHtml(r.note)}\n\n` : '';
  return `${heading}\n\n${note}${table(rows)}\n`;
}

export function renderFailure(err: ActionError, title = 'Model registration'): string {
  const rows: Array<[string, string]> = [
    ['Step', escapeHtml(err.step)],
    ['Error', escapeHtml(err.message).replace(/\n/g, '<br>')],
  ];
  if (err.method && err.path)
    rows.push(['Request', `${code(`${err.method} ${err.path}`)}${err.status === undefined ? '' : ` → HTTP ${err.status}`}`]);
  if (err.serverMessage) rows.push(['Server said', escapeHtml(err.serverMessage)]);
  rows.push(['What to do', escapeHtml(err.hint)]);
  return `## ❌ ${escapeHtml(title)} failed: ${escapeHtml(err.step)}\n\n${table(rows)}\n`;
}

const RESULT_ICON: Record<Check['result'], string> = { pass: '✅ pass', warn: '⚠️ warn', fail: '❌ fail', skipped: '⏭️ skipped' };

/** mode: verify — one row per check, with latency and what to do. */
export function renderChecks(checks: readonly Check[], target: { trackingUri: string; modelName: string }): string {
  const failed = checks.filter((c) => c.result === 'fail').length;
  const warned = checks.filter((c) => c.result === 'warn').length;
  const heading = failed
    ? `## ❌ Registry check failed: ${failed} of ${checks.length} checks failed`
    : `## ${warned ? '⚠️' : '✅'} Registry check passed${warned ? ` with ${warned} warning${warned === 1 ? '' : 's'}` : ''}`;
  const rows = checks.map((c) => {
    const detail = [escapeHtml(c.detail)];
    if (c.request) detail.push(`Request: ${code(c.request)}`);
    if (c.hint && c.result !== 'pass') detail.push(`<b>What to do:</b> ${escapeHtml(c.hint)}`);
    const latency = c.latencyMs === undefined ? '—' : formatDuration(c.latencyMs);
    return `| ${escapeHtml(c.name)} | ${RESULT_ICON[c.result]} | ${latency} | ${detail.join('<br>')} |`;
  });
  const about = `Tracking URI ${code(target.trackingUri)}${target.modelName ? `, model ${code(target.modelName)}` : ''}. Read-only: nothing was written.`;
  return `${heading}\n\n${about}\n\n| Check | Result | Latency | Detail |\n|---|---|---|---|\n${rows.join('\n')}\n`;
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
}

/** register mode with dry-run: what a real run would do. */
export function renderPlan(p: DryRunPlan): string {
  const existing = p.reuse
    ? `version ${escapeHtml(p.reuse)} has the same content: a real run would reuse it`
    : p.existingVersions.length
      ? `version ${p.existingVersions.map(escapeHtml).join(', ')} already registered for this commit, with other content: a real run adds a version`
      : 'none yet';
  const rows: Array<[string, string]> = [
    ['Model', `${code(p.modelName)} ${p.modelExists ? '(exists)' : '(would be created)'}`],
    ['Files', `${p.files} files, ${formatBytes(p.bytes)}`],
    ['Digest', code(p.digest)],
    ['Experiment', `${code(p.experimentName)} ${p.experimentId ? `(id ${escapeHtml(p.experimentId)})` : '(would be created)'}`],
    ['Artifact path', code(p.artifactPath)],
    ['Aliases', p.aliases.length ? p.aliases.map(code).join(' ') : '—'],
    ['Commit', p.commit ? code(p.commit.slice(0, 12)) : '—'],
    ['Version for this commit', existing],
  ];
  return `## 🧪 Dry run: would register ${code(p.modelName)}\n\nNothing was written to the registry.\n\n${table(rows)}\n`;
}
