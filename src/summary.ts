// The job summary, rendered as markdown by pure functions. Everything that came from a
// user or a server is HTML-escaped: core.summary does not escape.
import type { ActionError } from './errors.ts';

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
    ['Duration', formatDuration(r.durationMs)],
    ['Model URI', code(r.modelUri)],
    ['Digest', code(r.digest)],
    ['Experiment', `${code(r.experimentName)} (id ${escapeHtml(r.experimentId)})`],
    ['Run', code(r.runId)],
    ['Commit', r.commit ? code(r.commit.slice(0, 12)) : '—'],
  ];
  if (r.runUrl) rows.push(['Workflow run', link('this run', r.runUrl)]);
  return `## ✅ Registered ${code(r.modelName)} version ${escapeHtml(r.version)}\n\n${table(rows)}\n`;
}

export function renderFailure(err: ActionError): string {
  const rows: Array<[string, string]> = [
    ['Step', escapeHtml(err.step)],
    ['Error', escapeHtml(err.message).replace(/\n/g, '<br>')],
  ];
  if (err.method && err.path)
    rows.push(['Request', `${code(`${err.method} ${err.path}`)}${err.status === undefined ? '' : ` → HTTP ${err.status}`}`]);
  if (err.serverMessage) rows.push(['Server said', escapeHtml(err.serverMessage)]);
  rows.push(['What to do', escapeHtml(err.hint)]);
  return `## ❌ Model registration failed: ${escapeHtml(err.step)}\n\n${table(rows)}\n`;
}
