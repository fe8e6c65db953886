// HttpClient options for unit tests: no retries unless asked, a clock that does not wait.
import type { Dispatcher } from 'undici';
import type { Clock } from '../../src/clock.ts';
import { DEFAULT_POLICY, type HttpOptions } from '../../src/http.ts';

export function fakeClock(): Clock & { sleeps: number[] } {
  let t = 0;
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => t,
    sleep: async (ms: number) => {
      sleeps.push(ms);
      t += ms;
    },
  };
}

export function httpOptions(o: { dispatcher: Dispatcher; secrets?: string[]; timeoutMs?: number } & Partial<HttpOptions>): HttpOptions {
  return {
    secrets: [],
    authorizedBases: [],
    timeoutMs: 5000,
    userAgent: 'test',
    clock: fakeClock(),
    random: () => 0.5,
    retry: { ...DEFAULT_POLICY, maxRetries: 0 },
    ...o,
  };
}
