// The content digest: sha256 over a manifest that lists every file's relative path,
// size and sha256, one line each, in code-unit order of the path. The same bytes
// give the same digest on any machine, whatever the file system's listing order.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { ModelFile } from './model-dir.ts';

export interface ManifestEntry {
  path: string;
  size: number;
  sha256: string;
}

export async function hashFile(absPath: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(absPath)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export async function buildManifest(files: readonly ModelFile[]): Promise<ManifestEntry[]> {
  const entries: ManifestEntry[] = [];
  for (const f of files) entries.push({ path: f.relPath, size: f.size, sha256: await hashFile(f.absPath) });
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
