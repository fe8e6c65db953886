// What every mode shares: the inputs, read and masked once; the HTTP and MLflow clients;
// cancellation; ending a run; outputs, the job summary and timed phases.
import * as core from '@actions/core';
import type { Dispatcher } from 'undici';
import { requireWrite, validateKey } from './auth.ts';
import { systemClock, type Clock } from './clock.ts';
import { githubContext } from './context.ts';
import { ActionError, redact } from './errors.ts';
import { DEFAULT_POLICY, HttpClient, USER_AGENT } from './http.ts';
import { parseInputs, readRawInputs, type Config } from './inputs.ts';
import { lineageFrom, type GitHubContext, type Lineage } from './lineage.ts';
import * as log from './log.ts';
import { MlflowClient, trackingAuth, type RunInfo } from './mlflow.ts';
import { saveRunEnded, saveRunId, saveRunRequest, saveTrackingUri } from './run-state.ts';
import type { RetryPolicy } from './retry.ts';
import { proxyStore } from './stores/proxy.ts';
import { chooseRoad, type Road } from './stores/road.ts';
import { s3Store } from './stores/s3.ts';
import type { ArtifactStore } from './stores/store.ts';
import { capSummary, type Timing } from './summary.ts';

export interface Deps {
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Unset: the environment's proxy settings, loaded with the first request (http.ts). */
  dispatcher?: Dispatcher | undefined;
  clock: Clock;
  random: () => number;
  github: GitHubContext;
  /** Where the runner's SIGINT and SIGTERM arrive. */
  signals: Pick<NodeJS.Process, 'on' | 'off'>;
}

/** Cleanup after a failure or a cancel must finish before the runner's SIGKILL (2.5 s after SIGTERM). */
const CLEANUP_TIMEOUT_MS = 2000;
const CLEANUP_RETRY = { baseDelayMs: 100, maxDelayMs: 300, budgetMs: 1500, maxRetries: 2 };

export function defaultDeps(): Deps {
  return {
    env: process.env,
    cwd: process.cwd(),
    clock: systemClock,
    random: Math.random,
    github: githubContext(process.env),
    signals: process,
  };
}

/** What a phase needs; built once from the config. */
export interface Session {
  cfg: Config;
  deps: Deps;
  http: HttpClient;
  mlflow: MlflowClient;
  /** The same server without the cancel signal and with a short timeout, for ending a run. */
  cleanup: MlflowClient;
  /** The retry policy and the cancel signal every client shares. */
  retry: RetryPolicy;
  signal: AbortSignal | undefined;
  lineage: Lineage;
  started: number;
  secrets: string[];
  /** Set while an MLflow run is open, so a failure can end it. */
  activeRun?: RunInfo;
  /** Set while runs/create is under way: a cancel then may have to find the run it made. */
  pendingRun?: { experimentId: string; requestId: string };
  /** How long each phase took, for the summary. */
  timings: Timing[];
  /** The summary as written, for the pull-request comment. */
  summary?: string;
  /** The comment's own version of it (no timings), when it differs. */
  commentMarkdown?: string;
  /** Set once MLflow has the version for good, so a later failure or cancel can say so. */
  registered?: { modelUri: string; version: string };
}

/** Reads and masks the inputs, and builds the clients every entry point uses. */
export function openSession(deps: Deps, secrets: string[], signal: AbortSignal | undefined): Session {
  const raw = readRawInputs(deps.env);
  const keep = (secret: string) => {
    log.addSecret(secret);
    secrets.push(secret);
  };
  // Mask first, before anything can print them. A URL input's userinfo, query or fragment may
  // hold a token (https://user:token@host, ?token=…): the inputs refuse such URLs, and never show those parts.
  for (const secret of [raw['api-key'], raw['tracking-password'], raw['github-token']]) if (secret) keep(secret);
  // The runner masks AWS secrets only in the log; a failing credential source could echo them anywhere.
  for (const name of ['AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN'] as const) if ((deps.env[name]?.length ?? 0) >= 8) keep(deps.env[name]!);
  for (const name of ['tracking-uri', 'auth-url', 'api-url'] as const) for (const part of log.urlSecrets(raw[name])) keep(part);
  const cfg = parseInputs(raw, { cwd: deps.cwd, repository: deps.env.GITHUB_REPOSITORY });
  const auth = trackingAuth(cfg.apiKey, cfg.trackingCredentials);
  if (auth.kind === 'basic' && auth.header) {
    // The encoded credentials are a secret of their own.
    keep(auth.header.slice('Basic '.length));
  }
  const base = {
    dispatcher: deps.dispatcher,
    secrets,
    // Where the key (or the basic credentials) may go: nowhere else.
    authorizedBases: [cfg.trackingUri, cfg.authUrl, cfg.hokusai?.notify ? cfg.apiUrl : undefined].filter((u) => u !== undefined),
    userAgent: USER_AGENT,
    debug: log.debug,
    clock: deps.clock,
    random: deps.random,
  };
  // A pull-request check must answer in seconds: at most one quick retry there.
  const retry =
    cfg.mode === 'verify'
      ? { ...DEFAULT_POLICY, maxRetries: Math.min(cfg.maxRetries, 1), budgetMs: 10_000 }
      : { ...DEFAULT_POLICY, maxRetries: cfg.maxRetries };
  const http = new HttpClient({
    ...base,
    timeoutMs: cfg.requestTimeoutSeconds * 1000,
    retry,
    signal,
    onRetry: (line) => log.info(`Retrying: ${line}`),
  });
  // A server that just failed may drop the next request too (a 502 from a gateway whose upstream
  // connection broke): quick retries, within the time left before a SIGKILL.
  const cleanupHttp = new HttpClient({ ...base, timeoutMs: CLEANUP_TIMEOUT_MS, retry: CLEANUP_RETRY });
  return {
    cfg,
    deps,
    http,
    mlflow: new MlflowClient(http, cfg.trackingUri, auth),
    cleanup: new MlflowClient(cleanupHttp, cfg.trackingUri, auth),
    retry,
    signal,
    lineage: lineageFrom(deps.github),
    started: deps.clock.now(),
    secrets,
    timings: [],
  };
}

/** The runner cancels with SIGINT, then SIGTERM 7.5 s later, then SIGKILL 2.5 s after that. */
export interface Cancellation {
  signal: AbortSignal;
  /** The first signal that arrived, if any. */
  by(): string | undefined;
  stop(): void;
}

export function listenForCancel(signals: Deps['signals']): Cancellation {
  const controller = new AbortController();
  let cancelledBy: string | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    if (cancelledBy) return log.info(`${signal} received; still ending the MLflow run.`);
    cancelledBy = signal;
    log.info(`${signal} received: cancelling.`);
    controller.abort();
  };
  signals.on('SIGINT', onSignal);
  signals.on('SIGTERM', onSignal);
  return {
    signal: controller.signal,
    by: () => cancelledBy,
    stop: () => {
      signals.off('SIGINT', onSignal);
      signals.off('SIGTERM', onSignal);
    },
  };
}

/**
 * The road for an artifact location (the experiment's, the server default's, or the run's),
 * or artifact-store when set; a store the action cannot write to fails here, naming it.
 */
export function roadFor(s: Session, location: string | undefined, step: string): Road {
  const road = chooseRoad(s.cfg.artifactStore, location);
  if ('kind' in road) return road;
  throw new ActionError(road.unsupported, {
    step,
    hint: "Set artifact-store: s3://<bucket>/<prefix> to a bucket the tracking server can read (the files go there with the job's AWS credentials), or run the server with --serve-artifacts so they go through its artifact proxy. Nothing was registered.",
  });
}

/** The store that takes the files on a road. */
export function storeFor(s: Session, road: Road): ArtifactStore {
  const { cfg, deps } = s;
  if (road.kind === 'proxy') return proxyStore(s.mlflow, cfg.trackingUri, cfg.artifactPath, cfg.uploadConcurrency);
  return s3Store(road, {
    env: deps.env,
    clock: deps.clock,
    random: deps.random,
    retry: s.retry,
    timeoutMs: cfg.requestTimeoutSeconds * 1000,
    allowInsecureHttp: cfg.allowInsecureHttp,
    artifactPath: cfg.artifactPath,
    secrets: s.secrets,
    signal: s.signal,
    onRetry: (line) => log.info(`Retrying: ${line}`),
    debug: log.debug,
  });
}

/** One core.group per phase, timed for the summary. */
export async function phase<T>(s: Session, name: string, fn: () => Promise<T>): Promise<T> {
  const t0 = s.deps.clock.now();
  try {
    return await core.group(name, fn);
  } finally {
    s.timings.push({ phase: name, ms: s.deps.clock.now() - t0 });
  }
}

/**
 * Read-only work side by side with the key's validation, in one phase: the key check costs no
 * round trip of its own. The key's failure is the one reported, since the work may have failed
 * only because of it. Registering and promoting need write access.
 */
export async function withKeyCheck<T>(s: Session, name: string, work: () => Promise<T>): Promise<T> {
  return phase(s, name, async () => {
    const [key, result] = await Promise.allSettled([checkKey(s), work()]);
    if (key.status === 'rejected') throw key.reason;
    if (result.status === 'rejected') throw result.reason;
    return result.value;
  });
}

/** Validates the key with the auth service when there is one. */
async function checkKey(s: Session): Promise<void> {
  const { authUrl, apiKey, serviceId } = s.cfg;
  if (!authUrl || !apiKey) return log.info('Key validation is off (auth-url is empty).');
  const info = await validateKey(s.http, authUrl, apiKey, serviceId);
  log.info(`The key is valid for service "${info.serviceId}"${info.scopes ? ` with scopes: ${info.scopes.join(', ') || 'none'}` : ''}.`);
  requireWrite(info);
}

export function setOutputs(s: Session, outputs: Record<string, string>): void {
  for (const [name, value] of Object.entries(outputs)) log.setOutput(name, redact(value, s.secrets));
}

/** `comment`: the pull-request comment's version of the page, when it differs (no timings). */
export async function writeSummary(
  env: NodeJS.ProcessEnv,
  markdown: string,
  secrets: readonly string[],
  s?: Session,
  comment?: string,
): Promise<void> {
  // Once more over the whole page (the renderers redact each value before clipping it); redact
  // knows the escaped spellings (_ as &#95;) too.
  const clean = (md: string) => capSummary(redact(md, [...secrets, ...log.secrets()]));
  const text = clean(markdown);
  if (s) {
    s.summary = text;
    s.commentMarkdown = comment === undefined ? undefined : clean(comment);
  }
  // core.summary reads the variable from process.env itself.
  if (!env.GITHUB_STEP_SUMMARY) return;
  try {
    await core.summary.addRaw(text).write();
  } catch (e) {
    log.debug(`Could not write the job summary: ${String(e)}`);
  }
}

/** runs/create is about to be sent: a killed step's post step finds the run by this request id. */
export function runRequested(s: Session, experimentId: string, requestId: string): void {
  s.pendingRun = { experimentId, requestId };
  saveTrackingUri(s.cfg.trackingUri);
  saveRunRequest(experimentId, requestId);
}

export function runStarted(s: Session, info: RunInfo): void {
  s.activeRun = info;
  s.pendingRun = undefined;
  saveRunId(info.run_id);
}

export function runEnded(s: Session): void {
  s.activeRun = undefined;
  saveRunEnded();
}
