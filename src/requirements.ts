// Python requirements of a model directory, as MLflow writes them (requirements.txt, conda.yaml,
// python_env.yaml), parsed and compared. Pure.

import { parseDocument } from 'yaml';

/** One requirement as a file states it. */
export interface Requirement {
  /** The package name as written, e.g. "scikit-learn". */
  name: string;
  /** PEP 503 normalized name (lower case, runs of "-", "_", "." as one "-"); conda packages are prefixed "conda:". */
  key: string;
  /** What is pinned, without the name: "1.9.1" for a plain "==1.9.1", else the rest as written, e.g. "[pandas]>=1.2,<2; python_version < \"3.12\"" ("" when unpinned). */
  pin: string;
  /** The whole requirement, normalized, e.g. "lightgbm==4.6.0". */
  text: string;
}

/** The requirement files of one model directory, by name; absent when the directory has none. */
export interface RequirementFiles {
  'requirements.txt'?: string;
  'conda.yaml'?: string;
  'python_env.yaml'?: string;
}

export interface RequirementsDiff {
  /** Whole requirements, e.g. "lightgbm==4.6.0". */
  added: string[];
  removed: string[];
  changed: Array<{ name: string; from: string; to: string }>;
}

// The files may come from a server: bound the work whatever they hold.
export const MAX_TEXT_CHARS = 1024 * 1024;
export const MAX_REQUIREMENTS = 10_000;
const MAX_LINE_CHARS = 64 * 1024;

/** How an unpinned side of a change reads. */
export const ANY_VERSION = '(any)';

/** PEP 503: case-insensitive, with runs of "-", "_" and "." equivalent. */
export function normalizeName(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, '-');
}

const NAME = /^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?/;

/**
 * One PEP 508 requirement ("name[extras] specifiers ; markers" or "name[extras] @ url ; markers"),
 * or undefined for anything else (options, bare paths and URLs, garbage).
 */
export function parseRequirementLine(line: string): Requirement | undefined {
  let s = line.trim();
  if (s === '' || s.startsWith('-') || s.length > MAX_LINE_CHARS) return undefined;
  // pip's per-requirement options (--hash=..., --config-settings ...) follow the requirement.
  const option = /\s--[A-Za-z]/.exec(s);
  if (option) s = s.slice(0, option.index).trim();
  const nameMatch = NAME.exec(s);
  if (!nameMatch) return undefined;
  const name = nameMatch[0];
  let rest = s.slice(name.length).trimStart();

  let extras = '';
  if (rest.startsWith('[')) {
    const close = rest.indexOf(']');
    if (close < 0) return undefined;
    const list = rest
      .slice(1, close)
      .split(',')
      .map((e) => e.trim())
      .filter((e) => e !== '');
    extras = list.length > 0 ? `[${list.join(',')}]` : '';
    rest = rest.slice(close + 1).trimStart();
  }

  let url = '';
  let spec = '';
  let marker = '';
  if (rest.startsWith('@')) {
    rest = rest.slice(1).trim();
    // PEP 508: a marker after a URL needs whitespace before ";", since ";" may be part of a URL.
    const semi = /\s;/.exec(rest);
    url = (semi ? rest.slice(0, semi.index) : rest).trim();
    marker = semi ? rest.slice(semi.index + 2) : '';
    if (url === '') return undefined;
  } else {
    const semi = rest.indexOf(';');
    spec = (semi < 0 ? rest : rest.slice(0, semi)).replace(/\s+/g, '');
    marker = semi < 0 ? '' : rest.slice(semi + 1);
    // "name (>=1.0)" is the old parenthesized form of the same specifiers.
    if (spec.startsWith('(') && spec.endsWith(')')) spec = spec.slice(1, -1);
    if (spec !== '' && !/^(?:(?:===|==|!=|~=|<=|>=|<|>)[^,<>=!~;]+)(?:,(?:===|==|!=|~=|<=|>=|<|>)[^,<>=!~;]+)*$/.test(spec))
      return undefined;
  }
  marker = normalizeMarker(marker);

  const text = name + extras + (url ? ` @ ${url}` : spec) + (marker ? `; ${marker}` : '');
  const plain = /^==([^=,*]+)$/.exec(spec);
  const pin = plain && !extras && !url && !marker ? plain[1]! : text.slice(name.length).trimStart();
  return { name, key: normalizeName(name), pin, text };
}

// One spelling for a marker however it was spaced or quoted: tokens separated by single spaces,
// double quotes, no space inside parentheses (as packaging prints markers).
function normalizeMarker(marker: string): string {
  const tokens = marker.match(/"[^"]*"|'[^']*'|===|==|!=|~=|<=|>=|<|>|\(|\)|[^\s()<>=!~"']+|\S/g) ?? [];
  return tokens
    .map((t) => (t.startsWith("'") && !t.includes('"') ? `"${t.slice(1, -1)}"` : t))
    .join(' ')
    .replace(/\( /g, '(')
    .replace(/ \)/g, ')');
}

/** A requirements file in pip's syntax; options, comments and anything that is no requirement are skipped. */
export function parseRequirementsTxt(text: string): Requirement[] {
  const out: Requirement[] = [];
  const lines = String(text)
    .slice(0, MAX_TEXT_CHARS)
    .split(/\r?\n|\r/);
  let pending = '';
  for (const raw of lines) {
    // A comment needs whitespace (or the line start) before "#": "#sha256=" in a URL is no comment.
    const isComment = /^\s*#/.test(raw);
    if (!isComment && raw.endsWith('\\')) {
      pending += raw.slice(0, -1);
      continue;
    }
    const line = (pending + (isComment && pending ? ' ' : '') + raw).replace(/(^|\s)#.*$/, '');
    pending = '';
    const req = parseRequirementLine(line);
    if (req) out.push(req);
    if (out.length >= MAX_REQUIREMENTS) return out;
  }
  const last = parseRequirementLine(pending.replace(/(^|\s)#.*$/, ''));
  if (last && out.length < MAX_REQUIREMENTS) out.push(last);
  return out;
}

/** YAML as plain data, or undefined when it is no YAML; never throws, never warns. */
function readYaml(text: string): unknown {
  try {
    // Failsafe: every scalar stays a string, so "python: 3.10" is "3.10", not 3.1.
    const doc = parseDocument(String(text).slice(0, MAX_TEXT_CHARS), {
      schema: 'failsafe',
      uniqueKeys: false,
      logLevel: 'silent',
    });
    if (doc.errors.length > 0) return undefined;
    return doc.toJS({ maxAliasCount: 100 });
  } catch {
    return undefined;
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function pipItems(list: unknown, out: Requirement[]): void {
  if (!Array.isArray(list)) return;
  for (const item of list) {
    if (out.length >= MAX_REQUIREMENTS) return;
    if (typeof item !== 'string') continue;
    const req = parseRequirementLine(item);
    if (req) out.push(req);
  }
}

/** A conda match spec: "python=3.12.3", "pip<=25.1", "conda-forge::pkg=1.0", "numpy 1.26 py312_0". */
export function parseCondaSpec(spec: string): Requirement | undefined {
  const s = spec.trim().replace(/\s+/g, ' ');
  if (s === '' || s.length > MAX_LINE_CHARS) return undefined;
  const channelEnd = s.lastIndexOf('::');
  const body = channelEnd < 0 ? s : s.slice(channelEnd + 2);
  const nameMatch = /^[A-Za-z0-9_][A-Za-z0-9_.+-]*/.exec(body);
  if (!nameMatch) return undefined;
  const name = nameMatch[0];
  const rest = body
    .slice(name.length)
    .trim()
    .replace(/\s*([<>=!~,|])\s*/g, '$1');
  // "=1.2.3", "==1.2.3" and a bare "1.2.3" all pin that version.
  const plain = /^(?:==?)?([A-Za-z0-9][^\s<>=!~,|*]*)$/.exec(rest);
  const pin = plain ? plain[1]! : rest;
  const text = s.slice(0, s.length - body.length) + name + (rest === '' ? '' : /^[<>=!~]/.test(rest) ? rest : ` ${rest}`);
  return { name, key: `conda:${normalizeName(name)}`, pin, text };
}

/** MLflow's conda.yaml: conda specs, and the pip requirements of its "pip:" entry. [] when it is not such a file. */
export function parseCondaYaml(text: string): Requirement[] {
  const doc = readYaml(text);
  if (!isRecord(doc) || !Array.isArray(doc['dependencies'])) return [];
  const out: Requirement[] = [];
  for (const dep of doc['dependencies'] as unknown[]) {
    if (out.length >= MAX_REQUIREMENTS) break;
    if (typeof dep === 'string') {
      const req = parseCondaSpec(dep);
      if (req) out.push(req);
    } else if (isRecord(dep)) {
      pipItems(dep['pip'], out);
    }
  }
  return out;
}

/** MLflow's python_env.yaml: the Python version, build dependencies and pip dependencies ("-r requirements.txt" is the other file). */
export function parsePythonEnv(text: string): Requirement[] {
  const doc = readYaml(text);
  if (!isRecord(doc)) return [];
  const out: Requirement[] = [];
  const python = doc['python'];
  if (typeof python === 'string' && python.trim() !== '' && python.length <= MAX_LINE_CHARS) {
    const version = python.trim().replace(/\s+/g, ' ');
    // Spelled as conda.yaml spells it, so the same Python change in both files is shown once.
    out.push({ name: 'python', key: 'python', pin: version, text: `python=${version}` });
  }
  pipItems(doc['build_dependencies'], out);
  pipItems(doc['dependencies'], out);
  return out;
}

const PARSERS: Record<keyof RequirementFiles, (text: string) => Requirement[]> = {
  'requirements.txt': parseRequirementsTxt,
  'conda.yaml': parseCondaYaml,
  'python_env.yaml': parsePythonEnv,
};

function byKey(reqs: Requirement[]): Map<string, Requirement> {
  // Within one file the last statement of a package wins.
  const map = new Map<string, Requirement>();
  for (const r of reqs) {
    map.delete(r.key);
    map.set(r.key, r);
  }
  return map;
}

const compareText = (a: string, b: string) => {
  const la = a.toLowerCase();
  const lb = b.toLowerCase();
  return la < lb ? -1 : la > lb ? 1 : a < b ? -1 : a > b ? 1 : 0;
};

/** Each file against the same file on the other side (absent is empty), merged, each change once. */
export function diffRequirements(before: RequirementFiles, after: RequirementFiles): RequirementsDiff {
  const added = new Set<string>();
  const removed = new Set<string>();
  const changed = new Map<string, { name: string; from: string; to: string }>();
  for (const file of Object.keys(PARSERS) as Array<keyof RequirementFiles>) {
    const b = byKey(typeof before[file] === 'string' ? PARSERS[file](before[file]) : []);
    const a = byKey(typeof after[file] === 'string' ? PARSERS[file](after[file]) : []);
    for (const [key, req] of a) {
      const old = b.get(key);
      if (!old) added.add(req.text);
      else if (old.pin !== req.pin) {
        const change = { name: req.name, from: old.pin || ANY_VERSION, to: req.pin || ANY_VERSION };
        changed.set(JSON.stringify(change), change);
      }
    }
    for (const [key, req] of b) if (!a.has(key)) removed.add(req.text);
  }
  return {
    added: [...added].sort(compareText),
    removed: [...removed].sort(compareText),
    changed: [...changed.values()].sort((x, y) => compareText(x.name, y.name) || compareText(x.from, y.from) || compareText(x.to, y.to)),
  };
}
