// The content digest: sha256 over a manifest that lists every file's relative path,
// size and sha256, one line each, in code-unit order of the path. The same bytes
// give the same digest on any machine, whatever the file system's listing order.
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import type { ModelFile } from './model-dir.ts';

export interface ManifestEntry {
  path: string;
  size: number;
  sha256: string;
  /** The sha256 of each byte range, for a file that goes up in parts: read in the same pass as `sha256`. */
  partSha256?: string[];
}

const CHUNK = 1024 * 1024;

/** Reads through one reused buffer: hashing a large file makes no garbage, so memory stays flat. */
export async function hashFile(absPath: string, buffer = Buffer.allocUnsafe(CHUNK)): Promise<string> {
  const hash = createHash('sha256');
  const file = await open(absPath, 'r');
  try {
    for (;;) {
      const { bytesRead } = await file.read(buffer, 0, buffer.length, null);
      if (bytesRead === 0) break;
      hash.update(buffer.subarray(0, bytesRead));
    }
  } finally {
    await file.close();
  }
  return hash.digest('hex');
}

/** Byte ranges, `end` inclusive, in order and without gaps from 0 (as stores/store.ts planParts gives them). */
export type Ranges = ReadonlyArray<{ start: number; end: number }>;

/**
 * The sha256 of a whole file and of each of its ranges, in one read: the upload checks each
 * part it sends against these, so the parts together are the bytes the digest names.
 */
export async function hashFileAndParts(
  absPath: string,
  ranges: Ranges,
  buffer = Buffer.allocUnsafe(CHUNK),
  signal?: AbortSignal,
): Promise<{ sha256: string; parts: string[] }> {
  const whole = createHash('sha256');
  const parts: string[] = [];
  let part = createHash('sha256');
  let pos = 0;
  const file = await open(absPath, 'r');
  try {
    for (;;) {
      signal?.throwIfAborted();
      const { bytesRead } = await file.read(buffer, 0, buffer.length, null);
      if (bytesRead === 0) break;
      const chunk = buffer.subarray(0, bytesRead);
      whole.update(chunk);
      for (let off = 0; off < bytesRead && parts.length < ranges.length;) {
        const end = ranges[parts.length]!.end + 1;
        const take = Math.min(bytesRead - off, end - (pos + off));
        part.update(chunk.subarray(off, off + take));
        off += take;
        if (pos + off === end) {
          parts.push(part.digest('hex'));
          part = createHash('sha256');
        }
      }
      pos += bytesRead;
    }
  } finally {
    await file.close();
  }
  return { sha256: whole.digest('hex'), parts };
}

/** `partsOf` gives the ranges of a file that may go up in parts; each gets its own sha256 too. */
export async function buildManifest(files: readonly ModelFile[], partsOf?: (f: ModelFile) => Ranges | undefined): Promise<ManifestEntry[]> {
  const entries: ManifestEntry[] = [];
  const buffer = Buffer.allocUnsafe(CHUNK);
  for (const f of files) {
    const ranges = partsOf?.(f);
    if (ranges) {
      const { sha256, parts } = await hashFileAndParts(f.absPath, ranges, buffer);
      entries.push({ path: f.relPath, size: f.size, sha256, partSha256: parts });
    } else entries.push({ path: f.relPath, size: f.size, sha256: await hashFile(f.absPath, buffer) });
  }
  return sortManifest(entries);
}

/**
 * The files to hash before the upload when nothing can be reused: those below `threshold` (pure).
 * The others get no entry in the upload's digests, are hashed as they are sent (read once), and
 * come back from ArtifactStore.upload, for `completeManifest`.
 */
export function hashedFirst<F extends { size: number }>(files: readonly F[], threshold: number): F[] {
  return files.filter((f) => f.size < threshold);
}

/**
 * The manifest of every file from the entries hashed before the upload and those the upload
 * returned (pure); throws when a file has no entry, or two, which would be a bug.
 */
export function completeManifest(
  files: ReadonlyArray<{ relPath: string }>,
  first: readonly ManifestEntry[],
  uploaded: readonly ManifestEntry[],
): ManifestEntry[] {
  const byPath = new Map<string, ManifestEntry>();
  for (const e of [...first, ...uploaded]) {
    if (byPath.has(e.path)) throw new Error(`manifest: "${e.path}" has two entries`);
    byPath.set(e.path, e);
  }
  const missing = files.filter((f) => !byPath.has(f.relPath));
  if (missing.length) throw new Error(`manifest: no entry for ${missing.map((f) => `"${f.relPath}"`).join(', ')}`);
  if (byPath.size !== files.length) throw new Error('manifest: entries for files that are not in the model directory');
  return sortManifest([...byPath.values()]);
}

/** In code-unit order of the path, as the digest lists them. */
export function sortManifest(entries: ManifestEntry[]): ManifestEntry[] {
  return [...entries].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** `<sha256>  <size>  <path>\n` per file, sorted by path. */
export function renderManifest(entries: readonly ManifestEntry[]): string {
  return sortManifest([...entries])
    .map((e) => `${e.sha256}  ${e.size}  ${e.path}\n`)
    .join('');
}

export function manifestDigest(entries: readonly ManifestEntry[]): string {
  return `sha256:${createHash('sha256').update(renderManifest(entries), 'utf8').digest('hex')}`;
}

/** The manifest kept with a version: the receipt's file list, read back by the model review. */
export const MANIFEST_SCHEMA = 'hokusai-register-model/manifest@1';

/** Beside the model directory, outside it: the model's own files stay exactly as given. */
export const manifestPathFor = (artifactPath: string): string => `${artifactPath.replace(/\/+$/, '')}.manifest.json`;

/** Where the manifest of a version whose source is `source` would be. */
export const manifestUriFor = (source: string): string => manifestPathFor(source);

/** The stored manifest: its schema, the digest, and each file's path, size and sha256, by path. */
export function storedManifest(entries: readonly ManifestEntry[], digest: string): string {
  const files = sortManifest([...entries]).map((e) => ({ path: e.path, size: e.size, sha256: e.sha256 }));
  return `${JSON.stringify({ schema: MANIFEST_SCHEMA, digest, files }, null, 1)}\n`;
}

/**
 * A stored manifest read back (it comes from a server): the entries, or why it cannot be used.
 * Only what the action wrote is accepted; anything else is a reason to compare by size instead.
 */
export function parseStoredManifest(text: string): ManifestEntry[] | string {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return 'it is not JSON';
  }
  const d = doc as { schema?: unknown; files?: unknown };
  if (typeof d !== 'object' || d === null || d.schema !== MANIFEST_SCHEMA) return `it is not a ${MANIFEST_SCHEMA} manifest`;
  if (!Array.isArray(d.files)) return 'it has no file list';
  const out: ManifestEntry[] = [];
  for (const f of d.files as unknown[]) {
    const e = f as { path?: unknown; size?: unknown; sha256?: unknown };
    if (
      typeof e?.path !== 'string' ||
      typeof e.size !== 'number' ||
      !Number.isSafeInteger(e.size) ||
      e.size < 0 ||
      typeof e.sha256 !== 'string' ||
      !/^[0-9a-f]{64}$/.test(e.sha256)
    )
      return 'an entry has no path, size or sha256';
    out.push({ path: e.path, size: e.size, sha256: e.sha256 });
  }
  return out;
}
