// A small client for the MLflow REST API, reached below the tracking URI's path prefix.
// Only the calls the action needs; every one goes through HttpClient.
import type { Readable } from 'node:stream';
import { ActionError } from './errors.ts';
import type { ErrorBody, HttpClient, HttpRequest } from './http.ts';

export interface Experiment {
  experiment_id: string;
  name: string;
  artifact_location?: string;
  lifecycle_stage?: string;
}

export interface RunInfo {
  run_id: string;
  experiment_id: string;
  status: string;
  artifact_uri: string;
}

export interface ModelVersion {
  name: string;
  version: string;
  status?: string;
  status_message?: string;
  source?: string;
  run_id?: string;
}

export interface ArtifactFile {
  path: string;
  is_dir?: boolean;
  file_size?: number | string;
}

export type Tag = { key: string; value: string };

/** `{tracking-uri}/api/2.0/...`: the REST path is appended below the URI's own path. */
export function apiUrl(trackingUri: URL, restPath: string, query?: Record<string, string>): URL {
  const u = new URL(trackingUri.href);
  u.pathname = `${u.pathname.replace(/\/+$/, '')}${restPath}`;
  u.search = '';
  if (query) for (const [k, v] of Object.entries(query)) u.searchParams.set(k, v);
  return u;
}

/** Encodes each path segment and keeps the separators. */
export function encodePath(relPath: string): string {
  return relPath.split('/').map(encodeURIComponent).join('/');
}

/**
 * The artifact-proxy URL under which a run's artifacts live, following MLflow's own
 * MlflowArtifactsRepository.resolve_uri. The key is only ever sent to the tracking host,
 * so an artifact URI on another host is refused.
 */
export function artifactBaseUrl(trackingUri: URL, artifactUri: string): URL {
  const step = 'Upload model';
  const m = /^mlflow-artifacts:(?:\/\/([^/]*))?(\/.*)?$/.exec(artifactUri);
  if (m) {
    const host = m[1];
    if (host && host !== trackingUri.host) {
      throw new ActionError(`the run's artifact location ${artifactUri} is on host ${host}, not on the tracking host ${trackingUri.host}`, {
        step,
        hint: 'The action sends the API key only to the tracking host. Use an experiment whose artifact location is plain mlflow-artifacts:/ (the server default with --serve-artifacts).',
      });
    }
    const rest = (m[2] ?? '/').replace(/\/+/g, '/').replace(/\/$/, '');
    return apiUrl(trackingUri, `/api/2.0/mlflow-artifacts/artifacts${rest}`);
  }
  if (/^https?:\/\//.test(artifactUri)) {
    const u = new URL(artifactUri);
    if (u.host === trackingUri.host && u.pathname.includes('/api/2.0/mlflow-artifacts/artifacts')) {
      u.pathname = u.pathname.replace(/\/+$/, '');
      return u;
    }
  }
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(artifactUri)?.[1] ?? 'a local path';
  throw new ActionError(`the run's artifact location is ${artifactUri}, which the tracking server does not proxy (${scheme})`, {
    step,
    hint: "The action uploads through the tracking server's artifact proxy. Run the server with --serve-artifacts (MLflow's default) and without a --default-artifact-root that points at a bucket or path, or use an experiment whose artifact location is mlflow-artifacts:/.",
  });
}

/** The registry UI page of a model version. Hokusai serves its UI at /mlflow next to the /api/mlflow proxy. */
export function versionUiUrl(trackingUri: URL, name: string, version: string): string {
  const base = new URL(trackingUri.href);
  const prefix = base.pathname.replace(/\/+$/, '').replace(/\/api\/mlflow$/, '/mlflow');
  return `${base.origin}${prefix}/#/models/${encodeURIComponent(name)}/versions/${encodeURIComponent(version)}`;
}

const alreadyExists = (status: number, e: ErrorBody) =>
  (status === 400 || status === 409) && (e.code === 'RESOURCE_ALREADY_EXISTS' || e.code === 'ALREADY_EXISTS');
const notFound = (status: number, e: ErrorBody) => status === 404 && e.code === 'RESOURCE_DOES_NOT_EXIST';

export class MlflowClient {
  private readonly http: HttpClient;
  readonly trackingUri: URL;
  private readonly token: string | undefined;

  constructor(http: HttpClient, trackingUri: URL, token: string | undefined) {
    this.http = http;
    this.trackingUri = trackingUri;
    this.token = token;
  }

  private async call<T>(
    step: string,
    method: 'GET' | 'POST',
    restPath: string,
    payload: Record<string, unknown>,
    extra: Partial<HttpRequest> = {},
  ) {
    const query = method === 'GET' ? Object.fromEntries(Object.entries(payload).map(([k, v]) => [k, String(v)])) : undefined;
    return this.http.send<T>({
      step,
      method,
      url: apiUrl(this.trackingUri, `/api/2.0/mlflow/${restPath}`, query),
      json: method === 'POST' ? payload : undefined,
      bearer: this.token,
      hintFor: mlflowHint,
      ...extra,
    });
  }

  /** Returns the experiment, or undefined when no experiment has that name. */
  async getExperimentByName(step: string, name: string): Promise<Experiment | undefined> {
    const res = await this.call<{ experiment: Experiment }>(
      step,
      'GET',
      'experiments/get-by-name',
      { experiment_name: name },
      { accept: notFound },
    );
    return res.status === 200 ? res.data.experiment : undefined;
  }

  /** Creates the experiment; undefined when another job created it first. */
  async createExperiment(step: string, name: string): Promise<string | undefined> {
    const res = await this.call<{ experiment_id: string }>(step, 'POST', 'experiments/create', { name }, { accept: alreadyExists });
    return res.status === 200 ? res.data.experiment_id : undefined;
  }

  async restoreExperiment(step: string, experimentId: string): Promise<void> {
    await this.call(step, 'POST', 'experiments/restore', { experiment_id: experimentId });
  }

  async createRun(step: string, experimentId: string, runName: string, startTime: number, tags: Tag[]): Promise<RunInfo> {
    const res = await this.call<{ run: { info: RunInfo } }>(step, 'POST', 'runs/create', {
      experiment_id: experimentId,
      run_name: runName,
      start_time: startTime,
      tags,
    });
    return res.data.run.info;
  }

  async updateRun(step: string, runId: string, status: 'FINISHED' | 'FAILED' | 'KILLED', endTime: number): Promise<void> {
    await this.call(step, 'POST', 'runs/update', { run_id: runId, status, end_time: endTime });
  }

  async setRunTag(step: string, runId: string, key: string, value: string): Promise<void> {
    await this.call(step, 'POST', 'runs/set-tag', { run_id: runId, key, value });
  }

  /** Every file below `dir` of the run's artifacts, recursively, with paths relative to the run's root. */
  async listArtifactsRecursive(step: string, runId: string, dir: string): Promise<ArtifactFile[]> {
    const out: ArtifactFile[] = [];
    const pending = [dir];
    while (pending.length > 0) {
      const current = pending.shift() as string;
      const res = await this.call<{ files?: ArtifactFile[] }>(step, 'GET', 'artifacts/list', { run_id: runId, path: current });
      for (const f of res.data.files ?? []) {
        if (f.is_dir) pending.push(f.path);
        else out.push(f);
      }
    }
    return out;
  }

  /** Streams one file to the artifact proxy. */
  async putArtifact(step: string, url: URL, body: Readable, size: number): Promise<void> {
    await this.http.send({ step, method: 'PUT', url, body, contentLength: size, bearer: this.token, hintFor: artifactHint });
  }

  /** Creates the registered model; false when it already existed (which is fine). */
  async createRegisteredModel(step: string, name: string): Promise<boolean> {
    const res = await this.call(step, 'POST', 'registered-models/create', { name }, { accept: alreadyExists });
    return res.status === 200;
  }

  async createModelVersion(
    step: string,
    body: { name: string; source: string; run_id: string; tags: Tag[]; run_link?: string; description?: string },
  ): Promise<ModelVersion> {
    const res = await this.call<{ model_version: ModelVersion }>(step, 'POST', 'model-versions/create', body);
    return res.data.model_version;
  }

  async getModelVersion(step: string, name: string, version: string): Promise<ModelVersion> {
    const res = await this.call<{ model_version: ModelVersion }>(step, 'GET', 'model-versions/get', { name, version });
    return res.data.model_version;
  }

  async setAlias(step: string, name: string, alias: string, version: string): Promise<void> {
    await this.call(step, 'POST', 'registered-models/alias', { name, alias, version });
  }
}

function mlflowHint(status: number, e: ErrorBody): string | undefined {
  if (status === 403 && e.code === 'REGISTRY_ADMIN_REQUIRED')
    return 'The Hokusai model registry only accepts registry-admin keys. Ask the Hokusai team for a key with registry admin rights and store it as the api-key secret.';
  if (status === 404 && !e.code)
    return 'The MLflow API was not found below tracking-uri. Check that it includes the full prefix (for Hokusai: https://registry.hokus.ai/api/mlflow).';
  if (status === 401) return 'The tracking server rejected the key. Check that the api-key secret holds a current key for this registry.';
  return undefined;
}

function artifactHint(status: number, e: ErrorBody): string | undefined {
  if (status === 404)
    return 'The tracking API works but the artifact proxy route (/api/2.0/mlflow-artifacts/*) is not served at this address. The registry operators must route it to the MLflow server and run the server with --serve-artifacts.';
  if (status === 503)
    return 'The MLflow server runs with --no-serve-artifacts, so it cannot take uploads. Start it with --serve-artifacts.';
  return mlflowHint(status, e);
}
