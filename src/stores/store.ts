// The one small interface every artifact store implements, so that register mode does not
// know which road the files take, and the pieces the stores share (all without I/O).
import type { ManifestEntry } from '../manifest.ts';
import type { Experiment, RunInfo } from '../mlflow.ts';
import type { ModelFile } from '../model-dir.ts';
import { formatBytes, formatDuration } from '../summary.ts';

export interface ArtifactStore {
  /** What the log and the summary call this road, e.g. "MLflow artifact proxy". */
  readonly name: string;
  /**
   * Read-only, before a run exists: fails when this road cannot take the files. Returns a line for
   * the log. `started`: this road's request, sent early beside other reads, to use instead.
   */
  probe(experiment: Experiment | undefined, started?: Promise<void>): Promise<string>;
  /** Sends every file below the run's artifact location. */
  upload(run: RunInfo, files: readonly ModelFile[], opts: UploadOptions): Promise<void>;
  /** Fails unless every file arrived whole and can be served back, so nothing unloadable gets registered. */
  verify(run: RunInfo, files: readonly ModelFile[]): Promise<void>;
  /** The model version's source. */
  source(run: RunInfo): string;
}

export interface UploadOptions {
  /** Files (or parts of one large file) in flight at once. */
  concurrency: number;
  /** Files at least this large go up in parts, when the store supports it. */
  multipartThreshold: number;
  /** The manifest the digest was computed from, by path: every byte sent is checked against it. */
  digests: ReadonlyMap<string, ManifestEntry>;
  /** Bytes sent so far changed (negative when a failed attempt is taken back). */
  onBytes?: (delta: number) => void;
  onFile?: (f: ModelFile, how: 'put' | 'multipart') => void;
}

/** Runs tasks with at most `limit` at once; the first failure stops new ones, lets those in flight end, and is rethrown. */
export async function pool<T>(items: readonly T[], limit: number, task: (item: T) => Promise<void>): Promise<void> {
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

/** S3 allows at most 10,000 parts of at least 5 MiB; MLflow's own client uses 10 MiB parts. */
export const PART_SIZE = 10 * 1024 * 1024;
const MAX_PARTS = 10_000;

/** The byte ranges of a multipart upload (pure). */
export function planParts(size: number, partSize = PART_SIZE): Array<{ partNumber: number; start: number; end: number }> {
  const chunk = Math.max(partSize, Math.ceil(size / MAX_PARTS));
  const parts = [];
  for (let start = 0, n = 1; start < size; start += chunk, n++)
    parts.push({ partNumber: n, start, end: Math.min(size, start + chunk) - 1 });
  return parts;
}

/**
 * Large files one at a time, their parts in parallel; then the rest, files in parallel. `large`
 * says how the file went (a store may fall back to one PUT).
 */
export async function uploadInOrder(
  files: readonly ModelFile[],
  opts: UploadOptions,
  send: { large: (f: ModelFile) => Promise<'put' | 'multipart'>; small: (f: ModelFile) => Promise<void> },
): Promise<void> {
  for (const f of files.filter((x) => x.size >= opts.multipartThreshold)) {
    // Not folded into onFile?.(…): an optional call skips its arguments, and so the upload.
    const how = await send.large(f);
    opts.onFile?.(f, how);
  }
  await pool(
    files.filter((x) => x.size < opts.multipartThreshold),
    opts.concurrency,
    async (f) => {
      await send.small(f);
      opts.onFile?.(f, 'put');
    },
  );
}

/** Compares what a store lists with what was sent; returns the problems found. */
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

export interface Progress {
  filesDone: number;
  files: number;
  bytesDone: number;
  bytes: number;
  elapsedMs: number;
}

/** One progress line: files and bytes done, rate, time left. */
export function progressLine(p: Progress): string {
  const rate = p.elapsedMs > 0 ? (p.bytesDone / p.elapsedMs) * 1000 : 0;
  const left = rate > 0 ? (p.bytes - p.bytesDone) / rate : undefined;
  const eta = left === undefined ? '' : `, about ${formatDuration(left * 1000)} left`;
  return `Uploaded ${p.filesDone} of ${p.files} files, ${formatBytes(p.bytesDone)} of ${formatBytes(p.bytes)} (${formatBytes(rate)}/s${eta})`;
}
