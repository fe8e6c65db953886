// One error type for everything the action reports. It carries what failed,
// where (HTTP method, path, status), what the server said, and what to do.

export interface FailureDetails {
  /** The phase or step that failed, e.g. "Validate API key". */
  step: string;
  /** What the user should do about it. */
  hint: string;
  method?: string;
  /** URL path of the failing request (never the query string or credentials). */
  path?: string;
  status?: number;
  /** The server's own words, already redacted and shortened. */
  serverMessage?: string;
  /** Machine-readable code such as MLflow's error_code, when the server gave one. */
  code?: string;
  /** The job summary already shows this failure (verify mode's checks table). */
  reported?: boolean;
  /** Set when trying again may help: why, and how long the server asked us to wait. */
  retry?: { reason: string; afterMs?: number };
  cause?: unknown;
}

export class ActionError extends Error {
  readonly step: string;
  readonly hint: string;
  readonly method: string | undefined;
  readonly path: string | undefined;
  readonly status: number | undefined;
  readonly serverMessage: string | undefined;
  readonly code: string | undefined;
  readonly reported: boolean;
  readonly retry: { reason: string; afterMs?: number } | undefined;

  constructor(message: string, details: FailureDetails) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'ActionError';
    this.step = details.step;
    this.hint = details.hint;
    this.method = details.method;
    this.path = details.path;
    this.status = details.status;
    this.serverMessage = details.serverMessage;
    this.code = details.code;
    this.reported = details.reported ?? false;
    this.retry = details.retry;
  }

  /** The request that failed, as "GET /path → HTTP 404"; undefined when none did. */
  get request(): string | undefined {
    if (!this.method || !this.path) return undefined;
    return `${this.method} ${this.path}${this.status === undefined ? '' : ` → HTTP ${this.status}`}`;
  }

  /** The details, to build a variant of this error. */
  details(): FailureDetails {
    return {
      step: this.step,
      hint: this.hint,
      method: this.method,
      path: this.path,
      status: this.status,
      serverMessage: this.serverMessage,
      code: this.code,
      reported: this.reported,
      retry: this.retry,
    };
  }
}

/** Turns anything thrown into an ActionError, so the top level reports one shape. */
export function toActionError(err: unknown, step: string): ActionError {
  if (err instanceof ActionError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new ActionError(`unexpected error: ${message}`, {
    step,
    hint: 'This looks like a bug in the action. Re-run with debug logging (ACTIONS_STEP_DEBUG=true) and report it.',
    cause: err,
  });
}

/** The multi-line text shown in the log and in the failure annotation. */
export function formatError(err: ActionError): string {
  const lines = [`${err.step} failed: ${err.message}`];
  if (err.request) lines.push(`  request: ${err.request}`);
  if (err.serverMessage) lines.push(`  server said: ${err.serverMessage}`);
  lines.push(`  what to do: ${err.hint}`);
  return lines.join('\n');
}

/** Shorter values would redact ordinary words. */
const MIN_SECRET_LENGTH = 4;
const patterns = new Map<string, RegExp>();

/**
 * Removes every secret from a text, in every spelling it may come back in: any letter case (a
 * URL parser lower-cases a host), each character percent-encoded or not, with any hex case
 * (encodeURIComponent, a URL path or query, form encoding with "+" for a space), or as an HTML
 * character reference (the summary's escaping). Runner masking only protects the log, and only
 * the literal value; this also protects outputs, the summary, the receipt, run tags, the PR
 * comment, and runs outside a runner. Redact before cutting a text: a cut secret is no longer
 * found.
 */
export function redact(text: string, secrets: readonly string[]): string {
  const list = [...new Set(secrets)].filter((s) => s.length >= MIN_SECRET_LENGTH).sort((a, b) => b.length - a.length);
  if (!list.length || !text) return text;
  const key = list.join('\0');
  let re = patterns.get(key);
  if (!re) {
    if (patterns.size > 100) patterns.clear();
    re = new RegExp(list.map((s) => Array.from(s, charPattern).join('')).join('|'), 'giu');
    patterns.set(key, re);
  }
  return text.replace(re, '***');
}

/** One character of a secret: itself, its UTF-8 bytes percent-encoded, an HTML character reference, "+" for a space. */
function charPattern(ch: string): string {
  const cp = ch.codePointAt(0) ?? 0;
  const forms = [
    ch.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&'),
    Array.from(Buffer.from(ch, 'utf8'), (b) => `%${b.toString(16).padStart(2, '0')}`).join(''),
    `&#0*${cp};`,
    `&#x0*${cp.toString(16)};`,
  ];
  if (ch === ' ') forms.push('\\+');
  return `(?:${forms.join('|')})`;
}
