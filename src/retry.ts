// When to try a request again, and how long to wait first: pure functions, so the policy
// is tested without waiting. Retried: 408, 429, 5xx (not 501) and lost connections;
// exponential backoff with jitter, Retry-After honoured, the total time bounded.

export interface RetryPolicy {
  /** Retries after the first attempt. */
  maxRetries: number;
  /** First backoff; doubles on each retry. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** No retry starts once this much time has passed since the first attempt. */
  budgetMs: number;
}

export const DEFAULT_POLICY: Omit<RetryPolicy, 'maxRetries'> = { baseDelayMs: 1000, maxDelayMs: 30_000, budgetMs: 300_000 };

const RETRY_STATUS = new Set([408, 429]);
const RETRY_NETWORK = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

/** Why a failure is worth retrying, or undefined when it is not. */
export function retryReason(status: number | undefined, networkCodes: readonly string[]): string | undefined {
  if (status !== undefined) return RETRY_STATUS.has(status) || (status >= 500 && status !== 501) ? `HTTP ${status}` : undefined;
  return networkCodes.find((c) => RETRY_NETWORK.has(c));
}

/** Retry-After as milliseconds: delta-seconds or an HTTP date. */
export function parseRetryAfter(value: string | undefined, nowMs: number): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - nowMs);
}

/** Wait before retry number `retry` (1-based): the server's Retry-After, else jittered exponential backoff. */
export function backoffMs(retry: number, policy: RetryPolicy, random: () => number, retryAfterMs?: number): number {
  if (retryAfterMs !== undefined) return retryAfterMs;
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (retry - 1));
  // "Equal jitter": at least half the backoff, so retries never bunch up at zero.
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}
