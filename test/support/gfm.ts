// GitHub's own markdown parser, cmark-gfm, for tests that look at a summary or a comment the
// way GitHub renders it. Installed by scripts/setup.sh; a missing parser fails the test, with
// the way to install it, and is never skipped.
import { execFileSync } from 'node:child_process';

/** The extensions github.com turns on for comments and job summaries. */
const ARGS = ['--unsafe', '-e', 'table', '-e', 'autolink', '-e', 'strikethrough', '-e', 'tasklist', '-e', 'tagfilter'];

export function gfmToHtml(markdown: string): string {
  try {
    return execFileSync('cmark-gfm', ARGS, { input: markdown, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT')
      throw new Error(
        "cmark-gfm (GitHub's markdown parser) is not installed: run `bash scripts/setup.sh`, or `sudo apt-get install -y cmark-gfm`.",
      );
    throw e;
  }
}

/** Lines a reader sees before opening anything: non-blank lines outside <details>, the line opening one included. */
export function firstScreenLines(markdown: string): number {
  let depth = 0;
  let lines = 0;
  for (const line of markdown.split('\n')) {
    if (depth === 0 && line.trim()) lines++;
    depth += (line.match(/<details[\s>]/g)?.length ?? 0) - (line.match(/<\/details>/g)?.length ?? 0);
  }
  return lines;
}

export interface Tag {
  name: string;
  closing: boolean;
  attrs: string;
  /** Where the tag starts in the HTML. */
  at: number;
}

/** Every HTML tag, in order (cmark-gfm's output is regular: no tags inside attributes). */
export function tags(html: string): Tag[] {
  return [...html.matchAll(/<(\/?)([a-zA-Z][a-zA-Z0-9]*)([^>]*)>/g)].map((m) => ({
    closing: m[1] === '/',
    name: m[2]!.toLowerCase(),
    attrs: m[3]!,
    at: m.index,
  }));
}

/** How many <details> are open at `at`; throws on a </details> without its <details>. */
export function detailsDepthAt(html: string, at: number): number {
  let depth = 0;
  for (const t of tags(html)) {
    if (t.at >= at) break;
    if (t.name !== 'details') continue;
    depth += t.closing ? -1 : 1;
    if (depth < 0) throw new Error('a </details> without its <details>');
  }
  return depth;
}

/** The text of the first <h2>, tags removed and entities left as they are. */
export function firstHeading(html: string): string | undefined {
  const m = /<h2[^>]*>([\s\S]*?)<\/h2>/.exec(html);
  return m ? m[1]!.replace(/<[^>]*>/g, '') : undefined;
}

/** Every link target. */
export const hrefs = (html: string) => [...html.matchAll(/<a [^>]*href="([^"]*)"/g)].map((m) => m[1]!.replace(/&amp;/g, '&'));
