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

export async function buildManifest(files: readonly ModelFile[]): Promise<ManifestEntry[]> {
  const entries: ManifestEntry[] = [];
  const buffer = Buffer.allocUnsafe(CHUNK);
  for (const f of files) entries.push({ path: f.relPath, size: f.size, sha256: await hashFile(f.absPath, buffer) });
  return sortEntries(entries);
}

function sortEntries(entries: ManifestEntry[]): ManifestEntry[] {
  return [...entries].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** `<sha256>  <size>  <path>\n` per file, sorted by path. */
export function renderManifest(entries: readonly ManifestEntry[]): string {
  return sortEntries([...entries])
    .map((e) => `${e.sha256}  ${e.size}  ${e.path}\n`)
    .join('');
}

export function manifestDigest(entries: readonly ManifestEntry[]): string {
  return `sha256:${createHash('sha256').update(renderManifest(entries), 'utf8').digest('hex')}`;
}
