/**
 * Snapshot of an MLflow server's tracking + registry state over plain REST, for
 * "nothing was written half-way" assertions. Arrays are sorted so two snapshots
 * can be compared with deepStrictEqual.
 */

export interface RegistryState {
  experiments: Array<{ experiment_id: string; name: string; lifecycle_stage: string; artifact_location: string }>;
  runs: Array<{
    run_id: string;
    experiment_id: string;
    status: string;
    lifecycle_stage: string;
    artifact_uri: string;
    tags: Record<string, string>;
  }>;
  registeredModels: Array<{ name: string; aliases: Record<string, string>; tags: Record<string, string> }>;
  versions: Array<{ name: string; version: string; status: string; source: string; run_id: string; tags: Record<string, string> }>;
}

export interface RegistryStateOptions {
  /** extra request headers, e.g. { authorization: 'Bearer k' } when going through the front proxy */
  headers?: Record<string, string>;
}

type Json = Record<string, unknown>;
interface KV {
  key: string;
  value: string;
}

const PAGE = 100;

function kv(list: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (Array.isArray(list)) for (const t of list as KV[]) out[t.key] = t.value ?? '';
  return out;
}

/**
 * @param mlflowUrl server origin or tracking URI (may include a path prefix, e.g. a
 *   front proxy's `trackingUri` or `${server.url}${server.staticPrefix}`)
 */
export async function registryState(mlflowUrl: string, opts: RegistryStateOptions = {}): Promise<RegistryState> {
  const base = mlflowUrl.replace(/\/+$/, '') + '/api/2.0/mlflow';

  async function call(method: 'GET' | 'POST', path: string, body: Json): Promise<Json> {
    let url = `${base}/${path}`;
    const init: RequestInit = { method, headers: { ...(opts.headers ?? {}) }, redirect: 'manual', signal: AbortSignal.timeout(30_000) };
    if (method === 'GET') {
      const qs = new URLSearchParams();
      for (const [k, v] of Object.entries(body)) if (v !== undefined) qs.set(k, String(v));
      url += `?${qs.toString()}`;
    } else {
      init.body = JSON.stringify(body);
      (init.headers as Record<string, string>)['content-type'] = 'application/json';
    }
    const res = await fetch(url, init);
    const text = await res.text();
    if (res.status !== 200) throw new Error(`registryState: ${method} ${url} → HTTP ${res.status}: ${text.slice(0, 500)}`);
    return JSON.parse(text) as Json;
  }

  async function paged<T>(method: 'GET' | 'POST', path: string, body: Json, field: string): Promise<T[]> {
    const out: T[] = [];
    let token: string | undefined;
    for (let i = 0; i < 10_000; i++) {
      const r = await call(method, path, { ...body, ...(token ? { page_token: token } : {}) });
      const items = r[field];
      if (Array.isArray(items)) out.push(...(items as T[]));
      token = typeof r['next_page_token'] === 'string' && r['next_page_token'] ? r['next_page_token'] : undefined;
      if (!token) return out;
    }
    throw new Error(`registryState: ${path} did not stop paginating`);
  }

  const rawExperiments = await paged<Json>('POST', 'experiments/search', { max_results: PAGE, view_type: 'ALL' }, 'experiments');
  const experiments = rawExperiments
    .map((e) => ({
      experiment_id: String(e['experiment_id']),
      name: String(e['name']),
      lifecycle_stage: String(e['lifecycle_stage']),
      artifact_location: String(e['artifact_location'] ?? ''),
    }))
    .sort((a, b) => Number(a.experiment_id) - Number(b.experiment_id) || a.experiment_id.localeCompare(b.experiment_id));

  const runs: RegistryState['runs'] = [];
  const ids = experiments.map((e) => e.experiment_id);
  for (let i = 0; i < ids.length; i += 100) {
    const rawRuns = await paged<Json>(
      'POST',
      'runs/search',
      { experiment_ids: ids.slice(i, i + 100), run_view_type: 'ALL', max_results: 1000 },
      'runs',
    );
    for (const r of rawRuns) {
      const info = (r['info'] ?? {}) as Json;
      const data = (r['data'] ?? {}) as Json;
      runs.push({
        run_id: String(info['run_id'] ?? info['run_uuid']),
        experiment_id: String(info['experiment_id']),
        status: String(info['status']),
        lifecycle_stage: String(info['lifecycle_stage'] ?? ''),
        artifact_uri: String(info['artifact_uri'] ?? ''),
        tags: kv(data['tags']),
      });
    }
  }
  runs.sort((a, b) => a.run_id.localeCompare(b.run_id));

  const rawModels = await paged<Json>('GET', 'registered-models/search', { max_results: PAGE }, 'registered_models');
  const registeredModels = rawModels
    .map((m) => {
      const aliases: Record<string, string> = {};
      if (Array.isArray(m['aliases'])) {
        for (const a of m['aliases'] as Array<{ alias: string; version: string }>) aliases[a.alias] = String(a.version);
      }
      return { name: String(m['name']), aliases, tags: kv(m['tags']) };
    })
    .sort((a, b) => a.name.localeCompare(b.name));

  const rawVersions = await paged<Json>('GET', 'model-versions/search', { max_results: PAGE }, 'model_versions');
  const versions = rawVersions
    .map((v) => ({
      name: String(v['name']),
      version: String(v['version']),
      status: String(v['status']),
      source: String(v['source'] ?? ''),
      run_id: String(v['run_id'] ?? ''),
      tags: kv(v['tags']),
    }))
    .sort((a, b) => a.name.localeCompare(b.name) || Number(a.version) - Number(b.version));

  return { experiments, runs, registeredModels, versions };
}
