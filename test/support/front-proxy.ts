/**
 * A small front proxy mimicking the Hokusai registry (hokusai-platform.md §2):
 * `/api/mlflow/<path>` → `<upstream>/<path>` after a Bearer-key check.
 * With `events`, it also plays the Hokusai API's registration-event route (§3), answered here
 * and never forwarded: see EventsOptions. Every other path is a 404.
 *
 * Unlike the real proxy (which buffers bodies and drops content-length), this one
 * streams both ways and keeps content-length, so large uploads keep their length.
 *
 * With `latencyMs`, every request (any route, any answer) first waits that long, its body unread:
 * a fixed network delay, independent of `faults`.
 *
 * Order of checks for a `/api/mlflow/...` request:
 *   0. `latencyMs` (a request whose client goes away meanwhile is dropped, unrecorded);
 *   1. `redirect` (answers every request, before any key check, like a load balancer would);
 *   2. Bearer key in `validKeys` (401 otherwise; OPTIONS skips this and step 3);
 *   3. key in `adminKeys`, when given (403 REGISTRY_ADMIN_REQUIRED otherwise);
 *   4. `onRequest(record)`, synchronously;
 *   5. the first matching `faults` entry (service 'mlflow') with `times` left;
 *   6. `routeArtifacts: false` → 404 on the artifact routes;
 *   7. forward to upstream.
 *
 * And for the registration-event route (with `events`; `redirect` and `adminKeys` do not apply):
 *   1. Bearer key in `validKeys` (401 otherwise; OPTIONS skips this);
 *   2. a method other than POST → 405;
 *   3. key in `events.writeKeys`, when given (403 otherwise);
 *   4. `onRequest(record)`, synchronously;
 *   5. the first matching `faults` entry with `service: 'events'` and `times` left;
 *   6. the route itself: body read as FastAPI does, schema (422), server hook (502), or 200.
 * FastAPI parses the JSON before the scope check, so there malformed JSON with a read-only key is a
 * 422; here the 403 comes first, so faults only ever hit fully authorized requests. The body of
 * every event request is read and recorded, whatever the answer (except under `resetAfterBytes`).
 */
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { answerRegistrationEvent, REGISTRATION_EVENT_PATH } from './registration-event-contract.ts';

export interface FrontProxyRequest {
  method: string;
  /** original pathname (with the /api/mlflow prefix), without the query string */
  path: string;
  /** original request target including the query string */
  url: string;
  /** final status sent to the client (0 while still in flight, and for a stalled request) */
  status: number;
  authorization: string | undefined;
  /** index into `faults` of the fault this request got, if any */
  fault?: number;
  /**
   * Status the upstream answered, for a forwarded request (with `afterForward` it differs from `status`);
   * on the registration-event route, the status the route itself gave before an `afterForward` fault.
   */
  upstreamStatus?: number;
  /** Bytes of body the proxy wrote for a `streamBytes` or `trickle` fault (handed to the socket, not necessarily read). */
  bytesSent?: number;
  /** performance.now() when the request arrived (before any `latencyMs`), and when its answer was handed to the socket (or the socket closed). */
  startedAt: number;
  endedAt?: number;
}

/** A request to the registration-event route (it is in `requests` too: the same object). */
export interface FrontProxyEvent extends FrontProxyRequest {
  contentType: string | undefined;
  /** The request body as text; undefined until it has been read (never, with a `resetAfterBytes` fault). */
  rawBody?: string;
  /** JSON.parse(rawBody); undefined when the body is empty, not read yet, or not JSON. */
  body?: unknown;
  /** What the route answered (unset for 401/403/405 and for faults that replaced the answer). */
  response?: unknown;
  /** Why the route gave a 422 or 502, e.g. "current_value 0.7 is below baseline_value 0.8". */
  rejection?: string;
}

export interface FrontProxy {
  /** origin, e.g. http://127.0.0.1:P (https://… with `tls`) */
  url: string;
  /** url + '/api/mlflow' */
  trackingUri: string;
  requests: FrontProxyRequest[];
  /** The registration-event requests, in arrival order (empty without `events`). */
  events: FrontProxyEvent[];
  /** url + '/api/models/tokenized-registration-events': where the action POSTs, given api-url = url (or url + '/api'). */
  eventsUrl: string;
  /** The live fault list (the array passed in `faults`, or a new one): push/splice to change faults mid-test. */
  faults: Fault[];
  /** Closes the listener, destroys every open client socket (stalled ones too) and the upstream agent. */
  stop(): Promise<void>;
}

/**
 * A canned failure for matching (authorized) `/api/mlflow/...` requests instead of forwarding them,
 * or, with `service: 'events'`, for registration-event requests instead of answering them.
 */
export interface Fault {
  /** Which route the fault is for; default 'mlflow', so a fault never hits the other service by accident. */
  service?: 'mlflow' | 'events';
  /** HTTP method to match (case-insensitive); any method when omitted. */
  method?: string;
  /**
   * Tested against the pathname after the /api/mlflow prefix, e.g. /^\/api\/2\.0\/mlflow-artifacts\//;
   * for 'events', against the whole pathname, i.e. /^\/api\/models\/tokenized-registration-events$/.
   */
  path: RegExp;
  /** Tested against the decoded query string (without "?"), when given: e.g. one listing but not another. */
  query?: RegExp;
  /** Response status; default 500. Ignored with `stallMs` / `resetAfterBytes`, and with a lone `delayMs`. */
  status?: number;
  /** Response headers (content-length is set from `body` unless given here). */
  headers?: Record<string, string>;
  /** Response body, sent as-is (no content-type is added: give one in `headers`). Default empty. */
  body?: string;
  /**
   * Accept the request and read its body, then send nothing for stallMs, then destroy the socket
   * (the client sees a reset/closed connection, unless its own timeout fires first).
   */
  stallMs?: number;
  /**
   * Read this many bytes of the request body (all of it if it is shorter), then reset the client
   * connection (TCP RST where possible): a connection reset in the middle of an upload. Nothing is
   * forwarded and nothing is answered. Checked after `stallMs`, before the others.
   */
  resetAfterBytes?: number;
  /**
   * Forward the request normally, read the upstream's whole response and throw it away, then answer
   * the client with this fault's `status`/`headers`/`body` (e.g. a 500 although the server did create
   * the model version). `record.upstreamStatus` has what the upstream said. If the upstream cannot be
   * reached, the client gets the usual 502 instead. On the events route: the route handles the event
   * (its status goes to `upstreamStatus`, its reason to `rejection`), then the client gets the fault.
   */
  afterForward?: boolean;
  /**
   * Wait this long (without reading the request body), then go on: alone, the request is forwarded
   * normally (a slow but successful response); with `afterForward`, the delay comes before forwarding.
   * A client that goes away during the delay cancels the request (nothing is forwarded).
   */
  delayMs?: number;
  /**
   * Answer `status` (default 200) with `headers` and `body`, then write `chunk` (default one space)
   * every `everyMs`, never finishing, until the client goes away or `forMs` (default 60 s) has passed:
   * a server whose answer never completes although bytes keep arriving.
   */
  trickle?: { everyMs: number; chunk?: string; forMs?: number };
  /**
   * Answer `status` (default 200) with `headers`, `body` as the start of the body, then spaces up to
   * this many bytes in all, chunked (no content-length). Generated as the client reads, so the proxy
   * holds none of it; `record.bytesSent` says how much was written before the client stopped reading.
   */
  streamBytes?: number;
  /**
   * Answer an `artifacts/list` request with `{"files": listing(path)}` (`path` from the query, "" when
   * absent) and `status` (default 200): e.g. a listing that names its own directory as a subdirectory.
   */
  listing?: (path: string) => Array<{ path: string; is_dir?: boolean; file_size?: number }>;
  /** How many matching requests get this fault; default unlimited. */
  times?: number;
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
  /**
   * When given, a valid key that is not listed here gets 403
   * `{"detail":"Admin access required for the model registry","error":"REGISTRY_ADMIN_REQUIRED"}`
   * on every /api/mlflow/... request (the registry's admin lockdown since 2026-06).
   */
  adminKeys?: string[];
  /**
   * Answer every /api/mlflow/... request with this redirect (no key check, no forwarding).
   * Location = location + the original request target after the /api/mlflow prefix (query included).
   */
  redirect?: { status: 301 | 302 | 307 | 308; location: string };
  /** See Fault. The first matching fault with `times` left applies. */
  faults?: Fault[];
  /**
   * Hold every request this long before handling it (its body unread, so an upload waits too):
   * a fixed latency on every request of every route, e.g. 40 for a distant registry. The request
   * is recorded (in `requests`) when the wait ends; one whose client went away meanwhile is
   * dropped unrecorded. Unlike a `delayMs` fault it also delays 401s, 404s and faulted requests,
   * and leaves `faults` free for faults. Default 0 (none).
   */
  latencyMs?: number;
  /** Serve HTTPS with this PEM key/cert instead of HTTP (see tls.ts selfSignedCert()). */
  tls?: { key: string; cert: string };
  /**
   * Forward PUT bodies (uploads) without their Content-Length, chunked: a streaming proxy that
   * drops the header (the Hokusai proxy drops content-length). Behind MLflow's prefixed (Flask)
   * upload route this stores empty files while answering 200: the action's size check must catch it.
   */
  dropContentLength?: boolean;
  /**
   * Also serve POST /api/models/tokenized-registration-events, the Hokusai API's registration event
   * (hokusai-platform.md §3), checked against the contract in registration-event-contract.ts.
   */
  events?: EventsOptions;
  /**
   * Called synchronously for every /api/mlflow/... request (and registration-event POST) that passed the key checks, before any
   * fault applies (`record.status` is 0 and `record.fault` unset at that point; the same object is
   * later updated, and is also in `requests`). Lets a test act when e.g. the first upload PUT starts.
   * If it throws, the request gets a 500 and the error is rethrown asynchronously (an uncaught
   * exception, so the test run reports it).
   */
  onRequest?: (r: FrontProxyRequest) => void;
}

/**
 * The registration-event route. Its one path serves both kinds of `api-url`: a bare origin
 * (`{url}` + /api/models/...) and one ending in /api (`{url}/api` + /models/..., the SDK's rule),
 * which give the same URL; a client that joins `/api` twice gets the 404 the real API would give.
 * Keys as for the MLflow route (Bearer only). Answers:
 * - no key → 401 `{"detail":"API key required"}`; a key not in `validKeys` → 401 `{"detail":"Invalid or expired API key"}`;
 * - not POST → 405 `{"detail":"Method Not Allowed"}`;
 * - a key without write scope → 403 `{"detail":"Insufficient permissions for model registration events"}`;
 * - schema errors → 422 `{"detail":[{"type","loc":["body",<field>],"msg","input"[,"ctx"]}, ...]}` (FastAPI's shape);
 *   unknown fields are ignored, as pydantic does with the schema's `extra="ignore"`;
 * - the server hook refusing it (metric, ranges, current < baseline) → 502 `{"detail":"Failed to emit model registration event"}`;
 * - otherwise 200 `{"status":"ok","model_id":"<model_name>/<version>/<token_id>","model_name","version","event_emitted":true,"detail":null}`.
 * Not modelled: the 30/minute rate limit (429), usage debit (402), and the server copying eval_spec & co
 * onto MLflow tags; a fault with `service: 'events'` gives any of those answers.
 */
export interface EventsOptions {
  /** Keys (among `validKeys`) with a write scope; default: every valid key. */
  writeKeys?: string[];
}

const PREFIX = '/api/mlflow';

type Service = 'mlflow' | 'events';

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

/** Reset a TCP connection (RST) when possible; a TLS socket is just destroyed (unread data makes Linux send an RST anyway). */
function resetSocket(socket: Socket): void {
  try {
    socket.resetAndDestroy();
  } catch {
    socket.destroy();
  }
}

function headerValue(h: string | string[] | undefined): string | undefined {
  return Array.isArray(h) ? h[0] : h;
}

function bearerKey(auth: string | undefined): string | undefined {
  const m = auth ? /^Bearer\s+(.+)$/i.exec(auth.trim()) : null;
  return m?.[1]?.trim() || undefined;
}

function parseJsonOrUndefined(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

export async function startFrontProxy(opts: FrontProxyOptions): Promise<FrontProxy> {
  const upstream = new URL(opts.upstream);
  const upstreamBasePath = upstream.pathname.replace(/\/+$/, '');
  const validKeys = new Set(opts.validKeys);
  const adminKeys = opts.adminKeys ? new Set(opts.adminKeys) : undefined;
  const writeKeys = opts.events?.writeKeys ? new Set(opts.events.writeKeys) : undefined;
  const faults: Fault[] = opts.faults ?? [];
  const faultHits = new WeakMap<Fault, number>();
  const requests: FrontProxyRequest[] = [];
  const events: FrontProxyEvent[] = [];
  const agent = new http.Agent({ keepAlive: true });
  const sockets = new Set<Socket>();
  const stallTimers = new Set<NodeJS.Timeout>();

  const pickFault = (service: Service, method: string, subPath: string, query: string): number => {
    for (let i = 0; i < faults.length; i++) {
      const f = faults[i] as Fault;
      if ((f.service ?? 'mlflow') !== service) continue;
      if (f.method !== undefined && f.method.toUpperCase() !== method.toUpperCase()) continue;
      f.path.lastIndex = 0; // a /g or /y regexp would otherwise carry state between requests
      if (!f.path.test(subPath)) continue;
      if (f.query && !f.query.test(query)) continue;
      const used = faultHits.get(f) ?? 0;
      if (f.times !== undefined && used >= f.times) continue;
      faultHits.set(f, used + 1);
      return i;
    }
    return -1;
  };

  const handler = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const target = req.url ?? '/';
    const qIndex = target.indexOf('?');
    const pathname = qIndex === -1 ? target : target.slice(0, qIndex);
    const search = qIndex === -1 ? '' : target.slice(qIndex);
    const service: Service | undefined = pathname.startsWith(PREFIX + '/')
      ? 'mlflow'
      : opts.events && pathname === REGISTRATION_EVENT_PATH
        ? 'events'
        : undefined;
    const record: FrontProxyRequest = {
      method: req.method ?? 'GET',
      path: pathname,
      url: target,
      status: 0,
      authorization: headerValue(req.headers.authorization),
      startedAt: arrivals.get(req) ?? performance.now(),
    };
    requests.push(record);
    const ended = () => (record.endedAt ??= performance.now());
    res.once('finish', ended);
    res.once('close', ended);
    const event: FrontProxyEvent | undefined =
      service === 'events' ? Object.assign(record, { contentType: headerValue(req.headers['content-type']) }) : undefined;
    if (event) events.push(event);

    // Every answer on the events route waits for the whole body, so it is recorded whatever the
    // answer; on the MLflow route this just goes on (the body is streamed or discarded there).
    const withBody = (then: () => void): void => {
      if (!event) return then();
      const chunks: Buffer[] = [];
      req.on('error', () => undefined);
      req.on('data', (c: Buffer) => chunks.push(c));
      req.once('end', () => {
        event.rawBody = Buffer.concat(chunks).toString('utf8');
        event.body = parseJsonOrUndefined(event.rawBody);
        then();
      });
    };

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

    if (!service) return reply(404, { detail: 'Not Found' });

    if (service === 'mlflow' && opts.redirect) {
      record.status = opts.redirect.status;
      req.resume();
      res.writeHead(opts.redirect.status, { location: opts.redirect.location + target.slice(PREFIX.length), 'content-length': '0' });
      res.end();
      return;
    }

    const key = bearerKey(record.authorization);
    if (req.method !== 'OPTIONS') {
      if (!key) return withBody(() => reply(401, { detail: 'API key required' }));
      if (!validKeys.has(key)) return withBody(() => reply(401, { detail: 'Invalid or expired API key' }));
      if (service === 'mlflow' && adminKeys && !adminKeys.has(key))
        return reply(403, { detail: 'Admin access required for the model registry', error: 'REGISTRY_ADMIN_REQUIRED' });
    }
    if (service === 'events') {
      if (req.method !== 'POST') return withBody(() => reply(405, { detail: 'Method Not Allowed' }, { allow: 'POST' }));
      if (writeKeys && (key === undefined || !writeKeys.has(key)))
        return withBody(() => reply(403, { detail: 'Insufficient permissions for model registration events' }));
    }

    if (opts.onRequest) {
      try {
        opts.onRequest(record);
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        withBody(() => reply(500, { detail: `front proxy onRequest hook threw: ${message}` }));
        setImmediate(() => {
          throw err;
        });
        return;
      }
    }

    const sendFault = (fault: Fault): void => {
      const status = fault.status ?? 500;
      const body = fault.body ?? '';
      const headers: Record<string, string> = { ...(fault.headers ?? {}) };
      if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-length'))
        headers['content-length'] = String(Buffer.byteLength(body));
      record.status = status;
      req.resume();
      res.writeHead(status, headers);
      res.end(body);
    };

    const query = decodeURIComponent(new URL(record.url, 'http://x').search.slice(1));
    const faultIndex = pickFault(service, record.method, service === 'mlflow' ? pathname.slice(PREFIX.length) : pathname, query);
    const fault = faultIndex === -1 ? undefined : (faults[faultIndex] as Fault);
    if (fault) {
      record.fault = faultIndex;
      if (fault.stallMs !== undefined) {
        // Read (and discard, or record) the whole body, then say nothing until the timer kills the socket.
        if (event) withBody(() => undefined);
        else req.resume();
        const socket = req.socket;
        const timer = setTimeout(() => {
          stallTimers.delete(timer);
          socket.destroy();
        }, fault.stallMs);
        stallTimers.add(timer);
        socket.once('close', () => {
          clearTimeout(timer);
          stallTimers.delete(timer);
        });
        return;
      }
      if (fault.resetAfterBytes !== undefined) {
        // Read up to resetAfterBytes of the body (or all of it), then reset the connection.
        const limit = fault.resetAfterBytes;
        const socket = req.socket;
        let seen = 0;
        let done = false;
        const reset = (): void => {
          if (done) return;
          done = true;
          req.off('data', onData);
          resetSocket(socket);
        };
        const onData = (chunk: Buffer): void => {
          seen += chunk.length;
          if (seen >= limit) reset();
        };
        req.on('error', () => undefined);
        if (limit <= 0) return reset();
        req.on('data', onData);
        req.once('end', reset);
        return;
      }
      if (fault.trickle !== undefined) {
        const { everyMs, chunk = ' ', forMs = 60_000 } = fault.trickle;
        record.status = fault.status ?? 200;
        record.bytesSent = 0;
        req.resume();
        res.writeHead(record.status, fault.headers ?? {});
        res.write(fault.body ?? '');
        const started = Date.now();
        const timer = setInterval(() => {
          if (Date.now() - started >= forMs) return void res.end();
          record.bytesSent = (record.bytesSent ?? 0) + Buffer.byteLength(chunk);
          res.write(chunk);
        }, everyMs);
        stallTimers.add(timer);
        res.once('close', () => {
          clearInterval(timer);
          stallTimers.delete(timer);
        });
        return;
      }
      if (fault.streamBytes !== undefined) {
        const total = fault.streamBytes;
        const prefix = Buffer.from(fault.body ?? '');
        const filler = Buffer.alloc(64 * 1024, ' ');
        record.status = fault.status ?? 200;
        record.bytesSent = prefix.length;
        req.resume();
        res.writeHead(record.status, fault.headers ?? {});
        res.on('error', () => undefined);
        // Write only when the socket drains: a client that stops reading stops the stream.
        let sent = prefix.length;
        const pump = (): void => {
          let more = true;
          while (more && sent < total) {
            const n = Math.min(filler.length, total - sent);
            sent += n;
            record.bytesSent = sent;
            more = res.write(filler.subarray(0, n));
          }
          if (sent >= total) res.end();
          else if (!res.destroyed) res.once('drain', pump);
        };
        if (res.write(prefix)) pump();
        else res.once('drain', pump);
        return;
      }
      if (fault.listing !== undefined) {
        const dir = new URL(target, 'http://proxy.invalid').searchParams.get('path') ?? '';
        return reply(fault.status ?? 200, { files: fault.listing(dir) });
      }
      if (fault.delayMs === undefined && !fault.afterForward) return withBody(() => sendFault(fault));
    }

    // The events route is answered here, never forwarded: the Hokusai API is another service.
    const serveEvent = (ev: FrontProxyEvent, replaceWith: Fault | undefined): void => {
      const answer = answerRegistrationEvent(ev.rawBody ?? '', ev.contentType);
      if (answer.rejection !== undefined) ev.rejection = answer.rejection;
      if (replaceWith) {
        ev.upstreamStatus = answer.status;
        return sendFault(replaceWith);
      }
      ev.response = answer.body;
      reply(answer.status, answer.body);
    };

    const proceed = (): void => {
      if (event) return withBody(() => serveEvent(event, fault?.afterForward ? fault : undefined));
      if (opts.routeArtifacts === false && pathname.startsWith(`${PREFIX}/api/2.0/mlflow-artifacts/`))
        return reply(404, { detail: 'Not Found' });
      forward(fault?.afterForward ? fault : undefined);
    };

    const forward = (replaceWith: Fault | undefined): void => {
      const forwardPath = upstreamBasePath + pathname.slice(PREFIX.length) + search;
      const headers = filterHeaders(
        req.rawHeaders,
        new Set(opts.dropContentLength && req.method === 'PUT' ? ['host', 'content-length'] : ['host']),
      );
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
        record.upstreamStatus = upRes.statusCode ?? 502;
        if (replaceWith) {
          // afterForward: let the upstream finish, drop its answer, send the fault's.
          upRes.on('error', () => res.destroy());
          upRes.once('end', () => sendFault(replaceWith));
          upRes.resume();
          return;
        }
        record.status = record.upstreamStatus;
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
    };

    if (fault?.delayMs !== undefined) {
      // Leave the body unread (the client is held by TCP flow control), then go on.
      const onClose = (): void => {
        clearTimeout(timer);
        stallTimers.delete(timer);
      };
      const timer = setTimeout(() => {
        stallTimers.delete(timer);
        res.off('close', onClose);
        if (req.socket.destroyed) return;
        proceed();
      }, fault.delayMs);
      stallTimers.add(timer);
      res.once('close', onClose);
      return;
    }
    proceed();
  };

  const latencyMs = opts.latencyMs ?? 0;
  const arrivals = new WeakMap<http.IncomingMessage, number>();
  const delayed = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const onClose = (): void => {
      clearTimeout(timer);
      stallTimers.delete(timer);
    };
    const timer = setTimeout(() => {
      stallTimers.delete(timer);
      res.off('close', onClose);
      if (req.socket.destroyed) return;
      handler(req, res);
    }, latencyMs);
    stallTimers.add(timer);
    res.once('close', onClose);
  };
  const arrived = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    arrivals.set(req, performance.now());
    (latencyMs > 0 ? delayed : handler)(req, res);
  };
  const entry = arrived;
  const server = opts.tls ? https.createServer({ key: opts.tls.key, cert: opts.tls.cert }, entry) : http.createServer(entry);
  // Raw TCP sockets (for https too: 'connection' fires before the TLS handshake), so stop()
  // can kill stalled requests, half-done handshakes and idle keep-alive connections alike.
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  // A client that aborts a TLS handshake (e.g. it rejected our self-signed cert) is not an error here.
  server.on('tlsClientError', () => undefined);

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = `${opts.tls ? 'https' : 'http'}://127.0.0.1:${port}`;

  let stopping: Promise<void> | undefined;
  return {
    url,
    trackingUri: url + PREFIX,
    requests,
    events,
    eventsUrl: url + REGISTRATION_EVENT_PATH,
    faults,
    stop: () =>
      (stopping ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const t of stallTimers) clearTimeout(t);
        stallTimers.clear();
        server.closeAllConnections();
        for (const s of sockets) s.destroy();
        sockets.clear();
        agent.destroy();
      })),
  };
}
