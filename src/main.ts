// Orchestrates one run of the action. register: inputs → model directory → key →
// preflight → MLflow run → upload → verify → register → Hokusai event → receipt →
// outputs and summary. verify: read-only checks. promote: aliases onto an existing
// version. The only catch and the only setFailed live here; a run created in MLflow
// always ends FINISHED or FAILED.
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import * as core from '@actions/core';
import { context } from '@actions/github';
import { EnvHttpProxyAgent, type Dispatcher } from 'undici';
import { requireWrite, validateKey } from './auth.ts';
import { commentMarker, commentTargetFrom, renderComment, upsertComment } from './comment.ts';
import { ActionError, formatError, redact, toActionError } from './errors.ts';
import { DEFAULT_POLICY, HttpClient } from './http.ts';
import { benchmarkText, EVENT_SENT_TAG, eventFingerprint, hokusaiTags, registrationEvent, sendRegistrationEvent } from './hokusai.ts';
import { parseInputs, readRawInputs, type Config, type HokusaiToken } from './inputs.ts';
import { lineageFrom, lineageTags, mlflowSourceTags, type GitHubContext, type Lineage } from './lineage.ts';
import { buildManifest, manifestDigest, type ManifestEntry } from './manifest.ts';
import { commitFilter, filterString, MlflowClient, trackingAuth, type ModelVersion, type RunInfo } from './mlflow.ts';
import { artifactBaseUrl, versionUiUrl } from './urls.ts';
import { scanModelDir, type ModelFile } from './model-dir.ts';
import { systemClock, type Clock } from './clock.ts';
import { buildReceipt, artifactName, uploadReceipt, writeReceipt } from './receipt.ts';
import {
  awaitReady,
  currentAliases,
  decideReuse,
  pickCommitVersion,
  registerVersion,
  setAliases,
  VERSION_NOT_READY,
  versionTag,
} from './registration.ts';
import {
  capSummary,
  escapeHtml,
  formatBytes,
  formatDuration,
  renderChecks,
  renderFailure,
  renderPlan,
  renderPromotion,
  renderSuccess,
  type HokusaiResult,
  type ReceiptInfo,
  type RegisteredResult,
  type Timing,
} from './summary.ts';
import { progressLine, uploadFiles, verifyUpload, type UploadPlan } from './upload.ts';
import { checksJson, overallStatus, runChecks } from './verify.ts';

export interface Deps {
  env: NodeJS.ProcessEnv;
  cwd: string;
  dispatcher: Dispatcher;
  clock: Clock;
  random: () => number;
  github: GitHubContext;
  /** Where the runner's SIGINT and SIGTERM arrive. */
  signals: Pick<NodeJS.Process, 'on' | 'off'>;
}

const USER_AGENT = 'hokusai-register-model-action/0.1';
const PROGRESS_EVERY_MS = 10_000;
/** Cleanup after a failure or a cancel must finish before the runner's SIGKILL (2.5 s after SIGTERM). */
const CLEANUP_TIMEOUT_MS = 2000;

function defaultDeps(): Deps {
  return {
    env: process.env,
    cwd: process.cwd(),
    // Honours HTTPS_PROXY / NO_PROXY like the rest of the runner's tools.
    dispatcher: new EnvHttpProxyAgent(),
    clock: systemClock,
    random: Math.random,
    github: {
      sha: context.sha,
      ref: context.ref,
      workflow: context.workflow,
      actor: context.actor,
      eventName: context.eventName,
      runId: context.runId,
      runAttempt: context.runAttempt,
      serverUrl: context.serverUrl,
      repository: process.env.GITHUB_REPOSITORY ?? '',
      payload: context.payload,
    },
    signals: process,
  };
}

/** What a phase needs; built once from the config. */
interface Session {
  cfg: Config;
  deps: Deps;
  http: HttpClient;
  mlflow: MlflowClient;
  /** The same server without the cancel signal and with a short timeout, for ending a run. */
  cleanup: MlflowClient;
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
  /** Set once MLflow has the version for good, so a later failure or cancel can say so. */
  registered?: { modelUri: string; version: string };
}

/** Reads and masks the inputs, and builds the clients both entry points use. */
function openSession(deps: Deps, secrets: string[], signal: AbortSignal | undefined): Session {
  const raw = readRawInputs(deps.env);
  // Mask first, before anything can print them.
  for (const secret of [raw['api-key'], raw['tracking-password'], raw['github-token']]) {
    if (secret) {
      core.setSecret(secret);
      secrets.push(secret);
    }
  }
  const cfg = parseInputs(raw, { cwd: deps.cwd, repository: deps.env.GITHUB_REPOSITORY });
  const auth = trackingAuth(cfg.apiKey, cfg.trackingCredentials);
  if (auth.kind === 'basic' && auth.header) {
    // The encoded credentials are a secret of their own.
    core.setSecret(auth.header.slice('Basic '.length));
    secrets.push(auth.header.slice('Basic '.length));
  }
  const base = {
    dispatcher: deps.dispatcher,
    secrets,
    userAgent: USER_AGENT,
    debug: core.debug,
    clock: deps.clock,
    random: deps.random,
  };
  const http = new HttpClient({
    ...base,
    timeoutMs: cfg.requestTimeoutSeconds * 1000,
    // A pull-request check must answer in seconds: at most one quick retry there.
    retry:
      cfg.mode === 'verify'
        ? { ...DEFAULT_POLICY, maxRetries: Math.min(cfg.maxRetries, 1), budgetMs: 10_000 }
        : { ...DEFAULT_POLICY, maxRetries: cfg.maxRetries },
    signal,
    onRetry: (line) => core.info(`Retrying: ${line}`),
  });
  const cleanupHttp = new HttpClient({ ...base, timeoutMs: CLEANUP_TIMEOUT_MS, retry: { ...DEFAULT_POLICY, maxRetries: 0 } });
  return {
    cfg,
    deps,
    http,
    mlflow: new MlflowClient(http, cfg.trackingUri, auth),
    cleanup: new MlflowClient(cleanupHttp, cfg.trackingUri, auth),
    lineage: lineageFrom(deps.github),
    started: deps.clock.now(),
    secrets,
    timings: [],
  };
}

export async function run(overrides: Partial<Deps> = {}): Promise<void> {
  const deps = { ...defaultDeps(), ...overrides };
  const secrets: string[] = [];
  let session: Session | undefined;
  let modeTitle = 'Model registration';

  // The runner cancels with SIGINT, then SIGTERM 7.5 s later, then SIGKILL 2.5 s after that.
  const controller = new AbortController();
  let cancelledBy: string | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    if (cancelledBy) return core.info(`${signal} received; still ending the MLflow run.`);
    cancelledBy = signal;
    core.info(`${signal} received: cancelling.`);
    controller.abort();
  };
  deps.signals.on('SIGINT', onSignal);
  deps.signals.on('SIGTERM', onSignal);

  try {
    session = openSession(deps, secrets, controller.signal);
    if (session.cfg.mode === 'verify') {
      modeTitle = 'Registry check';
      await verifyMode(session);
    } else if (session.cfg.mode === 'promote') {
      modeTitle = session.cfg.dryRun ? 'Dry run' : 'Promotion';
      await promoteMode(session);
    } else {
      modeTitle = session.cfg.dryRun ? 'Dry run' : modeTitle;
      await registerMode(session);
    }
  } catch (thrown) {
    let err = toActionError(thrown, 'Run');
    if (cancelledBy) {
      // Keep what had happened by then (e.g. "version 3 was created, but …") unless it is just the abort.
      const before = err.message === 'cancelled' ? '' : ` (${err.message})`;
      err = new ActionError(`the job was cancelled (${cancelledBy}) during this step${before}`, {
        step: err.step,
        hint: cancelHint(session),
      });
    }
    if (session?.registered && !err.reported) {
      // The version exists whatever failed after it: a later step may still want it.
      setOutputs(session, { 'model-version': session.registered.version, 'model-uri': session.registered.modelUri });
    }
    if (session && !session.activeRun && session.pendingRun) {
      // Cancelled (or failed) while runs/create was in flight: the server may have made the run anyway.
      const { experimentId, requestId } = session.pendingRun;
      session.activeRun = await session.cleanup
        .findRunByRequest('Find the run being created', experimentId, requestId)
        .catch(() => undefined);
    }
    if (session?.activeRun) {
      await endRun(session, session.activeRun, cancelledBy ? 'KILLED' : 'FAILED', redact(`${err.step}: ${err.message}`, secrets));
    }
    core.setFailed(redact(formatError(err), secrets));
    if (!err.reported) await writeSummary(deps.env, renderFailure(err, modeTitle, session?.lineage.runUrl), secrets, session);
  } finally {
    deps.signals.off('SIGINT', onSignal);
    deps.signals.off('SIGTERM', onSignal);
  }
  // After a failure too: a failing pull-request check is what a reviewer most needs to see.
  if (session?.cfg.comment && !cancelledBy) await commentOnPullRequest(session);
}

/** What a cancelled job leaves behind, and how to finish what it started. */
function cancelHint(s: Session | undefined): string {
  const done = s?.registered;
  const event =
    s?.cfg.hokusai?.notify && (done || s.cfg.version)
      ? ` If the Hokusai event was under way, the platform may not have been told (then the version has no ${EVENT_SENT_TAG} tag for it). ${eventRetryHint(s.cfg.modelName, done?.version ?? s.cfg.version ?? '')}`
      : '';
  if (s?.cfg.mode === 'promote') return `Nothing to fix: the runner cancelled the job. Re-run the job to promote.${event}`;
  if (done)
    return `Nothing to fix: the runner cancelled the job after ${done.modelUri} was created, so that version stays. Re-running the job with the same model files reuses it and finishes what is missing (aliases, the Hokusai event).${event}`;
  const run = s?.activeRun || s?.pendingRun ? ' The MLflow run this job started is marked KILLED.' : '';
  return `Nothing to fix: the runner cancelled the job.${run} Re-run the job to register.`;
}

/**
 * The post: step. If the main step was killed before it could end its MLflow run (the
 * runner's SIGKILL, a crash), the run is still RUNNING: end it as KILLED.
 */
export async function post(overrides: Partial<Deps> = {}): Promise<void> {
  const deps = { ...defaultDeps(), ...overrides };
  const runId = core.getState(STATE_RUN_ID);
  const request = core.getState(STATE_RUN_REQUEST);
  if ((!runId && !request) || core.getState(STATE_RUN_ENDED) === 'true') return;
  try {
    const s = openSession(deps, [], undefined);
    const step = 'End a run left open';
    const [experimentId = '', requestId = ''] = request.split('/');
    // Killed during runs/create: the run id was never saved, but the request id finds the run.
    const info = runId ? await s.mlflow.getRun(step, runId) : await s.mlflow.findRunByRequest(step, experimentId, requestId);
    if (!info) return core.info('No MLflow run was created before the step stopped.');
    if (info.status !== 'RUNNING') return core.info(`MLflow run ${info.run_id} already ended (${info.status}).`);
    await endRun(s, info, 'KILLED', 'the job was cancelled or stopped before the action could end this run', s.mlflow);
  } catch (err) {
    core.warning(
      `Could not check the MLflow run of this job: ${err instanceof Error ? err.message : String(err)}. End it in the MLflow UI if it is still RUNNING.`,
    );
  }
}

async function verifyMode(s: Session): Promise<void> {
  const { cfg } = s;
  const checks = await core.group('Check the registry (read-only)', async () => {
    const results = await runChecks({ cfg, http: s.http, mlflow: s.mlflow, clock: s.deps.clock });
    for (const c of results) {
      const latency = c.latencyMs === undefined ? '' : ` (${formatDuration(c.latencyMs)})`;
      const say = (line: string) => core.info(redact(line, s.secrets));
      say(`${c.result.toUpperCase().padEnd(7)} ${c.name}${latency}: ${c.detail}`);
      if (c.request) say(`        request: ${c.request}`);
      if (c.hint && c.result !== 'pass') say(`        what to do: ${c.hint}`);
    }
    return results;
  });
  for (const c of checks) {
    if (c.result === 'warn') core.warning(redact(`${c.detail} ${c.hint ?? ''}`.trim(), s.secrets), { title: c.name });
    if (c.result === 'skipped' && !cfg.apiKey && cfg.authUrl && c.name === 'API key present')
      core.notice(c.detail, { title: 'No API key' });
  }
  const status = overallStatus(checks);
  core.setOutput('status', status);
  core.setOutput('checks', redact(checksJson(checks), s.secrets));
  await writeSummary(
    s.deps.env,
    renderChecks(checks, { trackingUri: cfg.trackingUri.href, modelName: cfg.modelName, runUrl: s.lineage.runUrl }),
    s.secrets,
    s,
  );
  if (status === 'fail') {
    const failed = checks.filter((c) => c.result === 'fail');
    throw new ActionError(
      `${failed.length} of ${checks.length} checks failed:\n${failed.map((c) => `  - ${c.name}: ${c.detail}${c.request ? `\n    request: ${c.request}` : ''}`).join('\n')}`,
      { step: 'Check the registry', hint: failed[0]?.hint ?? 'See the checks above.', reported: true },
    );
  }
}

/** Validates the key with the auth service when there is one; registering and promoting need write access. */
async function checkKey(s: Session): Promise<void> {
  const { cfg } = s;
  const { authUrl, apiKey } = cfg;
  if (!authUrl || !apiKey) return core.info('Key validation is off (auth-url is empty).');
  await phase(s, 'Validate API key', async () => {
    const info = await validateKey(s.http, authUrl, apiKey, cfg.serviceId);
    core.info(`The key is valid for service "${info.serviceId}"${info.scopes ? ` with scopes: ${info.scopes.join(', ') || 'none'}` : ''}.`);
    requireWrite(info);
  });
}

interface ScannedModel {
  files: ModelFile[];
  totalBytes: number;
  digest: string;
  manifest: ManifestEntry[];
}

async function registerMode(s: Session): Promise<void> {
  const { cfg, mlflow, lineage, deps } = s;
  const { clock } = deps;

  const model: ScannedModel = await phase(s, 'Validate model directory', async () => {
    const dir = await scanModelDir(cfg.modelPath);
    const manifest = await buildManifest(dir.files);
    const digest = manifestDigest(manifest);
    core.info(`${dir.root}: ${dir.files.length} files, ${formatBytes(dir.totalBytes)}, flavors: ${dir.flavors.join(', ')}`);
    core.info(`Content digest ${digest}`);
    for (const e of manifest) core.debug(`${e.sha256}  ${e.size}  ${e.path}`);
    return { files: dir.files, totalBytes: dir.totalBytes, digest, manifest };
  });

  await checkKey(s);

  // Everything below up to "Start MLflow run" only reads, so a dry run stops after it.
  const preflight = await phase(s, 'Preflight (read-only)', async () => {
    const step = 'Preflight';
    const experiment = await mlflow.getExperimentByName(step, cfg.experimentName);
    // The artifact route fails on its own in real deployments: find out before a run exists.
    await mlflow.probeArtifacts('Check artifact proxy', experiment?.experiment_id ?? '');
    if (experiment?.artifact_location) artifactBaseUrl(cfg.trackingUri, experiment.artifact_location, step);
    core.info(
      `Artifact proxy is serving; experiment "${cfg.experimentName}" ${experiment ? `has id ${experiment.experiment_id}` : 'does not exist yet'}.`,
    );
    const registered = await mlflow.getRegisteredModel(step, cfg.modelName);
    // The version with this commit and content, if any; else the commit's versions, to say why a new one is made.
    const same =
      registered && lineage.commit
        ? await mlflow.searchModelVersions(
            step,
            `${commitFilter(cfg.modelName, lineage.commit)} AND tags.model_digest=${filterString(model.digest)}`,
            1,
          )
        : [];
    const existing =
      same.length || !registered || !lineage.commit
        ? same
        : await mlflow.searchModelVersions(step, commitFilter(cfg.modelName, lineage.commit), 20);
    if (existing.length)
      core.info(`Already registered for commit ${lineage.commit.slice(0, 12)}: version ${existing.map((v) => v.version).join(', ')}.`);
    return { experiment, modelExists: registered !== undefined, existing };
  });

  const decision = decideReuse(preflight.existing, model.digest, lineage.commit);
  if (cfg.dryRun) {
    const plan = {
      modelName: cfg.modelName,
      files: model.files.length,
      bytes: model.totalBytes,
      digest: model.digest,
      experimentName: cfg.experimentName,
      experimentId: preflight.experiment?.experiment_id,
      artifactPath: cfg.artifactPath,
      aliases: cfg.aliases,
      commit: lineage.commit,
      existingVersions: preflight.existing.map((v) => v.version),
      reuse: decision.kind === 'reuse' ? decision.version.version : undefined,
      modelExists: preflight.modelExists,
      timings: s.timings,
      hokusai: cfg.hokusai,
      runUrl: lineage.runUrl,
    };
    core.info(
      `Dry run: would register ${model.files.length} files (${formatBytes(model.totalBytes)}) as a new version of "${cfg.modelName}". Nothing was written.`,
    );
    setOutputs(s, { 'model-name': cfg.modelName, digest: model.digest, 'experiment-id': plan.experimentId ?? '' });
    await writeSummary(s.deps.env, renderPlan(plan), s.secrets, s);
    return;
  }

  if (decision.kind === 'reuse') return reuseVersion(s, decision.version, model, preflight.experiment?.experiment_id);
  if (decision.reason) core.info(decision.reason);

  const { experiment, runInfo } = await phase(s, 'Start MLflow run', async () => {
    const step = 'Start MLflow run';
    const { experiment: exp, restored } = await mlflow.ensureExperiment(step, cfg.experimentName, preflight.experiment);
    if (restored) core.info(`Experiment "${cfg.experimentName}" was deleted; restored it.`);
    const runName = lineage.commit ? `${cfg.modelName}@${lineage.commit.slice(0, 7)}` : cfg.modelName;
    const tags = [...mlflowSourceTags(lineage, deps.github.serverUrl), ...lineageTags(lineage, model.digest), ...userTags(cfg)];
    const requestId = randomUUID();
    s.pendingRun = { experimentId: exp.experiment_id, requestId };
    core.saveState(STATE_RUN_REQUEST, `${exp.experiment_id}/${requestId}`);
    const info = await mlflow.createRun(step, exp.experiment_id, runName, clock.now(), tags, requestId);
    s.activeRun = info;
    s.pendingRun = undefined;
    core.saveState(STATE_RUN_ID, info.run_id);
    core.info(`Experiment "${cfg.experimentName}" (id ${exp.experiment_id}), run ${info.run_id}`);
    core.debug(`Run artifact URI: ${info.artifact_uri}`);
    return { experiment: exp, runInfo: info };
  });

  const plan: UploadPlan = {
    base: artifactBaseUrl(cfg.trackingUri, runInfo.artifact_uri, 'Upload model'),
    artifactPath: cfg.artifactPath,
    files: model.files,
  };
  const uploadMs = await phase(s, 'Upload model', async () => {
    const t0 = clock.now();
    const progress = { filesDone: 0, files: model.files.length, bytesDone: 0, bytes: model.totalBytes, elapsedMs: 0 };
    let lastLog = t0;
    const report = () => {
      // A line about every 10 s, so long uploads show they are moving.
      if (clock.now() - lastLog < PROGRESS_EVERY_MS) return;
      lastLog = clock.now();
      core.info(progressLine({ ...progress, elapsedMs: lastLog - t0 }));
    };
    await uploadFiles(mlflow, plan, {
      concurrency: cfg.uploadConcurrency,
      multipartThreshold: cfg.multipartThreshold,
      onBytes: (delta) => {
        progress.bytesDone += delta;
        report();
      },
      onFile: (f, how) => {
        progress.filesDone++;
        core.debug(`uploaded ${f.relPath} (${f.size} bytes${how === 'multipart' ? ', in parts' : ''})`);
      },
    });
    const ms = clock.now() - t0;
    core.info(
      `Uploaded ${model.files.length} files (${formatBytes(model.totalBytes)}) in ${formatDuration(ms)}, ${formatBytes((model.totalBytes / Math.max(ms, 1)) * 1000)}/s.`,
    );
    await verifyUpload(mlflow, runInfo.run_id, plan);
    core.info('Every file is on the server with its full size.');
    return ms;
  });

  const source = `${runInfo.artifact_uri.replace(/\/+$/, '')}/${cfg.artifactPath}`;
  const version = await phase(s, 'Register model version', async () => {
    const { version: created, createdModel } = await registerVersion(mlflow, {
      name: cfg.modelName,
      source,
      runId: runInfo.run_id,
      // The Hokusai tags go on with the version itself: no window in which it lacks them.
      tags: [...lineageTags(lineage, model.digest), ...userTags(cfg), ...(cfg.hokusai ? hokusaiTags(cfg.hokusai, runInfo.run_id) : [])],
      runLink: lineage.runUrl,
      description: cfg.description,
    });
    s.registered = { modelUri: `models:/${cfg.modelName}/${created.version}`, version: created.version };
    core.info(
      `${createdModel ? 'Created registered model' : 'Registered model exists:'} "${cfg.modelName}"; new version ${created.version} (${created.status ?? 'status unknown'}).`,
    );
    try {
      const ready = await awaitReady(mlflow, clock, created, cfg.awaitTimeoutSeconds);
      await setAliases(mlflow, cfg.modelName, ready.version, cfg.aliases);
      for (const alias of cfg.aliases) core.info(`Alias ${alias} → version ${ready.version}`);
      return ready;
    } catch (err) {
      // The version exists by now: say so, so nobody looks for it in vain or registers twice blindly.
      if (!(err instanceof ActionError)) throw err;
      throw new ActionError(`version ${created.version} of "${cfg.modelName}" was created, but ${err.message}`, {
        ...err.details(),
        hint: `${err.hint} The version stays registered as models:/${cfg.modelName}/${created.version}: check it in the registry before re-running.`,
      });
    }
  });

  await mlflow.updateRun('Finish MLflow run', runInfo.run_id, 'FINISHED', clock.now());
  s.activeRun = undefined;
  core.saveState(STATE_RUN_ENDED, 'true');

  await finish(s, version, model, {
    runId: runInfo.run_id,
    experimentId: experiment.experiment_id,
    source,
    reused: false,
    note: decision.reason,
    uploadMs,
  });
}

/** The same commit and content were registered before: point the aliases at that version, add nothing. */
async function reuseVersion(s: Session, existing: ModelVersion, model: ScannedModel, experimentId: string | undefined) {
  const { cfg, mlflow, lineage, deps } = s;
  s.registered = { modelUri: `models:/${cfg.modelName}/${existing.version}`, version: existing.version };
  const version = await phase(s, 'Reuse version', async () => {
    core.info(
      `Version ${existing.version} of "${cfg.modelName}" was registered for commit ${lineage.commit.slice(0, 12)} with the same content: reusing it.`,
    );
    const ready = await awaitReady(mlflow, deps.clock, existing, cfg.awaitTimeoutSeconds);
    await setAliases(mlflow, cfg.modelName, ready.version, cfg.aliases);
    for (const alias of cfg.aliases) core.info(`Alias ${alias} → version ${ready.version}`);
    // The first run may have had other token inputs: the version carries what this run says.
    await tagWithToken(s, ready);
    return ready;
  });
  const runId = version.run_id ?? '';
  // Only for the experiment-id output: a run deleted since must not fail a reuse whose aliases are set.
  const run = runId ? await mlflow.getRun('Reuse version', runId).catch(() => undefined) : undefined;
  await finish(s, version, model, {
    runId,
    experimentId: run?.experiment_id ?? experimentId ?? '',
    source: version.source ?? '',
    reused: true,
    note: undefined,
    uploadMs: undefined,
  });
}

/**
 * After MLflow has the version: tell Hokusai, write the receipt, set outputs, write the
 * summary. A failed event fails the step, but only after the version is in the outputs.
 */
async function finish(
  s: Session,
  version: ModelVersion,
  model: ScannedModel,
  rest: Pick<RegisteredResult, 'runId' | 'experimentId' | 'source' | 'reused' | 'note' | 'uploadMs'>,
): Promise<void> {
  const { cfg, lineage } = s;
  const modelUri = `models:/${cfg.modelName}/${version.version}`;
  const versionUrl = versionUiUrl(cfg.trackingUri, cfg.modelName, version.version);
  const event = await notifyHokusai(s, version, rest.runId, modelUri);
  const receipt = await saveReceipt(s, version.version, model, { modelUri, versionUrl, ...rest }, event?.result);
  const result: RegisteredResult = {
    modelName: cfg.modelName,
    version: version.version,
    versionUrl,
    modelUri,
    aliases: cfg.aliases,
    files: model.files.length,
    bytes: model.totalBytes,
    digest: model.digest,
    experimentName: cfg.experimentName,
    commit: lineage.commit,
    runUrl: lineage.runUrl,
    durationMs: s.deps.clock.now() - s.started,
    fileList: model.manifest,
    timings: s.timings,
    hokusai: event?.result,
    receipt,
    description: cfg.description,
    tags: cfg.tags,
    ...rest,
  };
  setOutputs(s, {
    'model-name': result.modelName,
    'model-version': result.version,
    'model-uri': result.modelUri,
    'run-id': result.runId,
    'experiment-id': result.experimentId,
    source: result.source,
    'version-url': result.versionUrl,
    digest: result.digest,
    reused: String(result.reused),
    'receipt-path': receipt?.path ?? '',
    ...(event ? { 'hokusai-event': event.result.event } : {}),
  });
  core.info(`${result.reused ? 'Reused' : 'Registered'} ${result.modelUri} in ${formatDuration(result.durationMs)}.`);
  await writeSummary(s.deps.env, renderSuccess(result), s.secrets, s);
  if (event?.error) {
    const err = event.error;
    const retry = `${eventRetryHint(cfg.modelName, version.version)}${lineage.commit ? ` Re-running this job does the same when the model files are unchanged (same commit and digest: the version is reused); a retrained model gets a new version, which is announced instead.` : ''}`;
    throw new ActionError(`${modelUri} is registered in MLflow, but the Hokusai platform was not told: ${err.message}`, {
      ...err.details(),
      hint: `${err.hint} ${retry}`,
      reported: true,
    });
  }
}

/** The registration event, when token-id is given; a failure is returned, not thrown, so the outputs still get written. */
async function notifyHokusai(
  s: Session,
  version: ModelVersion,
  runId: string,
  modelUri: string,
): Promise<{ result: HokusaiResult; error?: ActionError } | undefined> {
  const { cfg } = s;
  const token = cfg.hokusai;
  if (!token) return undefined;
  const about = tokenAbout(token);
  if (!token.notify) return { result: { ...about, event: 'skipped', detail: 'notify-hokusai is false' } };
  const { apiUrl, apiKey } = cfg;
  if (!apiUrl || !apiKey) return { result: { ...about, event: 'skipped', detail: 'api-url or api-key is empty' } }; // refused by the inputs
  const body = registrationEvent(token, {
    modelName: cfg.modelName,
    version: version.version,
    runId,
    modelUri,
    tags: lineageTags(s.lineage, ''),
  });
  // The tag holds a fingerprint of what was sent: other token inputs for the same version are sent again.
  const sent = `sent:${eventFingerprint(body)}`;
  if (versionTag(version, EVENT_SENT_TAG) === sent)
    return { result: { ...about, event: 'skipped', detail: `the platform was told about version ${version.version} by an earlier run` } };
  try {
    await phase(s, 'Notify Hokusai', async () => {
      const { modelId } = await sendRegistrationEvent(s.http, apiUrl, apiKey, body);
      core.info(`The Hokusai platform accepted the registration event${modelId ? ` (model id ${modelId})` : ''}.`);
      await s.mlflow.setModelVersionTag('Notify Hokusai', cfg.modelName, version.version, EVENT_SENT_TAG, sent).catch((e: unknown) => {
        core.warning(
          `The platform has the event, but version ${version.version} could not be tagged ${EVENT_SENT_TAG} (${e instanceof Error ? e.message : String(e)}): a re-run would send the event again.`,
        );
        if (e instanceof ActionError && e.code === 'CANCELLED') throw e;
      });
    });
    return { result: { ...about, event: 'sent' } };
  } catch (thrown) {
    const error = toActionError(thrown, 'Notify Hokusai');
    if (error.code === 'CANCELLED') throw error;
    const said = error.serverMessage ? ` The server said: ${error.serverMessage}.` : '';
    return { result: { ...about, event: 'failed', detail: redact(`${error.message}.${said} ${error.hint}`, s.secrets) }, error };
  }
}

/** The token metadata as the summary and the receipt show it (the value as the tag stores it). */
const tokenAbout = (t: HokusaiToken) => ({ tokenId: t.tokenId, metric: t.metric, value: benchmarkText(t.value), proposalId: t.proposalId });

/** How to send the event for one existing version, without registering anything. */
const eventRetryHint = (model: string, version: string) =>
  `To send it for this version alone, run the action with mode: promote, model-name: ${model}, version: ${version} and the same token-id, benchmark-metric and benchmark-value.`;

/** Writes the receipt under RUNNER_TEMP and uploads it as a workflow artifact when the runtime allows. */
async function saveReceipt(
  s: Session,
  version: string,
  model: ScannedModel,
  rest: Pick<RegisteredResult, 'modelUri' | 'versionUrl' | 'runId' | 'experimentId' | 'source' | 'reused'>,
  hokusai: HokusaiResult | undefined,
): Promise<ReceiptInfo | undefined> {
  const { cfg, lineage, deps } = s;
  return phase(s, 'Write receipt', async () => {
    const receipt = buildReceipt({
      modelName: cfg.modelName,
      version,
      modelUri: rest.modelUri,
      versionUrl: rest.versionUrl,
      source: rest.source,
      runId: rest.runId,
      experimentId: rest.experimentId,
      digest: model.digest,
      aliases: cfg.aliases,
      reused: rest.reused,
      lineage,
      files: model.manifest,
      hokusai,
      createdAt: new Date(deps.clock.now()),
    });
    let path: string;
    try {
      path = await writeReceipt(deps.env.RUNNER_TEMP || os.tmpdir(), receipt);
    } catch (e) {
      // The registration stands; a full or read-only disk only costs the receipt.
      core.warning(`Could not write the receipt: ${e instanceof Error ? e.message : String(e)}. The registration itself succeeded.`, {
        title: 'Receipt not written',
      });
      return undefined;
    }
    core.info(`Receipt written to ${path}.`);
    if (!cfg.uploadReceipt) return { path, note: 'upload-receipt is false' };
    const name = artifactName({
      modelName: cfg.modelName,
      version,
      job: deps.env.GITHUB_JOB ?? '',
      runAttempt: lineage.runAttempt,
    });
    const up = await uploadReceipt(path, name, deps.env);
    if (up.kind === 'uploaded') {
      core.info(`Receipt uploaded as artifact "${up.name}"${up.url ? `: ${up.url}` : ''}.`);
      return { path, artifactName: up.name, artifactUrl: up.url };
    }
    const say = up.kind === 'unavailable' ? core.notice : core.warning;
    say(`${up.reason}. The receipt is at ${path}.`, { title: 'Receipt not uploaded' });
    return { path, note: up.reason };
  });
}

/** promote: point the aliases at an existing version; nothing is uploaded or created. */
async function promoteMode(s: Session): Promise<void> {
  const { cfg, mlflow, lineage, deps } = s;
  await checkKey(s);
  const step = 'Find the version to promote';
  const target = await phase(s, step, async () => {
    const model = await mlflow.getRegisteredModel(step, cfg.modelName);
    if (!model)
      throw new ActionError(`the registered model "${cfg.modelName}" does not exist on this tracking server`, {
        step,
        hint: 'Check model-name (names are case-sensitive) and tracking-uri; a model has to be registered (mode: register) before it can be promoted.',
      });
    if (cfg.version) {
      const version = await mlflow.getModelVersion(step, cfg.modelName, cfg.version).catch((e: unknown) => {
        if (e instanceof ActionError && e.status === 404)
          throw new ActionError(`version ${cfg.version} of "${cfg.modelName}" does not exist`, {
            ...e.details(),
            hint: `Check the version input. The versions are listed on the model's page in the registry UI.`,
          });
        throw e;
      });
      return { model, version, chosenBy: { kind: 'version' as const }, others: [] as string[] };
    }
    const commit = cfg.gitSha ?? lineage.commit;
    if (!commit)
      throw new ActionError('there is no commit to look the version up by', {
        step,
        hint: 'Outside GitHub Actions there is no current commit: set git-sha to the registered commit, or version to the version number.',
      });
    const found = await mlflow.searchModelVersions(step, commitFilter(cfg.modelName, commit), 50);
    const { version, others } = pickCommitVersion(found, cfg.modelName, commit);
    return { model, version, chosenBy: { kind: 'commit' as const, commit }, others };
  });
  const { version } = target;
  if (version.status === 'FAILED_REGISTRATION')
    throw new ActionError(`version ${version.version} of "${cfg.modelName}" failed to register, so it cannot be promoted`, {
      step,
      serverMessage: version.status_message,
      hint: 'Register the model again, then promote the new version.',
    });
  core.info(
    `Version ${version.version} of "${cfg.modelName}"${target.chosenBy.kind === 'commit' ? ` (registered for commit ${target.chosenBy.commit.slice(0, 12)})` : ''}.`,
  );
  if (target.others.length)
    core.info(`The commit also has version ${target.others.join(', ')}; the newest, ${version.version}, is promoted.`);
  const aliases = currentAliases(target.model, cfg.aliases);
  const result = {
    modelName: cfg.modelName,
    version: version.version,
    versionUrl: versionUiUrl(cfg.trackingUri, cfg.modelName, version.version),
    modelUri: `models:/${cfg.modelName}/${version.version}`,
    chosenBy: target.chosenBy,
    aliases,
    digest: versionTag(version, 'model_digest'),
    source: version.source,
    runId: version.run_id,
    runUrl: lineage.runUrl,
    timings: s.timings,
  };
  const outputs = {
    'model-name': cfg.modelName,
    'model-version': version.version,
    'model-uri': result.modelUri,
    'version-url': result.versionUrl,
    'run-id': version.run_id ?? '',
    source: version.source ?? '',
    digest: result.digest ?? '',
  };
  if (cfg.dryRun) {
    const status = version.status && version.status !== 'READY' ? ` (now ${version.status})` : '';
    const what = aliases.length ? `point ${aliases.map((a) => a.alias).join(', ')} at` : 'tag';
    core.info(`Dry run: would ${what} version ${version.version}${status}. Nothing was written.`);
    setOutputs(s, outputs);
    const token = cfg.hokusai;
    const plan: HokusaiResult | undefined = token && {
      ...tokenAbout(token),
      event: 'skipped',
      detail: token.notify
        ? 'dry run: a real run tags the version and sends the registration event'
        : 'dry run: a real run tags the version (notify-hokusai is false)',
    };
    await writeSummary(
      deps.env,
      renderPromotion({ ...result, durationMs: deps.clock.now() - s.started, dryRun: true, hokusai: plan }),
      s.secrets,
      s,
    );
    return;
  }
  const ready = await phase(s, 'Promote version', async () => {
    if (version.status !== 'READY')
      core.info(`Waiting for version ${version.version} (${version.status ?? 'status unknown'}) to become READY.`);
    const current = await awaitReady(mlflow, deps.clock, version, cfg.awaitTimeoutSeconds).catch((e: unknown) => {
      if (!(e instanceof ActionError) || e.code !== VERSION_NOT_READY) throw e;
      throw new ActionError(e.message, {
        ...e.details(),
        hint: 'This version cannot be promoted: promote another one with the version input, or register the model again.',
      });
    });
    await setAliases(mlflow, cfg.modelName, current.version, cfg.aliases);
    for (const a of aliases)
      core.info(
        `Alias ${a.alias}: ${a.previous === current.version ? `already on version ${current.version}` : `${a.previous ? `version ${a.previous}` : 'new'} → version ${current.version}`}`,
      );
    if (cfg.hokusai) await tagWithToken(s, current);
    return current;
  });
  const event = await notifyHokusai(s, ready, ready.run_id ?? '', result.modelUri);
  setOutputs(s, { ...outputs, ...(event ? { 'hokusai-event': event.result.event } : {}) });
  const verb = cfg.aliases.length ? 'Promoted' : event?.result.event === 'sent' ? 'Announced' : 'Tagged';
  core.info(`${verb} ${result.modelUri} in ${formatDuration(deps.clock.now() - s.started)}.`);
  await writeSummary(
    deps.env,
    renderPromotion({ ...result, durationMs: deps.clock.now() - s.started, hokusai: event?.result }),
    s.secrets,
    s,
  );
  if (event?.error) {
    const err = event.error;
    throw new ActionError(`${result.modelUri} is registered in MLflow, but the Hokusai platform was not told: ${err.message}`, {
      ...err.details(),
      hint: `${err.hint} Then run this step again: it sends only what is missing.`,
      reported: true,
    });
  }
}

/** The token tags on an existing version, where they differ from what it carries. */
async function tagWithToken(s: Session, version: ModelVersion): Promise<void> {
  const { cfg, mlflow } = s;
  if (!cfg.hokusai) return;
  const changed = hokusaiTags(cfg.hokusai, version.run_id ?? '').filter((t) => versionTag(version, t.key) !== t.value);
  for (const t of changed) await mlflow.setModelVersionTag('Tag version', cfg.modelName, version.version, t.key, t.value);
  version.tags = [...(version.tags ?? []).filter((t) => !changed.some((n) => n.key === t.key)), ...changed];
}

/** One core.group per phase, timed for the summary. */
async function phase<T>(s: Session, name: string, fn: () => Promise<T>): Promise<T> {
  const t0 = s.deps.clock.now();
  try {
    return await core.group(name, fn);
  } finally {
    s.timings.push({ phase: name, ms: s.deps.clock.now() - t0 });
  }
}

/** On pull requests, the result as one comment, updated in place; a refusal is only a warning. */
async function commentOnPullRequest(s: Session): Promise<void> {
  const { cfg, deps, lineage } = s;
  const target = commentTargetFrom(deps.github, deps.env.GITHUB_API_URL, cfg.githubToken ?? '');
  if ('kind' in target) return core.info(`No pull-request comment: ${target.reason}.`);
  if (!s.summary) return;
  const key = `${cfg.mode}${cfg.dryRun ? '-dry-run' : ''}:${cfg.modelName || cfg.trackingUri.host}`;
  const marker = commentMarker(key);
  // upsertComment never throws: every failure comes back as a warning.
  const outcome = await upsertComment(
    { dispatcher: deps.dispatcher, userAgent: USER_AGENT, clock: deps.clock, secrets: s.secrets },
    target,
    marker,
    renderComment(marker, s.summary, lineage.runUrl),
  );
  if (outcome.kind === 'warning') core.warning(redact(outcome.message, s.secrets), { title: 'Pull-request comment not written' });
  else if (outcome.kind === 'skipped') core.info(`comment: ${outcome.reason}`);
  else core.info(`Pull-request comment ${outcome.kind}: ${outcome.url}`);
}

// What the post: step needs to find a run the main step could not end.
const STATE_RUN_ID = 'run-id';
const STATE_RUN_ENDED = 'run-ended';
const STATE_RUN_REQUEST = 'run-request';

const userTags = (cfg: Config) => cfg.tags.map(([key, value]) => ({ key, value }));

function setOutputs(s: Session, outputs: Record<string, string>): void {
  for (const [name, value] of Object.entries(outputs)) core.setOutput(name, redact(value, s.secrets));
}

/** Best effort: a failure here must not hide the original error. */
async function endRun(s: Session, runInfo: RunInfo, status: 'FAILED' | 'KILLED', reason: string, client = s.cleanup): Promise<void> {
  const step = `Mark run ${status}`;
  // The status first: after SIGTERM there are 2.5 s until SIGKILL.
  try {
    await client.updateRun(step, runInfo.run_id, status, s.deps.clock.now());
    core.saveState(STATE_RUN_ENDED, 'true');
    core.info(`MLflow run ${runInfo.run_id} marked ${status}.`);
  } catch (e) {
    core.warning(
      `Could not mark MLflow run ${runInfo.run_id} as ${status}: ${e instanceof ActionError ? e.message : String(e)}. The post step will try again; otherwise end it in the MLflow UI.`,
    );
    return;
  }
  await client.setRunTag(step, runInfo.run_id, 'failure_reason', reason.slice(0, 5000)).catch(() => undefined);
}

async function writeSummary(env: NodeJS.ProcessEnv, markdown: string, secrets: readonly string[], s?: Session): Promise<void> {
  // Rendering escapes characters a key may hold (_ becomes &#95;): redact both spellings.
  const text = capSummary(redact(markdown, [...secrets, ...secrets.map(escapeHtml)]));
  if (s) s.summary = text;
  // core.summary reads the variable from process.env itself.
  if (!env.GITHUB_STEP_SUMMARY) return;
  try {
    await core.summary.addRaw(text).write();
  } catch (e) {
    core.debug(`Could not write the job summary: ${String(e)}`);
  }
}
