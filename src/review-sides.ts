// The two sides of the model review: the candidate model directory, read from disk, and the
// registered version an alias points at, read from the registry (read-only). What cannot be
// read becomes a note or a warning for the reader, never a failed step.
import { open } from 'node:fs/promises';
import path from 'node:path';
import { ActionError } from './errors.ts';
import * as log from './log.ts';
import { buildManifest, manifestUriFor, parseStoredManifest, type ManifestEntry } from './manifest.ts';
import type { ModelVersion } from './mlflow.ts';
import { scanModelDir, type ModelDir } from './model-dir.ts';
import type { RequirementFiles } from './requirements.ts';
import type { Against, FilesBasis, ReviewSide } from './review.ts';
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
    throw new ActionError(`a model file could not be read: ${e instanceof Error ? e.message : String(e)}`, {
      step: 'Validate model directory',
      hint: 'Check that the model directory can be read by the job.',
    });
  });
  const text = async (name: string) => (dir.files.some((f) => f.relPath === name) ? readText(path.join(dir.root, name)) : undefined);
  const [mlmodel, ...reqs] = await Promise.all([text('MLmodel'), ...REQUIREMENT_FILES.map(text)]);
  return {
    dir,
    side: {
      files,
      requirements: requirementFiles(reqs),
      mlmodel: mlmodel === undefined ? undefined : readMlmodelSummary(mlmodel),
      metrics: new Map(),
    },
  };
}

async function readText(file: string): Promise<string> {
  const handle = await open(file, 'r');
  try {
    const buf = Buffer.alloc(TEXT_LIMIT_BYTES);
    const { bytesRead } = await handle.read(buf, 0, buf.length, 0);
    return buf.subarray(0, bytesRead).toString('utf8');
  } finally {
    await handle.close();
  }
}

const requirementFiles = (texts: ReadonlyArray<string | undefined>): RequirementFiles =>
  Object.fromEntries(REQUIREMENT_FILES.flatMap((name, i) => (texts[i] === undefined ? [] : [[name, texts[i]]])));

/** The registered side, as far as it could be read. */
export interface Registered {
  against: Against | null;
  side: ReviewSide | undefined;
  basis: FilesBasis;
  notes: string[];
  /** For a person to act on: each with the request that failed. */
  warnings: string[];
}

/**
 * The version `alias` points at and what the review compares: its manifest (or, for versions
 * registered without one, its listing's sizes), requirement files, MLmodel and run metrics, all
 * asked at once. Only the alias lookup may fail the review; the rest degrades to notes.
 */
export async function readRegistered(s: Session, alias: string): Promise<Registered> {
  const { cfg, mlflow } = s;
  const version = await mlflow.getVersionByAlias(REVIEW, cfg.modelName, alias);
  if (!version)
    return {
      against: null,
      side: undefined,
      basis: 'none',
      notes: [],
      warnings: [],
    };
  const against: Against = { alias, version: version.version, source: version.source ?? '', runId: version.run_id || undefined };
  const notes: string[] = [];
  const warnings: string[] = [];
  const failed = (what: string, e: unknown): undefined => {
    if (e instanceof ActionError && e.code === 'CANCELLED') throw e;
    warnings.push(`${what}: ${describe(e)}`);
    return undefined;
  };

  const location = await resolveSource(s, version).catch((e: unknown) =>
    failed(`Could not find the files of version ${version.version}`, e),
  );
  const road = location ? chooseRoad(undefined, location) : undefined;
  if (road && !('kind' in road)) warnings.push(`The files of version ${version.version} cannot be read: ${road.unsupported}.`);
  const store = road && 'kind' in road ? storeFor(s, road) : undefined;
  const read = (uri: string) =>
    store ? store.readText(uri, REVIEW).catch((e: unknown) => failed(`Could not read ${uri}`, e)) : Promise.resolve(undefined);

  const [run, manifestText, mlmodel, ...reqs] = await Promise.all([
    against.runId
      ? mlflow
          .getRunWithMetrics(REVIEW, against.runId)
          .catch((e: unknown) => failed(`Could not read the metrics of run ${against.runId}`, e))
      : undefined,
    location ? read(manifestUriFor(location)) : undefined,
    location ? read(`${location}/MLmodel`) : undefined,
    ...REQUIREMENT_FILES.map((name) => (location ? read(`${location}/${name}`) : undefined)),
  ]);

  let files: ReviewSide['files'];
  let basis: FilesBasis = 'none';
  const stored = manifestText === undefined ? undefined : parseStoredManifest(manifestText);
  if (Array.isArray(stored)) {
    files = stored;
    basis = 'sha256';
  } else if (store && location) {
    if (typeof stored === 'string') log.debug(`The manifest of version ${version.version} is not usable: ${stored}.`);
    try {
      files = await store.list(location, REVIEW);
      basis = 'size';
      notes.push(
        `Version ${version.version} was registered without a manifest (by another client or an older action): files were compared by size, so their contents could not be compared.`,
      );
    } catch (e) {
      failed(`Could not list the files of version ${version.version}`, e);
    }
  }
  if (basis === 'none') notes.push(`The files of version ${version.version} could not be read, so files were not compared.`);
  return {
    against,
    side: {
      files,
      requirements: requirementFiles(reqs),
      mlmodel: mlmodel === undefined || mlmodel === null ? undefined : readMlmodelSummary(mlmodel),
      metrics: run?.metrics ?? new Map(),
    },
    basis,
    notes,
    warnings,
  };
}

/** The artifact URI of a version's files: its source, or what a runs:/ or models:/ source stands for. */
async function resolveSource(s: Session, version: ModelVersion): Promise<string | undefined> {
  const source = (version.source ?? '').replace(/\/+$/, '');
  const runs = /^runs:\/([^/]+)(?:\/(.*))?$/.exec(source);
  if (runs) {
    const run = await s.mlflow.getRun(REVIEW, runs[1]!);
    return `${run.artifact_uri.replace(/\/+$/, '')}${runs[2] ? `/${runs[2]}` : ''}`;
  }
  const logged = /^models:\/(m-[^/]+)$/.exec(source);
  if (logged) return (await s.mlflow.getLoggedModelLocation(REVIEW, logged[1]!))?.replace(/\/+$/, '');
  return source || undefined;
}

/** A failure in one line, with the request that failed. */
function describe(e: unknown): string {
  if (!(e instanceof ActionError)) return e instanceof Error ? e.message : String(e);
  const request = e.method && e.path ? ` (request: ${e.method} ${e.path}${e.status === undefined ? '' : ` → HTTP ${e.status}`})` : '';
  return `${e.message}${e.serverMessage ? `; the server said: ${e.serverMessage}` : ''}${request}`;
}
