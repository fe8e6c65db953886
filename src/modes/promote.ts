// mode: promote. Points the aliases at an existing version, chosen by number or by the
// commit it was registered for; nothing is uploaded or created. With token-id, it also
// tags the version and sends its Hokusai event (the way to resend a failed one).
import { notifyHokusai, tagWithToken, tokenAbout, withFailure } from '../announce.ts';
import { ActionError } from '../errors.ts';
import * as log from '../log.ts';
import { commitPageUrl } from '../lineage.ts';
import { commitFilter, type ModelVersion, type RegisteredModel } from '../mlflow.ts';
import { awaitReady, currentAliases, pickCommitVersion, setAliases, VERSION_NOT_READY, versionTag } from '../registration.ts';
import { phase, setOutputs, withKeyCheck, writeSummary, type Session } from '../session.ts';
import { formatDuration, renderPromotion, type HokusaiResult } from '../summary.ts';
import { versionUiUrl } from '../urls.ts';

export async function promoteMode(s: Session): Promise<void> {
  const { cfg, mlflow, lineage, deps } = s;

  // 1. The version, found while the key is validated.
  const target = await withKeyCheck(s, FIND, () => findVersion(s));
  const { version } = target;
  if (version.status === 'FAILED_REGISTRATION')
    throw new ActionError(`version ${version.version} of "${cfg.modelName}" failed to register, so it cannot be promoted`, {
      step: FIND,
      serverMessage: version.status_message,
      hint: 'Register the model again, then promote the new version.',
    });
  log.info(
    `Version ${version.version} of "${cfg.modelName}"${target.chosenBy.kind === 'commit' ? ` (registered for commit ${target.chosenBy.commit.slice(0, 12)})` : ''}.`,
  );
  if (target.others.length)
    log.info(`The commit also has version ${target.others.join(', ')}; the newest, ${version.version}, is promoted.`);

  const aliases = currentAliases(target.model, cfg.aliases);
  const result = {
    modelName: cfg.modelName,
    version: version.version,
    versionUrl: versionUiUrl(cfg.trackingUri, cfg.modelName, version.version),
    modelUri: `models:/${cfg.modelName}/${version.version}`,
    chosenBy:
      target.chosenBy.kind === 'commit' ? { ...target.chosenBy, commitUrl: commitUrlOf(s, target.chosenBy.commit) } : target.chosenBy,
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

  // 2. A dry run stops here: it says what would move, and writes nothing.
  if (cfg.dryRun) {
    const status = version.status && version.status !== 'READY' ? ` (now ${version.status})` : '';
    const what = aliases.length ? `point ${aliases.map((a) => a.alias).join(', ')} at` : 'tag';
    log.info(`Dry run: would ${what} version ${version.version}${status}. Nothing was written.`);
    setOutputs(s, outputs);
    const token = cfg.hokusai;
    const plan: HokusaiResult | undefined = token && {
      ...tokenAbout(token),
      event: 'skipped',
      detail: token.notify
        ? 'dry run: a real run tags the version and sends the registration event'
        : 'dry run: a real run tags the version (notify-hokusai is false)',
    };
    const durationMs = deps.clock.now() - s.started;
    const page = { ...result, durationMs, dryRun: true, hokusai: plan };
    await writeSummary(deps.env, renderPromotion(page), s.secrets, s, renderPromotion(page, { comment: true }));
    return;
  }

  // 3. Wait until the version can be served, then move the aliases and tag it.
  const ready = await phase(s, 'Promote version', async () => {
    if (version.status !== 'READY')
      log.info(`Waiting for version ${version.version} (${version.status ?? 'status unknown'}) to become READY.`);
    const current = await awaitReady(mlflow, deps.clock, version, cfg.awaitTimeoutSeconds).catch((e: unknown) => {
      if (!(e instanceof ActionError) || e.code !== VERSION_NOT_READY) throw e;
      throw new ActionError(e.message, {
        ...e.details(),
        hint: 'This version cannot be promoted: promote another one with the version input, or register the model again.',
      });
    });
    await setAliases(mlflow, cfg.modelName, current.version, cfg.aliases);
    for (const a of aliases)
      log.info(
        `Alias ${a.alias}: ${a.previous === current.version ? `already on version ${current.version}` : `${a.previous ? `version ${a.previous}` : 'new'} → version ${current.version}`}`,
      );
    if (cfg.hokusai) await tagWithToken(s, current);
    return current;
  });

  // 4. Tell Hokusai, then outputs and summary; a failed event fails the step after them.
  const notified = await notifyHokusai(s, ready, ready.run_id ?? '', result.modelUri);
  const event = notified && withFailure(notified, result.modelUri, 'Then run this step again: it sends only what is missing.');
  setOutputs(s, { ...outputs, ...(event ? { 'hokusai-event': event.result.event } : {}) });
  const verb = cfg.aliases.length ? 'Promoted' : event?.result.event === 'sent' ? 'Announced' : 'Tagged';
  const durationMs = deps.clock.now() - s.started;
  log.info(`${verb} ${result.modelUri} in ${formatDuration(durationMs)}.`);
  const page = { ...result, durationMs, hokusai: event?.result };
  await writeSummary(deps.env, renderPromotion(page), s.secrets, s, renderPromotion(page, { comment: true }));
  if (event?.error) throw event.error;
}

const FIND = 'Find the version to promote';

/** The commit's page on GitHub: git-sha may name another commit than the one this run is for. */
const commitUrlOf = (s: Session, commit: string) =>
  s.lineage.repository ? commitPageUrl(s.deps.github.serverUrl, s.lineage.repository, commit) : undefined;

type ChosenBy = { kind: 'version' } | { kind: 'commit'; commit: string };

/** The version named by the version input, else the newest usable one of the commit. */
async function findVersion(s: Session): Promise<{ model: RegisteredModel; version: ModelVersion; chosenBy: ChosenBy; others: string[] }> {
  const { cfg, mlflow, lineage } = s;
  const commit = cfg.version ? undefined : (cfg.gitSha ?? lineage.commit);
  if (!cfg.version && !commit)
    throw new ActionError('there is no commit to look the version up by', {
      step: FIND,
      hint: 'Outside GitHub Actions there is no current commit: set git-sha to the registered commit, or version to the version number.',
    });
  // The model and its version side by side; a missing model is the error to report.
  const [model, found] = await Promise.allSettled([
    mlflow.getRegisteredModel(FIND, cfg.modelName),
    cfg.version
      ? mlflow.getModelVersion(FIND, cfg.modelName, cfg.version).then((v) => [v])
      : mlflow.searchModelVersions(FIND, commitFilter(cfg.modelName, commit ?? ''), 50),
  ]);
  if (model.status === 'rejected') throw model.reason;
  if (!model.value)
    throw new ActionError(`the registered model "${cfg.modelName}" does not exist on this tracking server`, {
      step: FIND,
      hint: 'Check model-name (names are case-sensitive) and tracking-uri; a model has to be registered (mode: register) before it can be promoted.',
    });
  if (found.status === 'rejected') {
    const e: unknown = found.reason;
    if (cfg.version && e instanceof ActionError && e.status === 404)
      throw new ActionError(`version ${cfg.version} of "${cfg.modelName}" does not exist`, {
        ...e.details(),
        hint: `Check the version input. The versions are listed on the model's page in the registry UI.`,
      });
    throw e;
  }
  if (!commit) return { model: model.value, version: found.value[0]!, chosenBy: { kind: 'version' }, others: [] };
  const { version, others } = pickCommitVersion(found.value, cfg.modelName, commit);
  return { model: model.value, version, chosenBy: { kind: 'commit', commit }, others };
}
