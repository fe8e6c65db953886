// mode: register (the default). The model directory becomes a new version of the registered
// model: check the files, the key and the registry (read-only), start an MLflow run, upload
// through an artifact store, check the upload, create the version, wait until it is READY,
// set the aliases, end the run, tell Hokusai, write the receipt, the outputs and the summary.
// The same commit and content registered before is reused instead.
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import { eventRetryHint, notifyHokusai, tagWithToken, withFailure } from '../announce.ts';
import { ActionError } from '../errors.ts';
import { hokusaiTags } from '../hokusai.ts';
import type { Config } from '../inputs.ts';
import { lineageTags, mlflowSourceTags } from '../lineage.ts';
import * as log from '../log.ts';
import {
  buildManifest,
  manifestDigest,
  manifestPathFor,
  sortManifest,
  storedManifest,
  type ManifestEntry,
  type Ranges,
} from '../manifest.ts';
import { commitFilter, type ModelVersion } from '../mlflow.ts';
import { scanModelDir, unreadableModelFile, type ModelFile } from '../model-dir.ts';
import { artifactName, buildReceipt, uploadReceipt, writeReceipt } from '../receipt.ts';
import { awaitReady, decideReuse, registerVersion, setAliases } from '../registration.ts';
import {
  phase,
  roadFor,
  runEnded,
  runRequested,
  runStarted,
  setOutputs,
  storeFor,
  withKeyCheck,
  writeSummary,
  type Session,
} from '../session.ts';
import { settleAll } from '../settle.ts';
import { planParts } from '../stores/store.ts';
import { s3Uri, type Road } from '../stores/road.ts';
import { progressLine } from '../stores/store.ts';
import {
  formatBytes,
  formatDuration,
  renderPlan,
  renderSuccess,
  type HokusaiResult,
  type ReceiptInfo,
  type RegisteredResult,
} from '../summary.ts';
import { experimentUiUrl, runUiUrl, versionUiUrl } from '../urls.ts';

const PROGRESS_EVERY_MS = 10_000;

interface ScannedModel {
  files: ModelFile[];
  totalBytes: number;
  digest: string;
  manifest: ManifestEntry[];
}

export async function registerMode(s: Session): Promise<void> {
  const { cfg, mlflow, lineage, deps } = s;
  const { clock } = deps;

  // 1. The model directory: its files and flavors. Small files are hashed from here on, while
  // the registry is asked; large ones only when a version may be reused (else as they upload).
  const dir = await phase(s, 'Validate model directory', async () => {
    const found = await scanModelDir(cfg.modelPath);
    log.info(`${found.root}: ${found.files.length} files, ${formatBytes(found.totalBytes)}, flavors: ${found.flavors.join(', ')}`);
    return found;
  });
  const partsOf = (f: ModelFile) => (f.size >= cfg.multipartThreshold ? planParts(f.size) : undefined);
  const smallHashes = hashing(
    buildManifest(
      dir.files.filter((f) => f.size < HASH_WHILE_SENDING),
      partsOf,
    ),
  );
  // Awaited inside the preflight; this only keeps an early failure from counting as unhandled.
  smallHashes.catch(() => undefined);

  // 2. The key and everything that only reads, side by side: a dry run stops after it.
  const preflight = await withKeyCheck(s, 'Preflight (read-only)', async () => {
    const [registry, small] = await settleAll([readRegistry(s), smallHashes]);
    return { ...registry, small };
  });

  // 3. The content digest: every file hashed first when a version may be reused (or for the
  // plan); otherwise the large files are hashed as they are sent, read once.
  const mayReuse = preflight.existing.length > 0 || cfg.dryRun;
  const large = dir.files.filter((f) => f.size >= HASH_WHILE_SENDING);
  const early = mayReuse && large.length ? [...preflight.small, ...(await hashLarge(s, large, partsOf))] : preflight.small;
  const complete = early.length === dir.files.length;
  let model: ScannedModel = {
    files: dir.files,
    totalBytes: dir.totalBytes,
    digest: complete ? manifestDigest(early) : '',
    manifest: early,
  };
  if (complete) logDigest(model);
  else
    log.info(
      `${large.length} large file${large.length === 1 ? ' is' : 's are'} hashed as ${large.length === 1 ? 'it goes' : 'they go'} up: no version of this commit can be reused.`,
    );

  const decision = complete ? decideReuse(preflight.existing, model.digest, lineage.commit) : ({ kind: 'new', reason: undefined } as const);
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
      commitUrl: lineage.commitUrl,
      existingVersions: preflight.existing.map((v) => v.version),
      reuse: decision.kind === 'reuse' ? decision.version.version : undefined,
      modelExists: preflight.modelExists,
      road: roadLine(preflight.road),
      timings: s.timings,
      hokusai: cfg.hokusai,
      runUrl: lineage.runUrl,
      metrics: cfg.metrics,
    };
    log.info(
      `Dry run: would register ${model.files.length} files (${formatBytes(model.totalBytes)}) as a new version of "${cfg.modelName}". Nothing was written.`,
    );
    setOutputs(s, { 'model-name': cfg.modelName, digest: model.digest, 'experiment-id': plan.experimentId ?? '' });
    await writeSummary(deps.env, renderPlan(plan), s.secrets, s, renderPlan(plan, { comment: true }));
    return;
  }

  // 4. The same commit and content are registered already: reuse that version.
  if (decision.kind === 'reuse') return reuseVersion(s, decision.version, model, preflight.experiment?.experiment_id);
  if (decision.reason) log.info(decision.reason);

  // 5. An MLflow run to hold the files; from here on a failure ends it FAILED.
  const { experiment, runInfo } = await phase(s, 'Start MLflow run', async () => {
    const step = 'Start MLflow run';
    const { experiment: exp, restored } = await mlflow.ensureExperiment(step, cfg.experimentName, preflight.experiment);
    if (restored) log.info(`Experiment "${cfg.experimentName}" was deleted; restored it.`);
    const runName = lineage.commit ? `${cfg.modelName}@${lineage.commit.slice(0, 7)}` : cfg.modelName;
    const tags = [...mlflowSourceTags(lineage, deps.github.serverUrl), ...lineageTags(lineage, model.digest), ...userTags(cfg)];
    const requestId = randomUUID();
    runRequested(s, exp.experiment_id, requestId);
    const info = await mlflow.createRun(step, exp.experiment_id, runName, clock.now(), tags, requestId);
    runStarted(s, info);
    log.info(`Experiment "${cfg.experimentName}" (id ${exp.experiment_id}), run ${info.run_id}`);
    log.debug(`Run artifact URI: ${info.artifact_uri}`);
    return { experiment: exp, runInfo: info };
  });

  // The run's own location decides the road; the preflight only predicted it.
  let { store } = preflight;
  const road = roadFor(s, runInfo.artifact_uri, 'Start MLflow run');
  const moved = !sameRoad(road, preflight.road);
  if (moved) store = storeFor(s, road);
  if (moved || !preflight.probed) {
    log.info(`The run's artifact location is ${runInfo.artifact_uri}: ${road.why}.`);
    log.info(await store.probe(experiment));
  }

  // 6. The files, then proof that every one arrived whole and can be served back, with the
  // manifest beside them and the metrics on the run. The registered model, when the preflight
  // found none, is created meanwhile (and removed if the upload fails).
  const modelCreation = preflight.modelExists ? undefined : mlflow.createRegisteredModel(REGISTER, cfg.modelName);
  modelCreation?.catch(() => undefined);
  const metricsLogged = cfg.metrics.length ? mlflow.logMetrics(UPLOAD, runInfo.run_id, cfg.metrics, clock.now()) : Promise.resolve();
  metricsLogged.catch(() => undefined);
  const uploadMs = await phase(s, UPLOAD, async () => {
    const t0 = clock.now();
    const progress = { filesDone: 0, files: model.files.length, bytesDone: 0, bytes: model.totalBytes, elapsedMs: 0 };
    let lastLog = t0;
    const report = () => {
      // A line about every 10 s, so long uploads show they are moving.
      if (clock.now() - lastLog < PROGRESS_EVERY_MS) return;
      lastLog = clock.now();
      log.info(progressLine({ ...progress, elapsedMs: lastLog - t0 }));
    };
    log.debug(`Uploading through the ${store.name}.`);
    const sent = await store.upload(runInfo, model.files, {
      concurrency: cfg.uploadConcurrency,
      multipartThreshold: cfg.multipartThreshold,
      clock,
      digests: new Map(model.manifest.map((e) => [e.path, e])),
      onBytes: (delta) => {
        progress.bytesDone += delta;
        report();
      },
      onFile: (f, how) => {
        progress.filesDone++;
        log.debug(`uploaded ${f.relPath} (${f.size} bytes${how === 'multipart' ? ', in parts' : ''})`);
      },
    });
    const ms = clock.now() - t0;
    log.info(
      `Uploaded ${model.files.length} files (${formatBytes(model.totalBytes)}) in ${formatDuration(ms)}, ${formatBytes((model.totalBytes / Math.max(ms, 1)) * 1000)}/s.`,
    );
    if (!complete) {
      // The large files were hashed as they went up: now the digest is whole.
      model = { ...model, manifest: sortManifest([...model.manifest, ...sent]) };
      model.digest = manifestDigest(model.manifest);
      logDigest(model);
    }
    await settleAll([
      store.verify(runInfo, model.files),
      store.saveManifest(runInfo, storedManifest(model.manifest, model.digest)),
      metricsLogged,
    ]);
    log.info(`Every file is in place with its full size (${store.name}); the manifest is stored as ${manifestPathFor(cfg.artifactPath)}.`);
    if (cfg.metrics.length)
      log.info(
        `Logged ${cfg.metrics.length === 1 ? '1 metric' : `${cfg.metrics.length} metrics`} on the run: ${cfg.metrics.map(([k, v]) => `${k}=${v}`).join(', ')}.`,
      );
    return ms;
  }).catch(async (err: unknown) => {
    await dropCreatedModel(s, modelCreation);
    throw err;
  });

  // 7. The version, READY, with its aliases; from here on a failure names it.
  const source = store.source(runInfo);
  const version = await phase(s, 'Register model version', async () => {
    const { version: created, createdModel } = await registerVersion(mlflow, modelCreation ?? false, {
      name: cfg.modelName,
      source,
      runId: runInfo.run_id,
      // The Hokusai tags go on with the version itself: no window in which it lacks them.
      tags: [...lineageTags(lineage, model.digest), ...userTags(cfg), ...(cfg.hokusai ? hokusaiTags(cfg.hokusai, runInfo.run_id) : [])],
      runLink: lineage.runUrl,
      description: cfg.description,
    });
    s.registered = { modelUri: `models:/${cfg.modelName}/${created.version}`, version: created.version };
    log.info(
      `${createdModel ? 'Created registered model' : 'Registered model exists:'} "${cfg.modelName}"; new version ${created.version} (${created.status ?? 'status unknown'}).`,
    );
    try {
      const ready = await awaitReady(mlflow, clock, created, cfg.awaitTimeoutSeconds);
      // 8. The aliases and the run's end side by side: the run is done once the version is READY.
      await settleAll([
        setAliases(mlflow, cfg.modelName, ready.version, cfg.aliases),
        // The run learns the digest now when its large files were hashed on the way up.
        complete ? Promise.resolve() : mlflow.setRunTag(FINISH, runInfo.run_id, 'model_digest', model.digest),
        mlflow.updateRun(FINISH, runInfo.run_id, 'FINISHED', clock.now()).then(() => runEnded(s)),
      ]);
      for (const alias of cfg.aliases) log.info(`Alias ${alias} → version ${ready.version}`);
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

  // 9. The rest is telling people.
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
  const reused = await phase(s, 'Reuse version', async () => {
    log.info(
      `Version ${existing.version} of "${cfg.modelName}" was registered for commit ${lineage.commit.slice(0, 12)} with the same content: reusing it.`,
    );
    if (cfg.metrics.length)
      log.info('The metrics input is not logged again: the reused version keeps the metrics of the run that registered it.');
    const ready = await awaitReady(mlflow, deps.clock, existing, cfg.awaitTimeoutSeconds);
    // The aliases, the tags and the run's experiment (for the experiment-id output) side by side.
    // The first run may have had other token inputs: the version carries what this run says. A
    // run deleted since must not fail a reuse whose aliases are set.
    const runId = ready.run_id ?? '';
    const [, , run] = await settleAll([
      setAliases(mlflow, cfg.modelName, ready.version, cfg.aliases),
      tagWithToken(s, ready),
      runId ? mlflow.getRun('Reuse version', runId).catch(() => undefined) : Promise.resolve(undefined),
    ]);
    for (const alias of cfg.aliases) log.info(`Alias ${alias} → version ${ready.version}`);
    return { ready, run };
  });
  const { ready: version, run } = reused;
  const runId = version.run_id ?? '';
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
  const retry = `${eventRetryHint(cfg.modelName, version.version)}${lineage.commit ? ` Re-running this job does the same when the model files are unchanged (same commit and digest: the version is reused); a retrained model gets a new version, which is announced instead.` : ''}`;
  const notified = await notifyHokusai(s, version, rest.runId, modelUri);
  const event = notified && withFailure(notified, modelUri, retry);
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
    commitUrl: lineage.commitUrl,
    mlflowRunUrl: rest.runId && rest.experimentId ? runUiUrl(cfg.trackingUri, rest.experimentId, rest.runId) : undefined,
    experimentUrl: rest.experimentId ? experimentUiUrl(cfg.trackingUri, rest.experimentId) : undefined,
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
  log.info(`${result.reused ? 'Reused' : 'Registered'} ${result.modelUri} in ${formatDuration(result.durationMs)}.`);
  await writeSummary(s.deps.env, renderSuccess(result), s.secrets, s, renderSuccess(result, { comment: true }));
  if (event?.error) throw event.error;
}

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
      log.warning(`Could not write the receipt: ${e instanceof Error ? e.message : String(e)}. The registration itself succeeded.`, {
        title: 'Receipt not written',
      });
      return undefined;
    }
    log.info(`Receipt written to ${path}.`);
    if (!cfg.uploadReceipt) return { path, note: 'upload-receipt is false' };
    const name = artifactName({ modelName: cfg.modelName, version, job: deps.env.GITHUB_JOB ?? '', runAttempt: lineage.runAttempt });
    const up = await uploadReceipt(path, name, deps.env);
    if (up.kind === 'uploaded') {
      log.info(`Receipt uploaded as artifact "${up.name}"${up.url ? `: ${up.url}` : ''}.`);
      return { path, artifactName: up.name, artifactUrl: up.url };
    }
    const say = up.kind === 'unavailable' ? log.notice : log.warning;
    say(`${up.reason}. The receipt is at ${path}.`, { title: 'Receipt not uploaded' });
    return { path, note: up.reason };
  });
}

const REGISTER = 'Register model version';
const UPLOAD = 'Upload model';
const FINISH = 'Finish MLflow run';

/** An upload that failed leaves no registered model behind that this run created for it. */
async function dropCreatedModel(s: Session, creation: Promise<boolean> | undefined): Promise<void> {
  if (!(await creation?.catch(() => false))) return;
  // The cleanup client: it still works after a cancel.
  await s.cleanup.deleteEmptyRegisteredModel('Upload model', s.cfg.modelName).catch((e: unknown) => {
    log.warning(
      `Could not remove the registered model "${s.cfg.modelName}" this run created for the upload: ${e instanceof Error ? e.message : String(e)}. It has no version.`,
    );
  });
}

/** Files this large are hashed as they are sent when no version can be reused: read once, not twice. */
const HASH_WHILE_SENDING = 8 * 1024 * 1024;

/**
 * The registry's side of the preflight, its independent reads side by side: the experiment and
 * the road its files would take (probed), the registered model, and the versions of this commit.
 */
async function readRegistry(s: Session) {
  const { cfg, mlflow, lineage } = s;
  const step = 'Preflight';
  const [road, registered, existing] = await settleAll([
    (async () => {
      const experiment = await mlflow.getExperimentByName(step, cfg.experimentName);
      // A new experiment gets the server's default artifact root.
      const location = cfg.artifactStore ? undefined : (experiment?.artifact_location ?? (await mlflow.defaultArtifactLocation(step)));
      const chosen = roadFor(s, location, step);
      const store = storeFor(s, chosen);
      const where = `experiment "${cfg.experimentName}" ${experiment ? `has id ${experiment.experiment_id}` : 'does not exist yet'}`;
      // Where the server keeps a new experiment's files is unknown: a failing proxy probe must not
      // stop a registration that may go to a bucket; the run's own location decides, and is probed then.
      const probed = cfg.artifactStore !== undefined || location !== undefined;
      if (probed) log.info(`${await store.probe(experiment)}; ${where}.`);
      else log.info(`The server did not say where a new experiment's files go: the road is chosen once the run exists; ${where}.`);
      return { experiment, road: chosen, store, probed };
    })(),
    mlflow.getRegisteredModel(step, cfg.modelName),
    // One search: the digests in its answer decide a reuse, or say why a new version is made.
    lineage.commit ? mlflow.searchModelVersions(step, commitFilter(cfg.modelName, lineage.commit), COMMIT_VERSIONS) : Promise.resolve([]),
  ]);
  if (existing.length)
    log.info(`Already registered for commit ${lineage.commit.slice(0, 12)}: version ${existing.map((v) => v.version).join(', ')}.`);
  return { ...road, modelExists: registered !== undefined, existing };
}

/** A commit has one version per content it was registered with: far fewer than this. */
const COMMIT_VERSIONS = 100;

/** The large files' sha256 (and their parts'), read before the upload: only when a reuse is possible. */
const hashLarge = (s: Session, files: readonly ModelFile[], partsOf: (f: ModelFile) => Ranges | undefined) =>
  phase(s, 'Content digest', () => hashing(buildManifest(files, partsOf)));

/** A file that cannot be read is a problem of the model directory. */
const hashing = <T>(p: Promise<T>): Promise<T> =>
  p.catch((e: unknown) => {
    throw unreadableModelFile(e);
  });

function logDigest(model: ScannedModel): void {
  log.info(`Content digest ${model.digest}`);
  for (const e of model.manifest) log.debug(`${e.sha256}  ${e.size}  ${e.path}`);
}

const sameRoad = (a: Road, b: Road) =>
  a.kind === b.kind &&
  (a.kind === 'proxy' || (b.kind === 's3' && (a.explicit || b.explicit ? a.explicit === b.explicit : a.base.bucket === b.base.bucket)));

/** Which road the files take and why, for the plan. */
const roadLine = (road: Road) =>
  road.kind === 'proxy' ? `MLflow artifact proxy (${road.why})` : `${s3Uri(road.base)}, with the job's AWS credentials (${road.why})`;

const userTags = (cfg: Config) => cfg.tags.map(([key, value]) => ({ key, value }));
