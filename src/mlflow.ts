// A small client for the MLflow REST API, reached below the tracking URI's path prefix.
// Only the calls the action needs; every one goes through HttpClient.
import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import { ActionError } from './errors.ts';
import type { ErrorBody, HttpClient, HttpRequest, UploadBody } from './http.ts';
import { mapBounded } from './settle.ts';
import { apiUrl } from './urls.ts';

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
  tags?: Tag[];
  status?: string;
  status_message?: string;
  source?: string;
  run_id?: string;
}

export interface MultipartUpload {
  upload_id?: string;
  credentials: Array<{ url: string; part_number: number; headers?: Record<string, string> }>;
}

export interface ArtifactFile {
  path: string;
  is_dir?: boolean;
  file_size?: number | string;
}

export type Tag = { key: string; value: string };

const alreadyExists = (status: number, e: ErrorBody) =>
  (status === 400 || status === 409) && (e.code === 'RESOURCE_ALREADY_EXISTS' || e.code === 'ALREADY_EXISTS');
const notFound = (status: number, e: ErrorBody) => status === 404 && e.code === 'RESOURCE_DOES_NOT_EXIST';

/** Tags each create with a unique id, so a retry can find what a failed attempt created. */
export const REQUEST_TAG = 'registration_request_id';

/** How requests to the tracking server are authenticated, for headers and for hints. */
export interface TrackingAuth {
  kind: 'key' | 'basic' | 'none';
  /** The Authorization header value. */
  header: string | undefined;
}

export function trackingAuth(apiKey: string | undefined, credentials: { username: string; password: string } | undefined): TrackingAuth {
  // Basic credentials win over the key, as in MLflow's own client.
  if (credentials)
    return { kind: 'basic', header: `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}` };
  if (apiKey) return { kind: 'key', header: `Bearer ${apiKey}` };
  return { kind: 'none', header: undefined };
}

export interface RegisteredModel {
  name: string;
  aliases?: Array<{ alias: string; version: string }>;
  latest_versions?: ModelVersion[];
}

export class MlflowClient {
  private readonly http: HttpClient;
  readonly trackingUri: URL;
  private readonly auth: TrackingAuth;

  constructor(http: HttpClient, trackingUri: URL, auth: TrackingAuth) {
    this.http = http;
    this.trackingUri = trackingUri;
    this.auth = auth;
  }

  private async call<T>(
    step: string,
    method: 'GET' | 'POST' | 'DELETE',
    restPath: string,
    payload: Record<string, unknown>,
    extra: Partial<HttpRequest> = {},
  ) {
    const query = method === 'GET' ? Object.fromEntries(Object.entries(payload).map(([k, v]) => [k, String(v)])) : undefined;
    return this.http.send<T>({
      step,
      method,
      url: apiUrl(this.trackingUri, `/api/2.0/mlflow/${restPath}`, query),
      json: method === 'GET' ? undefined : payload,
      authorization: this.auth.header,
      hintFor: (status, e) => trackingHint(status, e, this.auth.kind),
      ...extra,
    });
  }

  async searchExperiments(step: string): Promise<number> {
    const res = await this.call<{ experiments?: Experiment[] }>(step, 'GET', 'experiments/search', { max_results: 1 });
    return res.data.experiments?.length ?? 0;
  }

  async searchRegisteredModels(step: string): Promise<number> {
    const res = await this.call<{ registered_models?: RegisteredModel[] }>(step, 'GET', 'registered-models/search', { max_results: 1 });
    return res.data.registered_models?.length ?? 0;
  }

  /** The registered model, or undefined when there is none of that name. */
  async getRegisteredModel(step: string, name: string): Promise<RegisteredModel | undefined> {
    const res = await this.call<{ registered_model: RegisteredModel }>(
      step,
      'GET',
      'registered-models/get',
      { name },
      { accept: notFound },
    );
    return res.status === 200 ? res.data.registered_model : undefined;
  }

  async searchModelVersions(step: string, filter: string, maxResults: number, orderBy?: string): Promise<ModelVersion[]> {
    const url = apiUrl(this.trackingUri, '/api/2.0/mlflow/model-versions/search', { filter, max_results: String(maxResults) });
    if (orderBy) url.searchParams.append('order_by', orderBy);
    const res = await this.http.send<{ model_versions?: ModelVersion[] }>({
      step,
      method: 'GET',
      url,
      authorization: this.auth.header,
      hintFor: (status, e) => trackingHint(status, e, this.auth.kind),
    });
    return res.data.model_versions ?? [];
  }

  /** Lists a directory through the artifact proxy: proves the route is there and serving. */
  async probeArtifacts(step: string, dir: string): Promise<void> {
    await this.http.send({
      step,
      method: 'GET',
      url: apiUrl(this.trackingUri, '/api/2.0/mlflow-artifacts/artifacts', { path: dir }),
      authorization: this.auth.header,
      hintFor: (status, e) => artifactHint(status, e, this.auth.kind),
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

  /**
   * Where a new experiment's artifacts would go: the Default experiment (id 0) was given the
   * server's default artifact root. Undefined when it cannot be read (deleted, or not allowed).
   */
  async defaultArtifactLocation(step: string): Promise<string | undefined> {
    let location: string | undefined;
    try {
      const res = await this.call<{ experiment: Experiment }>(
        step,
        'GET',
        'experiments/get',
        { experiment_id: '0' },
        { retryWhen: () => false },
      );
      location = res.data.experiment?.artifact_location;
    } catch (err) {
      // Only a prediction: the run's own location decides once it exists.
      if (err instanceof ActionError && err.code === 'CANCELLED') throw err;
      return undefined;
    }
    // Only its root: the Default experiment's own id is not the new one's.
    return location?.replace(/\/0\/?$/, '');
  }

  /** Creates the experiment; undefined when another job created it first. */
  async createExperiment(step: string, name: string): Promise<string | undefined> {
    const res = await this.call<{ experiment_id: string }>(step, 'POST', 'experiments/create', { name }, { accept: alreadyExists });
    return res.status === 200 ? res.data.experiment_id : undefined;
  }

  async restoreExperiment(step: string, experimentId: string): Promise<void> {
    // Already active (another job, or a retry after a lost answer, restored it): fine.
    await this.call(
      step,
      'POST',
      'experiments/restore',
      { experiment_id: experimentId },
      { accept: (status, e) => status === 400 && e.code === 'INVALID_PARAMETER_VALUE' },
    );
  }

  /** The experiment (`found` if already looked up), created if missing, restored if deleted. */
  async ensureExperiment(
    step: string,
    name: string,
    found: Experiment | undefined,
  ): Promise<{ experiment: Experiment; restored: boolean }> {
    let experiment = found;
    if (!experiment) {
      // The create's answer is all a run needs; only when another job created it first is it read.
      const id = await this.createExperiment(step, name);
      experiment = id ? { experiment_id: id, name, lifecycle_stage: 'active' } : await this.getExperimentByName(step, name);
    }
    if (!experiment) {
      throw new ActionError(`experiment "${name}" could not be created or read back`, {
        step,
        hint: 'Check that the credentials may create experiments on this server.',
      });
    }
    const restored = experiment.lifecycle_stage === 'deleted';
    if (restored) await this.restoreExperiment(step, experiment.experiment_id);
    return { experiment, restored };
  }

  /** Creates a run. A retried create first looks for the run a failed attempt may have made. */
  async createRun(
    step: string,
    experimentId: string,
    runName: string,
    startTime: number,
    tags: Tag[],
    requestId = randomUUID(),
  ): Promise<RunInfo> {
    const res = await this.call<{ run: { info: RunInfo } }>(
      step,
      'POST',
      'runs/create',
      { experiment_id: experimentId, run_name: runName, start_time: startTime, tags: [...tags, { key: REQUEST_TAG, value: requestId }] },
      {
        recover: async () => {
          const run = await this.findRunByRequest(step, experimentId, requestId);
          return run ? { run: { info: run } } : undefined;
        },
      },
    );
    return res.data.run.info;
  }

  /** The run a create with this request id made, if it made one. */
  async findRunByRequest(step: string, experimentId: string, requestId: string): Promise<RunInfo | undefined> {
    const found = await this.call<{ runs?: Array<{ info: RunInfo }> }>(step, 'POST', 'runs/search', {
      experiment_ids: [experimentId],
      filter: `tags.${REQUEST_TAG} = ${filterString(requestId)}`,
      max_results: 1,
    });
    return found.data.runs?.[0]?.info;
  }

  async getRun(step: string, runId: string): Promise<RunInfo> {
    const res = await this.call<{ run: { info: RunInfo } }>(step, 'GET', 'runs/get', { run_id: runId });
    return res.data.run.info;
  }

  async updateRun(step: string, runId: string, status: 'FINISHED' | 'FAILED' | 'KILLED', endTime: number): Promise<void> {
    await this.call(step, 'POST', 'runs/update', { run_id: runId, status, end_time: endTime });
  }

  async setRunTag(step: string, runId: string, key: string, value: string): Promise<void> {
    await this.call(step, 'POST', 'runs/set-tag', { run_id: runId, key, value });
  }

  /**
   * Every file below `dir` of the run's artifacts, recursively, with paths relative to the run's root.
   * A listing comes from the server: an entry that is not below the directory listed (a loop), a
   * directory seen before, or a tree deeper or larger than any model is refused, not followed.
   */
  async listArtifactsRecursive(step: string, runId: string, dir: string, limits = ARTIFACT_LIST_LIMITS): Promise<ArtifactFile[]> {
    const url = apiUrl(this.trackingUri, '/api/2.0/mlflow/artifacts/list');
    return listTree(step, url.pathname, dir, { ...limits, after: ' Nothing was registered.' }, async (path) => {
      const res = await this.call<{ files?: ArtifactFile[] }>(step, 'GET', 'artifacts/list', { run_id: runId, path });
      return res.data.files ?? [];
    });
  }

  /**
   * The same through the artifact proxy's own listing, for a location not tied to a run (a model
   * version's source): `dir` is the path below /mlflow-artifacts/artifacts, and so are the paths.
   */
  async listProxiedRecursive(step: string, dir: string, limits = ARTIFACT_LIST_LIMITS): Promise<ArtifactFile[]> {
    const url = apiUrl(this.trackingUri, '/api/2.0/mlflow-artifacts/artifacts');
    const listed = await listTree(step, url.pathname, dir, limits, async (path) =>
      // This listing names entries by their base name.
      (await this.listProxiedDir(step, path)).map((f) => ({ ...f, path: `${path}/${String(f.path)}` })),
    );
    return listed;
  }

  /** A small file through the artifact proxy, as text; undefined when there is no such file. */
  async readArtifactText(step: string, url: URL): Promise<string | undefined> {
    const res = await this.http.send<string>({
      step,
      method: 'GET',
      url,
      raw: true,
      authorization: this.auth.header,
      accept: notFound,
      hintFor: (status, e) => artifactHint(status, e, this.auth.kind),
    });
    return res.status === 200 ? res.data : undefined;
  }

  /** The version an alias points at; undefined when the model or the alias does not exist. */
  async getVersionByAlias(step: string, name: string, alias: string): Promise<ModelVersion | undefined> {
    const res = await this.call<{ model_version: ModelVersion }>(
      step,
      'GET',
      'registered-models/alias',
      { name, alias },
      // MLflow answers a missing alias with 400 (3.x) or 404, and a missing model with 404.
      { accept: (status, e) => notFound(status, e) || (status === 400 && /alias .*not found/i.test(e.message ?? '')) },
    );
    return res.status === 200 ? res.data.model_version : undefined;
  }

  /**
   * Where the files of a version are, as the server resolves its source: for sources that name
   * no location themselves (runs:/…, models:/…).
   */
  async getDownloadUri(step: string, name: string, version: string): Promise<string | undefined> {
    const res = await this.call<{ artifact_uri?: string }>(step, 'GET', 'model-versions/get-download-uri', { name, version });
    return typeof res.data.artifact_uri === 'string' ? res.data.artifact_uri : undefined;
  }

  /** One directory of the artifact proxy, not recursive: each entry's base name, size and kind. */
  async listProxiedDir(step: string, dir: string): Promise<ArtifactFile[]> {
    const res = await this.http.send<{ files?: ArtifactFile[] }>({
      step,
      method: 'GET',
      url: apiUrl(this.trackingUri, '/api/2.0/mlflow-artifacts/artifacts', { path: dir }),
      authorization: this.auth.header,
      hintFor: (status, e) => artifactHint(status, e, this.auth.kind),
    });
    return (res.data.files ?? []).slice(0, ARTIFACT_LIST_LIMITS.entries);
  }

  /** A run with its metrics (the latest value of each). */
  async getRunWithMetrics(step: string, runId: string): Promise<{ info: RunInfo; metrics: Map<string, number> }> {
    const res = await this.call<{ run: { info: RunInfo; data?: { metrics?: Array<{ key: string; value: number | string }> } } }>(
      step,
      'GET',
      'runs/get',
      { run_id: runId },
    );
    const metrics = new Map<string, number>();
    for (const m of res.data.run.data?.metrics ?? []) {
      const value = Number(m.value);
      if (typeof m.key === 'string' && Number.isFinite(value)) metrics.set(m.key, value);
    }
    return { info: res.data.run.info, metrics };
  }

  /** Logs metrics on a run, at step 0, in one request (MLflow takes at most 1,000 a batch). */
  async logMetrics(step: string, runId: string, metrics: ReadonlyArray<readonly [string, number]>, timestamp: number): Promise<void> {
    for (let i = 0; i < metrics.length; i += 1000) {
      const batch = metrics.slice(i, i + 1000).map(([key, value]) => ({ key, value, timestamp, step: 0 }));
      await this.call(step, 'POST', 'runs/log-batch', { run_id: runId, metrics: batch });
    }
  }

  /** Streams one file to the artifact proxy; a retry reopens the stream. `onThrottled` hears of 429/503 answers. */
  async putArtifact(
    step: string,
    url: URL,
    openBody: () => Readable | UploadBody,
    size: number,
    onThrottled?: (status: number) => void,
  ): Promise<void> {
    await this.http.send({
      step,
      method: 'PUT',
      url,
      openBody,
      contentLength: size,
      onThrottled,
      authorization: this.auth.header,
      hintFor: (status, e) => artifactHint(status, e, this.auth.kind),
    });
  }

  /** Asks the artifact proxy for a file's first byte, as MLflow's client would download it. */
  async readArtifactStart(step: string, url: URL, size: number): Promise<void> {
    await this.http.send({
      step,
      method: 'GET',
      url,
      // An empty file has no byte 0: a range would get 416.
      headers: { accept: '*/*', ...(size > 0 ? { range: 'bytes=0-0' } : {}) },
      discardBody: true,
      authorization: this.auth.header,
      // A server that cannot serve a name fails the same way every time.
      retryWhen: (e) => e.status === undefined,
      hintFor: (status, e) => artifactHint(status, e, this.auth.kind),
    });
  }

  /**
   * Starts a proxied multipart upload. Undefined when the artifact store cannot do it
   * (MLflow answers 501 for local stores): then the caller falls back to one streamed PUT.
   */
  async mpuCreate(step: string, url: URL, path: string, numParts: number): Promise<MultipartUpload | undefined> {
    const res = await this.http.send<MultipartUpload>({
      step,
      method: 'POST',
      url,
      json: { path, num_parts: numParts },
      authorization: this.auth.header,
      accept: (status, e) => status === 501 || e.code === 'NOT_IMPLEMENTED',
      hintFor: (status, e) => artifactHint(status, e, this.auth.kind),
    });
    return res.status === 200 ? res.data : undefined;
  }

  async mpuFinish(step: string, url: URL, body: Record<string, unknown>): Promise<void> {
    await this.http.send({
      step,
      method: 'POST',
      url,
      json: body,
      authorization: this.auth.header,
      hintFor: (st, e) => artifactHint(st, e, this.auth.kind),
    });
  }

  /** One part, straight to the storage URL the server signed: no credentials of ours go there. Returns the ETag. */
  async putPart(
    step: string,
    url: URL,
    headers: Record<string, string>,
    openBody: () => Readable | UploadBody,
    size: number,
    onThrottled?: (status: number) => void,
  ): Promise<string> {
    const res = await this.http.send({ step, method: 'PUT', url, headers, openBody, contentLength: size, onThrottled });
    const etag = res.headers.etag;
    const value = Array.isArray(etag) ? etag[0] : etag;
    if (!value) {
      throw new ActionError('the storage answered a part upload without an ETag', {
        step,
        method: 'PUT',
        path: url.pathname,
        status: res.status,
        hint: 'The artifact store must return ETag headers to presigned part uploads (check a proxy or CORS setting that strips them), or raise multipart-threshold above the largest file to upload in one request.',
      });
    }
    return value;
  }

  /**
   * Deletes a registered model this run created, if it still has no version: an upload that failed
   * leaves nothing behind. A version another job added meanwhile keeps the model.
   */
  async deleteEmptyRegisteredModel(step: string, name: string): Promise<void> {
    const versions = await this.searchModelVersions(step, `name=${filterString(name)}`, 1);
    if (versions.length === 0) await this.call(step, 'DELETE', 'registered-models/delete', { name }, { accept: notFound });
  }

  /** Creates the registered model; false when it already existed (which is fine). */
  async createRegisteredModel(step: string, name: string): Promise<boolean> {
    const res = await this.call(step, 'POST', 'registered-models/create', { name }, { accept: alreadyExists });
    return res.status === 200;
  }

  /** Creates a version. A retried create first looks for the version a failed attempt may have made. */
  async createModelVersion(
    step: string,
    body: { name: string; source: string; run_id: string; tags: Tag[]; run_link?: string; description?: string },
  ): Promise<ModelVersion> {
    const requestId = randomUUID();
    const res = await this.call<{ model_version: ModelVersion }>(
      step,
      'POST',
      'model-versions/create',
      { ...body, tags: [...body.tags, { key: REQUEST_TAG, value: requestId }] },
      {
        recover: async () => {
          const [found] = await this.searchModelVersions(
            step,
            `name=${filterString(body.name)} AND tags.${REQUEST_TAG}=${filterString(requestId)}`,
            1,
          );
          return found ? { model_version: found } : undefined;
        },
      },
    );
    return res.data.model_version;
  }

  async getModelVersion(step: string, name: string, version: string): Promise<ModelVersion> {
    const res = await this.call<{ model_version: ModelVersion }>(step, 'GET', 'model-versions/get', { name, version });
    return res.data.model_version;
  }

  async setModelVersionTag(step: string, name: string, version: string, key: string, value: string): Promise<void> {
    await this.call(step, 'POST', 'model-versions/set-tag', { name, version, key, value });
  }

  async setAlias(step: string, name: string, alias: string, version: string): Promise<void> {
    await this.call(step, 'POST', 'registered-models/alias', { name, alias, version });
  }
}

/** Directories listed at once: a few round trips for a deep tree, without flooding the server. */
const LIST_CONCURRENCY = 8;

/** Bounds on a recursive artifact listing: a model directory is neither this deep nor this large. */
export const ARTIFACT_LIST_LIMITS = { depth: 64, entries: 100_000 };

/** Whether an artifact path is strictly below a directory, without "." or ".." segments that could lead back up. */
function isBelow(entry: string, dir: string): boolean {
  const prefix = dir === '' ? '' : `${dir}/`;
  if (!entry.startsWith(prefix) || entry.length === prefix.length) return false;
  return entry
    .slice(prefix.length)
    .split('/')
    .every((segment) => segment !== '' && segment !== '.' && segment !== '..');
}

/**
 * A recursive artifact listing, one directory level at a time, its directories listed side by
 * side; each answer is checked as it arrives, so a refusal stops the listing within a few requests.
 */
async function listTree(
  step: string,
  endpoint: string,
  dir: string,
  limits: { depth: number; entries: number; after?: string },
  listOne: (path: string) => Promise<ArtifactFile[]>,
): Promise<ArtifactFile[]> {
  const out: ArtifactFile[] = [];
  const seen = new Set([dir]);
  const pending = [{ path: dir, depth: 0 }];
  let entries = 0;
  const refuse = (message: string, hint: string): never => {
    throw new ActionError(`the artifact listing of "${dir}" ${message}`, {
      step,
      method: 'GET',
      path: endpoint,
      hint: `${hint}${limits.after ?? ''}`,
    });
  };
  const broken =
    'The server (or a proxy in front of it) gives a broken artifact listing. Ask the registry operators to check the MLflow server and any proxy that rewrites its answers.';
  for (let level = pending; level.length > 0;) {
    const next: typeof pending = [];
    await mapBounded(level, LIST_CONCURRENCY, async (current) => {
      for (const f of await listOne(current.path)) {
        if (!isBelow(f.path, current.path))
          refuse(`names "${f.path}" as an entry of "${current.path}", which is not below it (a loop or a broken listing)`, broken);
        if (++entries > limits.entries)
          refuse(
            `has more than ${limits.entries} entries (the limit)`,
            `A model directory has far fewer files; pack many small files into an archive if the model really has that many. ${broken}`,
          );
        if (!f.is_dir) {
          out.push(f);
          continue;
        }
        if (seen.has(f.path)) refuse(`names the directory "${f.path}" twice (a loop)`, broken);
        if (current.depth + 1 > limits.depth)
          refuse(
            `goes more than ${limits.depth} directories deep (the limit), at "${f.path}"`,
            `Flatten the model directory if it really is that deep. ${broken}`,
          );
        seen.add(f.path);
        next.push({ path: f.path, depth: current.depth + 1 });
      }
    });
    level = next;
  }
  return out;
}

/** A string literal for MLflow's search filter language. */
export function filterString(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** MLflow's search filter for the versions of a model registered from one commit. */
export function commitFilter(modelName: string, commit: string): string {
  return `name=${filterString(modelName)} AND tags.git_sha=${filterString(commit)}`;
}

const CREDENTIALS: Record<TrackingAuth['kind'], string> = {
  key: 'Check that the api-key secret holds a current key for this registry.',
  basic: 'Check tracking-username and tracking-password.',
  none: 'The server requires credentials: pass api-key (sent as a Bearer token) or tracking-username and tracking-password (HTTP basic auth).',
};

/** Hints for failures of tracking and registry calls. */
export function trackingHint(status: number, e: ErrorBody, auth: TrackingAuth['kind']): string | undefined {
  if (status === 403 && e.code === 'REGISTRY_ADMIN_REQUIRED')
    return 'The Hokusai model registry only accepts registry-admin keys. Ask the Hokusai team for a key with registry admin rights and store it as the api-key secret.';
  if (status === 401) return `The tracking server did not accept the credentials. ${CREDENTIALS[auth]}`;
  if (status === 403)
    return 'The credentials are valid but lack permission for this experiment or model. Ask an MLflow admin to grant EDIT (or MANAGE) permission, or use an experiment-name you own.';
  if (status === 404 && !e.code)
    return 'The MLflow REST API was not found below tracking-uri. Check that it includes the full path prefix (for Hokusai: https://registry.hokus.ai/api/mlflow; for a server started with --static-prefix /p: https://host/p).';
  return undefined;
}

/** Hints for failures on the artifact proxy route, which fails on its own in real deployments. */
export function artifactHint(status: number, e: ErrorBody, auth: TrackingAuth['kind']): string | undefined {
  if (status === 404)
    return "The tracking API works but the artifact proxy route (/api/2.0/mlflow-artifacts/*) is not served at this address. The registry operators must route it to the MLflow server and run the server with --serve-artifacts. Until then, artifact-store: s3://<bucket>/<prefix> sends the files straight to a bucket the server can read, with the job's AWS credentials.";
  if (status === 503)
    return 'The MLflow server runs with --no-serve-artifacts, so it cannot take uploads through its proxy. Start it with --serve-artifacts (the default), or set artifact-store: s3://<bucket>/<prefix> to send the files straight to a bucket the server can read.';
  if (status === 401)
    return `The artifact route refused the credentials that the tracking API accepted: a proxy in front of MLflow must forward the Authorization header on /api/2.0/mlflow-artifacts/* too. ${CREDENTIALS[auth]}`;
  return trackingHint(status, e, auth);
}
