// Orchestrates one run of the action. register: inputs → model directory → key →
// preflight → MLflow run → upload → verify → register → outputs and summary.
// verify: read-only checks. The only catch and the only setFailed live here; a run
// created in MLflow always ends FINISHED or FAILED.
import * as core from '@actions/core';
import { context } from '@actions/github';
import { EnvHttpProxyAgent, type Dispatcher } from 'undici';
import { requireWrite, validateKey } from './auth.ts';
import { ActionError, formatError, redact, toActionError } from './errors.ts';
import { HttpClient } from './http.ts';
import { parseInputs, readRawInputs, type Config } from './inputs.ts';
import { lineageFrom, lineageTags, mlflowSourceTags, type GitHubContext, type Lineage } from './lineage.ts';
import { buildManifest, manifestDigest } from './manifest.ts';
import { commitFilter, MlflowClient, trackingAuth, type RunInfo } from './mlflow.ts';
import { artifactBaseUrl, versionUiUrl } from './urls.ts';
import { scanModelDir } from './model-dir.ts';
import { systemClock, type Clock } from './clock.ts';
import { awaitReady, registerVersion, setAliases } from './registration.ts';
import { formatBytes, formatDuration, renderChecks, renderFailure, renderPlan, renderSuccess, type RegisteredResult } from './summary.ts';
import { uploadFiles, verifyUpload, type UploadPlan } from './upload.ts';
import { checksJson, overallStatus, runChecks } from './verify.ts';

export interface Deps {
  env: NodeJS.ProcessEnv;
  cwd: string;
  dispatcher: Dispatcher;
  clock: Clock;
  github: GitHubContext;
}

const USER_AGENT = 'hokusai-register-model-action/0.1';
const UPLOAD_CONCURRENCY = 4;

function defaultDeps(): Deps {
  return {
    env: process.env,
    cwd: process.cwd(),
    // Honours HTTPS_PROXY / NO_PROXY like the rest of the runner's tools.
    dispatcher: new EnvHttpProxyAgent(),
    clock: systemClock,
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
  };
}

/** What a phase needs; built once from the config. */
interface Session {
  cfg: Config;
  deps: Deps;
  http: HttpClient;
  mlflow: MlflowClient;
  lineage: Lineage;
  started: number;
  secrets: string[];
  /** Set while an MLflow run is open, so a failure can end it. */
  activeRun?: RunInfo;
}

export async function run(overrides: Partial<Deps> = {}): Promise<void> {
  const deps = { ...defaultDeps(), ...overrides };
  const secrets: string[] = [];
  let session: Session | undefined;
  let modeTitle = 'Model registration';

  try {
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
    const http = new HttpClient({
      dispatcher: deps.dispatcher,
      secrets,
      timeoutMs: cfg.requestTimeoutSeconds * 1000,
      userAgent: USER_AGENT,
      debug: core.debug,
      now: deps.clock.now,
    });
    session = {
      cfg,
      deps,
      http,
      mlflow: new MlflowClient(http, cfg.trackingUri, auth),
      lineage: lineageFrom(deps.github),
      started: deps.clock.now(),
      secrets,
    };
    if (cfg.mode === 'verify') {
      modeTitle = 'Registry check';
      await verifyMode(session);
    } else {
      modeTitle = cfg.dryRun ? 'Dry run' : modeTitle;
      await registerMode(session);
    }
  } catch (thrown) {
    const err = toActionError(thrown, 'Run');
    if (session?.activeRun) await failRun(session, session.activeRun, redact(`${err.step}: ${err.message}`, secrets));
    core.setFailed(redact(formatError(err), secrets));
    if (!err.reported) await writeSummary(deps.env, redact(renderFailure(err, modeTitle), secrets));
  }
}

async function verifyMode(s: Session): Promise<void> {
  const { cfg } = s;
  const checks = await core.group('Check the registry (read-only)', async () => {
    const results = await runChecks({ cfg, http: s.http, mlflow: s.mlflow, clock: s.deps.clock });
    for (const c of results) {
      const latency = c.latencyMs === undefined ? '' : ` (${formatDuration(c.latencyMs)})`;
      core.info(`${c.result.toUpperCase().padEnd(7)} ${c.name}${latency}: ${c.detail}`);
      if (c.request) core.info(`        request: ${c.request}`);
      if (c.hint && c.result !== 'pass') core.info(`        what to do: ${c.hint}`);
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
    const existing =
      registered && lineage.commit ? await mlflow.searchModelVersions(step, commitFilter(cfg.modelName, lineage.commit), 20) : [];
    if (existing.length)
      core.info(`Already registered for commit ${lineage.commit.slice(0, 12)}: version ${existing.map((v) => v.version).join(', ')}.`);
    return { experiment, modelExists: registered !== undefined, existing };
  });

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
      modelExists: preflight.modelExists,
    };
    core.info(
      `Dry run: would register ${model.files.length} files (${formatBytes(model.totalBytes)}) as a new version of "${cfg.modelName}". Nothing was written.`,
    );
    setOutputs(s, { 'model-name': cfg.modelName, digest: model.digest, 'experiment-id': plan.experimentId ?? '' });
    await writeSummary(s.deps.env, redact(renderPlan(plan), s.secrets));
    return;
  }

  const { experiment, runInfo } = await core.group('Start MLflow run', async () => {
    const step = 'Start MLflow run';
    const { experiment: exp, restored } = await mlflow.ensureExperiment(step, cfg.experimentName, preflight.experiment);
    if (restored) core.info(`Experiment "${cfg.experimentName}" was deleted; restored it.`);
    const runName = lineage.commit ? `${cfg.modelName}@${lineage.commit.slice(0, 7)}` : cfg.modelName;
    const tags = [...mlflowSourceTags(lineage, deps.github.serverUrl), ...lineageTags(lineage, model.digest), ...userTags(cfg)];
    const info = await mlflow.createRun(step, exp.experiment_id, runName, clock.now(), tags);
    s.activeRun = info;
    core.info(`Experiment "${cfg.experimentName}" (id ${exp.experiment_id}), run ${info.run_id}`);
    core.debug(`Run artifact URI: ${info.artifact_uri}`);
    return { experiment: exp, runInfo: info };
  });

  const plan: UploadPlan = {
    base: artifactBaseUrl(cfg.trackingUri, runInfo.artifact_uri, 'Upload model'),
    artifactPath: cfg.artifactPath,
    files: model.files,
  };
  await core.group('Upload model', async () => {
    const t0 = clock.now();
    await uploadFiles(mlflow, plan, UPLOAD_CONCURRENCY, (f) => core.debug(`uploaded ${f.relPath} (${f.size} bytes)`));
    core.info(`Uploaded ${model.files.length} files (${formatBytes(model.totalBytes)}) in ${formatDuration(clock.now() - t0)}.`);
    await verifyUpload(mlflow, runInfo.run_id, plan);
    core.info('Every file is on the server with its full size.');
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

  const result: RegisteredResult = {
    modelName: cfg.modelName,
    version: version.version,
    versionUrl: versionUiUrl(cfg.trackingUri, cfg.modelName, version.version),
    modelUri: `models:/${cfg.modelName}/${version.version}`,
    aliases: cfg.aliases,
    files: model.files.length,
    bytes: model.totalBytes,
    digest: model.digest,
    runId: runInfo.run_id,
    experimentId: experiment.experiment_id,
    experimentName: cfg.experimentName,
    source,
    commit: lineage.commit,
    runUrl: lineage.runUrl,
    durationMs: clock.now() - s.started,
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
  });
  core.info(`Registered ${result.modelUri} in ${formatDuration(result.durationMs)}.`);
  await writeSummary(s.deps.env, redact(renderSuccess(result), s.secrets));
}

const userTags = (cfg: Config) => cfg.tags.map(([key, value]) => ({ key, value }));

function setOutputs(s: Session, outputs: Record<string, string>): void {
  for (const [name, value] of Object.entries(outputs)) core.setOutput(name, redact(value, s.secrets));
}

/** Best effort: a failure here must not hide the original error. */
async function failRun(s: Session, runInfo: RunInfo, reason: string): Promise<void> {
  const step = 'Mark run FAILED';
  try {
    await s.mlflow.setRunTag(step, runInfo.run_id, 'failure_reason', reason.slice(0, 5000));
  } catch {
    // the status update below matters more than the tag
  }
  try {
    await s.mlflow.updateRun(step, runInfo.run_id, 'FAILED', s.deps.clock.now());
    core.info(`MLflow run ${runInfo.run_id} marked FAILED.`);
  } catch (e) {
    core.warning(
      `Could not mark MLflow run ${runInfo.run_id} as FAILED: ${e instanceof ActionError ? e.message : String(e)}. End it in the MLflow UI.`,
    );
  }
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
