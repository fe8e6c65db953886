// Creates the registered model (if needed) and the version, waits until MLflow reports
// it READY, then points the aliases at it.
import type { Clock } from './clock.ts';
import { ActionError } from './errors.ts';
import type { MlflowClient, ModelVersion, Tag } from './mlflow.ts';

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

export async function registerVersion(
  client: MlflowClient,
  req: VersionRequest,
): Promise<{ version: ModelVersion; createdModel: boolean }> {
  const createdModel = await client.createRegisteredModel(STEP, req.name);
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
        hint: 'The registry could not finish the registration. Check the message above; re-running the job registers a new version.',
      },
    );
  }
  return current;
}

export async function setAliases(client: MlflowClient, name: string, version: string, aliases: readonly string[]): Promise<void> {
  for (const alias of aliases) await client.setAlias('Set aliases', name, alias, version);
}
