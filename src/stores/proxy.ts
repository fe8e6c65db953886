// The artifact proxy road: the model directory goes through the tracking server's
// /api/2.0/mlflow-artifacts route, in parallel, large files in parts where the store
// behind it can take them. Before anything is registered, a listing proves every file
// arrived whole, and names a server may mangle are fetched back.
import { ActionError } from '../errors.ts';
import type { Experiment, MlflowClient, RunInfo } from '../mlflow.ts';
import type { ModelFile } from '../model-dir.ts';
import { Readable } from 'node:stream';
import { apiUrl, artifactBaseUrl, encodePath } from '../urls.ts';
import { manifestPathFor, type ManifestEntry } from '../manifest.ts';
import { iterableOpener, partedFile, sentHash } from './checked-read.ts';
import {
  compareUpload,
  planParts,
  pool,
  uploadInOrder,
  uploadWidth,
  type ArtifactStore,
  type SentLarge,
  type UploadOptions,
  type WidthControl,
} from './store.ts';

const STEP = 'Upload model';
const PART_UNITS = (p: { start: number; end: number } | undefined): number => (p ? p.end - p.start + 1 : 0);

export function proxyStore(mlflow: MlflowClient, trackingUri: URL, artifactPath: string, concurrency: number): ArtifactStore {
  const planFor = (run: RunInfo, files: readonly ModelFile[]): UploadPlan => ({
    base: artifactBaseUrl(trackingUri, run.artifact_uri, STEP),
    artifactPath,
    files,
  });
  return {
    name: 'MLflow artifact proxy',
    async probe(experiment: Experiment | undefined) {
      // The artifact route fails on its own in real deployments: find out before a run exists.
      await mlflow.probeArtifacts('Check artifact proxy', experiment?.experiment_id ?? '');
      if (experiment?.artifact_location) artifactBaseUrl(trackingUri, experiment.artifact_location, 'Preflight');
      return 'Artifact proxy is serving';
    },
    upload: (run, files, opts) => uploadFiles(mlflow, planFor(run, files), opts),
    async verify(run, files) {
      const plan = planFor(run, files);
      await verifyUpload(mlflow, run.run_id, plan);
      await checkServedBack(mlflow, plan, concurrency);
    },
    source: (run) => `${run.artifact_uri.replace(/\/+$/, '')}/${artifactPath}`,
    async saveManifest(run, text) {
      const body = Buffer.from(text, 'utf8');
      const url = new URL(artifactBaseUrl(trackingUri, run.artifact_uri, STEP).href);
      url.pathname = `${url.pathname}/${encodePath(manifestPathFor(artifactPath))}`;
      await mlflow.putArtifact(STEP, url, () => Readable.from([body]), body.length);
    },
    // Async: a location the proxy cannot serve is a rejected promise, like any failed read.
    readText: async (uri, step) => mlflow.readArtifactText(step, artifactBaseUrl(trackingUri, uri, step)),
    async list(uri, step) {
      const dir = proxiedPath(trackingUri, uri, step);
      const files = await mlflow.listProxiedRecursive(step, dir);
      return files.map((f) => ({ path: f.path.slice(dir.length + 1), size: Number(f.file_size ?? 0) }));
    },
    async listDir(uri, step) {
      const files = await mlflow.listProxiedDir(step, proxiedPath(trackingUri, uri, step));
      return files.map((f) => ({ name: String(f.path), size: Number(f.file_size ?? 0), isDir: f.is_dir === true }));
    },
  };
}

/** The path below the proxy's route that its listing takes, as MLflow's client gives it. */
function proxiedPath(trackingUri: URL, uri: string, step: string): string {
  const route = apiUrl(trackingUri, '/api/2.0/mlflow-artifacts/artifacts/').pathname;
  const path = artifactBaseUrl(trackingUri, uri, step).pathname.slice(route.length);
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
}

export interface UploadPlan {
  /** Artifact-proxy URL of the run's artifact root. */
  base: URL;
  /** Directory inside the run's artifacts, e.g. "model". */
  artifactPath: string;
  files: readonly ModelFile[];
}

/** The URL each file is PUT to (and downloaded from). */
export function fileUrl(plan: UploadPlan, relPath: string): URL {
  const u = new URL(plan.base.href);
  u.pathname = `${u.pathname}/${encodePath(plan.artifactPath)}/${encodePath(relPath)}`;
  return u;
}

/** The mpu/<op> URL for a file's directory, mirroring MLflow's HttpArtifactRepository. */
export function multipartUrl(plan: UploadPlan, op: 'create' | 'complete' | 'abort', relPath: string): URL {
  const u = new URL(plan.base.href);
  const dir = relPath.includes('/') ? `/${encodePath(relPath.slice(0, relPath.lastIndexOf('/')))}` : '';
  u.pathname = `${u.pathname.replace('/mlflow-artifacts/artifacts/', `/mlflow-artifacts/mpu/${op}/`)}/${encodePath(plan.artifactPath)}${dir}`;
  return u;
}

export async function uploadFiles(client: MlflowClient, plan: UploadPlan, opts: UploadOptions): Promise<ManifestEntry[]> {
  const width = uploadWidth(opts);
  return uploadInOrder(
    plan.files,
    opts,
    {
      large: (f) => uploadMultipart(client, plan, f, opts, width),
      small: (f) => putWhole(client, plan, f, opts, width),
    },
    width,
  );
}

/**
 * One streamed PUT of the whole file: checked against the file's sha256 in the digests, or
 * hashed as it is sent when it has none (its entry is returned then).
 */
async function putWhole(
  client: MlflowClient,
  plan: UploadPlan,
  f: ModelFile,
  opts: UploadOptions,
  width: WidthControl,
): Promise<ManifestEntry | undefined> {
  const url = fileUrl(plan, f.relPath);
  const known = opts.digests.get(f.relPath)?.sha256;
  const where = { relPath: f.relPath, method: 'PUT', path: url.pathname, step: STEP };
  const body = iterableOpener(f.absPath, f.size, opts.onBytes, { ...where, sha256: known });
  await client.putArtifact(STEP, url, body.open, f.size, () => width.throttled());
  return known === undefined ? { path: f.relPath, size: f.size, sha256: sentHash(body, where) } : undefined;
}

async function uploadMultipart(
  client: MlflowClient,
  plan: UploadPlan,
  f: ModelFile,
  opts: UploadOptions,
  width: WidthControl,
): Promise<SentLarge> {
  const parts = planParts(f.size);
  const name = f.relPath.slice(f.relPath.lastIndexOf('/') + 1);
  const started = await client.mpuCreate(STEP, multipartUrl(plan, 'create', f.relPath), name, parts.length);
  if (started && started.credentials.length !== parts.length) {
    // Not the parts asked for: give the open upload back before falling back.
    await client
      .mpuFinish(STEP, multipartUrl(plan, 'abort', f.relPath), { path: name, upload_id: started.upload_id })
      .catch(() => undefined);
  }
  if (!started || started.credentials.length !== parts.length) {
    // Local artifact stores cannot do multipart (501): one streamed PUT, as MLflow's client does.
    return { how: 'put', entry: await putWhole(client, plan, f, opts, width) };
  }
  const uploadId = started.upload_id;
  // Parts checked against their hashes in the digests, or hashed as sent and matched with one sequential read.
  const hashed = partedFile(
    f,
    parts,
    opts.digests.get(f.relPath),
    opts.onBytes,
    {
      method: 'PUT',
      path: multipartUrl(plan, 'create', f.relPath).pathname,
      step: STEP,
    },
    'iterable',
  );
  const done: Array<{ part_number: number; etag: string; url: string }> = [];
  let entry: ManifestEntry;
  const partWidth = uploadWidth(opts, 'parts');
  try {
    await pool(
      started.credentials,
      partWidth,
      async (cred) => {
        const part = parts[cred.part_number - 1];
        if (!part)
          throw new ActionError(`the server signed part ${cred.part_number}, which does not exist`, {
            step: STEP,
            hint: 'Report this with the server version.',
          });
        const etag = await client.putPart(
          STEP,
          new URL(cred.url),
          cred.headers ?? {},
          hashed.open(cred.part_number),
          part.end - part.start + 1,
          () => {
            partWidth.throttled();
            width.throttled();
          },
        );
        hashed.sent(cred.part_number);
        done.push({ part_number: cred.part_number, etag, url: cred.url });
      },
      (cred) => PART_UNITS(parts[cred.part_number - 1]),
    );
    entry = await hashed.finish();
    done.sort((a, b) => a.part_number - b.part_number);
    await client.mpuFinish(STEP, multipartUrl(plan, 'complete', f.relPath), { path: name, upload_id: uploadId, parts: done });
  } catch (err) {
    hashed.abort();
    // Leave no half-finished upload behind in the bucket; the first error is the one to report.
    await client.mpuFinish(STEP, multipartUrl(plan, 'abort', f.relPath), { path: name, upload_id: uploadId }).catch(() => undefined);
    throw err;
  }
  return { how: 'multipart', entry: opts.digests.has(f.relPath) ? undefined : entry };
}

export async function verifyUpload(client: MlflowClient, runId: string, plan: UploadPlan): Promise<void> {
  const listed = await client.listArtifactsRecursive('Verify upload', runId, plan.artifactPath);
  const problems = compareUpload(plan.files, plan.artifactPath, listed);
  if (problems.length > 0) {
    const shown = problems.slice(0, 20).map((p) => `  - ${p}`);
    if (problems.length > 20) shown.push(`  - … and ${problems.length - 20} more`);
    throw new ActionError(
      `${problems.length} uploaded file${problems.length === 1 ? ' does' : 's do'} not match on the server:\n${shown.join('\n')}`,
      {
        step: 'Verify upload',
        hint: 'The server accepted the upload but did not store every byte. A proxy in front of MLflow may be dropping request bodies or the Content-Length header. Nothing was registered; re-run the job, and check the proxy if it repeats.',
      },
    );
  }
}

/** Names a server may store but fail to serve back: MLflow 3.9 answers 500 on any non-ASCII name, 2.x outside Latin-1. */
export const mayBeMangled = (relPath: string): boolean => /[^\x20-\x7e]/.test(relPath);

/**
 * Fetches the first byte of every file whose name a server may mangle, the way MLflow's
 * client downloads it: a version whose files cannot be downloaded cannot be loaded.
 */
async function checkServedBack(client: MlflowClient, plan: UploadPlan, concurrency: number): Promise<void> {
  const risky = plan.files.filter((f) => mayBeMangled(f.relPath));
  if (risky.length === 0) return;
  const step = 'Check files can be downloaded';
  await pool(risky, concurrency, async (f) => {
    try {
      await client.readArtifactStart(step, fileUrl(plan, f.relPath), f.size);
    } catch (err) {
      // A refused name fails the same way on every attempt: a 500, or (2.x) a connection closed without an answer.
      if (!(err instanceof ActionError) || err.code === 'CANCELLED') throw err;
      const others = risky.length - 1;
      throw new ActionError(
        `the server stored "${f.relPath}" but cannot serve it back (${err.message}), so MLflow's client could not download this model`,
        {
          ...err.details(),
          hint: `Rename the file to a plain ASCII name${others ? ` (and the ${others} other file${others === 1 ? '' : 's'} with non-ASCII names)` : ''}, or upgrade the MLflow server (3.9 answers 500 for non-ASCII file names, 2.x for names outside Latin-1; 3.17 serves them). Nothing was registered.`,
          retry: undefined,
        },
      );
    }
  });
}
