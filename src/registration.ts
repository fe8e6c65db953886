// Creates the registered model (if needed) and the version, waits until MLflow reports
// it READY, then points the aliases at it.
import type { Clock } from './clock.ts';
import { ActionError } from './errors.ts';
import type { MlflowClient, ModelVersion, Tag } from './mlflow.ts';
import { settleAll } from './settle.ts';

export interface VersionRequest {
  name: string;
  source: string;
  runId: string;
  tags: Tag[];
  runLink: string | undefined;
  description: string;
}

const STEP = 'Register model version';
/** MLflow's own client polls every 3 s. */
export const POLL_INTERVAL_MS = 3000;

/** `creating`: the registered model's creation under way (true once created), or false when it exists. */
export async function registerVersion(
  client: MlflowClient,
  creating: Promise<boolean> | false,
  req: VersionRequest,
): Promise<{ version: ModelVersion; createdModel: boolean }> {
  const createdModel = creating === false ? false : await creating;
  const version = await client.createModelVersion(STEP, {
    name: req.name,
    source: req.source,
    run_id: req.runId,
    tags: req.tags,
    ...(req.runLink ? { run_link: req.runLink } : {}),
    ...(req.description ? { description: req.description } : {}),
  });
  return { version, createdModel };
}

/** The code of the error for a version that ended in a state other than READY. */
export const VERSION_NOT_READY = 'VERSION_NOT_READY';

/** Polls until the version is READY. Fails on FAILED_REGISTRATION or after timeoutSeconds. */
export async function awaitReady(client: MlflowClient, clock: Clock, created: ModelVersion, timeoutSeconds: number): Promise<ModelVersion> {
  const step = 'Wait for version READY';
  const deadline = clock.now() + timeoutSeconds * 1000;
  let current = created;
  while (current.status === 'PENDING_REGISTRATION') {
    if (clock.now() >= deadline) {
      throw new ActionError(`version ${created.version} of "${created.name}" was still PENDING_REGISTRATION after ${timeoutSeconds} s`, {
        step,
        hint: 'The registry is slow to finish registrations. Raise await-timeout, or check the registry for a stuck version.',
      });
    }
    await clock.sleep(Math.min(POLL_INTERVAL_MS, Math.max(0, deadline - clock.now())));
    current = await client.getModelVersion(step, created.name, created.version);
  }
  if (current.status && current.status !== 'READY') {
    throw new ActionError(
      `version ${created.version} of "${created.name}" ended as ${current.status}${current.status_message ? `: ${current.status_message}` : ''}`,
      {
        step,
        code: VERSION_NOT_READY,
        hint: 'The registry could not finish the registration. Check the message above; re-running the job registers a new version.',
      },
    );
  }
  return current;
}

/** Side by side: each alias is its own request, and none depends on another. */
export async function setAliases(client: MlflowClient, name: string, version: string, aliases: readonly string[]): Promise<void> {
  await settleAll(aliases.map((alias) => client.setAlias('Set aliases', name, alias, version)));
}

export type ReuseDecision = { kind: 'reuse'; version: ModelVersion } | { kind: 'new'; reason: string | undefined };

/** The value of one of a version's tags, if it has it. */
export const versionTag = (v: ModelVersion, key: string) => v.tags?.find((t) => t.key === key)?.value;

/**
 * A re-run for the same commit and the same content reuses that version instead of adding a
 * duplicate; the same commit with other content gets a new version, and says why (pure).
 */
export function decideReuse(existing: readonly ModelVersion[], digest: string, commit: string): ReuseDecision {
  const same = existing
    .filter((v) => versionTag(v, 'model_digest') === digest && v.status !== 'FAILED_REGISTRATION')
    .sort((a, b) => Number(b.version) - Number(a.version))[0];
  if (same) return { kind: 'reuse', version: same };
  if (existing.length === 0) return { kind: 'new', reason: undefined };
  const versions = existing.map((v) => `${v.version} (${versionTag(v, 'model_digest') ?? 'no digest'})`).join(', ');
  return {
    kind: 'new',
    reason: `Commit ${commit.slice(0, 12)} already has version ${versions}, but the model directory now has digest ${digest}: registering a new version.`,
  };
}

/**
 * promote: the version registered for a commit. Several (the content changed and the
 * commit was registered again): the newest wins, as a re-run would have made it (pure).
 */
export function pickCommitVersion(
  versions: readonly ModelVersion[],
  name: string,
  commit: string,
): { version: ModelVersion; others: string[] } {
  const usable = versions.filter((v) => v.status !== 'FAILED_REGISTRATION').sort((a, b) => Number(b.version) - Number(a.version));
  const [newest, ...rest] = usable;
  if (!newest) {
    const failed = versions.length ? ` (version ${versions.map((v) => v.version).join(', ')} failed to register)` : '';
    throw new ActionError(`no version of "${name}" was registered for commit ${commit.slice(0, 12)}${failed}`, {
      step: 'Find the version to promote',
      hint: `Register the model for this commit first (mode: register on push), or name the version with the version input. The commit is matched by the git_sha tag the action sets at registration; a release on another commit needs git-sha set to the registered commit.`,
    });
  }
  return { version: newest, others: rest.map((v) => v.version) };
}

/** Each alias with the version it points at now ('' if none) (pure). */
export function currentAliases(
  model: { aliases?: ReadonlyArray<{ alias: string; version: string }> } | undefined,
  aliases: readonly string[],
): Array<{ alias: string; previous: string }> {
  return aliases.map((alias) => ({ alias, previous: model?.aliases?.find((a) => a.alias === alias)?.version ?? '' }));
}
