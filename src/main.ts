// Orchestrates one run of the action: inputs → model directory → key → MLflow run →
// upload → verify → register → outputs and summary. The only catch and the only
// setFailed live here; a run created in MLflow always ends FINISHED or FAILED.
import * as core from '@actions/core';
import { context } from '@actions/github';
import { EnvHttpProxyAgent, type Dispatcher } from 'undici';
import { requireWrite, validateKey } from './auth.ts';
import { ActionError, formatError, redact, toActionError } from './errors.ts';
import { HttpClient } from './http.ts';
import { parseInputs, readRawInputs } from './inputs.ts';
import { lineageFrom, lineageTags, mlflowSourceTags, type GitHubContext } from './lineage.ts';
import { buildManifest, manifestDigest } from './manifest.ts';
import { artifactBaseUrl, MlflowClient, versionUiUrl, type RunInfo } from './mlflow.ts';
import { scanModelDir } from './model-dir.ts';
import { awaitReady, registerVersion, setAliases, type Clock } from './registration.ts';
import { formatBytes, formatDuration, renderFailure, renderSuccess, type RegisteredResult } from './summary.ts';
import { uploadFiles, verifyUpload, type UploadPlan } from './upload.ts';

export interface Deps {
  env: NodeJS.ProcessEnv;
  cwd: string;
  dispatcher: Dispatcher;
  clock: Clock;
  github: GitHubContext;
}

const USER_AGENT = 'hokusai-register-model-action/0.1';
const REQUEST_TIMEOUT_MS = 120_000;
const UPLOAD_CONCURRENCY = 4;

function defaultDeps(): Deps {
  return {
    env: process.env,
    cwd: process.cwd(),
    // Honours HTTPS_PROXY / NO_PROXY like the rest of the runner's tools.
    dispatcher: new EnvHttpProxyAgent(),
    clock: { now: () => Date.now(), sleep: (ms) => new Promise((r) => setTimeout(r, ms)) },
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

export async function run(overrides: Partial<Deps> = {}): Promise<void> {
  const deps = { ...defaultDeps(), ...overrides };
  const { clock } = deps;
  const started = clock.now();
  const secrets: string[] = [];
  let client: MlflowClient | undefined;
  let activeRun: RunInfo | undefined;
  let step = 'Read inputs';

  try {
    const raw = readRawInputs(deps.env);
    // Mask first, before anything can print it.
    if (raw['api-key']) {
      core.setSecret(raw['api-key']);
      secrets.push(raw['api-key']);
    }
    const cfg = parseInputs(raw, { cwd: deps.cwd, repository: deps.env.GITHUB_REPOSITORY });
    const lineage = lineageFrom(deps.github);
    const http = new HttpClient({
      dispatcher: deps.dispatcher,
      secrets,
      timeoutMs: REQUEST_TIMEOUT_MS,
      userAgent: USER_AGENT,
      debug: core.debug,
      now: clock.now,
    });

    step = 'Validate model directory';
    const model = await core.group(step, async () => {
      const dir = await scanModelDir(cfg.modelPath);
      const manifest = await buildManifest(dir.files);
      const digest = manifestDigest(manifest);
      core.info(`${dir.root}: ${dir.files.length} files, ${formatBytes(dir.totalBytes)}, flavors: ${dir.flavors.join(', ')}`);
      core.info(`Content digest ${digest}`);
      for (const e of manifest) core.debug(`${e.sha256}  ${e.size}  ${e.path}`);
      return { ...dir, digest };
    });

    step = 'Validate API key';
    const { authUrl, apiKey } = cfg;
    if (authUrl && apiKey) {
      await core.group(step, async () => {
        const info = await validateKey(http, authUrl, apiKey, cfg.serviceId);
        core.info(
          `The key is valid for service "${info.serviceId}"${info.scopes ? ` with scopes: ${info.scopes.join(', ') || 'none'}` : ''}.`,
        );
        requireWrite(info);
      });
    } else {
      core.info('Key validation is off (auth-url is empty).');
    }

    step = 'Start MLflow run';
    const mlflow = new MlflowClient(http, cfg.trackingUri, cfg.apiKey);
    client = mlflow;
    const { experimentId, runInfo } = await core.group(step, async () => {
      const experiment = await ensureExperiment(mlflow, step, cfg.experimentName);
      // Refuse an unusable artifact location before a run exists.
      if (experiment.artifact_location) artifactBaseUrl(cfg.trackingUri, experiment.artifact_location);
      const runName = lineage.commit ? `${cfg.modelName}@${lineage.commit.slice(0, 7)}` : cfg.modelName;
      const tags = [
        ...mlflowSourceTags(lineage, deps.github.serverUrl),
        ...lineageTags(lineage, model.digest),
        ...cfg.tags.map(([key, value]) => ({ key, value })),
      ];
      const info = await mlflow.createRun(step, experiment.experiment_id, runName, clock.now(), tags);
      activeRun = info;
      core.info(`Experiment "${cfg.experimentName}" (id ${experiment.experiment_id}), run ${info.run_id}`);
      core.debug(`Run artifact URI: ${info.artifact_uri}`);
      return { experimentId: experiment.experiment_id, runInfo: info };
    });

    step = 'Upload model';
    const plan: UploadPlan = {
      base: artifactBaseUrl(cfg.trackingUri, runInfo.artifact_uri),
      artifactPath: cfg.artifactPath,
      files: model.files,
    };
    await core.group(step, async () => {
      const t0 = clock.now();
      await uploadFiles(mlflow, plan, UPLOAD_CONCURRENCY, (f) => core.debug(`uploaded ${f.relPath} (${f.size} bytes)`));
      core.info(`Uploaded ${model.files.length} files (${formatBytes(model.totalBytes)}) in ${formatDuration(clock.now() - t0)}.`);
      step = 'Verify upload';
      await verifyUpload(mlflow, runInfo.run_id, plan);
      core.info('Every file is on the server with its full size.');
    });

    step = 'Register model version';
    const source = `${runInfo.artifact_uri.replace(/\/+$/, '')}/${cfg.artifactPath}`;
    const version = await core.group(step, async () => {
      const { version: created, createdModel } = await registerVersion(mlflow, {
        name: cfg.modelName,
        source,
        runId: runInfo.run_id,
        tags: [...lineageTags(lineage, model.digest), ...cfg.tags.map(([key, value]) => ({ key, value }))],
        runLink: lineage.runUrl,
        description: cfg.description,
      });
      core.info(
        `${createdModel ? 'Created registered model' : 'Registered model exists:'} "${cfg.modelName}"; new version ${created.version} (${created.status ?? 'status unknown'}).`,
      );
      step = 'Wait for version READY';
      const ready = await awaitReady(mlflow, clock, created, cfg.awaitTimeoutSeconds);
      step = 'Set aliases';
      await setAliases(mlflow, cfg.modelName, ready.version, cfg.aliases);
      for (const alias of cfg.aliases) core.info(`Alias ${alias} → version ${ready.version}`);
      return ready;
    });

    step = 'Finish MLflow run';
    await mlflow.updateRun(step, runInfo.run_id, 'FINISHED', clock.now());
    activeRun = undefined;

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
      experimentId,
      experimentName: cfg.experimentName,
      source,
      commit: lineage.commit,
      runUrl: lineage.runUrl,
      durationMs: clock.now() - started,
    };
    const outputs: Record<string, string> = {
      'model-name': result.modelName,
      'model-version': result.version,
      'model-uri': result.modelUri,
      'run-id': result.runId,
      'experiment-id': result.experimentId,
      source: result.source,
      'version-url': result.versionUrl,
      digest: result.digest,
    };
    for (const [name, value] of Object.entries(outputs)) core.setOutput(name, redact(value, secrets));
    core.info(`Registered ${result.modelUri} in ${formatDuration(result.durationMs)}.`);
    await writeSummary(redact(renderSuccess(result), secrets));
  } catch (thrown) {
    const err = toActionError(thrown, step);
    if (client && activeRun) await failRun(client, activeRun, redact(`${err.step}: ${err.message}`, secrets), clock);
    core.setFailed(redact(formatError(err), secrets));
    await writeSummary(redact(renderFailure(err), secrets));
  }
}

/** Gets the experiment by name, creating it (or restoring a deleted one). */
async function ensureExperiment(client: MlflowClient, step: string, name: string) {
  let experiment = await client.getExperimentByName(step, name);
  if (!experiment) {
    // Another job may create it between our get and create; then the second get finds it.
    await client.createExperiment(step, name);
    experiment = await client.getExperimentByName(step, name);
  }
  if (!experiment) {
    throw new ActionError(`experiment "${name}" could not be created or read back`, {
      step,
      hint: 'Check that the key may create experiments on this server.',
    });
  }
  if (experiment.lifecycle_stage === 'deleted') {
    core.info(`Experiment "${name}" was deleted; restoring it.`);
    await client.restoreExperiment(step, experiment.experiment_id);
  }
  return experiment;
}

/** Best effort: a failure here must not hide the original error. */
async function failRun(client: MlflowClient, runInfo: RunInfo, reason: string, clock: Clock): Promise<void> {
  const step = 'Mark run FAILED';
  try {
    await client.setRunTag(step, runInfo.run_id, 'failure_reason', reason.slice(0, 5000));
  } catch {
    // the status update below matters more than the tag
  }
  try {
    await client.updateRun(step, runInfo.run_id, 'FAILED', clock.now());
    core.info(`MLflow run ${runInfo.run_id} marked FAILED.`);
  } catch (e) {
    core.warning(
      `Could not mark MLflow run ${runInfo.run_id} as FAILED: ${e instanceof ActionError ? e.message : String(e)}. End it in the MLflow UI.`,
    );
  }
}

async function writeSummary(markdown: string): Promise<void> {
  if (!process.env.GITHUB_STEP_SUMMARY) return;
  try {
    await core.summary.addRaw(markdown).write();
  } catch (e) {
    core.debug(`Could not write the job summary: ${String(e)}`);
  }
}
