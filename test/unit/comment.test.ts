import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MockAgent } from 'undici';
import { fakeClock } from '../support/http-options.ts';
import {
  ACTIONS_BOT,
  COMMENT_LIMIT,
  commentMarker,
  commentTargetFrom,
  nextLink,
  renderComment,
  upsertComment,
  type CommentTarget,
} from '../../src/comment.ts';

// 127.0.0.1 only: MockAgent never connects, but no made-up host name is ever looked up.
const API = 'https://127.0.0.1:8443';
const TOKEN = 'fake-gh-token-0123456789abcdef';
const UA = 'hokusai-register-model-action/test';
const MARKER = commentMarker('churn-classifier verify');
const LIST = '/repos/octo/models/issues/7/comments';
// Octokit's first page asks for per_page only; the Link header names the pages after it.
const PAGE1 = `${LIST}?per_page=100`;
const JSON_HEADERS = { headers: { 'content-type': 'application/json; charset=utf-8' } };

function target(over: Partial<CommentTarget> = {}): CommentTarget {
  return { apiUrl: API, repository: 'octo/models', prNumber: 7, token: TOKEN, ...over };
}

function mock(): MockAgent {
  const agent = new MockAgent({ enableCallHistory: true });
  agent.disableNetConnect();
  return agent;
}

function deps(agent: MockAgent, clock = fakeClock()) {
  return { dispatcher: agent, clock, random: () => 0.5, userAgent: UA };
}

/** Every request the mock received: method, path with query, and the JSON body if any. */
function requests(agent: MockAgent): Array<{ method: string; url: string; body?: unknown }> {
  return (agent.getCallHistory()?.calls() ?? []).map((c) => {
    const url = c.fullUrl.slice(c.origin.length);
    return c.body ? { method: c.method, url, body: JSON.parse(c.body) as unknown } : { method: c.method, url };
  });
}

/** The headers GitHub asks for, on every request (Octokit's token scheme, our user agent first). */
function assertGitHubHeaders(agent: MockAgent): void {
  const calls = agent.getCallHistory()?.calls() ?? [];
  assert.ok(calls.length > 0);
  for (const c of calls) {
    const h = c.headers as Record<string, string>;
    assert.equal(h.authorization, `token ${TOKEN}`);
    assert.equal(h.accept, 'application/vnd.github+json');
    assert.equal(h['x-github-api-version'], '2022-11-28');
    assert.ok(h['user-agent']?.startsWith(`${UA} octokit-core.js/`), h['user-agent']);
    if (c.body) assert.equal(h['content-type'], 'application/json');
  }
}

function comment(id: number, body: string, type = 'User', login = type === 'Bot' ? ACTIONS_BOT : `u${id}`) {
  return { id, body, html_url: `https://github.com/octo/models/pull/7#issuecomment-${id}`, user: { login, type } };
}

/** GET /user as GitHub answers it for GITHUB_TOKEN, an installation token. */
function userRefused(pool: ReturnType<MockAgent['get']>) {
  pool
    .intercept({ path: '/user', method: 'GET' })
    .reply(403, { message: 'Resource not accessible by integration', status: '403' }, JSON_HEADERS);
}

test('no comment with the marker: one is created', async () => {
  const agent = mock();
  const pool = agent.get(API);
  pool.intercept({ path: PAGE1, method: 'GET' }).reply(200, [comment(1, 'LGTM')], JSON_HEADERS);
  pool.intercept({ path: LIST, method: 'POST' }).reply(201, comment(50, 'x', 'Bot'), JSON_HEADERS);

  const body = renderComment(MARKER, '## Verify\n\nall good', undefined);
  const out = await upsertComment(deps(agent), target(), MARKER, body);

  assert.deepEqual(out, { kind: 'created', url: 'https://github.com/octo/models/pull/7#issuecomment-50' });
  assert.deepEqual(requests(agent), [
    { method: 'GET', url: PAGE1 },
    { method: 'POST', url: LIST, body: { body } },
  ]);
  assertGitHubHeaders(agent);
});

test('the marker on page 2 (Link header): that comment is updated in place', async () => {
  const agent = mock();
  const pool = agent.get(API);
  const page2 = `${API}/repositories/99/issues/7/comments?per_page=100&page=2`;
  pool.intercept({ path: PAGE1, method: 'GET' }).reply(200, [comment(1, 'first'), comment(2, 'second')], {
    headers: { 'content-type': 'application/json', link: `<${page2}>; rel="next", <${page2}>; rel="last"` },
  });
  pool
    .intercept({ path: '/repositories/99/issues/7/comments?per_page=100&page=2', method: 'GET' })
    .reply(200, [comment(3, 'third'), comment(4, `${MARKER}\nold result`, 'Bot')], {
      headers: { 'content-type': 'application/json', link: `<${API}${PAGE1}>; rel="first", <${API}${PAGE1}>; rel="prev"` },
    });
  userRefused(pool);
  pool.intercept({ path: '/repos/octo/models/issues/comments/4', method: 'PATCH' }).reply(200, comment(4, 'new', 'Bot'), JSON_HEADERS);

  const out = await upsertComment(deps(agent), target(), MARKER, `${MARKER}\nnew result`);

  assert.deepEqual(out, { kind: 'updated', url: 'https://github.com/octo/models/pull/7#issuecomment-4' });
  assert.deepEqual(requests(agent), [
    { method: 'GET', url: PAGE1 },
    { method: 'GET', url: '/repositories/99/issues/7/comments?per_page=100&page=2' },
    { method: 'GET', url: '/user' },
    { method: 'PATCH', url: '/repos/octo/models/issues/comments/4', body: { body: `${MARKER}\nnew result` } },
  ]);
  assertGitHubHeaders(agent);
});

test("another tool's comment, and a human's quote of the marker, are left alone when the bot's comment exists", async () => {
  const agent = mock();
  const pool = agent.get(API);
  pool
    .intercept({ path: PAGE1, method: 'GET' })
    .reply(
      200,
      [
        comment(10, '<!-- coverage-report -->\nCoverage 81%', 'Bot'),
        comment(11, `> copied: ${MARKER}`),
        comment(12, `${MARKER}\nold`, 'Bot'),
      ],
      JSON_HEADERS,
    );
  userRefused(pool);
  pool.intercept({ path: '/repos/octo/models/issues/comments/12', method: 'PATCH' }).reply(200, comment(12, 'new', 'Bot'), JSON_HEADERS);

  const out = await upsertComment(deps(agent), target(), MARKER, `${MARKER}\nnew`);
  assert.equal(out.kind, 'updated');
  assert.deepEqual(
    requests(agent).map((r) => `${r.method} ${r.url}`),
    [`GET ${PAGE1}`, 'GET /user', 'PATCH /repos/octo/models/issues/comments/12'],
  );
});

test("only another tool's comment: a new one is created, the other is not touched", async () => {
  const agent = mock();
  const pool = agent.get(API);
  pool.intercept({ path: PAGE1, method: 'GET' }).reply(200, [comment(10, '<!-- coverage-report -->\nCoverage 81%', 'Bot')], JSON_HEADERS);
  pool.intercept({ path: LIST, method: 'POST' }).reply(201, comment(11, 'x', 'Bot'), JSON_HEADERS);

  const out = await upsertComment(deps(agent), target(), MARKER, `${MARKER}\nnew`);
  assert.equal(out.kind, 'created');
  assert.deepEqual(
    requests(agent).map((r) => r.method),
    ['GET', 'POST'],
  );
});

test("another user's comment carrying the marker is never edited: GITHUB_TOKEN writes as the Actions bot, so a new comment is created", async () => {
  const agent = mock();
  const pool = agent.get(API);
  pool
    .intercept({ path: PAGE1, method: 'GET' })
    .reply(
      200,
      [comment(20, `${MARKER}\nplanted by a human`), comment(21, `${MARKER}\nplanted by another app`, 'Bot', 'other-app[bot]')],
      JSON_HEADERS,
    );
  userRefused(pool);
  pool.intercept({ path: LIST, method: 'POST' }).reply(201, comment(22, 'x', 'Bot'), JSON_HEADERS);

  const out = await upsertComment(deps(agent), target(), MARKER, `${MARKER}\nnew`);
  assert.deepEqual(out, { kind: 'created', url: 'https://github.com/octo/models/pull/7#issuecomment-22' });
  assert.deepEqual(
    requests(agent).map((r) => `${r.method} ${r.url}`),
    [`GET ${PAGE1}`, 'GET /user', `POST ${LIST}`],
  );
});

test("a personal token: GET /user names the identity, and only that identity's comment is edited, not the Actions bot's", async () => {
  const agent = mock();
  const pool = agent.get(API);
  pool
    .intercept({ path: PAGE1, method: 'GET' })
    .reply(200, [comment(30, `${MARKER}\nbot`, 'Bot'), comment(31, `${MARKER}\nmine`, 'User', 'octo-ci')], JSON_HEADERS);
  pool.intercept({ path: '/user', method: 'GET' }).reply(200, { login: 'octo-ci', type: 'User' }, JSON_HEADERS);
  pool
    .intercept({ path: '/repos/octo/models/issues/comments/31', method: 'PATCH' })
    .reply(200, comment(31, 'new', 'User', 'octo-ci'), JSON_HEADERS);

  const out = await upsertComment(deps(agent), target(), MARKER, `${MARKER}\nnew`);
  assert.equal(out.kind, 'updated');
  assert.deepEqual(
    requests(agent).map((r) => `${r.method} ${r.url}`),
    [`GET ${PAGE1}`, 'GET /user', 'PATCH /repos/octo/models/issues/comments/31'],
  );
  assertGitHubHeaders(agent);
});

test('GET /user refusing the token itself (401): a warning, nothing written', async () => {
  const agent = mock();
  const pool = agent.get(API);
  pool.intercept({ path: PAGE1, method: 'GET' }).reply(200, [comment(40, MARKER, 'Bot')], JSON_HEADERS);
  pool.intercept({ path: '/user', method: 'GET' }).reply(401, { message: 'Bad credentials' }, JSON_HEADERS);

  const out = await upsertComment(deps(agent), target(), MARKER, 'b');
  assert.equal(out.kind, 'warning');
  assert.match((out as { message: string }).message, /HTTP 401: Bad credentials.*did not accept the token/);
  assert.deepEqual(
    requests(agent).map((r) => r.method),
    ['GET', 'GET'],
  );
});

/** A tiny stateful GitHub: list, create and update the comments of PR 7. */
function fakeGitHub(agent: MockAgent, store: Array<{ id: number; body: string }>): void {
  const pool = agent.get(API);
  pool
    .intercept({ path: '/user', method: 'GET' })
    .reply(403, { message: 'Resource not accessible by integration' }, JSON_HEADERS)
    .persist();
  pool
    .intercept({ path: (p) => p.startsWith(`${LIST}?`), method: 'GET' })
    .reply(200, () => store.map((c) => comment(c.id, c.body, 'Bot')), JSON_HEADERS)
    .persist();
  pool
    .intercept({ path: LIST, method: 'POST' })
    .reply(({ body }) => {
      const c = { id: 100 + store.length, body: (JSON.parse(String(body)) as { body: string }).body };
      store.push(c);
      return { statusCode: 201, data: comment(c.id, c.body, 'Bot'), responseOptions: JSON_HEADERS };
    })
    .persist();
  pool
    .intercept({ path: (p) => p.startsWith('/repos/octo/models/issues/comments/'), method: 'PATCH' })
    .reply<object>(({ path, body }) => {
      const c = store.find((x) => path.endsWith(`/${x.id}`));
      if (!c) return { statusCode: 404, data: { message: 'Not Found' }, responseOptions: JSON_HEADERS };
      c.body = (JSON.parse(String(body)) as { body: string }).body;
      return { statusCode: 200, data: comment(c.id, c.body, 'Bot'), responseOptions: JSON_HEADERS };
    })
    .persist();
}

test('two keys give two comments, each updated in place on the next run', async () => {
  const agent = mock();
  const store: Array<{ id: number; body: string }> = [];
  fakeGitHub(agent, store);
  const verify = commentMarker('churn-classifier verify');
  const dryRun = commentMarker('churn-classifier register dry-run');
  assert.notEqual(verify, dryRun);

  const run = (marker: string, text: string) => upsertComment(deps(agent), target(), marker, renderComment(marker, text, undefined));
  assert.equal((await run(verify, 'verify #1')).kind, 'created');
  assert.equal((await run(dryRun, 'plan #1')).kind, 'created');
  assert.equal((await run(verify, 'verify #2')).kind, 'updated');
  assert.equal((await run(dryRun, 'plan #2')).kind, 'updated');

  assert.deepEqual(store, [
    { id: 100, body: `${verify}\nverify #2\n` },
    { id: 101, body: `${dryRun}\nplan #2\n` },
  ]);
  assert.deepEqual(
    requests(agent).map((r) => `${r.method} ${r.url}`),
    [
      `GET ${PAGE1}`,
      `POST ${LIST}`,
      `GET ${PAGE1}`,
      `POST ${LIST}`,
      `GET ${PAGE1}`,
      'GET /user',
      'PATCH /repos/octo/models/issues/comments/100',
      `GET ${PAGE1}`,
      'GET /user',
      'PATCH /repos/octo/models/issues/comments/101',
    ],
  );
});

test('a comment deleted between listing and updating is written anew', async () => {
  const agent = mock();
  const pool = agent.get(API);
  pool.intercept({ path: PAGE1, method: 'GET' }).reply(200, [comment(5, MARKER, 'Bot')], JSON_HEADERS);
  userRefused(pool);
  pool.intercept({ path: '/repos/octo/models/issues/comments/5', method: 'PATCH' }).reply(404, { message: 'Not Found' }, JSON_HEADERS);
  pool.intercept({ path: LIST, method: 'POST' }).reply(201, comment(6, 'x', 'Bot'), JSON_HEADERS);

  const out = await upsertComment(deps(agent), target(), MARKER, 'b');
  assert.equal(out.kind, 'created');
  assert.deepEqual(
    requests(agent).map((r) => `${r.method} ${r.url}`),
    [`GET ${PAGE1}`, 'GET /user', 'PATCH /repos/octo/models/issues/comments/5', `POST ${LIST}`],
  );
});

test('403 "Resource not accessible by integration": a warning that says which permission to add, without the token', async () => {
  const agent = mock();
  const pool = agent.get(API);
  pool.intercept({ path: PAGE1, method: 'GET' }).reply(200, [], JSON_HEADERS);
  pool.intercept({ path: LIST, method: 'POST' }).reply(
    403,
    {
      message: 'Resource not accessible by integration',
      documentation_url: 'https://docs.github.com/rest/issues/comments#create-an-issue-comment',
      status: '403',
    },
    { headers: { 'content-type': 'application/json', 'x-ratelimit-remaining': '4999' } },
  );

  const out = await upsertComment(deps(agent), target(), MARKER, 'b');
  assert.equal(out.kind, 'warning');
  assert.ok(out.kind === 'warning');
  assert.match(out.message, /Could not comment on pull request #7 \(HTTP 403: Resource not accessible by integration\)/);
  assert.match(out.message, /permissions: pull-requests: write/);
  assert.match(out.message, /issues: write/);
  assert.match(out.message, /forks get a read-only token/);
  assert.match(out.message, /job summary/);
  assert.doesNotMatch(out.message, /rate limit/);
  assert.ok(!out.message.includes(TOKEN));
});

test('404 on the list (a private repository the token cannot see): a warning, nothing written', async () => {
  const agent = mock();
  agent.get(API).intercept({ path: PAGE1, method: 'GET' }).reply(404, { message: 'Not Found' }, JSON_HEADERS);

  const out = await upsertComment(deps(agent), target(), MARKER, 'b');
  assert.ok(out.kind === 'warning', JSON.stringify(out));
  assert.match(out.message, /Could not read the comments of pull request #7 \(HTTP 404: Not Found\)/);
  assert.match(out.message, /pull-requests: write/);
  assert.deepEqual(
    requests(agent).map((r) => r.method),
    ['GET'],
  );
});

test('401: the token was refused, and an echoed token is redacted', async () => {
  const agent = mock();
  agent
    .get(API)
    .intercept({ path: PAGE1, method: 'GET' })
    .reply(401, { message: `Bad credentials ${TOKEN}` }, JSON_HEADERS);

  const out = await upsertComment(deps(agent), target(), MARKER, 'b');
  assert.ok(out.kind === 'warning');
  assert.match(out.message, /HTTP 401: Bad credentials \*\*\*/);
  assert.match(out.message, /github-token/);
  assert.ok(!out.message.includes(TOKEN));
});

test('403 with x-ratelimit-remaining: 0 is a rate-limit warning, not a permission one', async () => {
  const agent = mock();
  agent
    .get(API)
    .intercept({ path: PAGE1, method: 'GET' })
    .reply(
      403,
      { message: 'API rate limit exceeded for installation ID 1.' },
      { headers: { 'content-type': 'application/json', 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': '1767225600' } },
    );

  const out = await upsertComment(deps(agent), target(), MARKER, 'b');
  assert.ok(out.kind === 'warning');
  assert.match(out.message, /rate limit for this token was reached \(it resets at 2026-01-01T00:00:00\.000Z\)/);
  assert.doesNotMatch(out.message, /pull-requests: write/);
});

test('429 asking for a wait longer than the retry budget: a warning at once, no sleeping', async () => {
  const agent = mock();
  agent
    .get(API)
    .intercept({ path: PAGE1, method: 'GET' })
    .reply(
      429,
      { message: 'You have exceeded a secondary rate limit.' },
      { headers: { 'content-type': 'application/json', 'retry-after': '60' } },
    );
  const clock = fakeClock();

  const out = await upsertComment(deps(agent, clock), target(), MARKER, 'b');
  assert.ok(out.kind === 'warning');
  assert.match(out.message, /HTTP 429; the server asks to retry after 60 s/);
  assert.match(out.message, /rate limit/);
  assert.deepEqual(clock.sleeps, []);
  assert.equal(requests(agent).length, 1);
});

test('500 is retried, then becomes a warning', async () => {
  const agent = mock();
  agent.get(API).intercept({ path: PAGE1, method: 'GET' }).reply(500, { message: 'Server Error' }, JSON_HEADERS).times(3);
  const clock = fakeClock();

  const out = await upsertComment(deps(agent, clock), target(), MARKER, 'b');
  assert.ok(out.kind === 'warning');
  assert.match(
    out.message,
    /Could not read the comments of pull request #7: HTTP 500 \(gave up after 3 attempts\) \(Server Error\) \[GET \/repos\/octo\/models\/issues\/7\/comments\]/,
  );
  assert.match(out.message, /job summary/);
  // Two retries with equal jitter at random() = 0.5: 0.75 s and 1.5 s, on the fake clock.
  assert.deepEqual(clock.sleeps, [750, 1500]);
  assert.equal(requests(agent).length, 3);
});

test('500 once, then success: the comment is still written', async () => {
  const agent = mock();
  const pool = agent.get(API);
  pool.intercept({ path: PAGE1, method: 'GET' }).reply(502, 'Bad Gateway');
  pool.intercept({ path: PAGE1, method: 'GET' }).reply(200, [], JSON_HEADERS);
  pool.intercept({ path: LIST, method: 'POST' }).reply(201, comment(8, 'x', 'Bot'), JSON_HEADERS);

  const out = await upsertComment(deps(agent), target(), MARKER, 'b');
  assert.equal(out.kind, 'created');
  assert.deepEqual(
    requests(agent).map((r) => r.method),
    ['GET', 'GET', 'POST'],
  );
});

test('GHES: the /api/v3 prefix of the API URL is kept on every request, also for the next page', async () => {
  const ghes = 'https://127.0.0.1:8444';
  const agent = mock();
  const pool = agent.get(ghes);
  const page1 = '/api/v3/repos/octo/models/issues/7/comments?per_page=100';
  const page2 = '/api/v3/repositories/99/issues/7/comments?per_page=100&page=2';
  pool.intercept({ path: page1, method: 'GET' }).reply(200, [comment(1, 'hi')], {
    headers: { 'content-type': 'application/json', link: `<${ghes}${page2}>; rel="next"` },
  });
  pool.intercept({ path: page2, method: 'GET' }).reply(200, [], JSON_HEADERS);
  pool.intercept({ path: '/api/v3/repos/octo/models/issues/7/comments', method: 'POST' }).reply(201, comment(2, 'x', 'Bot'), JSON_HEADERS);

  const out = await upsertComment(deps(agent), target({ apiUrl: `${ghes}/api/v3/` }), MARKER, 'b');
  assert.equal(out.kind, 'created');
  assert.deepEqual(requests(agent), [
    { method: 'GET', url: page1 },
    { method: 'GET', url: page2 },
    { method: 'POST', url: '/api/v3/repos/octo/models/issues/7/comments', body: { body: 'b' } },
  ]);
  assertGitHubHeaders(agent);
});

test('a next page on another host is not followed (the token stays with the API host)', async () => {
  const agent = mock();
  const pool = agent.get(API);
  pool.intercept({ path: PAGE1, method: 'GET' }).reply(200, [], {
    headers: { 'content-type': 'application/json', link: '<https://127.0.0.2/steal?page=2>; rel="next"' },
  });
  pool.intercept({ path: LIST, method: 'POST' }).reply(201, comment(2, 'x', 'Bot'), JSON_HEADERS);

  const out = await upsertComment(deps(agent), target(), MARKER, 'b');
  assert.equal(out.kind, 'created');
  assert.deepEqual(
    requests(agent).map((r) => r.url),
    [PAGE1, LIST],
  );
});

test('pages are bounded: a list that never ends is read 30 pages deep, then a new comment is written', async () => {
  const agent = mock();
  const pool = agent.get(API);
  const next = { headers: { 'content-type': 'application/json', link: `<${API}${LIST}?per_page=100&page=2>; rel="next"` } };
  pool.intercept({ path: PAGE1, method: 'GET' }).reply(200, [comment(1, 'hi')], next);
  pool
    .intercept({ path: `${LIST}?per_page=100&page=2`, method: 'GET' })
    .reply(200, [comment(2, 'again')], next)
    .persist();
  pool.intercept({ path: LIST, method: 'POST' }).reply(201, comment(3, 'x', 'Bot'), JSON_HEADERS);

  const out = await upsertComment(deps(agent), target(), MARKER, 'b');
  assert.equal(out.kind, 'created');
  const methods = requests(agent).map((r) => r.method);
  assert.equal(methods.filter((m) => m === 'GET').length, 30);
  assert.equal(methods.at(-1), 'POST');
});

test('a redirect is not followed (the token would go with it): a warning naming GITHUB_API_URL', async () => {
  const agent = mock();
  agent
    .get(API)
    .intercept({ path: PAGE1, method: 'GET' })
    .reply(301, '', { headers: { location: 'https://127.0.0.2/repos/octo/renamed/issues/7/comments' } });

  const out = await upsertComment(deps(agent), target(), MARKER, 'b');
  assert.ok(out.kind === 'warning', JSON.stringify(out));
  assert.match(out.message, /redirect \(HTTP 301\) to https:\/\/127\.0\.0\.2\/repos\/octo\/renamed/);
  assert.match(out.message, /Check GITHUB_API_URL/);
  assert.equal(requests(agent).length, 1);
});

test('no token, no PR number: skipped without a request', async () => {
  const agent = mock();
  assert.deepEqual(await upsertComment(deps(agent), target({ token: '' }), MARKER, 'b'), { kind: 'skipped', reason: 'no github-token' });
  assert.equal((await upsertComment(deps(agent), target({ prNumber: 0 }), MARKER, 'b')).kind, 'skipped');
  assert.deepEqual(requests(agent), []);
});

test('the target comes from pull_request events only', () => {
  const ctx = (eventName: string, number?: number) => ({ eventName, repository: 'octo/models', payload: { pull_request: { number } } });
  assert.deepEqual(commentTargetFrom(ctx('pull_request', 7), '', TOKEN), {
    apiUrl: 'https://api.github.com',
    repository: 'octo/models',
    prNumber: 7,
    token: TOKEN,
  });
  assert.equal(
    (commentTargetFrom(ctx('pull_request_target', 7), 'https://127.0.0.1/api/v3', TOKEN) as CommentTarget).apiUrl,
    'https://127.0.0.1/api/v3',
  );
  assert.deepEqual(commentTargetFrom({ eventName: 'push', repository: 'octo/models', payload: {} }, '', TOKEN), {
    kind: 'skipped',
    reason: 'not a pull request event (push)',
  });
  assert.deepEqual(commentTargetFrom(ctx('pull_request', 7), '', ''), { kind: 'skipped', reason: 'no github-token' });
  assert.equal((commentTargetFrom(ctx('pull_request'), '', TOKEN) as { kind: string }).kind, 'skipped');
});

test('a hostile key cannot close the HTML comment or imitate another key', () => {
  const hostile = ['x --> <img src=x onerror=alert(1)>', '--!>', 'a->b', '<!-- -->', 'a\n-->\n', 'ünï código 🚀'];
  for (const key of hostile) {
    const m = commentMarker(key);
    assert.ok(m.startsWith('<!-- ') && m.endsWith(' -->'), m);
    const inner = m.slice('<!--'.length, -'-->'.length);
    assert.ok(!inner.includes('--'), m);
    assert.ok(!/[<>\n]/.test(inner), m);
    // A markdown renderer sees exactly one comment, closed at the very end.
    assert.equal(m.indexOf('-->'), m.length - 3, m);
  }
  // One-to-one: keys that differ only by characters the encoding produces stay apart.
  const keys = ['a-b', 'a%2Db', 'a b', 'a+b', 'model verify', 'model verif', 'x'.repeat(500), 'x'.repeat(501)];
  const markers = keys.map(commentMarker);
  assert.equal(new Set(markers).size, keys.length);
  for (const a of markers) for (const b of markers) if (a !== b) assert.ok(!a.includes(b), `${a} contains ${b}`);
  // Long keys are hashed, so the marker stays short.
  assert.ok(commentMarker('x'.repeat(5000)).length < 120);
  assert.equal(commentMarker('churn-classifier verify'), '<!-- hokusai-register-model-action:churn%2Dclassifier%20verify -->');
});

test('renderComment: marker first, then the markdown, then one footer line: commit, when, the run', () => {
  const runUrl = 'https://github.com/octo/models/actions/runs/1/attempts/1';
  const footer = {
    runUrl,
    commit: '0123456789abcdef0123',
    commitUrl: 'https://github.com/octo/models/commit/0123456789abcdef0123',
    updatedAt: new Date('2026-12-03T23:05:59Z'),
  };
  const out = renderComment(MARKER, '## Verify\n\n| a | b |\n', footer);
  assert.equal(
    out,
    `${MARKER}\n## Verify\n\n| a | b |\n\n---\n<sub>For commit <a href="https://github.com/octo/models/commit/0123456789abcdef0123"><code>0123456789ab</code></a> · updated 2026-12-03 23:05 UTC · <a href="${runUrl}">workflow run</a></sub>\n`,
  );
  assert.equal(out.split(runUrl).length, 2, 'the run is linked once');
  assert.equal(renderComment(MARKER, 'ok'), `${MARKER}\nok\n`);
  assert.equal(
    renderComment(MARKER, 'ok', { runUrl: 'javascript:alert(1)' }),
    `${MARKER}\nok\n\n---\n<sub>workflow run (<code>javascript&#58;alert(1)</code>)</sub>\n`,
  );
});

test('renderComment: a body over the limit is cut at a line end, with a visible notice and the footer kept', () => {
  const runUrl = 'https://github.com/octo/models/actions/runs/1/attempts/1';
  const row = '| file | 1 KiB | ok |\n';
  const markdown = `## Plan\n\n| file | size | state |\n|---|---|---|\n${row.repeat(5000)}`;
  assert.ok(markdown.length > COMMENT_LIMIT);
  const out = renderComment(MARKER, markdown, { runUrl });

  assert.ok(out.length <= COMMENT_LIMIT, String(out.length));
  assert.ok(out.length > COMMENT_LIMIT - 2000, String(out.length));
  assert.ok(out.startsWith(`${MARKER}\n## Plan\n`));
  // A blank line ends the table, so the notice is not one more row.
  assert.match(
    out,
    /\| ok \|\n\n> \[!WARNING\]\n> Truncated to fit GitHub's 65,536-character comment limit: the job summary of the workflow run linked below has the full result\.\n\n---\n/,
  );
  assert.ok(out.endsWith(`<a href="${runUrl}">workflow run</a></sub>\n`));
  assert.equal(out.split(runUrl).length, 2, 'the run is linked once');
});

test('renderComment: a cut inside <details> closes it, so the notice and the footer are outside', () => {
  const rows = Array.from({ length: 3000 }, (_, i) => `| <code>data/shard-${i}.parquet</code> | 4.00 KiB | <code>0123456789ab</code> |`);
  const markdown = `## ✅ Registered\n\n<details><summary>📁 3,000 files</summary>\n\n| File | Size | sha256 |\n|---|---:|---|\n${rows.join('\n')}\n\n</details>\n`;
  const out = renderComment(MARKER, markdown, { runUrl: 'https://github.com/o/r/actions/runs/1/attempts/1' });
  assert.ok(out.length <= COMMENT_LIMIT);
  const notice = out.indexOf('> [!WARNING]');
  assert.ok(notice > 0);
  const before = out.slice(0, notice);
  assert.equal(before.split('<details>').length, before.split('</details>').length, 'every <details> closed before the notice');
  assert.match(before, /\| <code>0123456789ab<\/code> \|\n\n<\/details>\n\n$/);
  assert.equal(out.slice(notice).includes('<details>'), false);
});

test('renderComment: a cut inside a code block closes it, and never splits a surrogate pair', () => {
  const inFence = renderComment(MARKER, `text\n\`\`\`\n${'log line\n'.repeat(9000)}\`\`\`\n`, undefined);
  assert.ok(inFence.length <= COMMENT_LIMIT);
  assert.match(inFence, /log line\n```\n\n> \[!WARNING\]\n> Truncated/);

  const emoji = renderComment(MARKER, '🚀'.repeat(40_000), undefined);
  assert.ok(emoji.length <= COMMENT_LIMIT);
  // encodeURIComponent throws on a lone surrogate.
  assert.doesNotThrow(() => encodeURIComponent(emoji));
  assert.match(emoji, /🚀\n\n> \[!WARNING\]/);
});

test('nextLink reads rel="next" among other relations', () => {
  assert.equal(
    nextLink('<https://127.0.0.1/x?page=1>; rel="prev", <https://127.0.0.1/x?page=3>; rel="next", <https://127.0.0.1/x?page=9>; rel="last"')
      ?.href,
    'https://127.0.0.1/x?page=3',
  );
  assert.equal(nextLink('<https://127.0.0.1/x?page=9>; rel="last"'), undefined);
  assert.equal(nextLink(undefined), undefined);
});
