// Uploads the model directory through MLflow's artifact proxy and checks, by listing the
// run's artifacts, that every file arrived with its full size before anything is registered.
import { createReadStream } from 'node:fs';
import { Transform, type Readable } from 'node:stream';
import { ActionError } from './errors.ts';
import type { MlflowClient } from './mlflow.ts';
import type { ModelFile } from './model-dir.ts';
import { formatBytes, formatDuration } from './summary.ts';
import { encodePath } from './urls.ts';

const STEP = 'Upload model';

export interface UploadPlan {
  /** Artifact-proxy URL of the run's artifact root. */
  base: URL;
  /** Directory inside the run's artifacts, e.g. "model". */
  artifactPath: string;
  files: readonly ModelFile[];
}

/** The URL each file is PUT to. */
export function fileUrl(plan: UploadPlan, relPath: string): URL {
  const u = new URL(plan.base.href);
  u.pathname = `${u.pathname}/${encodePath(plan.artifactPath)}/${encodePath(relPath)}`;
  return u;
}

export interface UploadOptions {
  /** Files (or parts of one large file) in flight at once. */
  concurrency: number;
  /** Files at least this large go up in parts, when the artifact store supports it. */
  multipartThreshold: number;
  /** Bytes sent so far changed (negative when a failed attempt is taken back). */
  onBytes?: (delta: number) => void;
  onFile?: (f: ModelFile, how: 'put' | 'multipart') => void;
}

/** S3 allows at most 10,000 parts of at least 5 MiB; MLflow's own client uses 10 MiB parts. */
export const PART_SIZE = 10 * 1024 * 1024;
const MAX_PARTS = 10_000;
const READ_CHUNK = 1024 * 1024;

/** The byte ranges of a multipart upload (pure). */
export function planParts(size: number, partSize = PART_SIZE): Array<{ partNumber: number; start: number; end: number }> {
  const chunk = Math.max(partSize, Math.ceil(size / MAX_PARTS));
  const parts = [];
  for (let start = 0, n = 1; start < size; start += chunk, n++)
    parts.push({ partNumber: n, start, end: Math.min(size, start + chunk) - 1 });
  return parts;
}

/** The mpu/<op> URL for a file's directory, mirroring MLflow's HttpArtifactRepository. */
export function multipartUrl(plan: UploadPlan, op: 'create' | 'complete' | 'abort', relPath: string): URL {
  const u = new URL(plan.base.href);
  const dir = relPath.includes('/') ? `/${encodePath(relPath.slice(0, relPath.lastIndexOf('/')))}` : '';
  u.pathname = `${u.pathname.replace('/mlflow-artifacts/artifacts/', `/mlflow-artifacts/mpu/${op}/`)}/${encodePath(plan.artifactPath)}${dir}`;
  return u;
}

/** Runs tasks with at most `limit` at once; the first failure stops new ones, lets those in flight end, and is rethrown. */
async function pool<T>(items: readonly T[], limit: number, task: (item: T) => Promise<void>): Promise<void> {
  const queue = [...items];
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    for (let item = queue.shift(); item !== undefined; item = queue.shift()) {
      try {
        await task(item);
      } catch (error) {
        failure ??= { error };
        queue.length = 0;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, queue.length)) }, worker));
  if (failure) throw failure.error;
}

/** A file (or a byte range of it), reopened for each attempt, counting the bytes read into the request. */
function opener(absPath: string, range: { start: number; end: number } | undefined, onBytes?: (delta: number) => void) {
  let sent = 0;
  return (): Readable => {
    // A retry starts over: take back what the failed attempt counted.
    onBytes?.(-sent);
    sent = 0;
    // 1 MiB reads: a sixteenth of the per-chunk work of the 64 KiB default on large files.
    const source = createReadStream(absPath, { ...range, highWaterMark: READ_CHUNK });
    if (!onBytes) return source;
    const counted = new Transform({
      transform(chunk: Buffer, _enc, done) {
        sent += chunk.length;
        onBytes(chunk.length);
        done(null, chunk);
      },
    });
    source.on('error', (err) => counted.destroy(err));
    return source.pipe(counted);
  };
}

export async function uploadFiles(client: MlflowClient, plan: UploadPlan, opts: UploadOptions): Promise<void> {
  const large = plan.files.filter((f) => f.size >= opts.multipartThreshold);
  const small = plan.files.filter((f) => f.size < opts.multipartThreshold);
  // Large files one at a time, their parts in parallel; then the rest, files in parallel.
  for (const f of large) {
    const how = await uploadMultipart(client, plan, f, opts);
    opts.onFile?.(f, how);
  }
  await pool(small, opts.concurrency, async (f) => {
    await client.putArtifact(STEP, fileUrl(plan, f.relPath), opener(f.absPath, undefined, opts.onBytes), f.size);
    opts.onFile?.(f, 'put');
  });
}

async function uploadMultipart(client: MlflowClient, plan: UploadPlan, f: ModelFile, opts: UploadOptions): Promise<'put' | 'multipart'> {
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
    await client.putArtifact(STEP, fileUrl(plan, f.relPath), opener(f.absPath, undefined, opts.onBytes), f.size);
    return 'put';
  }
  const uploadId = started.upload_id;
  const done: Array<{ part_number: number; etag: string; url: string }> = [];
  try {
    await pool(started.credentials, opts.concurrency, async (cred) => {
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
        opener(f.absPath, part, opts.onBytes),
        part.end - part.start + 1,
      );
      done.push({ part_number: cred.part_number, etag, url: cred.url });
    });
    done.sort((a, b) => a.part_number - b.part_number);
    await client.mpuFinish(STEP, multipartUrl(plan, 'complete', f.relPath), { path: name, upload_id: uploadId, parts: done });
  } catch (err) {
    // Leave no half-finished upload behind in the bucket; the first error is the one to report.
    await client.mpuFinish(STEP, multipartUrl(plan, 'abort', f.relPath), { path: name, upload_id: uploadId }).catch(() => undefined);
    throw err;
  }
  return 'multipart';
}

export interface Progress {
  filesDone: number;
  files: number;
  bytesDone: number;
  bytes: number;
  elapsedMs: number;
}

/** One progress line: files and bytes done, rate, time left (pure). */
export function progressLine(p: Progress): string {
  const rate = p.elapsedMs > 0 ? (p.bytesDone / p.elapsedMs) * 1000 : 0;
  const left = rate > 0 ? (p.bytes - p.bytesDone) / rate : undefined;
  const eta = left === undefined ? '' : `, about ${formatDuration(left * 1000)} left`;
  return `Uploaded ${p.filesDone} of ${p.files} files, ${formatBytes(p.bytesDone)} of ${formatBytes(p.bytes)} (${formatBytes(rate)}/s${eta})`;
}

/** Compares what the server lists with what was sent; returns the problems found (pure). */
export function compareUpload(
  files: readonly ModelFile[],
  artifactPath: string,
  listed: ReadonlyArray<{ path: string; file_size?: number | string }>,
): string[] {
  // MLflow leaves file_size out for empty files.
  const sizes = new Map(listed.map((f) => [f.path, Number(f.file_size ?? 0)]));
  const problems: string[] = [];
  for (const f of files) {
    const remote = `${artifactPath}/${f.relPath}`;
    if (!sizes.has(remote)) problems.push(`${f.relPath}: missing on the server`);
    else if (sizes.get(remote) !== f.size) problems.push(`${f.relPath}: ${sizes.get(remote)} bytes on the server, ${f.size} bytes here`);
  }
  return problems;
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
