export const id = 382;
export const ids = [382];
export const modules = {

/***/ 25382:
/***/ ((__unused_webpack___webpack_module__, __webpack_exports__, __webpack_require__) => {

__webpack_require__.r(__webpack_exports__);
/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   ACTIONS_BOT: () => (/* binding */ ACTIONS_BOT),
/* harmony export */   COMMENT_LIMIT: () => (/* binding */ COMMENT_LIMIT),
/* harmony export */   commentMarker: () => (/* binding */ commentMarker),
/* harmony export */   commentOnPullRequest: () => (/* binding */ commentOnPullRequest),
/* harmony export */   commentTargetFrom: () => (/* binding */ commentTargetFrom),
/* harmony export */   nextLink: () => (/* binding */ nextLink),
/* harmony export */   renderComment: () => (/* binding */ renderComment),
/* harmony export */   renderFooter: () => (/* binding */ renderFooter),
/* harmony export */   upsertComment: () => (/* binding */ upsertComment)
/* harmony export */ });
/* harmony import */ var node_crypto__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(77598);
/* harmony import */ var _clock_js__WEBPACK_IMPORTED_MODULE_1__ = __webpack_require__(71920);
/* harmony import */ var _errors_js__WEBPACK_IMPORTED_MODULE_2__ = __webpack_require__(452);
/* harmony import */ var _http_js__WEBPACK_IMPORTED_MODULE_3__ = __webpack_require__(44247);
/* harmony import */ var _log_js__WEBPACK_IMPORTED_MODULE_4__ = __webpack_require__(97309);
/* harmony import */ var _summary_js__WEBPACK_IMPORTED_MODULE_5__ = __webpack_require__(88847);
// The pull-request comment: one per PR and key, found by a hidden marker and updated in
// place, holding the markdown the job summary shows. Talks to GitHub's REST API with
// Octokit (@actions/github, loaded only here), whose requests go through the same HttpClient
// as everything else (retries, no redirects, token redaction). A comment is a convenience:
// every failure becomes a warning for the caller, never a throw.






/** GitHub refuses longer comment bodies ("Body is too long (maximum is 65536 characters)"). */
const COMMENT_LIMIT = 65_536;
const MARKER_PREFIX = '<!-- hokusai-register-model-action:';
const MARKER_SUFFIX = ' -->';
/** Longer keys are replaced by their hash, so the marker stays short. */
const MAX_ENCODED_KEY = 200;
/** 100 comments a page: a PR with more than 3,000 comments gets a new one. */
const MAX_PAGES = 30;
const STEP = 'Pull request comment';
/** A comment must not hold up the job: two quick retries at most. */
const COMMENT_RETRY = { ..._http_js__WEBPACK_IMPORTED_MODULE_3__/* .DEFAULT_POLICY */ .zj, maxRetries: 2, budgetMs: 20_000 };
/**
 * A hidden HTML comment; `key` tells apart several uses of the action on one PR (e.g. model
 * name + mode). Any character outside a small safe set is percent-encoded, so a key can
 * never hold "-", "<" or ">" and cannot end the HTML comment; the encoding is one-to-one, so
 * different keys give different markers, and no marker contains another.
 */
function commentMarker(key) {
    let encoded = '';
    for (const byte of Buffer.from(key, 'utf8')) {
        const ch = String.fromCharCode(byte);
        encoded += /[A-Za-z0-9_.:@/+=]/.test(ch) ? ch : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
    }
    // "#" cannot come out of the encoding above, so a hashed key never equals an encoded one.
    if (encoded.length > MAX_ENCODED_KEY)
        encoded = `#sha256=${(0,node_crypto__WEBPACK_IMPORTED_MODULE_0__.createHash)('sha256').update(key, 'utf8').digest('hex')}`;
    return `${MARKER_PREFIX}${encoded}${MARKER_SUFFIX}`;
}
/** One line, each fact once; the comment is edited in place, so "when" tells a stale one apart. */
function renderFooter(f) {
    const parts = [];
    if (f.commit)
        parts.push(`For commit ${(0,_summary_js__WEBPACK_IMPORTED_MODULE_5__/* .link */ .nf)(`<code>${(0,_summary_js__WEBPACK_IMPORTED_MODULE_5__/* .escapeHtml */ .ZD)(f.commit.slice(0, 12))}</code>`, f.commitUrl)}`);
    if (f.updatedAt && Number.isFinite(f.updatedAt.getTime()))
        parts.push(`updated ${f.updatedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC`);
    if (f.runUrl)
        parts.push((0,_summary_js__WEBPACK_IMPORTED_MODULE_5__/* .link */ .nf)('workflow run', f.runUrl));
    return parts.length ? `\n\n---\n<sub>${parts.join(' · ')}</sub>\n` : '\n';
}
/**
 * Marker + markdown + the footer line, cut to fit GitHub's limit with a visible line saying so.
 * The cut is at a line end where there is one, and closes every block it left open (a code
 * fence, a table, <details>), so the notice and the footer stand outside them. The registered
 * secrets are removed before the cut (a secret cut in two is no longer found), and bidi
 * controls are shown, not obeyed.
 */
function renderComment(marker, markdown, footer = {}) {
    const head = `${marker}\n`;
    const foot = renderFooter(footer);
    const body = _log_js__WEBPACK_IMPORTED_MODULE_4__/* .escapeBidi */ .s5(_log_js__WEBPACK_IMPORTED_MODULE_4__/* .redactSecrets */ .fp(markdown), true).replace(/\s+$/, '');
    if (head.length + body.length + foot.length <= COMMENT_LIMIT)
        return `${head}${body}${foot}`;
    // The footer links the run once; the notice points at it.
    const where = footer.runUrl ? 'the job summary of the workflow run linked below' : 'the job summary';
    const notice = `\n> [!WARNING]\n> Truncated to fit GitHub's ${COMMENT_LIMIT.toLocaleString('en-US')}-character comment limit: ${where} has the full result.`;
    const cut = (room) => {
        if (room <= 0)
            return '';
        if (body.length <= room)
            return body;
        const lineEnd = body.lastIndexOf('\n', room);
        if (lineEnd > 0)
            return body.slice(0, lineEnd);
        // One huge line: never split a surrogate pair, a tag or an entity.
        const end = /[\uD800-\uDBFF]/.test(body.charAt(room - 1)) ? room - 1 : room;
        return (0,_summary_js__WEBPACK_IMPORTED_MODULE_5__/* .dropPartialTag */ .lX)(body.slice(0, end));
    };
    const kept = (0,_summary_js__WEBPACK_IMPORTED_MODULE_5__/* .cutWithNotice */ .dj)(COMMENT_LIMIT - head.length - foot.length, notice, (t) => t.length, cut);
    return `${head}${kept}${foot}`;
}
/**
 * Where to comment, from the workflow context: the PR of a pull_request(_target) event, or a
 * reason to skip. `apiUrl` is GITHUB_API_URL (empty: github.com).
 */
function commentTargetFrom(github, apiUrl, token) {
    if (github.eventName !== 'pull_request' && github.eventName !== 'pull_request_target')
        return { kind: 'skipped', reason: `not a pull request event (${github.eventName || 'unknown'})` };
    const prNumber = github.payload.pull_request?.number;
    if (!prNumber)
        return { kind: 'skipped', reason: 'the event payload has no pull request number' };
    if (!token)
        return { kind: 'skipped', reason: 'no github-token' };
    return { apiUrl: apiUrl || 'https://api.github.com', repository: github.repository, prNumber, token };
}
/** Who GITHUB_TOKEN writes as. Its installation token may not read GET /user. */
const ACTIONS_BOT = 'github-actions[bot]';
/** Creates the PR's comment holding `marker`, or updates the one already there. Never throws. */
async function upsertComment(deps, target, marker, body) {
    const secrets = [target.token, ...(deps.secrets ?? [])].filter((s) => s);
    const clean = (s) => (0,_errors_js__WEBPACK_IMPORTED_MODULE_2__/* .redact */ .E$)(s, secrets);
    if (!target.token)
        return { kind: 'skipped', reason: 'no github-token' };
    if (!Number.isSafeInteger(target.prNumber) || target.prNumber <= 0)
        return { kind: 'skipped', reason: 'not a pull request (no pull request number)' };
    const repo = /^([^/\s]+)\/([^/\s]+)$/.exec(target.repository);
    if (!repo)
        return { kind: 'warning', message: clean(`PR comment not written: the repository "${target.repository}" is not owner/name.`) };
    let base;
    try {
        base = new URL(target.apiUrl);
    }
    catch {
        return { kind: 'warning', message: clean(`PR comment not written: the GitHub API URL "${target.apiUrl}" is not a URL.`) };
    }
    const http = new _http_js__WEBPACK_IMPORTED_MODULE_3__/* .HttpClient */ .Qq({
        dispatcher: deps.dispatcher,
        secrets,
        authorizedBases: [base],
        timeoutMs: deps.timeoutMs ?? 30_000,
        userAgent: deps.userAgent,
        clock: deps.clock ?? _clock_js__WEBPACK_IMPORTED_MODULE_1__/* .systemClock */ .m,
        random: deps.random ?? Math.random,
        retry: deps.retry ?? COMMENT_RETRY,
        onRetry: deps.onRetry,
        debug: deps.debug,
    });
    const where = { owner: repo[1], repo: repo[2], issue_number: target.prNumber };
    let doing = 'read the comments of';
    try {
        const octokit = await gitHubClient(http, base, target.token, deps.userAgent);
        let login;
        // Asked only once a comment with the marker turns up.
        const me = () => (login ??= tokenLogin(octokit));
        const existing = await findComment(octokit, where, base, marker, me);
        const text = clean(body);
        if (existing) {
            doing = 'update the comment on';
            try {
                const res = await octokit.rest.issues.updateComment({ owner: where.owner, repo: where.repo, comment_id: existing.id, body: text });
                return { kind: 'updated', url: res.data.html_url ?? '' };
            }
            catch (err) {
                // Deleted since it was listed: write a new one.
                if (refusedWith(err)?.status !== 404)
                    throw err;
            }
        }
        doing = 'comment on';
        const res = await octokit.rest.issues.createComment({ ...where, body: text });
        return { kind: 'created', url: res.data.html_url ?? '' };
    }
    catch (err) {
        const refused = refusedWith(err);
        return { kind: 'warning', message: clean(refused ? refusal(refused, doing, target) : thrown(err, doing, target)) };
    }
}
/**
 * GitHub's own typed client (Octokit, from @actions/github), loaded only when a comment is
 * written: most runs never need it. Its requests go through our HttpClient, which keeps the
 * token to the API host, follows no redirect, bounds time and answer size, and retries 429
 * and 5xx a little; Octokit sees only the final answer.
 */
async function gitHubClient(http, base, token, userAgent) {
    const { getOctokit } = await __webpack_require__.e(/* import() */ 351).then(__webpack_require__.bind(__webpack_require__, 61351));
    // Octokit joins paths onto baseUrl as strings: GHES's /api/v3/ must lose its trailing slash.
    const octokit = getOctokit(token, { baseUrl: base.href.replace(/\/+$/, ''), userAgent, request: { fetch: viaHttpClient(http) } });
    octokit.hook.before('request', (options) => {
        options.headers.accept = 'application/vnd.github+json';
        options.headers['x-github-api-version'] = '2022-11-28';
    });
    return octokit;
}
/** A fetch for Octokit over HttpClient: 4xx (but 408 and 429) come back as answers, for Octokit to raise. */
function viaHttpClient(http) {
    return async (input, init) => {
        const url = new URL(input instanceof Request ? input.url : String(input));
        const headers = {};
        let authorization;
        for (const [name, value] of new Headers(init?.headers)) {
            if (name === 'authorization')
                authorization = value;
            else if (name !== 'content-length' && name !== 'content-type')
                headers[name] = value;
        }
        const method = (init?.method ?? 'GET').toUpperCase();
        const res = await http.send({
            step: STEP,
            method,
            url,
            json: typeof init?.body === 'string' ? JSON.parse(init.body) : undefined,
            authorization,
            headers,
            jsonArray: true, // the comment list
            // Answered by Octokit, with GitHub's headers at hand (rate limits); 429 and 5xx stay retried.
            accept: (status) => status >= 400 && status < 500 && status !== 408 && status !== 429,
        });
        const answer = new Headers({ 'content-type': 'application/json' });
        for (const [name, value] of Object.entries(res.headers))
            if (value !== undefined && name !== 'content-length' && name !== 'content-type' && name !== 'content-encoding')
                answer.set(name, Array.isArray(value) ? value.join(', ') : value);
        // `message` always set: Octokit words a refusal without one as "Unknown error: {}".
        const data = res.status >= 400 ? { message: res.error.message ?? '' } : res.data;
        return new Response(res.status === 204 ? null : JSON.stringify(data), { status: res.status, headers: answer });
    };
}
/** Octokit raises a 4xx answer with its status and headers; a thrown fetch (HttpClient's error) comes back as its cause. */
function refusedWith(err) {
    if (!(err instanceof Error) || err.name !== 'HttpError' || err.cause !== undefined)
        return undefined;
    const e = err;
    if (typeof e.status !== 'number' || e.status < 400)
        return undefined;
    return { status: e.status, message: e.message, headers: e.response?.headers ?? {} };
}
/**
 * The login the token writes comments as: GET /user answers it for a personal token; an
 * installation token (GITHUB_TOKEN) is refused there (403) and writes as the Actions bot.
 */
async function tokenLogin(octokit) {
    try {
        const res = await octokit.rest.users.getAuthenticated();
        if (typeof res.data.login === 'string' && res.data.login)
            return res.data.login;
    }
    catch (err) {
        const refused = refusedWith(err);
        if (refused && (refused.status === 403 || refused.status === 404) && !isRateLimited(refused))
            return ACTIONS_BOT;
        throw err;
    }
    throw new Error('GitHub answered GET /user without a login');
}
/**
 * The comment holding the marker that the token's own identity wrote, page by page (Octokit's
 * pagination, at most MAX_PAGES); anyone else's copy of the marker is left alone (a new comment
 * is written instead). A next page on another host is not asked for: the token goes to the API host only.
 */
async function findComment(octokit, where, base, marker, me) {
    let page = 0;
    for await (const res of octokit.paginate.iterator(octokit.rest.issues.listComments, { ...where, per_page: 100 })) {
        const comments = res.data;
        for (const c of Array.isArray(comments) ? comments : []) {
            if (!Number.isSafeInteger(c.id) || typeof c.body !== 'string' || !c.body.includes(marker))
                continue;
            if (c.user?.login === (await me()))
                return c;
        }
        // Stopping here, before the iterator asks for the next page.
        const next = nextLink(res.headers.link);
        if (++page >= MAX_PAGES || !next || next.origin !== base.origin)
            break;
    }
    return undefined;
}
/** The `rel="next"` URL of a Link header. */
function nextLink(header) {
    const value = Array.isArray(header) ? header.join(',') : header;
    if (!value)
        return undefined;
    for (const part of value.split(/,(?=\s*<)/)) {
        const m = /^\s*<([^>]*)>(.*)$/.exec(part);
        if (!m)
            continue;
        const rel = /;\s*rel\s*=\s*"?([^";]*)"?/i.exec(m[2])?.[1] ?? '';
        if (rel.toLowerCase().split(/\s+/).includes('next')) {
            try {
                return new URL(m[1]);
            }
            catch {
                return undefined;
            }
        }
    }
    return undefined;
}
const JOB_SUMMARY = 'The result is still in the job summary.';
/** A 4xx from GitHub, worded as what to do about it. */
function refusal(res, doing, target) {
    const said = res.message ? `: ${res.message}` : '';
    const what = `Could not ${doing} pull request #${target.prNumber} (HTTP ${res.status}${said}).`;
    if ((res.status === 403 || res.status === 429) && isRateLimited(res))
        return `${what} ${rateLimitHint(res)} ${JOB_SUMMARY}`;
    if (res.status === 401)
        return `${what} GitHub did not accept the token: check the github-token input (by default the workflow's GITHUB_TOKEN; a personal token may have expired or been revoked). ${JOB_SUMMARY}`;
    if (res.status === 403 || res.status === 404)
        return `${what} The token may not write pull request comments: add \`permissions: pull-requests: write\` (or \`issues: write\`) to the job. Pull requests from forks get a read-only token, so there the comment is skipped. ${JOB_SUMMARY}`;
    return `${what} ${JOB_SUMMARY}`;
}
function isRateLimited(res) {
    return res.headers['x-ratelimit-remaining'] === '0' || res.headers['retry-after'] !== undefined || /rate limit/i.test(res.message);
}
function rateLimitHint(res) {
    const retryAfter = res.headers['retry-after'];
    const reset = Number(res.headers['x-ratelimit-reset']);
    const when = retryAfter
        ? ` (GitHub asks to wait ${/^\d+$/.test(retryAfter) ? `${retryAfter} s` : `until ${retryAfter}`})`
        : Number.isFinite(reset) && reset > 0
            ? ` (it resets at ${new Date(reset * 1000).toISOString()})`
            : '';
    return `GitHub's API rate limit for this token was reached${when}; the comment is updated on the next run.`;
}
/**
 * A failure HttpClient threw (429 or 5xx after its retries, a redirect, a network error), which
 * Octokit passes on as the cause of its own error; or a bug.
 */
function thrown(caught, doing, target) {
    const what = `Could not ${doing} pull request #${target.prNumber}`;
    const err = caught instanceof Error && caught.cause instanceof _errors_js__WEBPACK_IMPORTED_MODULE_2__/* .ActionError */ .lZ ? caught.cause : caught;
    if (!(err instanceof _errors_js__WEBPACK_IMPORTED_MODULE_2__/* .ActionError */ .lZ))
        return `${what}: ${err instanceof Error ? err.message : String(err)}. ${JOB_SUMMARY}`;
    const said = err.serverMessage ? ` (${err.serverMessage})` : '';
    const request = err.method && err.path ? ` [${err.method} ${err.path}]` : '';
    const status = err.status;
    let hint;
    if (status === 429)
        hint = "GitHub's API rate limit for this token was reached; the comment is updated on the next run.";
    else if (status !== undefined && status >= 500)
        hint = 'GitHub may be having trouble (https://www.githubstatus.com); the comment is updated on the next run.';
    else if (status !== undefined && status >= 300 && status < 400)
        hint = `Check GITHUB_API_URL (${target.apiUrl}); a repository that was renamed or moved answers with a redirect.`;
    else if (status !== undefined)
        hint = `Check GITHUB_API_URL (${target.apiUrl}): it should be the GitHub REST API.`;
    else
        hint = 'Check that the runner can reach the GitHub API.';
    return `${what}: ${err.message}${said}${request}. ${hint} ${JOB_SUMMARY}`;
}
/** On pull requests, the result as one comment, updated in place; a refusal is only a warning. */
async function commentOnPullRequest(s) {
    const { cfg, deps, lineage } = s;
    const target = commentTargetFrom(deps.github, deps.env.GITHUB_API_URL, cfg.githubToken ?? '');
    if ('kind' in target)
        return _log_js__WEBPACK_IMPORTED_MODULE_4__/* .info */ .pq(`No pull-request comment: ${target.reason}.`);
    const markdown = s.commentMarkdown ?? s.summary;
    if (!markdown)
        return;
    // One comment per use: the review (verify with model-path) apart from the checks.
    const use = cfg.dryRun ? '-dry-run' : cfg.mode === 'verify' && cfg.modelPath ? '-review' : '';
    const key = `${cfg.mode}${use}:${cfg.modelName || cfg.trackingUri.host}`;
    const marker = commentMarker(key);
    // upsertComment never throws: every failure comes back as a warning.
    const outcome = await upsertComment({ dispatcher: deps.dispatcher, userAgent: _http_js__WEBPACK_IMPORTED_MODULE_3__/* .USER_AGENT */ ._O, clock: deps.clock, secrets: s.secrets }, target, marker, renderComment(marker, markdown, {
        runUrl: lineage.runUrl,
        commit: lineage.commit,
        commitUrl: lineage.commitUrl,
        updatedAt: new Date(deps.clock.now()),
    }));
    if (outcome.kind === 'warning')
        _log_js__WEBPACK_IMPORTED_MODULE_4__/* .warning */ .$e(outcome.message, { title: 'Pull-request comment not written' });
    else if (outcome.kind === 'skipped')
        _log_js__WEBPACK_IMPORTED_MODULE_4__/* .info */ .pq(`comment: ${outcome.reason}`);
    else
        _log_js__WEBPACK_IMPORTED_MODULE_4__/* .info */ .pq(`Pull-request comment ${outcome.kind}: ${outcome.url}`);
}


/***/ })

};
