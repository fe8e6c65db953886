// The one place that talks HTTP. Every request goes through `HttpClient.send`, which
// never follows redirects, turns every failure into an ActionError that names the
// step, method, path and status, and keeps the API key out of every message.
import type { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import type { Clock } from './clock.ts';
import { ActionError, redact } from './errors.ts';
import { backoffMs, DEFAULT_POLICY, parseRetryAfter, retryReason, type RetryPolicy } from './retry.ts';
import { isBelow } from './urls.ts';

export interface HttpRequest {
  /** Phase shown in errors, e.g. "Upload model". */
  step: string;
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  url: URL;
  /** JSON body; sets content-type. */
  json?: unknown;
  /**
   * Opens the raw body of an upload, afresh for each attempt; needs contentLength (MLflow stores an
   * empty file without it). A Readable, or an UploadBody that undici pulls chunk by chunk.
   */
  openBody?: () => Readable | UploadBody;
  contentLength?: number;
  /** The Authorization header value (Bearer key or Basic credentials), when set. */
  authorization?: string;
  /** Extra request headers (e.g. those a presigned URL requires). */
  headers?: Record<string, string>;
  /** The answer is file content, not JSON: on 2xx it is dropped unread (at most a few KiB are drained). */
  discardBody?: boolean;
  /** The answer is a small file's text (within the JSON cap), returned as it came. */
  raw?: boolean;
  /** The answer may be a JSON array (GitHub's lists); MLflow and Hokusai answer objects only. */
  jsonArray?: boolean;
  /** Statuses that are not failures for this call (besides 2xx), e.g. 400 on "already exists". */
  accept?: (status: number, body: ErrorBody) => boolean;
  /** Hint for a failure this request is known to produce, chosen by the caller. */
  hintFor?: (status: number, body: ErrorBody) => string | undefined;
  /**
   * For creates that are not idempotent: called before a retry, it looks for what a failed
   * attempt may have created after all (a 500 sent after the commit). Found: that is the answer.
   */
  recover?: () => Promise<unknown>;
  /** Narrows the default retries for a call that must not be repeated blindly (e.g. one that emits an event). */
  retryWhen?: (err: ActionError) => boolean;
  /** Told when the server pushes back (HTTP 429 or 503), e.g. so an upload pool narrows; no I/O of its own. */
  onThrottled?: (status: number) => void;
}

/** An upload body that undici pulls chunk by chunk (see stores/checked-read.ts iterableOpener). */
export interface UploadBody extends AsyncIterable<Buffer> {
  destroy(): void;
  /** Called once every byte was read. */
  onEnd(cb: () => void): void;
}

export interface HttpResponse<T> {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** Parsed JSON body on 2xx, or the error body for accepted statuses. */
  data: T;
  error: ErrorBody;
}

/** What a server said when it refused a request. */
export interface ErrorBody {
  code?: string;
  message?: string;
}

export interface HttpOptions {
  /** Unset: the environment's proxy settings (HTTPS_PROXY, NO_PROXY), like the runner's other tools. */
  dispatcher?: Dispatcher | undefined;
  /** Values that must never appear in a message (the API key). */
  secrets: readonly string[];
  /**
   * The only places an Authorization header may go: a URL below one of these (same origin, and
   * the base's path as a prefix of whole segments). A request with credentials elsewhere is refused.
   */
  authorizedBases: readonly URL[];
  timeoutMs: number;
  userAgent: string;
  /** Called with one line per request, for core.debug. */
  debug?: (line: string) => void;
  /** Called once per retry, for the log. */
  onRetry?: (line: string) => void;
  clock: Clock;
  random: () => number;
  retry: RetryPolicy;
  /** Aborts every request and wait (cancellation). */
  signal?: AbortSignal;
}

export { DEFAULT_POLICY };

export const USER_AGENT = 'hokusai-register-model-action/0.1';

// undici is loaded with the first request, not at start (its own bundle chunk): a run that
// stops at its inputs never needs it. One proxy-aware agent for the process, so connections are reused.
let undici: Promise<typeof import('undici')> | undefined;
let envAgent: Dispatcher | undefined;
async function loadUndici(): Promise<typeof import('undici')> {
  return (undici ??= import('undici'));
}
async function dispatcherFor(given: Dispatcher | undefined): Promise<Dispatcher> {
  if (given) return given;
  const { EnvHttpProxyAgent } = await loadUndici();
  return (envAgent ??= new EnvHttpProxyAgent());
}

const SERVER_MESSAGE_LIMIT = 300;
/** The largest JSON answer read: MLflow's biggest (a long artifact listing) is far below this. */
export const JSON_LIMIT_BYTES = 8 * 1024 * 1024;
/** Only the start of an error body is shown, so only that much is read. */
export const ERROR_BODY_LIMIT_BYTES = 16 * 1024;

export class HttpClient {
  private readonly opts: HttpOptions;
  constructor(opts: HttpOptions) {
    this.opts = opts;
  }

  /** Sends the request, retrying what may succeed on a later attempt. */
  async send<T>(req: HttpRequest): Promise<HttpResponse<T>> {
    const { clock, retry: policy, signal } = this.opts;
    const started = clock.now();
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.sendOnce<T>(req);
      } catch (err) {
        if (err instanceof ActionError && (err.status === 429 || err.status === 503)) req.onThrottled?.(err.status);
        if (!(err instanceof ActionError) || !err.retry || signal?.aborted) throw err;
        const vetoed = req.retryWhen !== undefined && !req.retryWhen(err);
        const wait = backoffMs(attempt, policy, this.opts.random, err.retry.afterMs);
        const last = vetoed || attempt > policy.maxRetries || clock.now() - started + wait > policy.budgetMs;
        if (!last) {
          this.opts.onRetry?.(
            `${req.method} ${req.url.pathname}: ${err.retry.reason}; retry ${attempt} of ${policy.maxRetries} in ${(wait / 1000).toFixed(1)} s${err.retry.afterMs === undefined ? '' : ' (Retry-After)'}`,
          );
          await this.sleep(wait, req);
        }
        // The failed attempt may have been committed before the failure (a 500 after the write,
        // a lost answer): look before creating again, and before giving up.
        const found = await this.recover(req);
        if (found !== undefined) return { status: 200, headers: {}, data: found as T, error: {} };
        if (last) {
          // A vetoed retry is not worth trying again later either.
          const details = vetoed ? { ...err.details(), retry: undefined } : err.details();
          if (attempt === 1) throw vetoed ? new ActionError(err.message, details) : err;
          throw new ActionError(`${err.message} (gave up after ${attempt} attempts)`, details);
        }
      }
    }
  }

  /** What a failed create made after all, if anything; a failed look-up counts as nothing found. */
  private async recover(req: HttpRequest): Promise<unknown> {
    if (!req.recover || this.opts.signal?.aborted) return undefined;
    try {
      const found = await req.recover();
      if (found !== undefined)
        this.opts.onRetry?.(`${req.method} ${req.url.pathname}: the failed attempt had succeeded after all; using its result`);
      return found;
    } catch {
      return undefined;
    }
  }

  private async sleep(ms: number, req: HttpRequest): Promise<void> {
    try {
      await this.opts.clock.sleep(ms, this.opts.signal);
    } catch (err) {
      throw cancelled(req, err);
    }
  }

  private async sendOnce<T>(req: HttpRequest): Promise<HttpResponse<T>> {
    // The one check every request with credentials passes: the key goes nowhere else.
    if (req.authorization !== undefined && !this.opts.authorizedBases.some((base) => isBelow(req.url, base))) {
      throw new ActionError(`the action does not send credentials to ${req.url.origin}${req.url.pathname}`, {
        step: req.step,
        method: req.method,
        path: req.url.pathname,
        hint: 'Credentials go only to auth-url, tracking-uri and (for the registration event) api-url, each only below its own path. A server that points the action elsewhere (an artifact location on another host or path) must be configured to serve below tracking-uri.',
      });
    }
    const { now } = this.opts.clock;
    const started = now();
    const headers: Record<string, string> = {
      'user-agent': this.opts.userAgent,
      accept: 'application/json',
    };
    Object.assign(headers, req.headers);
    if (req.authorization) headers.authorization = req.authorization;
    let body: string | Readable | UploadBody | undefined;
    if (req.json !== undefined) {
      body = JSON.stringify(req.json);
      headers['content-type'] = 'application/json';
    } else if (req.openBody !== undefined) {
      body = req.openBody();
      headers['content-type'] ??= 'application/octet-stream';
      headers['content-length'] = String(req.contentLength ?? 0);
    }
    const where = { step: req.step, method: req.method, path: req.url.pathname };

    // request-timeout bounds the whole answer, headers and body, not just the gap between two
    // chunks (undici's timeouts): a server that trickles a byte at a time must not hold the step.
    // An upload's clock starts once its body is sent, so a large file is not cut off.
    const deadline = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    let phase: 'headers' | 'body' = 'headers';
    const arm = () => {
      timer ??= setTimeout(() => deadline.abort(deadlineError(phase, this.opts.timeoutMs)), this.opts.timeoutMs);
    };
    if (body && typeof body !== 'string') {
      if ('onEnd' in body) body.onEnd(arm);
      else body.once('end', arm);
    } else arm();
    const signal = this.opts.signal ? AbortSignal.any([this.opts.signal, deadline.signal]) : deadline.signal;
    const failed = (err: unknown): ActionError => {
      if (this.opts.signal?.aborted) return cancelled(req, err);
      return networkError(deadline.signal.aborted ? deadline.signal.reason : err, req.url, where, this.opts.timeoutMs);
    };

    let res: Dispatcher.ResponseData;
    try {
      const { request } = await loadUndici();
      res = await request(req.url, {
        method: req.method,
        headers,
        // undici takes an async iterable body (its docs list it), though its types leave it out.
        body: body as string | Readable | undefined,
        dispatcher: await dispatcherFor(this.opts.dispatcher),
        headersTimeout: this.opts.timeoutMs,
        bodyTimeout: this.opts.timeoutMs,
        signal,
      });
    } catch (err) {
      clearTimeout(timer);
      if (body && typeof body !== 'string') body.destroy();
      // The body refused itself (an upload whose file changed): not the network, and not retried.
      if (err instanceof ActionError && !this.opts.signal?.aborted) throw err;
      throw failed(err);
    }
    phase = 'body';
    arm();

    if (req.discardBody && res.statusCode >= 200 && res.statusCode < 300) {
      // A server that ignores Range sends the whole file: take a little, then drop the connection.
      await res.body.dump({ limit: 64 * 1024 }).catch(() => undefined);
      clearTimeout(timer);
      this.opts.debug?.(`${req.method} ${req.url.pathname} → ${res.statusCode} (${Math.round(now() - started)} ms)`);
      return { status: res.statusCode, headers: res.headers, data: {} as T, error: {} };
    }
    const ok = res.statusCode >= 200 && res.statusCode < 300;
    const limit = ok ? JSON_LIMIT_BYTES : ERROR_BODY_LIMIT_BYTES;
    if (ok && Number(headerValue(res.headers['content-length'])) > limit) {
      clearTimeout(timer);
      res.body.destroy();
      throw tooLarge(where, res.statusCode);
    }
    let text: string;
    let truncated: boolean;
    try {
      ({ text, truncated } = await readCapped(res.body, limit));
    } catch (err) {
      // A body cut off is a lost connection like any other: retried, and recovered for creates.
      throw failed(err);
    } finally {
      clearTimeout(timer);
    }
    if (ok && truncated) throw tooLarge(where, res.statusCode);
    const ms = Math.round(now() - started);
    this.opts.debug?.(`${req.method} ${req.url.pathname} → ${res.statusCode} (${ms} ms)`);

    if (res.statusCode >= 300 && res.statusCode < 400) {
      const location = headerValue(res.headers.location);
      let target = 'an unknown location';
      if (location) {
        try {
          const to = new URL(location, req.url);
          target = `${to.protocol}//${to.host}${to.pathname}`;
        } catch {
          target = redact(location, this.opts.secrets);
        }
      }
      throw new ActionError(`the server answered with a redirect (HTTP ${res.statusCode}) to ${target}, which the action does not follow`, {
        ...where,
        status: res.statusCode,
        hint: `Set the URL input to the final address (redirects are never followed, so the API key is never sent to another host). The redirect points to ${target}.`,
      });
    }

    const error = res.statusCode >= 400 ? parseErrorBody(text, res.headers['content-type'], this.opts.secrets) : {};
    if (res.statusCode >= 200 && res.statusCode < 300) {
      const data = req.raw ? (text as T) : parseJson<T>(text, where, res.statusCode, this.opts.secrets, req.jsonArray ?? false);
      return { status: res.statusCode, headers: res.headers, data, error };
    }
    if (req.accept?.(res.statusCode, error)) {
      return { status: res.statusCode, headers: res.headers, data: {} as T, error };
    }
    const serverMessage = describeErrorBody(error);
    const retryAfter = res.statusCode === 429 || res.statusCode === 503 ? headerValue(res.headers['retry-after']) : undefined;
    // A server without artifact serving answers 503 for good: no point in waiting.
    const permanent = res.statusCode === 503 && /no-serve-artifacts|Artifact serving is disabled/.test(text);
    const reason = permanent ? undefined : retryReason(res.statusCode, []);
    const wait = retryAfter ? `; the server asks to retry after ${/^\d+$/.test(retryAfter) ? `${retryAfter} s` : retryAfter}` : '';
    throw new ActionError(`HTTP ${res.statusCode}${error.code ? ` ${error.code}` : ''}${wait}`, {
      ...where,
      status: res.statusCode,
      code: error.code,
      serverMessage,
      hint: req.hintFor?.(res.statusCode, error) ?? genericHint(res.statusCode, retryAfter),
      retry: reason ? { reason, afterMs: parseRetryAfter(retryAfter, Date.now()) } : undefined,
    });
  }
}

function parseJson<T>(
  text: string,
  where: { step: string; method: string; path: string },
  status: number,
  secrets: readonly string[],
  arrayAllowed: boolean,
): T {
  if (text.trim() === '') return {} as T;
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new ActionError(`the server answered HTTP ${status} with a body that is not JSON`, {
      ...where,
      status,
      serverMessage: shorten(redact(text, secrets)).slice(0, 120),
      hint: 'The URL probably points at something other than an MLflow REST API (a web page or a login portal). Check the URL input.',
    });
  }
  // Callers read fields of the answer: a null, a number or a string would crash them without naming the request.
  if (data === null || typeof data !== 'object' || (Array.isArray(data) && !arrayAllowed)) {
    throw new ActionError(`the server answered HTTP ${status} with JSON that is not an object`, {
      ...where,
      status,
      serverMessage: shorten(redact(text, secrets)).slice(0, 120),
      hint: 'Every answer of the MLflow REST API is a JSON object: the URL probably points at another service, or a proxy in front of MLflow rewrites its answers. Check the URL input.',
    });
  }
  return data as T;
}

/** Reads at most `limit` bytes of a body; past that the body is destroyed (the connection dropped), not drained. */
async function readCapped(body: Dispatcher.ResponseData['body'], limit: number): Promise<{ text: string; truncated: boolean }> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    if (size + chunk.length > limit) {
      chunks.push(chunk.subarray(0, limit - size));
      body.destroy();
      return { text: Buffer.concat(chunks).toString('utf8'), truncated: true };
    }
    chunks.push(chunk);
    size += chunk.length;
  }
  return { text: Buffer.concat(chunks).toString('utf8'), truncated: false };
}

function tooLarge(where: { step: string; method: string; path: string }, status: number): ActionError {
  const mib = JSON_LIMIT_BYTES / (1024 * 1024);
  return new ActionError(`the server answered HTTP ${status} with more than ${mib} MiB, far more than any MLflow API answer`, {
    ...where,
    status,
    hint: `The action reads at most ${mib} MiB of an answer. The URL probably points at something other than the MLflow REST API (a file download or another service): check the URL input.`,
  });
}

/** The reason a request's deadline aborts it with: a timeout, worded and retried like undici's own. */
function deadlineError(phase: 'headers' | 'body', timeoutMs: number): Error {
  const code = phase === 'headers' ? 'UND_ERR_HEADERS_TIMEOUT' : 'UND_ERR_BODY_TIMEOUT';
  return Object.assign(new Error(`the ${phase === 'headers' ? 'answer' : 'answer body'} did not arrive within ${timeoutMs} ms`), { code });
}

/** Pulls the server's own words out of an error body: MLflow JSON, FastAPI JSON, or text/HTML. */
export function parseErrorBody(text: string, contentType: string | string[] | undefined, secrets: readonly string[]): ErrorBody {
  const clean = (s: string) => shorten(redact(s, secrets));
  const trimmed = text.trim();
  if (trimmed.startsWith('{')) {
    try {
      const json = JSON.parse(trimmed) as Record<string, unknown>;
      const code = typeof json.error_code === 'string' ? json.error_code : typeof json.error === 'string' ? json.error : undefined;
      const raw = json.message ?? json.detail ?? (code === json.error ? undefined : json.error);
      const message = typeof raw === 'string' ? raw : raw === undefined ? undefined : JSON.stringify(raw);
      return { code: code && clean(code), message: message === undefined ? undefined : clean(message) };
    } catch {
      // fall through to text
    }
  }
  if (trimmed === '') return {};
  const isHtml = /html/i.test(String(contentType ?? '')) || trimmed.startsWith('<');
  const textOnly = isHtml ? trimmed.replace(/<(script|style)[\s\S]*?<\/\1>/gi, ' ').replace(/<[^>]+>/g, ' ') : trimmed;
  return { message: clean(textOnly) };
}

function describeErrorBody(error: ErrorBody): string | undefined {
  if (error.code && error.message) return `${error.code}: ${error.message}`;
  return error.message ?? error.code;
}

function shorten(s: string): string {
  const flat = s.replace(/\s+/g, ' ').trim();
  return flat.length > SERVER_MESSAGE_LIMIT ? `${flat.slice(0, SERVER_MESSAGE_LIMIT)}…` : flat;
}

function headerValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

function genericHint(status: number, retryAfter: string | undefined): string {
  if (status === 401) return 'The server did not accept the credentials. Check that the api-key secret is set and current.';
  if (status === 403) return 'The key is valid but not allowed to do this. Ask the registry administrators for the needed permission.';
  if (status === 404)
    return 'The path does not exist on this server. Check that tracking-uri includes the full path prefix of the MLflow API.';
  if (status === 413)
    return 'The request was too large for the server or a proxy in front of it. Raise the proxy body limit or make the model smaller.';
  if (status === 429)
    return `The server is rate-limiting this key${retryAfter ? ` and asks to wait ${/^\d+$/.test(retryAfter) ? `${retryAfter} s` : `until ${retryAfter}`}` : ''}. Re-run the job later; if it keeps happening, ask for a higher rate limit for the key.`;
  if (status === 502 || status === 504)
    return 'A gateway in front of MLflow could not get an answer from it. Re-run the job; if it keeps failing, the registry operators must check the MLflow server.';
  if (status >= 500) return 'The server failed. Re-run the job; if it keeps failing, check the server logs.';
  return 'Check the inputs named above and the server message.';
}

interface NetworkCause {
  code?: string;
  message?: string;
  cause?: NetworkCause;
}

/** A failure before any HTTP status: DNS, refused connection, TLS, timeout. */
export function networkError(
  err: unknown,
  url: URL,
  where: { step: string; method: string; path: string },
  timeoutMs: number,
): ActionError {
  const chain: NetworkCause[] = [];
  for (let c = err as NetworkCause | undefined; c && chain.length < 5; c = c.cause) chain.push(c);
  const codes = chain.map((c) => c.code ?? '');
  const host = url.host;
  const has = (...xs: string[]) => codes.some((c) => xs.includes(c));
  let message: string;
  let hint: string;
  if (has('ENOTFOUND', 'EAI_AGAIN')) {
    message = `could not resolve host ${url.hostname}`;
    hint = 'Check the host name in the URL input for typos; a self-hosted runner may also need DNS access to it.';
  } else if (has('ECONNREFUSED')) {
    message = `connection refused by ${host}`;
    hint = 'Nothing is listening at that address. Check the URL and port, and that the server is running.';
  } else if (has('UND_ERR_CONNECT_TIMEOUT', 'ETIMEDOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT')) {
    message = `no answer from ${host} within ${Math.round(timeoutMs / 1000)} s`;
    hint = 'The server or the network is slow or blocked. Check that the runner can reach the host (firewall, proxy settings) and re-run.';
  } else if (codes.some((c) => /CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS/i.test(c))) {
    message = `TLS verification failed for ${host} (${codes.find((c) => c) ?? 'certificate error'})`;
    hint =
      'The server certificate is not trusted. If it is signed by a private CA, point NODE_EXTRA_CA_CERTS at the CA bundle in the step environment.';
  } else if (has('ECONNRESET', 'UND_ERR_SOCKET', 'EPIPE', 'UND_ERR_CLOSED')) {
    message = `the connection to ${host} was closed unexpectedly`;
    hint = 'A proxy or the server dropped the connection. Re-run the job; if it persists, check proxy limits on request size and time.';
  } else if (has('ENETUNREACH', 'EHOSTUNREACH', 'ENETDOWN', 'EHOSTDOWN')) {
    message = `no route to ${host} (${codes.find((c) => c)})`;
    hint =
      'Check that the runner can reach the host (firewall, proxy settings, a self-hosted runner without network access) and that the URL is right.';
  } else {
    // Not a network failure (a file that could not be read for an upload, a bug): the
    // reachability hint would send the reader after the wrong cause.
    const first = chain.find((c) => c.message)?.message ?? String(err);
    message = `request to ${host} failed: ${first}`;
    hint = has('ENOENT', 'EACCES', 'EISDIR', 'EIO')
      ? 'A file of the model could not be read while it was being sent. Check that nothing changes the model directory while the step runs, and re-run.'
      : 'This is not a network failure, so it looks like a bug in the action. Re-run with debug logging (ACTIONS_STEP_DEBUG=true) and report it.';
  }
  const reason = retryReason(undefined, codes);
  return new ActionError(message, { ...where, hint, cause: err, retry: reason ? { reason } : undefined });
}

/** The job was cancelled while this request or wait was under way. */
function cancelled(req: HttpRequest, cause: unknown): ActionError {
  return new ActionError('cancelled', {
    step: req.step,
    method: req.method,
    path: req.url.pathname,
    code: 'CANCELLED',
    hint: 'The job was cancelled (SIGINT/SIGTERM from the runner); the request was aborted.',
    cause,
  });
}
