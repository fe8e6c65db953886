// The MLmodel file's flavors and signature, read and compared (the model review). Pure.

import { parseDocument } from 'yaml';

/** One input or output of a signature: a named column, or an unnamed tensor named by its position ("[0]"). */
export interface Column {
  name: string;
  /** e.g. "double", "string", "tensor(int64, [-1])", "double (optional)". */
  type: string;
}

export interface ColumnsDiff {
  added: Column[];
  removed: Column[];
  changed: Array<{ name: string; from: string; to: string }>;
}

export interface MlmodelSummary {
  flavors: string[];
  /** Undefined when MLmodel has no signature. */
  signature: { inputs: Column[]; outputs: Column[] } | undefined;
}

export interface MlmodelDiff {
  flavors: { added: string[]; removed: string[] };
  signature: { inputs: ColumnsDiff; outputs: ColumnsDiff };
  /** One side has a signature and the other has none. */
  signatureNote?: string;
}

// MLmodel may come from a server: bound the work whatever it holds.
const MAX_TEXT_CHARS = 1024 * 1024;
const MAX_COLUMNS = 10_000;
const MAX_FLAVORS = 1_000;
const MAX_TYPE_DEPTH = 16;
const MAX_TYPE_CHARS = 1_000;

export const NOTE_BEFORE_UNSIGNED = 'The registered version has no signature; all columns are shown as added.';
export const NOTE_AFTER_UNSIGNED = 'This model has no signature; all columns of the registered version are shown as removed.';

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** YAML as plain data, or undefined when it is no YAML; never throws, never warns. */
function readYaml(text: string): unknown {
  try {
    const doc = parseDocument(String(text).slice(0, MAX_TEXT_CHARS), { uniqueKeys: false, logLevel: 'silent' });
    if (doc.errors.length > 0) return undefined;
    return doc.toJS({ maxAliasCount: 100 });
  } catch {
    return undefined;
  }
}

/** A schema type compactly: "double", "array<string>", "object{a: long, b: string (optional)}", "map<double>". */
function renderType(spec: unknown, depth = 0): string {
  if (typeof spec === 'string') return spec;
  if (!isRecord(spec)) return 'unknown';
  if (depth >= MAX_TYPE_DEPTH) return '…';
  const type = spec['type'];
  if (type === 'array') return `array<${renderType(spec['items'], depth + 1)}>`;
  if (type === 'map') return `map<${renderType(spec['values'], depth + 1)}>`;
  if (type === 'object') {
    const props = isRecord(spec['properties']) ? Object.entries(spec['properties']).slice(0, MAX_COLUMNS) : [];
    return `object{${props.map(([k, p]) => `${k}: ${renderType(p, depth + 1)}${optional(p)}`).join(', ')}}`;
  }
  if (type === 'tensor') return renderTensor(spec['tensor-spec']);
  return typeof type === 'string' ? type : 'unknown';
}

function optional(spec: unknown): string {
  return isRecord(spec) && spec['required'] === false ? ' (optional)' : '';
}

function renderTensor(spec: unknown): string {
  const dtype = isRecord(spec) && typeof spec['dtype'] === 'string' ? spec['dtype'] : 'unknown';
  const shape = isRecord(spec) && Array.isArray(spec['shape']) ? spec['shape'].map((d) => String(d)).join(', ') : '';
  return `tensor(${dtype}, [${shape}])`;
}

const clip = (s: string) => (s.length > MAX_TYPE_CHARS ? `${s.slice(0, MAX_TYPE_CHARS - 1)}…` : s);

/** One side of a signature: a JSON string as MLflow writes it (or already a list); undefined when unreadable. */
function readSchema(raw: unknown): Column[] | undefined {
  let list = raw;
  if (typeof raw === 'string') {
    try {
      list = JSON.parse(raw);
    } catch {
      return undefined;
    }
  }
  if (!Array.isArray(list)) return undefined;
  return list.slice(0, MAX_COLUMNS).map((spec: unknown, i): Column => {
    const named = isRecord(spec) && typeof spec['name'] === 'string' ? spec['name'] : undefined;
    return { name: named ?? `[${i}]`, type: clip(renderType(spec) + optional(spec)) };
  });
}

/** Flavors and signature of an MLmodel file; whatever cannot be read is left out, never thrown. */
export function readMlmodelSummary(text: string): MlmodelSummary {
  const doc = readYaml(text);
  if (!isRecord(doc)) return { flavors: [], signature: undefined };
  const flavors = isRecord(doc['flavors']) ? Object.keys(doc['flavors']).slice(0, MAX_FLAVORS) : [];
  const sig = doc['signature'];
  if (!isRecord(sig)) return { flavors, signature: undefined };
  const inputs = readSchema(sig['inputs']);
  const outputs = readSchema(sig['outputs']);
  // A signature with neither side readable says nothing about the model's columns.
  if (!inputs && !outputs) return { flavors, signature: undefined };
  return { flavors, signature: { inputs: inputs ?? [], outputs: outputs ?? [] } };
}

function diffColumns(before: Column[], after: Column[]): ColumnsDiff {
  const b = new Map(before.map((c) => [c.name, c]));
  const a = new Map(after.map((c) => [c.name, c]));
  const diff: ColumnsDiff = { added: [], removed: [], changed: [] };
  for (const col of a.values()) {
    const old = b.get(col.name);
    if (!old) diff.added.push(col);
    else if (old.type !== col.type) diff.changed.push({ name: col.name, from: old.type, to: col.type });
  }
  for (const col of b.values()) if (!a.has(col.name)) diff.removed.push(col);
  return diff;
}

/** What changed from the registered version's MLmodel (undefined: there is none, so all is added) to this one. */
export function diffMlmodel(before: MlmodelSummary | undefined, after: MlmodelSummary): MlmodelDiff {
  const beforeFlavors = new Set(before?.flavors ?? []);
  const afterFlavors = new Set(after.flavors);
  const flavors = {
    added: [...afterFlavors].filter((f) => !beforeFlavors.has(f)),
    removed: [...beforeFlavors].filter((f) => !afterFlavors.has(f)),
  };
  const b = before?.signature ?? { inputs: [], outputs: [] };
  const a = after.signature ?? { inputs: [], outputs: [] };
  const diff: MlmodelDiff = {
    flavors,
    signature: { inputs: diffColumns(b.inputs, a.inputs), outputs: diffColumns(b.outputs, a.outputs) },
  };
  // Without a registered version there is nothing to note: everything is new.
  if (before && !before.signature && after.signature) diff.signatureNote = NOTE_BEFORE_UNSIGNED;
  if (before?.signature && !after.signature) diff.signatureNote = NOTE_AFTER_UNSIGNED;
  return diff;
}
