// A model file (or a byte range of it) read for an upload: reopened for each attempt, counted
// for the progress line, and hashed as it is sent. With a sha256 from the manifest, bytes that
// differ fail the upload (a file changed after the content digest was computed never reaches a
// store whole); without one, the hash of what the attempt that went through sent is kept, so a
// large file is read once, not once for the digest and once more for the upload.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { Transform, type Readable } from 'node:stream';
import { ActionError } from '../errors.ts';
import { hashFileAndParts, type ManifestEntry } from '../manifest.ts';

const READ_CHUNK = 1024 * 1024;

/** What the bytes sent must hash to, and how to name them in an error. */
export interface Expected {
  /** The sha256 the bytes must have; undefined: they are hashed and the hash kept (see Opened.sha256). */
  sha256: string | undefined;
  relPath: string;
  /** "part 2 of 5", for a part. */
  part?: string;
  method: string;
  path: string;
  step: string;
}

/** The body of one attempt, as undici streams it: read into reused buffers (see `reusedChunks`). */
export interface UploadBody extends AsyncIterable<Buffer> {
  /** Stops reading (the attempt failed); the file is closed. */
  destroy(): void;
  /** Called once every byte was read and checked. */
  onEnd(cb: () => void): void;
}

export interface Opened<B> {
  /** Opens the body of a new attempt; a retry starts over. */
  open: () => B;
  /** The sha256 of the bytes the latest attempt read through to the end; undefined until one did. */
  sha256(): string | undefined;
}

/**
 * A file (or a byte range of it) as a Readable, reopened for each attempt, counting the bytes
 * read into the request and hashing them in the same pass. For the S3 SDK, which pipes a stream.
 */
export function opener(
  absPath: string,
  range: { start: number; end: number } | undefined,
  onBytes: ((delta: number) => void) | undefined,
  expected: Expected,
): Opened<Readable> {
  let sent = 0;
  let attempts = 0;
  let hashed: string | undefined;
  return {
    sha256: () => hashed,
    open: (): Readable => {
      // A retry starts over: take back what the failed attempt counted.
      onBytes?.(-sent);
      sent = 0;
      hashed = undefined;
      const attempt = ++attempts;
      // 1 MiB reads: a sixteenth of the per-chunk work of the 64 KiB default on large files.
      const source = createReadStream(absPath, { ...range, highWaterMark: READ_CHUNK });
      // Each attempt hashes what it sends, so the hash is of the attempt that went through.
      const hash = createHash('sha256');
      let held: Buffer | undefined;
      const checked = new Transform({
        transform(chunk: Buffer, _enc, done) {
          hash.update(chunk);
          sent += chunk.length;
          onBytes?.(chunk.length);
          // The last chunk waits for the check: a changed file never reaches the server whole.
          const previous = held;
          held = chunk;
          done(null, previous);
        },
        flush(done) {
          const got = hash.digest('hex');
          if (expected.sha256 !== undefined && got !== expected.sha256) return done(changedError(expected, got));
          // Only the newest attempt speaks: an abandoned one that ends late must not.
          if (attempt === attempts) hashed = got;
          done(null, held);
        },
      });
      source.on('error', (err) => checked.destroy(err));
      return source.pipe(checked);
    },
  };
}

/** Reads smaller than this are never reused (see `reusedChunks`); above a socket's 64 KiB high-water mark. */
const MIN_REUSED = 128 * 1024;

/**
 * The same as `opener`, as an async iterable for undici, reading into two buffers it reuses: a
 * 1 GiB file makes no garbage, where fresh 1 MiB buffers pile up until V8 collects them (tens of
 * MiB of resident memory). Reuse is safe because undici asks for the next chunk only once the
 * socket has taken the last one: its write of a chunk above the socket's high-water mark returns
 * false, and undici waits for 'drain', emitted once every queued byte is written. Two buffers
 * in turn leave a margin, and a short read (the file's end) gets a buffer of its own.
 */
export function iterableOpener(
  absPath: string,
  range: { start: number; end: number } | number,
  onBytes: ((delta: number) => void) | undefined,
  expected: Expected,
): Opened<UploadBody> {
  // A whole file by its size, or a byte range of it (end inclusive).
  const first = typeof range === 'number' ? 0 : range.start;
  const size = typeof range === 'number' ? range : range.end - range.start + 1;
  let sent = 0;
  let attempts = 0;
  let hashed: string | undefined;
  return {
    sha256: () => hashed,
    open: (): UploadBody => {
      onBytes?.(-sent);
      sent = 0;
      hashed = undefined;
      const attempt = ++attempts;
      let stopped = false;
      const ended: Array<() => void> = [];
      const chunks = async function* (): AsyncGenerator<Buffer> {
        const file = await open(absPath, 'r');
        try {
          const hash = createHash('sha256');
          const length = Math.min(READ_CHUNK, size);
          const buffers: Array<Buffer | undefined> = [undefined, undefined];
          let turn = 0;
          let held: Buffer | undefined;
          let pos = 0;
          while (!stopped && pos < size) {
            const want = Math.min(length, size - pos);
            const slot = turn++ % 2;
            // A small file or tail gets a buffer of its own: undici may not wait for a small chunk to be written.
            const buffer = want >= MIN_REUSED ? (buffers[slot] ??= Buffer.allocUnsafe(length)) : Buffer.allocUnsafe(want);
            const { bytesRead } = await file.read(buffer, 0, want, first + pos);
            if (bytesRead === 0) break;
            // A short read is sent from this buffer, which leaves the rotation for the same reason.
            if (bytesRead < MIN_REUSED) buffers[slot] = undefined;
            pos += bytesRead;
            const chunk = buffer.subarray(0, bytesRead);
            hash.update(chunk);
            sent += bytesRead;
            onBytes?.(bytesRead);
            // The last chunk waits for the check: a changed file never reaches the server whole.
            if (held) yield held;
            held = chunk;
          }
          if (stopped) return;
          // A file that shrank sends fewer bytes than announced: the request fails on its own.
          const got = hash.digest('hex');
          if (expected.sha256 !== undefined && got !== expected.sha256) throw changedError(expected, got);
          if (attempt === attempts) hashed = got;
          if (held) yield held;
          for (const cb of ended) cb();
        } finally {
          await file.close();
        }
      };
      const it = chunks();
      return {
        [Symbol.asyncIterator]: () => it,
        destroy: () => {
          stopped = true;
          void it.return(undefined).catch(() => undefined);
        },
        onEnd: (cb) => ended.push(cb),
      };
    },
  };
}

/**
 * The hashes of one file going up in parts in parallel. A whole-file sha256 cannot be taken from
 * parts that go out of order, so when the manifest has no part hashes, one sequential read hashes
 * the whole file and each range meanwhile (the page cache serves the parts' reads too, one 1 MiB
 * buffer): each part sent must hash as that read did, so the whole-file hash is of the bytes
 * that were sent, and a file that changes during the upload fails it. With part hashes in the
 * manifest each part is checked as it is sent, as before, and nothing else is read.
 */
export function partedFile<B extends 'stream' | 'iterable'>(
  f: { relPath: string; absPath: string; size: number },
  ranges: ReadonlyArray<{ start: number; end: number }>,
  entry: ManifestEntry | undefined,
  onBytes: ((delta: number) => void) | undefined,
  where: { method: string; path: string; step: string },
  /** A Readable for the S3 SDK, which pipes one; an UploadBody with reused buffers for undici. */
  body: B,
) {
  const known = entry?.partSha256?.length === ranges.length ? entry.partSha256 : undefined;
  const stop = new AbortController();
  const reading = known ? undefined : hashFileAndParts(f.absPath, ranges, undefined, stop.signal);
  // Awaited in finish(); a failed upload stops it and never looks.
  reading?.catch(() => undefined);
  const sent: Array<string | undefined> = ranges.map(() => undefined);
  const openers = ranges.map((r, i) => {
    const expected = { sha256: known?.[i], relPath: f.relPath, part: `part ${i + 1} of ${ranges.length}`, ...where };
    return (body === 'stream' ? opener(f.absPath, r, onBytes, expected) : iterableOpener(f.absPath, r, onBytes, expected)) as Opened<
      B extends 'stream' ? Readable : UploadBody
    >;
  });
  return {
    /** Part `n` (1-based), reopened for each attempt. */
    open: (n: number) => openers[n - 1]!.open,
    /** After part `n` went through: keeps the hash of what it sent. */
    sent: (n: number) => {
      sent[n - 1] = openers[n - 1]!.sha256();
    },
    /** The upload failed: stops the sequential read. */
    abort: () => stop.abort(),
    /** Once every part went through: the file's entry, hashed from the bytes sent; throws when they are not the file's. */
    async finish(): Promise<ManifestEntry> {
      if (known) return { path: f.relPath, size: f.size, sha256: entry!.sha256, partSha256: [...known] };
      const read = await reading!;
      for (let i = 0; i < ranges.length; i++) {
        if (sent[i] !== read.parts[i]) {
          throw changedError(
            { ...where, relPath: f.relPath, part: `part ${i + 1} of ${ranges.length}`, sha256: read.parts[i] },
            sent[i] ?? 'unknown (not read through)',
            'while it was being uploaded',
          );
        }
      }
      if (entry && entry.sha256 !== read.sha256) throw changedError({ ...where, relPath: f.relPath, sha256: entry.sha256 }, read.sha256);
      return { path: f.relPath, size: f.size, sha256: read.sha256, partSha256: read.parts };
    },
  };
}

/** The hash a successful attempt kept; its absence means the server answered before the body was read. */
export function sentHash(o: Opened<unknown>, e: Omit<Expected, 'sha256'>): string {
  const got = o.sha256();
  if (got === undefined)
    throw new ActionError(`the server answered before all of "${e.relPath}" was sent, so its sha256 is unknown`, {
      step: e.step,
      method: e.method,
      path: e.path,
      hint: 'A proxy in front of the server may answer uploads early. Re-run the job; if it repeats, report it with the server version. Nothing was registered.',
    });
  return got;
}

function changedError(e: Expected, got: string, when = 'after the content digest was computed'): ActionError {
  const what = `${e.part ? `${e.part} of ` : ''}"${e.relPath}"`;
  const other = when === 'after the content digest was computed' ? 'the digest lists' : 'a second read of the file gives';
  return new ActionError(
    `${what} changed ${when}: the bytes read for the upload have sha256 ${got}, ${other} ${e.sha256 ?? 'no sha256 for them'}`,
    {
      step: e.step,
      method: e.method,
      path: e.path,
      hint: 'Something wrote to the model directory while the action ran (a step or process still saving the model). Let it finish before this step starts, then re-run. Nothing was registered.',
    },
  );
}
