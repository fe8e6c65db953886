// The one small interface every artifact store implements, so that register mode does not
// know which road the files take, and the pieces the stores share (all without I/O).
import type { ManifestEntry } from '../manifest.ts';
import type { Experiment, RunInfo } from '../mlflow.ts';
import type { ModelFile } from '../model-dir.ts';
import { performance } from 'node:perf_hooks';
import { formatBytes, formatDuration } from '../summary.ts';

export interface ArtifactStore {
  /** What the log and the summary call this road, e.g. "MLflow artifact proxy". */
  readonly name: string;
  /** Read-only, before a run exists: fails when this road cannot take the files. Returns a line for the log. */
  probe(experiment: Experiment | undefined): Promise<string>;
  /**
   * Sends every file below the run's artifact location. Resolves to the manifest entries of the
   * files that had none in `opts.digests`, hashed from the bytes the successful attempt sent
   * (with `partSha256` when the file went in parts), in no particular order.
   */
  upload(run: RunInfo, files: readonly ModelFile[], opts: UploadOptions): Promise<ManifestEntry[]>;
  /** Fails unless every file arrived whole and can be served back, so nothing unloadable gets registered. */
  verify(run: RunInfo, files: readonly ModelFile[]): Promise<void>;
  /** The model version's source. */
  source(run: RunInfo): string;
  /** Stores the manifest beside the model directory, outside it (manifestPathFor). */
  saveManifest(run: RunInfo, text: string): Promise<void>;
  /** A small file of a stored model by its artifact URI, as text; undefined when there is none. */
  readText(uri: string, step: string): Promise<string | undefined>;
  /** Every file below an artifact URI (a version's source), paths relative to it. */
  list(uri: string, step: string): Promise<StoredFile[]>;
  /** One directory below an artifact URI, not recursive: what is there, before anything is read. */
  listDir(uri: string, step: string): Promise<DirEntry[]>;
}

export interface StoredFile {
  path: string;
  size: number;
}

export interface DirEntry {
  name: string;
  size: number;
  isDir: boolean;
}

export interface UploadOptions {
  /**
   * At most this many files (or parts of one large file) in flight at once. The pool starts
   * narrower and widens while throughput grows (see `widthControl`).
   */
  concurrency: number;
  /** Files at least this large go up in parts, when the store supports it. */
  multipartThreshold: number;
  /**
   * Manifest entries by path, from a digest computed before the upload: the bytes of these files
   * are checked against them, and a file that changed fails its upload. A file without an entry is
   * hashed as it is sent, and its entry is in what `upload` resolves to.
   */
  digests: ReadonlyMap<string, ManifestEntry>;
  /** For the pool's throughput measurements; default the system clock. */
  clock?: { now(): number };
  /** Bytes sent so far changed (negative when a failed attempt is taken back). */
  onBytes?: (delta: number) => void;
  onFile?: (f: ModelFile, how: 'put' | 'multipart') => void;
}

/** How wide a pool runs: asked before each task starts, told when one ends or the server pushes back. */
export interface WidthControl {
  /** Tasks that may run at once now (at least 1). */
  width(): number;
  /** A task ended after moving `units` (bytes, say). */
  done(units: number): void;
  /** The server asked to slow down (HTTP 429 or 503, S3 SlowDown). */
  throttled(): void;
}

export interface AdaptiveOptions {
  /** The hard maximum (upload-concurrency). */
  max: number;
  /** The width to start at; default min(max, 8), the fixed width of earlier versions. */
  start?: number;
  clock: { now(): number };
  /** A measurement lasts at least this long; default 250 ms. */
  windowMs?: number;
  /** Widening must raise throughput by at least this share to be kept; default 0.1. */
  minGain?: number;
}

/**
 * A pool width that starts modest and doubles while throughput grows, up to `max`: against a
 * single-worker server more requests only queue, against several workers or real latency they
 * pay. Each width is measured over the tasks that started at it (after the ones in flight when it
 * changed have ended) for at least `windowMs` and twice the width of tasks. When a doubling gains
 * less than `minGain`, the width goes back to the one before and stays. When the server pushes
 * back, the width halves and never grows again: a polite client. No timers and no I/O: the clock
 * is read only when a task ends, so tests drive it with a fake clock.
 */
export function adaptiveWidth(o: AdaptiveOptions): WidthControl {
  const max = Math.max(1, Math.floor(o.max));
  const windowMs = o.windowMs ?? 250;
  const minGain = o.minGain ?? 0.1;
  let width = Math.max(1, Math.min(max, o.start ?? 8));
  let settled = false;
  let previous: { width: number; rate: number } | undefined;
  // Tasks still to end that started at the old width; then the window opens at the next end.
  let skip = 0;
  let since: number | undefined;
  let counted = 0;
  let units = 0;
  return {
    width: () => width,
    done(n) {
      if (settled) return;
      if (skip > 0) {
        skip--;
        return;
      }
      if (since === undefined) {
        since = o.clock.now();
        return;
      }
      counted++;
      units += n;
      const elapsed = o.clock.now() - since;
      if (counted < 2 * width || elapsed < windowMs) return;
      const rate = units / Math.max(elapsed, 1);
      if (previous && rate < previous.rate * (1 + minGain)) {
        // No gain worth the extra load: back to the narrower width, for good.
        width = previous.width;
        settled = true;
        return;
      }
      previous = { width, rate };
      const wider = Math.min(max, width * 2);
      if (wider === width) {
        settled = true;
        return;
      }
      skip = width - 1;
      width = wider;
      since = undefined;
      counted = 0;
      units = 0;
    },
    throttled() {
      width = Math.max(1, Math.floor(width / 2));
      settled = true;
    },
  };
}

/** A fixed width (tests, and calls that need no adapting). */
export function fixedWidth(n: number): WidthControl {
  const w = Math.max(1, Math.floor(n));
  return { width: () => w, done: () => undefined, throttled: () => undefined };
}

/**
 * Runs tasks with at most `limit` at once (a number, or a control asked before each start); the
 * first failure stops new ones, lets those in flight end, and is rethrown. `units` says what a
 * finished task counts for the control's throughput (default 1).
 */
export async function pool<T>(
  items: readonly T[],
  limit: number | WidthControl,
  task: (item: T) => Promise<void>,
  units: (item: T) => number = () => 1,
): Promise<void> {
  const control = typeof limit === 'number' ? fixedWidth(limit) : limit;
  const queue = [...items];
  let failure: { error: unknown } | undefined;
  let running = 0;
  let wake: (() => void) | undefined;
  const run = async (item: T) => {
    try {
      await task(item);
      control.done(units(item));
    } catch (error) {
      failure ??= { error };
      queue.length = 0;
    } finally {
      running--;
      wake?.();
    }
  };
  while (queue.length > 0 || running > 0) {
    while (queue.length > 0 && running < Math.max(1, control.width())) {
      running++;
      void run(queue.shift() as T);
    }
    await new Promise<void>((resolve) => (wake = resolve));
  }
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

/** A small file costs about this much besides its bytes (a request), when widths are compared. */
const REQUEST_COST_BYTES = 32 * 1024;

/**
 * Parts of one file in flight at most, whatever upload-concurrency says: 10 MiB parts are limited
 * by bandwidth, not round trips, and each one in flight holds a few MiB of read buffers.
 */
export const MAX_PART_WIDTH = 16;

/** The pool control for one upload's files (adaptive up to `opts.concurrency`), or for the parts of one file. */
export function uploadWidth(opts: UploadOptions, what: 'files' | 'parts' = 'files'): WidthControl {
  const max = what === 'parts' ? Math.min(opts.concurrency, MAX_PART_WIDTH) : opts.concurrency;
  return adaptiveWidth({ max, clock: opts.clock ?? { now: () => performance.now() } });
}

/** How a large file went, and its manifest entry when it had none in the digests. */
export interface SentLarge {
  how: 'put' | 'multipart';
  entry?: ManifestEntry;
}

/**
 * Large files one at a time, their parts in parallel; then the rest, files in parallel. `large`
 * says how the file went (a store may fall back to one PUT). Each send returns the entry of a
 * file hashed as it was sent (none for a file checked against the digests); they are collected.
 * `width` is the pool's control for the small files, given one to learn of throttling.
 */
export async function uploadInOrder(
  files: readonly ModelFile[],
  opts: UploadOptions,
  send: { large: (f: ModelFile) => Promise<SentLarge>; small: (f: ModelFile) => Promise<ManifestEntry | undefined> },
  width: WidthControl = uploadWidth(opts),
): Promise<ManifestEntry[]> {
  const entries: ManifestEntry[] = [];
  for (const f of files.filter((x) => x.size >= opts.multipartThreshold)) {
    // Not folded into onFile?.(…): an optional call skips its arguments, and so the upload.
    const { how, entry } = await send.large(f);
    if (entry) entries.push(entry);
    opts.onFile?.(f, how);
  }
  await pool(
    files.filter((x) => x.size < opts.multipartThreshold),
    width,
    async (f) => {
      const entry = await send.small(f);
      if (entry) entries.push(entry);
      opts.onFile?.(f, 'put');
    },
    (f) => f.size + REQUEST_COST_BYTES,
  );
  return entries;
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
