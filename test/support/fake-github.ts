// Just enough of GitHub's issue-comments API (documented REST contract) to see the pull-request
// comment the action writes, or to refuse it as a fork's read-only token is refused.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** Just enough of GitHub's issue-comments API to see what the action writes, and to refuse it. */
export async function startFakeGitHub(opts: { refuse?: boolean } = {}) {
  const comments: Array<{ id: number; body: string }> = [];
  const calls: string[] = [];
  const auth: string[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      calls.push(`${req.method} ${req.url}`);
      auth.push(req.headers.authorization ?? '');
      const json = (status: number, data: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(data));
      };
      if (opts.refuse) return json(403, { message: 'Resource not accessible by integration' });
      const url = new URL(req.url ?? '/', 'http://x');
      // As for GITHUB_TOKEN, an installation token: the action then writes as github-actions[bot].
      if (req.method === 'GET' && url.pathname === '/user') return json(403, { message: 'Resource not accessible by integration' });
      if (req.method === 'GET' && /^\/repos\/acme\/churn-model\/issues\/\d+\/comments$/.test(url.pathname))
        return json(
          200,
          comments.map((c) => ({ ...c, user: { login: 'github-actions[bot]', type: 'Bot' }, html_url: `https://github.test/c/${c.id}` })),
        );
      if (req.method === 'POST' && /\/issues\/\d+\/comments$/.test(url.pathname)) {
        const c = { id: comments.length + 1, body: (JSON.parse(body) as { body: string }).body };
        comments.push(c);
        return json(201, { ...c, html_url: `https://github.test/c/${c.id}` });
      }
      const m = /\/issues\/comments\/(\d+)$/.exec(url.pathname);
      const existing = m && comments.find((c) => c.id === Number(m[1]));
      if (req.method === 'PATCH' && existing) {
        existing.body = (JSON.parse(body) as { body: string }).body;
        return json(200, { ...existing, html_url: `https://github.test/c/${existing.id}` });
      }
      json(404, { message: 'Not Found' });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, comments, calls, auth, stop: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}
