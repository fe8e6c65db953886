// Orchestrates one run of the action. register: inputs → model directory → key →
// preflight → MLflow run → upload → verify → register → outputs and summary.
// verify: read-only checks. The only catch and the only setFailed live here; a run
// created in MLflow always ends FINISHED or FAILED.
import { randomUUID } from 'node:crypto';
import * as core from '@actions/core';
import { context } from '@actions/github';
import { EnvHttpProxyAgent, type Dispatcher } from 'undici';
import { requireWrite, validateKey } from './auth.ts';
import { ActionError, formatError, redact, toActionError } from './errors.ts';
import { DEFAULT_POLICY, HttpClient } from './http.ts';
import { parseInputs, readRawInputs, type Config } from './inputs.ts';
import { lineageFrom, lineageTags, mlflowSourceTags, type GitHubContext, type Lineage } from './lineage.ts';
import { buildManifest, manifestDigest } from './manifest.ts';
import { commitFilter, filterString, MlflowClient, trackingAuth, type ModelVersion, type RunInfo } from './mlflow.ts';
import { artifactBaseUrl, versionUiUrl } from './urls.ts';
import { scanModelDir } from './model-dir.ts';
import { systemClock, type Clock } from './clock.ts';
import { awaitReady, decideReuse, registerVersion, setAliases } from './registration.ts';
import { formatBytes, formatDuration, renderChecks, renderFailure, renderPlan, renderSuccess, type RegisteredResult } from './summary.ts';
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
}

/** Reads and masks the inputs, and builds the clients both entry points use. */
function openSession(deps: Deps, secrets: string[], signal: AbortSignal | undefined): Session {
  const raw = readRawInputs(deps.env);
  // Mask first, before anything can print them.
  for (const secret of [raw['api-key'], raw['tracking-password']]) {
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
    } else {
      modeTitle = session.cfg.dryRun ? 'Dry run' : modeTitle;
      await registerMode(session);
    }
  } catch (thrown) {
    let err = toActionError(thrown, 'Run');
    if (cancelledBy) {
      // Keep what had happened by then (e.g. "version 3 was created, but …") unless it is just the abort.
      const before = err.code === 'CANCELLED' ? '' : ` (${err.message})`;
      err = new ActionError(`the job was cancelled (${cancelledBy}) during this step${before}`, {
        step: err.step,
        hint: `Nothing to fix: the runner cancelled the job.${session?.activeRun || session?.pendingRun ? ' The MLflow run this job started is marked KILLED.' : ''} Re-run the job to register.`,
      });
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
    if (!err.reported) await writeSummary(deps.env, redact(renderFailure(err, modeTitle), secrets));
  } finally {
    deps.signals.off('SIGINT', onSignal);
    deps.signals.off('SIGTERM', onSignal);
  }
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
  await writeSummary(s.deps.env, redact(renderChecks(checks, { trackingUri: cfg.trackingUri.href, modelName: cfg.modelName }), s.secrets));
  if (status === 'fail') {
    const failed = checks.filter((c) => c.result === 'fail');
    throw new ActionError(
      `${failed.length} of ${checks.length} checks failed:\n${failed.map((c) => `  - ${c.name}: ${c.detail}${c.request ? `\n    request: ${c.request}` : ''}`).join('\n')}`,
      { step: 'Check the registry', hint: failed[0]?.hint ?? 'See the checks above.', reported: true },
    );
  }
}

async function registerMode(s: Session): Promise<void> {
  const { cfg, mlflow, lineage, deps } = s;
  const { clock } = deps;

  const model = await core.group('Validate model directory', async () => {
    const dir = await scanModelDir(cfg.modelPath);
    const manifest = await buildManifest(dir.files);
    const digest = manifestDigest(manifest);
    core.info(`${dir.root}: ${dir.files.length} files, ${formatBytes(dir.totalBytes)}, flavors: ${dir.flavors.join(', ')}`);
    core.info(`Content digest ${digest}`);
    for (const e of manifest) core.debug(`${e.sha256}  ${e.size}  ${e.path}`);
    return { ...dir, digest };
  });

  const { authUrl, apiKey } = cfg;
  if (authUrl && apiKey) {
    await core.group('Validate API key', async () => {
      const info = await validateKey(s.http, authUrl, apiKey, cfg.serviceId);
      core.info(
        `The key is valid for service "${info.serviceId}"${info.scopes ? ` with scopes: ${info.scopes.join(', ') || 'none'}` : ''}.`,
      );
      requireWrite(info);
    });
  } else {
    core.info('Key validation is off (auth-url is empty).');
  }

  // Everything below up to "Start MLflow run" only reads, so a dry run stops after it.
  const preflight = await core.group('Preflight (read-only)', async () => {
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
    };
    core.info(
      `Dry run: would register ${model.files.length} files (${formatBytes(model.totalBytes)}) as a new version of "${cfg.modelName}". Nothing was written.`,
    );
    setOutputs(s, { 'model-name': cfg.modelName, digest: model.digest, 'experiment-id': plan.experimentId ?? '' });
    await writeSummary(s.deps.env, redact(renderPlan(plan), s.secrets));
    return;
  }

  if (decision.kind === 'reuse') return reuseVersion(s, decision.version, model, preflight.experiment?.experiment_id);
  if (decision.reason) core.info(decision.reason);

  const { experiment, runInfo } = await core.group('Start MLflow run', async () => {
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
  const uploadMs = await core.group('Upload model', async () => {
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
  const version = await core.group('Register model version', async () => {
    const { version: created, createdModel } = await registerVersion(mlflow, {
      name: cfg.modelName,
      source,
      runId: runInfo.run_id,
      tags: [...lineageTags(lineage, model.digest), ...userTags(cfg)],
      runLink: lineage.runUrl,
      description: cfg.description,
    });
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

  const result = resultOf(s, version, model, {
    runId: runInfo.run_id,
    experimentId: experiment.experiment_id,
    source,
    reused: false,
    note: decision.reason,
    uploadMs,
  });
  await finish(s, result);
}

/** The same commit and content were registered before: point the aliases at that version, add nothing. */
async function reuseVersion(
  s: Session,
  existing: ModelVersion,
  model: { files: unknown[]; totalBytes: number; digest: string },
  experimentId: string | undefined,
) {
  const { cfg, mlflow, lineage, deps } = s;
  const version = await core.group('Reuse version', async () => {
    core.info(
      `Version ${existing.version} of "${cfg.modelName}" was registered for commit ${lineage.commit.slice(0, 12)} with the same content: reusing it.`,
    );
    const ready = await awaitReady(mlflow, deps.clock, existing, cfg.awaitTimeoutSeconds);
    await setAliases(mlflow, cfg.modelName, ready.version, cfg.aliases);
    for (const alias of cfg.aliases) core.info(`Alias ${alias} → version ${ready.version}`);
    return ready;
  });
  const runId = version.run_id ?? '';
  // Only for the experiment-id output: a run deleted since must not fail a reuse whose aliases are set.
  const run = runId ? await mlflow.getRun('Reuse version', runId).catch(() => undefined) : undefined;
  await finish(
    s,
    resultOf(s, version, model, {
      runId,
      experimentId: run?.experiment_id ?? experimentId ?? '',
      source: version.source ?? '',
      reused: true,
      note: undefined,
      uploadMs: undefined,
    }),
  );
}

/** The summary's and the outputs' view of a registration (pure). */
function resultOf(
  s: Session,
  version: ModelVersion,
  model: { files: unknown[]; totalBytes: number; digest: string },
  rest: Pick<RegisteredResult, 'runId' | 'experimentId' | 'source' | 'reused' | 'note' | 'uploadMs'>,
): RegisteredResult {
  const { cfg, lineage } = s;
  return {
    modelName: cfg.modelName,
    version: version.version,
    versionUrl: versionUiUrl(cfg.trackingUri, cfg.modelName, version.version),
    modelUri: `models:/${cfg.modelName}/${version.version}`,
    aliases: cfg.aliases,
    files: model.files.length,
    bytes: model.totalBytes,
    digest: model.digest,
    experimentName: cfg.experimentName,
    commit: lineage.commit,
    runUrl: lineage.runUrl,
    durationMs: s.deps.clock.now() - s.started,
    ...rest,
  };
}

async function finish(s: Session, result: RegisteredResult): Promise<void> {
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
  });
  core.info(`${result.reused ? 'Reused' : 'Registered'} ${result.modelUri} in ${formatDuration(result.durationMs)}.`);
  await writeSummary(s.deps.env, redact(renderSuccess(result), s.secrets));
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

async function writeSummary(env: NodeJS.ProcessEnv, markdown: string): Promise<void> {
  // core.summary reads the variable from process.env itself.
  if (!env.GITHUB_STEP_SUMMARY) return;
  try {
    await core.summary.addRaw(markdown).write();
  } catch (e) {
    core.debug(`Could not write the job summary: ${String(e)}`);
  }
}
