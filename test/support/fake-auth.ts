/**
 * Fake of the Hokusai auth service (hokusai-platform.md §1):
 * `POST /api/v1/keys/validate` and `GET /health`.
 */
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';

export interface FakeKey {
  service_id: string;
  scopes: string[];
  /** default true; false → 200 with is_valid:false, error "API key has expired" */
  is_valid?: boolean;
}

export interface FakeAuthRequest {
  method: string;
  /** pathname, without the query string */
  path: string;
  authorization: string | undefined;
  /** parsed JSON body, the raw text if it is not JSON, undefined if empty */
  body: unknown;
  /** performance.now() when the request arrived (before any `latencyMs`), and when its answer was handed to the socket. */
  startedAt: number;
  endedAt?: number;
}

export interface FakeAuth {
  /** origin, e.g. http://127.0.0.1:P */
  url: string;
  requests: FakeAuthRequest[];
  stop(): Promise<void>;
}

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

function parseBody(text: string): unknown {
  if (text.length === 0) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

function headerValue(h: string | string[] | undefined): string | undefined {
  return Array.isArray(h) ? h[0] : h;
}

/** Key lookup in the documented priority order: Bearer, X-API-Key, body `api_key`. */
function extractKey(req: http.IncomingMessage, body: unknown): string | undefined {
  const auth = headerValue(req.headers.authorization);
  if (auth) {
    const m = /^Bearer\s+(.+)$/i.exec(auth.trim());
    if (m && m[1]) return m[1].trim();
  }
  const xKey = headerValue(req.headers['x-api-key']);
  if (xKey && xKey.trim()) return xKey.trim();
  if (body && typeof body === 'object' && !Array.isArray(body)) {
    const k = (body as Record<string, unknown>)['api_key'];
    if (typeof k === 'string' && k) return k;
  }
  return undefined;
}

export interface FakeAuthOptions {
  /**
   * Hold every request this long before handling it (a fixed network delay, as front-proxy.ts
   * `latencyMs`); the request is recorded when the wait ends. Default 0 (none).
   */
  latencyMs?: number;
}

export async function startFakeAuth(keys: Record<string, FakeKey>, opts: FakeAuthOptions = {}): Promise<FakeAuth> {
  const requests: FakeAuthRequest[] = [];
  const keyIds = new Map<string, string>(Object.keys(keys).map((k) => [k, randomUUID()]));
  const latencyMs = opts.latencyMs ?? 0;
  const timers = new Set<NodeJS.Timeout>();

  const handler = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('error', () => res.destroy());
    req.on('end', () => {
      const pathname = new URL(req.url ?? '/', 'http://x').pathname;
      const body = parseBody(Buffer.concat(chunks).toString('utf8'));
      const method = req.method ?? 'GET';
      const record: FakeAuthRequest = {
        method,
        path: pathname,
        authorization: headerValue(req.headers.authorization),
        body,
        startedAt: arrivals.get(req) ?? performance.now(),
      };
      requests.push(record);
      res.once('finish', () => (record.endedAt = performance.now()));

      if (pathname === '/health') {
        if (method !== 'GET' && method !== 'HEAD') return sendJson(res, 405, { detail: 'Method Not Allowed' });
        return sendJson(res, 200, { status: 'healthy' });
      }
      if (pathname !== '/api/v1/keys/validate') return sendJson(res, 404, { detail: 'Not Found' });
      if (method !== 'POST') return sendJson(res, 405, { detail: 'Method Not Allowed' });

      const key = extractKey(req, body);
      if (key === undefined) return sendJson(res, 400, { detail: 'No API key provided' });
      const entry = Object.prototype.hasOwnProperty.call(keys, key) ? keys[key] : undefined;
      if (!entry) return sendJson(res, 401, { detail: 'Invalid or expired API key' });

      if (entry.is_valid === false) {
        return sendJson(res, 200, {
          is_valid: false,
          key_id: null,
          user_id: null,
          service_id: null,
          scopes: [],
          rate_limit_per_hour: null,
          billing_plan: null,
          monthly_prediction_limit: null,
          error: 'API key has expired',
        });
      }

      const requested =
        body && typeof body === 'object' && !Array.isArray(body) ? (body as Record<string, unknown>)['service_id'] : undefined;
      if (requested !== undefined && requested !== null && requested !== entry.service_id) {
        return sendJson(res, 401, { detail: 'Key not authorized for this service' });
      }

      return sendJson(res, 200, {
        is_valid: true,
        key_id: keyIds.get(key),
        user_id: 'test-user',
        service_id: entry.service_id,
        scopes: [...entry.scopes],
        rate_limit_per_hour: 1000,
        billing_plan: 'free',
        monthly_prediction_limit: null,
        error: null,
      });
    });
  };

  const arrivals = new WeakMap<http.IncomingMessage, number>();
  const server = http.createServer((req, res) => {
    arrivals.set(req, performance.now());
    if (latencyMs <= 0) return handler(req, res);
    const timer = setTimeout(() => {
      timers.delete(timer);
      if (!req.socket.destroyed) handler(req, res);
    }, latencyMs);
    timers.add(timer);
    res.once('close', () => {
      clearTimeout(timer);
      timers.delete(timer);
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  let stopping: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    stop: () =>
      (stopping ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const t of timers) clearTimeout(t);
        timers.clear();
        server.closeAllConnections();
      })),
  };
}
