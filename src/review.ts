// The model review (verify mode with model-path): what a candidate model directory changes
// against a registered version, usually the one an alias such as "champion" points at. Pure:
// the caller reads both sides; here they are compared, and the `diff` output is shaped.
import type { ManifestEntry } from './manifest.ts';
import { diffRequirements, type RequirementFiles, type RequirementsDiff } from './requirements.ts';
import { diffMlmodel, type MlmodelDiff, type MlmodelSummary } from './signature.ts';

/** A file that was added, removed or changed; sizes in bytes, null on the side it is missing from. */
export interface FileDelta {
  path: string;
  from: number | null;
  to: number | null;
}

/**
 * How files were compared: by sha256 from the version's stored manifest; by size alone from the
 * artifact listing (versions registered without a manifest); or not at all (the listing failed).
 */
export type FilesBasis = 'sha256' | 'size' | 'none';

export interface FilesDiff {
  basis: FilesBasis;
  added: FileDelta[];
  removed: FileDelta[];
  changed: FileDelta[];
  unchanged: number;
}

export type Direction = 'higher' | 'lower';

export interface MetricChange {
  name: string;
  /** The champion run's value; null when it has no such metric (or there is no champion). */
  from: number | null;
  to: number;
  /** Which way is better, for the metrics the action knows. */
  direction: Direction | undefined;
  /** Better, worse or equal by `direction`; undefined when the direction is unknown or there is no `from`. */
  verdict: 'better' | 'worse' | 'same' | undefined;
}

/** The version compared against. */
export interface Against {
  alias: string;
  version: string;
  /** Where its files are (the version's source). */
  source: string;
  runId: string | undefined;
}

export interface Review {
  modelName: string;
  compareTo: string;
  /** Null when the alias does not exist: everything is new. */
  against: Against | null;
  changed: boolean;
  files: FilesDiff;
  requirements: RequirementsDiff;
  mlmodel: MlmodelDiff;
  metrics: MetricChange[];
  /** Things the reader must know about how far the comparison went (each a sentence). */
  notes: string[];
}

/** The parts of a version that may fail to be read; each is then not compared, never taken as empty. */
export type ReviewPart = 'requirements' | 'MLmodel' | 'metrics';

/** One side of the comparison, as read from disk or from the registry. */
export interface ReviewSide {
  /** Parts that could not be read (the registered side only). */
  unread?: ReadonlySet<ReviewPart>;
  /** With sha256 on the candidate's side and for a version with a stored manifest; size only otherwise. */
  files: ReadonlyArray<{ path: string; size: number; sha256?: string }> | undefined;
  requirements: RequirementFiles;
  mlmodel: MlmodelSummary | undefined;
  /** The run's metrics, by name. */
  metrics: ReadonlyMap<string, number>;
}

// Which way is better, for the metrics the action knows (MLflow's and the Hokusai platform's names).
const HIGHER = new Set([
  'accuracy',
  'accuracy_score',
  'balanced_accuracy',
  'auc',
  'auroc',
  'roc_auc',
  'pr_auc',
  'average_precision',
  'f1',
  'f1_score',
  'precision',
  'precision_score',
  'precision_recall_auc',
  'recall',
  'recall_score',
  'r2',
  'r2_score',
  'ndcg',
  'map',
  'mrr',
  'top_k_accuracy',
  'reply_rate',
  'conversion_rate',
  'engagement_score',
]);
const LOWER = new Set([
  'mse',
  'rmse',
  'mae',
  'mape',
  'mean_squared_error',
  'root_mean_squared_error',
  'mean_absolute_error',
  'mean_absolute_percentage_error',
  'log_loss',
  'logloss',
  'cross_entropy',
  'loss',
  'error',
  'error_rate',
  'brier_score',
  'max_error',
  'latency',
  'latency_ms',
]);

/**
 * Which way is better for a metric name: its own name, or its last part after a prefix such as
 * "val_" or "test/" ("val_auroc", "test/rmse"). Undefined for names the action does not know.
 */
export function metricDirection(name: string): Direction | undefined {
  const n = name.toLowerCase();
  const candidates = [n, n.replace(/^.*[/.:]/, ''), n.replace(/^(val|valid|validation|test|train|eval|holdout)_/, '')];
  for (const c of candidates) {
    if (HIGHER.has(c)) return 'higher';
    if (LOWER.has(c)) return 'lower';
  }
  return undefined;
}

/** Each of the candidate's metrics against the champion's value of the same name (pure). */
export function compareMetrics(candidate: ReadonlyArray<readonly [string, number]>, champion: ReadonlyMap<string, number>): MetricChange[] {
  return candidate.map(([name, to]) => {
    const from = champion.get(name) ?? null;
    const direction = metricDirection(name);
    let verdict: MetricChange['verdict'];
    if (from !== null && direction) verdict = to === from ? 'same' : to > from === (direction === 'higher') ? 'better' : 'worse';
    return { name, from, to, direction, verdict };
  });
}

/**
 * The files of the candidate against the version's: by sha256 where both sides have one, else by
 * size. `before` undefined means there is nothing to compare against (every file is new).
 */
export function diffFiles(
  before: ReviewSide['files'],
  after: ReadonlyArray<{ path: string; size: number; sha256?: string }>,
  basis: FilesBasis,
): FilesDiff {
  const old = new Map((before ?? []).map((f) => [f.path, f]));
  const out: FilesDiff = { basis, added: [], removed: [], changed: [], unchanged: 0 };
  if (basis === 'none') return out;
  for (const f of after) {
    const o = old.get(f.path);
    old.delete(f.path);
    if (!o) out.added.push({ path: f.path, from: null, to: f.size });
    else if (o.size !== f.size || (basis === 'sha256' && o.sha256 !== f.sha256))
      out.changed.push({ path: f.path, from: o.size, to: f.size });
    else out.unchanged++;
  }
  for (const o of old.values()) out.removed.push({ path: o.path, from: o.size, to: null });
  // Largest first, as a reader looks for what matters; then by path, so the output is stable.
  const bySize = (a: FileDelta, b: FileDelta) =>
    Math.max(b.from ?? 0, b.to ?? 0) - Math.max(a.from ?? 0, a.to ?? 0) || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);
  out.added.sort(bySize);
  out.removed.sort(bySize);
  out.changed.sort(bySize);
  return out;
}

/** The whole review from both sides (pure). `before` undefined: the alias does not exist. */
export function buildReview(p: {
  modelName: string;
  compareTo: string;
  against: Against | null;
  before: ReviewSide | undefined;
  after: ReviewSide & { files: readonly ManifestEntry[] };
  metrics: ReadonlyArray<readonly [string, number]>;
  /** How the version's files could be compared (ignored without a version). */
  basis: FilesBasis;
  notes: string[];
}): Review {
  const basis: FilesBasis = p.before ? p.basis : 'sha256';
  const unread = p.before?.unread ?? new Set<ReviewPart>();
  const notes = [...p.notes];
  const version = p.against ? `version ${p.against.version}` : 'the version';
  for (const part of unread) notes.push(`The ${part === 'MLmodel' ? 'MLmodel file' : part} of ${version} could not be read: not compared.`);
  const files = diffFiles(p.before?.files, p.after.files, basis);
  const requirements = unread.has('requirements')
    ? { added: [], removed: [], changed: [] }
    : diffRequirements(p.before?.requirements ?? {}, p.after.requirements);
  const afterMlmodel = p.after.mlmodel ?? { flavors: [], signature: undefined };
  const mlmodel = unread.has('MLmodel') ? diffMlmodel(afterMlmodel, afterMlmodel) : diffMlmodel(p.before?.mlmodel, afterMlmodel);
  const metrics = compareMetrics(p.metrics, unread.has('metrics') ? new Map() : (p.before?.metrics ?? new Map()));
  const sig = mlmodel.signature;
  // What could not be compared may have changed: never reported as unchanged. Files compared by
  // size alone may differ in content (a retrained model often keeps its sizes).
  const changed =
    p.against === null ||
    files.basis !== 'sha256' ||
    unread.size > 0 ||
    files.added.length + files.removed.length + files.changed.length > 0 ||
    requirements.added.length + requirements.removed.length + requirements.changed.length > 0 ||
    mlmodel.flavors.added.length + mlmodel.flavors.removed.length > 0 ||
    [sig.inputs, sig.outputs].some((c) => c.added.length + c.removed.length + c.changed.length > 0) ||
    metrics.some((m) => m.from !== m.to);
  return { modelName: p.modelName, compareTo: p.compareTo, against: p.against, changed, files, requirements, mlmodel, metrics, notes };
}

/** The `diff` output: the shape documented in docs/inputs.md, paths relative to the model directory. */
export function reviewJson(r: Review): string {
  const paths = (ds: readonly FileDelta[]) => ds.map((d) => d.path);
  return JSON.stringify({
    against: r.against ? { alias: r.against.alias, version: r.against.version } : null,
    changed: r.changed,
    files: { added: paths(r.files.added), removed: paths(r.files.removed), changed: paths(r.files.changed), compared: r.files.basis },
    requirements: r.requirements,
    signature: r.mlmodel.signature,
    flavors: r.mlmodel.flavors,
    metrics: r.metrics.map((m) => ({
      name: m.name,
      from: m.from,
      to: m.to,
      ...(m.direction ? { better: m.direction } : {}),
      ...(m.verdict ? { verdict: m.verdict } : {}),
    })),
  });
}
