/**
 * A small front proxy mimicking the Hokusai registry (hokusai-platform.md §2):
 * `/api/mlflow/<path>` → `<upstream>/<path>` after a Bearer-key check.
 *
 * Unlike the real proxy (which buffers bodies and drops content-length), this one
 * streams both ways and keeps content-length, so large uploads keep their length.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FrontProxyRequest {
  method: string;
  /** original pathname (with the /api/mlflow prefix), without the query string */
  path: string;
  /** original request target including the query string */
  url: string;
  /** final status sent to the client (0 while still in flight) */
  status: number;
  authorization: string | undefined;
}

export interface FrontProxy {
  /** origin, e.g. http://127.0.0.1:P */
  url: string;
  /** url + '/api/mlflow' */
  trackingUri: string;
  requests: FrontProxyRequest[];
  stop(): Promise<void>;
}

export interface FrontProxyOptions {
  /** mlflow server url (origin, optionally with a path prefix) */
  upstream: string;
  validKeys: string[];
  /**
   * false: answer 404 on the artifact proxy route while the rest of the API works, as the
   * registry did in July 2025 (the proxy did not route /api/2.0/mlflow-artifacts/*). Default true.
   */
  routeArtifacts?: boolean;
}

const PREFIX = '/api/mlflow';

// Hop-by-hop headers (RFC 9110 §7.6.1) are not forwarded in either direction.
// transfer-encoding is dropped too: node re-frames the body itself (it keeps
// content-length when present, and uses chunked only when there is none).
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

function filterHeaders(raw: string[], drop: Set<string>): Array<[string, string]> {
  const connectionTokens = new Set<string>();
  for (let i = 0; i < raw.length; i += 2) {
    if ((raw[i] as string).toLowerCase() === 'connection') {
      for (const t of (raw[i + 1] as string).split(',')) connectionTokens.add(t.trim().toLowerCase());
    }
  }
  const out: Array<[string, string]> = [];
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    const lower = name.toLowerCase();
    if (drop.has(lower) || HOP_BY_HOP.has(lower) || connectionTokens.has(lower)) continue;
    out.push([name, raw[i + 1] as string]);
  }
  return out;
}

function headerValue(h: string | string[] | undefined): string | undefined {
  return Array.isArray(h) ? h[0] : h;
}

export async function startFrontProxy(opts: FrontProxyOptions): Promise<FrontProxy> {
  const upstream = new URL(opts.upstream);
  const upstreamBasePath = upstream.pathname.replace(/\/+$/, '');
  const validKeys = new Set(opts.validKeys);
  const requests: FrontProxyRequest[] = [];
  const agent = new http.Agent({ keepAlive: true });

  const server = http.createServer((req, res) => {
    const target = req.url ?? '/';
    const qIndex = target.indexOf('?');
    const pathname = qIndex === -1 ? target : target.slice(0, qIndex);
    const search = qIndex === -1 ? '' : target.slice(qIndex);
    const record: FrontProxyRequest = {
      method: req.method ?? 'GET',
      path: pathname,
      url: target,
      status: 0,
      authorization: headerValue(req.headers.authorization),
    };
    requests.push(record);

    const reply = (status: number, body: unknown, extra: Record<string, string> = {}): void => {
      record.status = status;
      const text = JSON.stringify(body);
      // Drain (discard) any request body so keep-alive clients are not confused.
      req.resume();
      res.writeHead(status, {
        'content-type': 'application/json',
        'content-length': String(Buffer.byteLength(text)),
        ...extra,
      });
      res.end(text);
    };

    if (!pathname.startsWith(PREFIX + '/')) return reply(404, { detail: 'Not Found' });

    if (req.method !== 'OPTIONS') {
      const auth = record.authorization;
      const m = auth ? /^Bearer\s+(.+)$/i.exec(auth.trim()) : null;
      const key = m?.[1]?.trim();
      if (!key) return reply(401, { detail: 'API key required' });
      if (!validKeys.has(key)) return reply(401, { detail: 'Invalid or expired API key' });
    }

    if (opts.routeArtifacts === false && pathname.startsWith(`${PREFIX}/api/2.0/mlflow-artifacts/`))
      return reply(404, { detail: 'Not Found' });

    const forwardPath = upstreamBasePath + pathname.slice(PREFIX.length) + search;
    const headers = filterHeaders(req.rawHeaders, new Set(['host']));
    headers.push(['Host', upstream.host]);

    const upReq = http.request({
      protocol: upstream.protocol,
      hostname: upstream.hostname,
      port: upstream.port || 80,
      method: req.method,
      path: forwardPath,
      headers: headers.flat(), // raw [name, value, ...] array keeps names/duplicates as sent
      agent,
    });

    upReq.on('response', (upRes) => {
      record.status = upRes.statusCode ?? 502;
      const resHeaders = filterHeaders(upRes.rawHeaders, new Set());
      res.writeHead(record.status, upRes.statusMessage, resHeaders.flat());
      upRes.pipe(res);
      upRes.on('error', () => res.destroy());
    });

    upReq.on('error', (err) => {
      if (!res.headersSent) {
        reply(502, { detail: `Upstream MLflow server unavailable: ${err.message}` });
      } else {
        res.destroy(err);
      }
    });

    // Client went away before we finished: abort the upstream request.
    res.on('close', () => {
      if (!res.writableFinished) upReq.destroy();
    });
    req.on('error', () => upReq.destroy());

    req.pipe(upReq);
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;

  let stopping: Promise<void> | undefined;
  return {
    url,
    trackingUri: url + PREFIX,
    requests,
    stop: () =>
      (stopping ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        agent.destroy();
      })),
  };
}
