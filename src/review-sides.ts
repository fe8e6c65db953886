// The two sides of the model review: the candidate model directory, read from disk, and the
// registered version an alias points at, read from the registry (read-only). What cannot be
// read becomes a note or a warning for the reader, never a failed step.
import path from 'node:path';
import { ActionError } from './errors.ts';
import * as log from './log.ts';
import { buildManifest, manifestUriFor, parseStoredManifest, type ManifestEntry } from './manifest.ts';
import type { ModelVersion } from './mlflow.ts';
import { readStart, scanModelDir, unreadableModelFile, type ModelDir } from './model-dir.ts';
import type { RequirementFiles } from './requirements.ts';
import type { Against, FilesBasis, ReviewPart, ReviewSide } from './review.ts';
import { storeFor, type Session } from './session.ts';
import { readMlmodelSummary } from './signature.ts';
import { chooseRoad } from './stores/road.ts';

export const REVIEW = 'Review model';

/** The files MLflow writes that say what the model needs. */
const REQUIREMENT_FILES = ['requirements.txt', 'conda.yaml', 'python_env.yaml'] as const;
/** These files are a few KiB; the review reads no more of one than this. */
const TEXT_LIMIT_BYTES = 1024 * 1024;

export interface Candidate {
  dir: ModelDir;
  side: ReviewSide & { files: ManifestEntry[] };
}

/** The candidate directory, checked as register mode checks it (the same errors), and hashed. */
export async function readCandidate(modelPath: string): Promise<Candidate> {
  const dir = await scanModelDir(modelPath);
  const files = await buildManifest(dir.files).catch((e: unknown) => {
    throw unreadableModelFile(e);
  });
  const text = async (name: string) => {
    const f = dir.files.find((x) => x.relPath === name);
    return f ? (await readStart(f.absPath, TEXT_LIMIT_BYTES)).toString('utf8') : undefined;
  };
  const reqs = await Promise.all(REQUIREMENT_FILES.map(text));
  return {
    dir,
    side: { files, requirements: requirementFiles(reqs), mlmodel: readMlmodelSummary(dir.mlmodel), metrics: new Map() },
  };
}

const requirementFiles = (texts: ReadonlyArray<string | undefined>): RequirementFiles =>
  Object.fromEntries(REQUIREMENT_FILES.flatMap((name, i) => (texts[i] === undefined ? [] : [[name, texts[i]]])));

/** The registered side, as far as it could be read. */
export interface Registered {
  against: Against | null;
  side: ReviewSide | undefined;
  basis: FilesBasis;
  notes: string[];
  /** For a person to act on, each with the request that failed; the same cause once. */
  warnings: string[];
}

/**
 * The version `alias` points at and what the review compares, in three rounds: the alias; what
 * is in the version's folder and beside it (where the stored manifest is), with the run's metrics;
 * then only the files that are there (servers answer 500, not 404, for a missing file). Only the
 * alias lookup may fail the review; anything else becomes a part not compared, and a warning.
 */
export async function readRegistered(s: Session, alias: string): Promise<Registered> {
  const { cfg, mlflow } = s;
  const version = await mlflow.getVersionByAlias(REVIEW, cfg.modelName, alias);
  if (!version) return { against: null, side: undefined, basis: 'none', notes: [], warnings: [] };
  const against: Against = { alias, version: version.version, source: version.source ?? '', runId: version.run_id || undefined };
  const problems = new Problems(version.version);
  const unread = new Set<ReviewPart>();
  const notes: string[] = [];

  // 1. The run's metrics, beside where the files are and what is there.
  const [run, where] = await Promise.all([
    against.runId
      ? mlflow.getRunWithMetrics(REVIEW, against.runId).catch((e: unknown) => problems.add(`read the metrics of run ${against.runId}`, e))
      : undefined,
    locate(s, version, problems),
  ]);
  if (!run) unread.add('metrics');

  // 2. The files that are there, read side by side; the manifest, or else the listing's sizes.
  const { store, location, top, beside } = where ?? {};
  const present = (name: string) => top?.some((e) => e.name === name && !e.isDir) ?? false;
  const read = (name: string, part: ReviewPart) =>
    store && location && present(name)
      ? store.readText(`${location}/${name}`, REVIEW).catch((e: unknown) => {
          unread.add(part);
          return problems.add(`read ${name}`, e);
        })
      : Promise.resolve(undefined);
  const manifestName = location ? path.posix.basename(manifestUriFor(location)) : '';
  const hasManifest = beside?.some((e) => e.name === manifestName && !e.isDir) ?? false;
  const [manifestText, mlmodel, listed, ...reqs] = await Promise.all([
    store && location && hasManifest
      ? store.readText(manifestUriFor(location), REVIEW).catch((e: unknown) => problems.add('read the stored manifest', e))
      : undefined,
    read('MLmodel', 'MLmodel'),
    // Without a manifest: every file's size, from a listing.
    store && location && top && !hasManifest
      ? store.list(location, REVIEW).catch((e: unknown) => problems.add('list the files', e))
      : undefined,
    ...REQUIREMENT_FILES.map((name) => read(name, 'requirements')),
  ]);
  if (!top) unread.add('MLmodel').add('requirements');

  let files: ReviewSide['files'];
  let basis: FilesBasis = 'none';
  const stored = manifestText === undefined ? undefined : parseStoredManifest(manifestText);
  // A manifest that is there but unusable (rare: written by something else) costs a round more.
  const sizes =
    listed ??
    (hasManifest && !Array.isArray(stored) && store && location
      ? await store.list(location, REVIEW).catch((e: unknown) => problems.add('list the files', e))
      : undefined);
  if (Array.isArray(stored)) {
    files = stored;
    basis = 'sha256';
  } else if (sizes) {
    if (typeof stored === 'string') log.debug(`The stored manifest of version ${version.version} is not usable: ${stored}.`);
    files = sizes;
    basis = 'size';
    const why =
      typeof stored === 'string'
        ? `its stored manifest is not usable (${stored})`
        : 'it was registered without a manifest (by another client or an older action)';
    notes.push(`Version ${version.version}: ${why}. Files were compared by size, so their contents could not be compared.`);
  }
  if (basis === 'none') notes.push(`The files of version ${version.version} could not be read, so files were not compared.`);
  const warnings = problems.lines();
  return {
    against,
    side: {
      files,
      requirements: requirementFiles(reqs),
      mlmodel: mlmodel === undefined ? undefined : readMlmodelSummary(mlmodel),
      metrics: run?.metrics ?? new Map(),
      unread,
    },
    basis,
    // The summary shows what the log warns of.
    notes: [...notes, ...warnings],
    warnings,
  };
}

/**
 * Where the version's files are and what its folder, and the folder above (where the manifest
 * is kept), hold. A source that names no location (runs:/…, models:/…) is resolved by the server.
 */
async function locate(s: Session, version: ModelVersion, problems: Problems) {
  let location = (version.source ?? '').replace(/\/+$/, '');
  if (/^(runs|models):\//.test(location)) {
    const resolved = await s.mlflow
      .getDownloadUri(REVIEW, s.cfg.modelName, version.version)
      .catch((e: unknown) => problems.add(`find where the files of ${location} are`, e));
    location = (resolved ?? '').replace(/\/+$/, '');
  }
  if (!location) return undefined;
  const road = chooseRoad(undefined, location);
  if (!('kind' in road)) {
    problems.add('read the files', road.unsupported.replace(/which the action cannot write to yet/, 'which the action cannot read'));
    return undefined;
  }
  const store = storeFor(s, road);
  const parent = location.slice(0, location.lastIndexOf('/'));
  const [top, beside] = await Promise.all([
    store.listDir(location, REVIEW).catch((e: unknown) => problems.add('list the files', e)),
    parent.includes('/') ? store.listDir(parent, REVIEW).catch(() => undefined) : undefined,
  ]);
  return { store, location, top, beside };
}

/** What could not be read, grouped by cause: one warning for one cause, however many reads it failed. */
class Problems {
  private readonly byCause = new Map<string, string[]>();
  private readonly version: string;
  constructor(version: string) {
    this.version = version;
  }

  /** Records a failure; a cancel is not one. Returns undefined, what the failed read stands for. */
  add(what: string, e: unknown): undefined {
    if (e instanceof ActionError && e.code === 'CANCELLED') throw e;
    const cause = typeof e === 'string' ? e : describe(e);
    this.byCause.set(cause, [...(this.byCause.get(cause) ?? []), what]);
    return undefined;
  }

  lines(): string[] {
    return [...this.byCause].map(([cause, whats]) => `Could not ${whats.join(', ')} of version ${this.version}: ${cause}`);
  }
}

/** A failure in one line, with the request that failed and what to do. */
function describe(e: unknown): string {
  if (!(e instanceof ActionError)) return e instanceof Error ? e.message : String(e);
  const request = e.request ? ` (request: ${e.request})` : '';
  const said = e.serverMessage ? `; the server said: ${e.serverMessage}` : '';
  return `${e.message}${said}${request}.${e.hint ? ` ${e.hint}` : ''}`;
}
