// mode: verify. Read-only checks that tell a pull request, in seconds, whether the
// registry is usable with this key. Each check is a row in the summary; a failed check
// makes the later checks that depend on it "skipped", so the first failure is the one shown.
import { requireWrite, validateKey } from './auth.ts';
import type { Clock } from './clock.ts';
import { ActionError } from './errors.ts';
import type { HttpClient } from './http.ts';
import type { Config } from './inputs.ts';
import { filterString, type MlflowClient } from './mlflow.ts';
import type { Road } from './stores/road.ts';
import { settleAll } from './settle.ts';
import type { ArtifactStore } from './stores/store.ts';

export type CheckResult = 'pass' | 'warn' | 'fail' | 'skipped';

export interface Check {
  name: string;
  result: CheckResult;
  latencyMs: number | undefined;
  detail: string;
  hint?: string;
  /** The failing request, when there was one. */
  request?: string;
}

export interface VerifyDeps {
  cfg: Config;
  http: HttpClient;
  mlflow: MlflowClient;
  clock: Clock;
  /** The road for an artifact location and the store on it; throws for a store the action cannot write to. */
  openRoad: (location: string | undefined) => { road: Road; store: ArtifactStore };
}

export const CHECK_NAMES = {
  key: 'API key present',
  validation: 'Key validation',
  tracking: 'Tracking server',
  registry: 'Model registry',
  artifacts: 'Artifact proxy',
  store: 'Artifact store',
  model: 'Model',
} as const;

/** Runs fn, timing it, and turns an ActionError into a failed check. */
async function attempt(name: string, clock: Clock, fn: () => Promise<Omit<Check, 'name' | 'latencyMs'>>): Promise<Check> {
  const t0 = clock.now();
  try {
    const out = await fn();
    return { name, latencyMs: clock.now() - t0, ...out };
  } catch (err) {
    if (!(err instanceof ActionError)) throw err;
    return {
      name,
      result: 'fail',
      latencyMs: clock.now() - t0,
      detail: `${err.message}${err.serverMessage ? ` (server said: ${err.serverMessage})` : ''}`,
      hint: err.hint,
      request: err.request,
    };
  }
}

const skipped = (name: string, detail: string): Check => ({ name, result: 'skipped', latencyMs: undefined, detail });

export async function runChecks({ cfg, http, mlflow, clock, openRoad }: VerifyDeps): Promise<Check[]> {
  const checks: Check[] = [];

  // 1. Key present. Forks get no secrets, so by default a missing key skips, not fails.
  const needsKey = cfg.authUrl !== undefined;
  if (cfg.apiKey) {
    checks.push({ name: CHECK_NAMES.key, result: 'pass', latencyMs: undefined, detail: 'api-key is set (masked).' });
  } else if (cfg.requireKey) {
    checks.push({
      name: CHECK_NAMES.key,
      result: 'fail',
      latencyMs: undefined,
      detail: 'api-key is empty and require-key is true.',
      hint: 'Pass the key from a secret (api-key: ${{ secrets.HOKUSAI_API_KEY }}). Pull requests from forks get no secrets: set require-key: false for workflows they run.',
    });
  } else {
    checks.push(
      skipped(
        CHECK_NAMES.key,
        needsKey
          ? 'No api-key: expected on pull requests from forks, which get no secrets. The checks that need a key were skipped.'
          : 'No api-key given; none is needed with key validation off.',
      ),
    );
  }
  const haveKey = cfg.apiKey !== undefined;
  if (needsKey && !haveKey) {
    const why = 'needs the api-key.';
    checks.push(skipped(CHECK_NAMES.validation, why), skipped(CHECK_NAMES.tracking, why), skipped(CHECK_NAMES.registry, why));
    checks.push(skipped(CHECK_NAMES.artifacts, why));
    if (cfg.modelName) checks.push(skipped(CHECK_NAMES.model, why));
    return checks;
  }

  // 2.–6. Every check's requests at once, for a check that answers in one round trip or two;
  // a failed check still turns the ones that depend on it into "skipped", in this order.
  const { authUrl, apiKey } = cfg;
  const [validation, tracking, registry, store, model] = await Promise.all([
    authUrl && apiKey
      ? attempt(CHECK_NAMES.validation, clock, async () => {
          const info = await validateKey(http, authUrl, apiKey, cfg.serviceId);
          const scopes = info.scopes ? `; scopes: ${info.scopes.join(', ') || 'none'}` : '';
          try {
            requireWrite(info);
          } catch (err) {
            if (!(err instanceof ActionError)) throw err;
            return {
              result: 'warn',
              detail: `Valid for "${info.serviceId}", but read-only${scopes}. Registering a model will fail.`,
              hint: err.hint,
            };
          }
          return { result: 'pass', detail: `Valid for "${info.serviceId}"${scopes}.` };
        })
      : skipped(CHECK_NAMES.validation, 'auth-url is empty: key validation is off.'),
    // Tracking server reachable and the credentials accepted.
    attempt(CHECK_NAMES.tracking, clock, async () => {
      await mlflow.searchExperiments(CHECK_NAMES.tracking);
      return { result: 'pass', detail: `Reachable at ${mlflow.trackingUri.href}; experiments/search answered.` };
    }),
    attempt(CHECK_NAMES.registry, clock, async () => {
      await mlflow.searchRegisteredModels(CHECK_NAMES.registry);
      return { result: 'pass', detail: 'registered-models/search answered.' };
    }),
    storeChecks({ cfg, mlflow, clock, openRoad }),
    cfg.modelName ? attempt(CHECK_NAMES.model, clock, () => modelCheck(mlflow, cfg.modelName)) : undefined,
  ]);
  const ifModel = (why: string) => (model ? [skipped(CHECK_NAMES.model, why)] : []);
  checks.push(validation);
  if (validation.result === 'fail') {
    const why = 'the key is not valid.';
    checks.push(
      skipped(CHECK_NAMES.tracking, why),
      skipped(CHECK_NAMES.registry, why),
      skipped(CHECK_NAMES.artifacts, why),
      ...ifModel(why),
    );
    return checks;
  }
  checks.push(tracking);
  if (tracking.result === 'fail') {
    const why = 'the tracking server check failed.';
    checks.push(skipped(CHECK_NAMES.registry, why), skipped(CHECK_NAMES.artifacts, why), ...ifModel(why));
    return checks;
  }
  checks.push(registry, ...store, ...(model ? [model] : []));
  return checks;
}

/**
 * Where a registration's files would go: the artifact proxy (the route that failed alone in
 * July 2025), or straight to a bucket, which the proxy then need not serve.
 */
async function storeChecks({ cfg, mlflow, clock, openRoad }: Omit<VerifyDeps, 'http'>): Promise<Check[]> {
  const location = cfg.artifactStore ? undefined : await artifactLocation(mlflow, cfg.experimentName);
  let opened: ReturnType<typeof openRoad> | undefined;
  const road = await attempt(CHECK_NAMES.store, clock, async () => {
    opened = openRoad(location);
    return { result: 'pass', detail: '' };
  });
  if (!opened) return [skipped(CHECK_NAMES.artifacts, 'no store the action can write to (see Artifact store).'), road];
  if (opened.road.kind === 'proxy') {
    const why = opened.road.why;
    return [
      await attempt(CHECK_NAMES.artifacts, clock, async () => {
        await mlflow.probeArtifacts(CHECK_NAMES.artifacts, '');
        return { result: 'pass', detail: `The mlflow-artifacts route is routed and serving; files go through it (${why}).` };
      }),
    ];
  }
  const { store } = opened;
  return [
    skipped(CHECK_NAMES.artifacts, `not used: files go straight to the bucket (${opened.road.why}).`),
    await attempt(CHECK_NAMES.store, clock, async () => ({ result: 'pass', detail: `${await store.probe(undefined)}.` })),
  ];
}

/** The model, when named: its latest version and aliases, both asked at once. */
async function modelCheck(mlflow: MlflowClient, name: string): Promise<Omit<Check, 'name' | 'latencyMs'>> {
  const [model, [latest]] = await settleAll([
    mlflow.getRegisteredModel(CHECK_NAMES.model, name),
    mlflow.searchModelVersions(CHECK_NAMES.model, `name=${filterString(name)}`, 1, 'version_number DESC'),
  ]);
  if (!model) return { result: 'pass', detail: `"${name}" is not registered yet; the first registration creates it.` };
  const aliases = (model.aliases ?? []).map((a) => `${a.alias} → ${a.version}`).join(', ');
  return { result: 'pass', detail: `"${name}" exists; latest version ${latest?.version ?? 'none'}; aliases: ${aliases || 'none'}.` };
}

/** The artifact location of the experiment a registration would use, or of a new one; undefined when unknown. */
async function artifactLocation(mlflow: MlflowClient, experimentName: string): Promise<string | undefined> {
  try {
    const experiment = await mlflow.getExperimentByName(CHECK_NAMES.store, experimentName);
    return experiment?.artifact_location ?? (await mlflow.defaultArtifactLocation(CHECK_NAMES.store));
  } catch (err) {
    if (err instanceof ActionError && err.code === 'CANCELLED') throw err;
    return undefined;
  }
}

export function overallStatus(checks: readonly Check[]): 'pass' | 'fail' {
  return checks.some((c) => c.result === 'fail') ? 'fail' : 'pass';
}

/** The `checks` output: one object per check. */
export function checksJson(checks: readonly Check[]): string {
  return JSON.stringify(
    checks.map((c) => ({
      name: c.name,
      result: c.result,
      latency_ms: c.latencyMs === undefined ? null : Math.round(c.latencyMs),
      detail: c.detail,
      ...(c.request ? { request: c.request } : {}),
      ...(c.hint ? { hint: c.hint } : {}),
    })),
  );
}
