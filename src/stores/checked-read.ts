// A model file (or a byte range of it) read for an upload: reopened for each attempt, counted
// for the progress line, and hashed as it is sent, so a file that changed after the content
// digest was computed never reaches a store whole. Both roads send through it.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { Transform, type Readable } from 'node:stream';
import { ActionError } from '../errors.ts';

const READ_CHUNK = 1024 * 1024;

/** What the bytes sent must hash to, and how to name them in an error. */
export interface Expected {
  sha256: string | undefined;
  relPath: string;
  /** "part 2 of 5", for a part. */
  part?: string;
  method: string;
  path: string;
  step: string;
}

/**
 * A file (or a byte range of it), reopened for each attempt, counting the bytes read into the
 * request and hashing them in the same pass: a file changed after the digest fails its upload.
 */
export function opener(
  absPath: string,
  range: { start: number; end: number } | undefined,
  onBytes: ((delta: number) => void) | undefined,
  expected: Expected,
) {
  let sent = 0;
  return (): Readable => {
    // A retry starts over: take back what the failed attempt counted.
    onBytes?.(-sent);
    sent = 0;
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
        if (got !== expected.sha256) return done(changedError(expected, got));
        done(null, held);
      },
    });
    source.on('error', (err) => checked.destroy(err));
    return source.pipe(checked);
  };
}

function changedError(e: Expected, got: string): ActionError {
  const what = `${e.part ? `${e.part} of ` : ''}"${e.relPath}"`;
  return new ActionError(
    `${what} changed after the content digest was computed: the bytes read for the upload have sha256 ${got}, the digest lists ${e.sha256 ?? 'no sha256 for them'}`,
    {
      step: e.step,
      method: e.method,
      path: e.path,
      hint: 'Something wrote to the model directory while the action ran (a step or process still saving the model). Let it finish before this step starts, then re-run. Nothing was registered.',
    },
  );
}
