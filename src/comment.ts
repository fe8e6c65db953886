// The pull-request comment: one per PR and key, found by a hidden marker and updated in
// place, holding the markdown the job summary shows. Talks to GitHub's REST API through
// the same HttpClient as everything else (retries, no redirects, token redaction). A
// comment is a convenience: every failure becomes a warning for the caller, never a throw.
import { createHash } from 'node:crypto';
import type { Dispatcher } from 'undici';
import { systemClock, type Clock } from './clock.ts';
import { ActionError, redact } from './errors.ts';
import { DEFAULT_POLICY, HttpClient, USER_AGENT, type HttpResponse } from './http.ts';
import type { GitHubContext } from './lineage.ts';
import * as log from './log.ts';
import type { RetryPolicy } from './retry.ts';
import type { Session } from './session.ts';
import { cutWithNotice, dropPartialTag, escapeHtml, link } from './summary.ts';
import { apiUrl as restUrl } from './urls.ts';

/** GitHub refuses longer comment bodies ("Body is too long (maximum is 65536 characters)"). */
export const COMMENT_LIMIT = 65_536;
const MARKER_PREFIX = '<!-- hokusai-register-model-action:';
const MARKER_SUFFIX = ' -->';
/** Longer keys are replaced by their hash, so the marker stays short. */
const MAX_ENCODED_KEY = 200;
/** 100 comments a page: a PR with more than 3,000 comments gets a new one. */
const MAX_PAGES = 30;
const STEP = 'Pull request comment';
/** A comment must not hold up the job: two quick retries at most. */
const COMMENT_RETRY: RetryPolicy = { ...DEFAULT_POLICY, maxRetries: 2, budgetMs: 20_000 };

/**
 * A hidden HTML comment; `key` tells apart several uses of the action on one PR (e.g. model
 * name + mode). Any character outside a small safe set is percent-encoded, so a key can
 * never hold "-", "<" or ">" and cannot end the HTML comment; the encoding is one-to-one, so
 * different keys give different markers, and no marker contains another.
 */
export function commentMarker(key: string): string {
  let encoded = '';
  for (const byte of Buffer.from(key, 'utf8')) {
    const ch = String.fromCharCode(byte);
    encoded += /[A-Za-z0-9_.:@/+=]/.test(ch) ? ch : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  // "#" cannot come out of the encoding above, so a hashed key never equals an encoded one.
  if (encoded.length > MAX_ENCODED_KEY) encoded = `#sha256=${createHash('sha256').update(key, 'utf8').digest('hex')}`;
  return `${MARKER_PREFIX}${encoded}${MARKER_SUFFIX}`;
}

/** What the comment's one footer line says: which commit, when, and a link to the run. */
export interface CommentFooter {
  runUrl?: string | undefined;
  commit?: string | undefined;
  commitUrl?: string | undefined;
  updatedAt?: Date | undefined;
}

/** One line, each fact once; the comment is edited in place, so "when" tells a stale one apart. */
export function renderFooter(f: CommentFooter): string {
  const parts: string[] = [];
  if (f.commit) parts.push(`For commit ${link(`<code>${escapeHtml(f.commit.slice(0, 12))}</code>`, f.commitUrl)}`);
  if (f.updatedAt && Number.isFinite(f.updatedAt.getTime()))
    parts.push(`updated ${f.updatedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC`);
  if (f.runUrl) parts.push(link('workflow run', f.runUrl));
  return parts.length ? `\n\n---\n<sub>${parts.join(' · ')}</sub>\n` : '\n';
}

/**
 * Marker + markdown + the footer line, cut to fit GitHub's limit with a visible line saying so.
 * The cut is at a line end where there is one, and closes every block it left open (a code
 * fence, a table, <details>), so the notice and the footer stand outside them. The registered
 * secrets are removed before the cut (a secret cut in two is no longer found), and bidi
 * controls are shown, not obeyed.
 */
export function renderComment(marker: string, markdown: string, footer: CommentFooter = {}): string {
  const head = `${marker}\n`;
  const foot = renderFooter(footer);
  const body = log.escapeBidi(log.redactSecrets(markdown), true).replace(/\s+$/, '');
  if (head.length + body.length + foot.length <= COMMENT_LIMIT) return `${head}${body}${foot}`;

  // The footer links the run once; the notice points at it.
  const where = footer.runUrl ? 'the job summary of the workflow run linked below' : 'the job summary';
  const notice = `\n> [!WARNING]\n> Truncated to fit GitHub's ${COMMENT_LIMIT.toLocaleString('en-US')}-character comment limit: ${where} has the full result.`;
  const cut = (room: number): string => {
    if (room <= 0) return '';
    if (body.length <= room) return body;
    const lineEnd = body.lastIndexOf('\n', room);
    if (lineEnd > 0) return body.slice(0, lineEnd);
    // One huge line: never split a surrogate pair, a tag or an entity.
    const end = /[\uD800-\uDBFF]/.test(body.charAt(room - 1)) ? room - 1 : room;
    return dropPartialTag(body.slice(0, end));
  };
  const kept = cutWithNotice(COMMENT_LIMIT - head.length - foot.length, notice, (t) => t.length, cut);
  return `${head}${kept}${foot}`;
}

export interface CommentTarget {
  /** GITHUB_API_URL, e.g. https://api.github.com, or https://ghes.example.com/api/v3. */
  apiUrl: string;
  /** owner/repo */
  repository: string;
  prNumber: number;
  token: string;
}

export type CommentOutcome =
  { kind: 'created' | 'updated'; url: string } | { kind: 'skipped'; reason: string } | { kind: 'warning'; message: string };

export interface CommentDeps {
  dispatcher?: Dispatcher | undefined;
  clock?: Clock;
  userAgent: string;
  random?: () => number;
  timeoutMs?: number;
  retry?: RetryPolicy;
  /** Other values to keep out of the body and the messages (the API key). */
  secrets?: readonly string[];
  /** One line per retry, for the log. */
  onRetry?: (line: string) => void;
  debug?: (line: string) => void;
}

/**
 * Where to comment, from the workflow context: the PR of a pull_request(_target) event, or a
 * reason to skip. `apiUrl` is GITHUB_API_URL (empty: github.com).
 */
export function commentTargetFrom(
  github: Pick<GitHubContext, 'eventName' | 'repository' | 'payload'>,
  apiUrl: string | undefined,
  token: string,
): CommentTarget | { kind: 'skipped'; reason: string } {
  if (github.eventName !== 'pull_request' && github.eventName !== 'pull_request_target')
    return { kind: 'skipped', reason: `not a pull request event (${github.eventName || 'unknown'})` };
  const prNumber = github.payload.pull_request?.number;
  if (!prNumber) return { kind: 'skipped', reason: 'the event payload has no pull request number' };
  if (!token) return { kind: 'skipped', reason: 'no github-token' };
  return { apiUrl: apiUrl || 'https://api.github.com', repository: github.repository, prNumber, token };
}

interface IssueComment {
  id: number;
  body?: string | null;
  html_url?: string;
  user?: { login?: string; type?: string } | null;
}

/** Who GITHUB_TOKEN writes as. Its installation token may not read GET /user. */
export const ACTIONS_BOT = 'github-actions[bot]';

/** Creates the PR's comment holding `marker`, or updates the one already there. Never throws. */
export async function upsertComment(deps: CommentDeps, target: CommentTarget, marker: string, body: string): Promise<CommentOutcome> {
  const secrets = [target.token, ...(deps.secrets ?? [])].filter((s) => s);
  const clean = (s: string) => redact(s, secrets);
  if (!target.token) return { kind: 'skipped', reason: 'no github-token' };
  if (!Number.isSafeInteger(target.prNumber) || target.prNumber <= 0)
    return { kind: 'skipped', reason: 'not a pull request (no pull request number)' };
  const repo = /^([^/\s]+)\/([^/\s]+)$/.exec(target.repository);
  if (!repo) return { kind: 'warning', message: clean(`PR comment not written: the repository "${target.repository}" is not owner/name.`) };
  let base: URL;
  try {
    base = new URL(target.apiUrl);
  } catch {
    return { kind: 'warning', message: clean(`PR comment not written: the GitHub API URL "${target.apiUrl}" is not a URL.`) };
  }

  const http = new HttpClient({
    dispatcher: deps.dispatcher,
    secrets,
    authorizedBases: [base],
    timeoutMs: deps.timeoutMs ?? 30_000,
    userAgent: deps.userAgent,
    clock: deps.clock ?? systemClock,
    random: deps.random ?? Math.random,
    retry: deps.retry ?? COMMENT_RETRY,
    onRetry: deps.onRetry,
    debug: deps.debug,
  });
  const repoPath = `/repos/${encodeURIComponent(repo[1]!)}/${encodeURIComponent(repo[2]!)}`;
  const listUrl = restUrl(base, `${repoPath}/issues/${target.prNumber}/comments`, { per_page: '100', page: '1' });
  const call = <T>(method: 'GET' | 'POST' | 'PATCH', url: URL, json?: unknown) =>
    http.send<T>({
      step: STEP,
      method,
      url,
      json,
      authorization: `Bearer ${target.token}`,
      headers: { accept: 'application/vnd.github+json', 'x-github-api-version': '2022-11-28' },
      jsonArray: method === 'GET', // the comment list
      // Answered here, with GitHub's headers at hand (rate limits); 429 and 5xx stay retried.
      accept: (status) => status >= 400 && status < 500 && status !== 408 && status !== 429,
    });

  let doing = 'read the comments of';
  try {
    let login: Promise<string> | undefined;
    // Asked only once a comment with the marker turns up.
    const me = () => (login ??= tokenLogin(call, restUrl(base, '/user')));
    const existing = await findComment(call, listUrl, marker, me);
    const payload = { body: clean(body) };
    if (existing) {
      doing = 'update the comment on';
      const res = await call<IssueComment>('PATCH', restUrl(base, `${repoPath}/issues/comments/${existing.id}`), payload);
      // Deleted since it was listed: write a new one.
      if (res.status !== 404) return outcome('updated', res, doing, target, clean);
    }
    doing = 'comment on';
    const res = await call<IssueComment>('POST', restUrl(base, `${repoPath}/issues/${target.prNumber}/comments`), payload);
    return outcome('created', res, doing, target, clean);
  } catch (err) {
    if (err instanceof FailedResponse) return { kind: 'warning', message: clean(refusal(err.res, doing, target)) };
    return { kind: 'warning', message: clean(thrown(err, doing, target)) };
  }
}

type Call = <T>(method: 'GET' | 'POST' | 'PATCH', url: URL, json?: unknown) => Promise<HttpResponse<T>>;

/** A 4xx answer GitHub gave, carried to the one place that words warnings. */
class FailedResponse extends Error {
  readonly res: HttpResponse<unknown>;
  constructor(res: HttpResponse<unknown>) {
    super(`HTTP ${res.status}`);
    this.res = res;
  }
}

/**
 * The login the token writes comments as: GET /user answers it for a personal token; an
 * installation token (GITHUB_TOKEN) is refused there (403) and writes as the Actions bot.
 */
async function tokenLogin(call: Call, url: URL): Promise<string> {
  const res = await call<{ login?: unknown }>('GET', url);
  if (res.status === 200 && typeof res.data.login === 'string' && res.data.login) return res.data.login;
  if ((res.status === 403 || res.status === 404) && !isRateLimited(res)) return ACTIONS_BOT;
  throw new FailedResponse(res);
}

/**
 * The comment holding the marker that the token's own identity wrote, following the Link
 * header; anyone else's copy of the marker is left alone (a new comment is written instead).
 * A next page on another host is not followed: the token goes to the API host only.
 */
async function findComment(call: Call, first: URL, marker: string, me: () => Promise<string>): Promise<IssueComment | undefined> {
  let url: URL | undefined = first;
  for (let page = 0; url && page < MAX_PAGES; page++) {
    const res: HttpResponse<unknown> = await call<unknown>('GET', url);
    if (res.status >= 400) throw new FailedResponse(res);
    const comments = Array.isArray(res.data) ? (res.data as IssueComment[]) : [];
    for (const c of comments) {
      if (!Number.isSafeInteger(c.id) || typeof c.body !== 'string' || !c.body.includes(marker)) continue;
      if (c.user?.login === (await me())) return c;
    }
    const next = nextLink(res.headers.link);
    url = next && next.origin === first.origin ? next : undefined;
  }
  return undefined;
}

/** The `rel="next"` URL of a Link header. */
export function nextLink(header: string | string[] | undefined): URL | undefined {
  const value = Array.isArray(header) ? header.join(',') : header;
  if (!value) return undefined;
  for (const part of value.split(/,(?=\s*<)/)) {
    const m = /^\s*<([^>]*)>(.*)$/.exec(part);
    if (!m) continue;
    const rel = /;\s*rel\s*=\s*"?([^";]*)"?/i.exec(m[2]!)?.[1] ?? '';
    if (rel.toLowerCase().split(/\s+/).includes('next')) {
      try {
        return new URL(m[1]!);
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

function outcome(
  kind: 'created' | 'updated',
  res: HttpResponse<IssueComment>,
  doing: string,
  target: CommentTarget,
  clean: (s: string) => string,
): CommentOutcome {
  if (res.status >= 400) return { kind: 'warning', message: clean(refusal(res, doing, target)) };
  return { kind, url: typeof res.data.html_url === 'string' ? res.data.html_url : '' };
}

const JOB_SUMMARY = 'The result is still in the job summary.';

function header(res: HttpResponse<unknown>, name: string): string | undefined {
  const v = res.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** A 4xx from GitHub, worded as what to do about it. */
function refusal(res: HttpResponse<unknown>, doing: string, target: CommentTarget): string {
  const said = res.error.message ? `: ${res.error.message}` : '';
  const what = `Could not ${doing} pull request #${target.prNumber} (HTTP ${res.status}${said}).`;
  if ((res.status === 403 || res.status === 429) && isRateLimited(res)) return `${what} ${rateLimitHint(res)} ${JOB_SUMMARY}`;
  if (res.status === 401)
    return `${what} GitHub did not accept the token: check the github-token input (by default the workflow's GITHUB_TOKEN; a personal token may have expired or been revoked). ${JOB_SUMMARY}`;
  if (res.status === 403 || res.status === 404)
    return `${what} The token may not write pull request comments: add \`permissions: pull-requests: write\` (or \`issues: write\`) to the job. Pull requests from forks get a read-only token, so there the comment is skipped. ${JOB_SUMMARY}`;
  return `${what} ${JOB_SUMMARY}`;
}

function isRateLimited(res: HttpResponse<unknown>): boolean {
  return (
    header(res, 'x-ratelimit-remaining') === '0' || header(res, 'retry-after') !== undefined || /rate limit/i.test(res.error.message ?? '')
  );
}

function rateLimitHint(res: HttpResponse<unknown>): string {
  const retryAfter = header(res, 'retry-after');
  const reset = Number(header(res, 'x-ratelimit-reset'));
  const when = retryAfter
    ? ` (GitHub asks to wait ${/^\d+$/.test(retryAfter) ? `${retryAfter} s` : `until ${retryAfter}`})`
    : Number.isFinite(reset) && reset > 0
      ? ` (it resets at ${new Date(reset * 1000).toISOString()})`
      : '';
  return `GitHub's API rate limit for this token was reached${when}; the comment is updated on the next run.`;
}

/** A failure HttpClient threw: 429 or 5xx after its retries, a redirect, a network error, or a bug. */
function thrown(err: unknown, doing: string, target: CommentTarget): string {
  const what = `Could not ${doing} pull request #${target.prNumber}`;
  if (!(err instanceof ActionError)) return `${what}: ${err instanceof Error ? err.message : String(err)}. ${JOB_SUMMARY}`;
  const said = err.serverMessage ? ` (${err.serverMessage})` : '';
  const request = err.method && err.path ? ` [${err.method} ${err.path}]` : '';
  const status = err.status;
  let hint: string;
  if (status === 429) hint = "GitHub's API rate limit for this token was reached; the comment is updated on the next run.";
  else if (status !== undefined && status >= 500)
    hint = 'GitHub may be having trouble (https://www.githubstatus.com); the comment is updated on the next run.';
  else if (status !== undefined && status >= 300 && status < 400)
    hint = `Check GITHUB_API_URL (${target.apiUrl}); a repository that was renamed or moved answers with a redirect.`;
  else if (status !== undefined) hint = `Check GITHUB_API_URL (${target.apiUrl}): it should be the GitHub REST API.`;
  else hint = 'Check that the runner can reach the GitHub API.';
  return `${what}: ${err.message}${said}${request}. ${hint} ${JOB_SUMMARY}`;
}

/** On pull requests, the result as one comment, updated in place; a refusal is only a warning. */
export async function commentOnPullRequest(s: Session): Promise<void> {
  const { cfg, deps, lineage } = s;
  const target = commentTargetFrom(deps.github, deps.env.GITHUB_API_URL, cfg.githubToken ?? '');
  if ('kind' in target) return log.info(`No pull-request comment: ${target.reason}.`);
  const markdown = s.commentMarkdown ?? s.summary;
  if (!markdown) return;
  const key = `${cfg.mode}${cfg.dryRun ? '-dry-run' : ''}:${cfg.modelName || cfg.trackingUri.host}`;
  const marker = commentMarker(key);
  // upsertComment never throws: every failure comes back as a warning.
  const outcome = await upsertComment(
    { dispatcher: deps.dispatcher, userAgent: USER_AGENT, clock: deps.clock, secrets: s.secrets },
    target,
    marker,
    renderComment(marker, markdown, {
      runUrl: lineage.runUrl,
      commit: lineage.commit,
      commitUrl: lineage.commitUrl,
      updatedAt: new Date(deps.clock.now()),
    }),
  );
  if (outcome.kind === 'warning') log.warning(outcome.message, { title: 'Pull-request comment not written' });
  else if (outcome.kind === 'skipped') log.info(`comment: ${outcome.reason}`);
  else log.info(`Pull-request comment ${outcome.kind}: ${outcome.url}`);
}
