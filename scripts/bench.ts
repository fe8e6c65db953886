// npm run bench: how fast the built action (dist/index.js) uploads and registers a model, next to
// MLflow's own Python client doing the same job and a raw curl upload of the same bytes (the
// ceiling). Two setups, each started here only when one of its workloads is selected:
//
//   loopback  one local MLflow server (sqlite, local artifacts, --serve-artifacts, 1 worker), reached
//             directly: action, Python client and curl.
//   latency   an MLflow server with several workers (BENCH_LATENCY_WORKERS, default 4) behind the
//             Hokusai-like front proxy (test/support/front-proxy.ts: /api/mlflow prefix, Bearer key)
//             and the fake auth service (the action validates its key there), both holding every
//             request BENCH_LATENCY_MS (default 40) before handling it: a distant registry. The action
//             (api-key, auth-url) and the Python client (MLFLOW_TRACKING_URI = the front's
//             /api/mlflow, MLFLOW_TRACKING_TOKEN = the key, so it sends Bearer) go through the same
//             front; no curl. The requests of each run are counted (front proxy and auth service).
//
// Workloads (generated in a temp dir, removed afterwards):
//   small            loopback  2,000 files of 64 KiB (random bytes) + MLmodel
//   large            loopback  one 1 GiB file (random bytes) + MLmodel
//   sklearn          loopback  a typical scikit-learn model directory (test/support/make_model.py)
//   latency-sklearn  latency   the same scikit-learn model directory
//   latency-small    latency   500 files of 64 KiB + MLmodel
//
// Targets (issue 13), printed next to the figures and marked met / missed:
//   latency-sklearn  ≥ 3× faster than the Python client (at 40 ms)
//   latency-small    ≥ 12× faster than the Python client (at 40 ms)
//   large            throughput ≥ 0.9× a curl PUT; peak RSS < 130 MiB
//   small            no slower than the Python client (≥ 1.0×; loopback, one worker)
//   sklearn          wall ≤ 0.5× the Python client's (the earlier target)
//
// Environment:
//   BENCH_ONLY=small,large,...       workloads to run (default: all five)
//   BENCH_REPEAT=N                   runs of each measurement; the median is reported (default 1)
//   BENCH_ENTRY=[label=]path,...     the action build(s) to measure, each in the same run (default
//                                    dist/index.js, label "action"); e.g.
//                                    BENCH_ENTRY=before=/tmp/before/dist/index.js,current=dist/index.js
//                                    (an unlabelled path is labelled by the directory above its dist/)
//   BENCH_CONCURRENCY=N              passed as the action's `upload-concurrency` input (only when set)
//   BENCH_CURL_PARALLEL=N            curl's --parallel-max (default BENCH_CONCURRENCY, else 8)
//   BENCH_LATENCY_MS=N               the latency setup's delay per request (default 40; 0 = none)
//   BENCH_LATENCY_WORKERS=N          the latency setup's `mlflow server --workers` (default 4)
//   BENCH_SMALL_FILES=N, BENCH_LARGE_MIB=N, BENCH_LATENCY_FILES=N   shrink the workloads
//                                    (2,000, 1,024 and 500 by default)
//
// Prints a table and writes bench-results.json at the repository root (with, for every run of the
// latency setup, its request count and its requests by method and route; the full sequence when short).
import { execFileSync, spawn } from 'node:child_process';
import { createHash, randomFillSync } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { startFakeAuth } from '../test/support/fake-auth.ts';
import type { FakeAuth } from '../test/support/fake-auth.ts';
import { startFrontProxy } from '../test/support/front-proxy.ts';
import type { FrontProxy } from '../test/support/front-proxy.ts';
import { startMlflowServer } from '../test/support/mlflow-server.ts';
import type { MlflowServer } from '../test/support/mlflow-server.ts';
import { DIST, PYTHON, ROOT, SUPPORT_DIR } from '../test/support/paths.ts';
import { cleanEnv, trackCleanup, trackProcess, untrackProcess } from '../test/support/procs.ts';
import { pythonJson } from '../test/support/python.ts';
import { runAction } from '../test/support/run-action.ts';

const KiB = 1024;
const MiB = 1024 * KiB;
const WORKLOADS = ['small', 'large', 'sklearn', 'latency-sklearn', 'latency-small'] as const;
type WorkloadName = (typeof WORKLOADS)[number];
type SetupName = 'loopback' | 'latency';
const setupOf = (w: WorkloadName): SetupName => (w.startsWith('latency-') ? 'latency' : 'loopback');

function intEnv(name: string, fallback: number, min = 1): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new Error(`${name} must be an integer ≥ ${min}, got ${JSON.stringify(raw)}`);
  return n;
}

const only = (process.env.BENCH_ONLY ?? '')
  .split(',')
  .map((s) => s.trim())
  .filter(Boolean);
for (const w of only) if (!(WORKLOADS as readonly string[]).includes(w)) throw new Error(`BENCH_ONLY: unknown workload ${w}`);
const selected: WorkloadName[] = only.length ? WORKLOADS.filter((w) => only.includes(w)) : [...WORKLOADS];
const REPEAT = intEnv('BENCH_REPEAT', 1);
const CONCURRENCY = process.env.BENCH_CONCURRENCY ? String(intEnv('BENCH_CONCURRENCY', 8)) : undefined;
const CURL_PARALLEL = intEnv('BENCH_CURL_PARALLEL', CONCURRENCY ? Number(CONCURRENCY) : 8);
const SMALL_FILES = intEnv('BENCH_SMALL_FILES', 2000);
const LARGE_MIB = intEnv('BENCH_LARGE_MIB', 1024);
const LATENCY_MS = intEnv('BENCH_LATENCY_MS', 40, 0);
const LATENCY_FILES = intEnv('BENCH_LATENCY_FILES', 500);
const LATENCY_WORKERS = intEnv('BENCH_LATENCY_WORKERS', 4);
const RESULTS = path.join(ROOT, 'bench-results.json');
const TIMEOUT_MS = 30 * 60_000;
const KEY = 'bench-key';

interface Entry {
  label: string;
  /** absolute path of the action's main script */
  path: string;
  /** sha256 of it, first 12 hex digits */
  sha256: string;
}

/** BENCH_ENTRY: `[label=]path` items, comma-separated; default dist/index.js as "action". */
function parseEntries(raw: string | undefined): Entry[] {
  const items = (raw ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const entries = (items.length ? items : [DIST]).map((item) => {
    const eq = item.indexOf('=');
    const file = path.resolve(ROOT, eq === -1 ? item : item.slice(eq + 1));
    if (!fs.existsSync(file)) throw new Error(`BENCH_ENTRY: ${file} does not exist (build it with npm run build)`);
    const dir = path.dirname(file);
    const fallback = file === DIST ? 'action' : path.basename(path.basename(dir) === 'dist' ? path.dirname(dir) : dir);
    const label = eq === -1 ? fallback : item.slice(0, eq).trim();
    if (!/^[\w.-]+$/.test(label)) throw new Error(`BENCH_ENTRY: label ${JSON.stringify(label)} must be letters, digits, . _ or -`);
    return { label, path: file, sha256: createHash('sha256').update(fs.readFileSync(file)).digest('hex').slice(0, 12) };
  });
  const labels = entries.map((e) => e.label);
  if (new Set(labels).size !== labels.length) throw new Error(`BENCH_ENTRY: labels must differ, got ${labels.join(', ')} (use label=path)`);
  return entries;
}
const ENTRIES = parseEntries(process.env.BENCH_ENTRY);

// ── measuring a process ──────────────────────────────────────────────────────────────────────

/** Samples VmHWM (peak resident set) of `pid` every 50 ms; stop() returns the largest seen, in bytes. */
function rssSampler(pid: number): { stop(): number } {
  let peakKb = 0;
  const read = (): void => {
    try {
      const m = /^VmHWM:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (m) peakKb = Math.max(peakKb, Number(m[1]));
    } catch {
      // gone (or a zombie without memory any more)
    }
  };
  read();
  const timer = setInterval(read, 50);
  return {
    stop: () => {
      clearInterval(timer);
      return peakKb * KiB;
    },
  };
}

interface Measured {
  wallMs: number;
  peakRssBytes: number;
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion: wall time from spawn to exit, peak RSS, output. */
async function measure(cmd: string, args: string[], env: NodeJS.ProcessEnv, cwd: string): Promise<Measured> {
  const t0 = performance.now();
  const child = spawn(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const pid = child.pid;
  const rss = pid === undefined ? { stop: () => 0 } : rssSampler(pid);
  if (pid !== undefined) trackProcess(pid, false);
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stdout.on('data', (s: string) => (stdout += s));
  child.stderr.on('data', (s: string) => (stderr += s));
  const timer = setTimeout(() => child.kill('SIGKILL'), TIMEOUT_MS);
  let wallMs = 0;
  child.once('exit', () => (wallMs = performance.now() - t0));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (c) => resolve(c));
  });
  clearTimeout(timer);
  if (pid !== undefined) untrackProcess(pid);
  return { wallMs, peakRssBytes: rss.stop(), code, stdout, stderr };
}

// ── workloads ────────────────────────────────────────────────────────────────────────────────

interface Workload {
  name: WorkloadName;
  title: string;
  dir: string;
  /** paths relative to dir, '/'-separated */
  files: string[];
  bytes: number;
}

const MLMODEL = [
  'artifact_path: model',
  'flavors:',
  '  python_function:',
  '    loader_module: bench_model',
  '    python_version: 3.11.7',
  'mlflow_version: 3.17.2',
  '',
].join('\n');

function writeRandomFile(file: string, size: number, buf: Buffer): void {
  const fd = fs.openSync(file, 'w');
  try {
    for (let left = size; left > 0;) {
      const n = Math.min(left, buf.length);
      randomFillSync(buf, 0, n);
      fs.writeSync(fd, buf, 0, n);
      left -= n;
    }
  } finally {
    fs.closeSync(fd);
  }
}

function walk(root: string, rel = ''): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(path.join(root, rel), { withFileTypes: true })) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...walk(root, r));
    else if (e.isFile()) out.push(r);
  }
  return out.sort();
}

function describe(name: WorkloadName, title: string, dir: string): Workload {
  const files = walk(dir);
  const bytes = files.reduce((n, f) => n + fs.statSync(path.join(dir, f)).size, 0);
  return { name, title, dir, files, bytes };
}

async function makeWorkload(name: WorkloadName, tmp: string): Promise<Workload> {
  const dir = path.join(tmp, name);
  if (name === 'small' || name === 'latency-small') {
    const count = name === 'small' ? SMALL_FILES : LATENCY_FILES;
    fs.mkdirSync(path.join(dir, 'data'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'MLmodel'), MLMODEL);
    const buf = Buffer.alloc(64 * KiB);
    for (let i = 0; i < count; i++) writeRandomFile(path.join(dir, 'data', `part-${String(i).padStart(4, '0')}.bin`), 64 * KiB, buf);
    return describe(name, `${count} × 64 KiB`, dir);
  }
  if (name === 'large') {
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'MLmodel'), MLMODEL);
    writeRandomFile(path.join(dir, 'weights.bin'), LARGE_MIB * MiB, Buffer.alloc(16 * MiB));
    return describe(name, `1 × ${LARGE_MIB >= 1024 ? `${LARGE_MIB / 1024} GiB` : `${LARGE_MIB} MiB`}`, dir);
  }
  await pythonJson(path.join(SUPPORT_DIR, 'make_model.py'), [dir], { timeoutMs: 300_000 });
  return describe(name, 'sklearn model dir', dir);
}

// ── the setups ───────────────────────────────────────────────────────────────────────────────

/** Where the contenders register: the loopback server, or the server behind the delaying front. */
interface Setup {
  name: SetupName;
  server: MlflowServer;
  /** the latency setup only */
  front?: FrontProxy;
  auth?: FakeAuth;
  /** what the contenders are given */
  trackingUri: string;
  actionInputs: Record<string, string>;
  pythonEnv: Record<string, string>;
  /** one line for the header */
  describe: string;
}

async function startSetup(name: SetupName): Promise<Setup> {
  if (name === 'loopback') {
    const server = await startMlflowServer();
    return {
      name,
      server,
      trackingUri: server.url,
      actionInputs: { 'tracking-uri': server.url, 'auth-url': '' },
      pythonEnv: {},
      describe: `${server.url} (mlflow server, sqlite, local artifacts, --serve-artifacts, 1 worker)`,
    };
  }
  const server = await startMlflowServer({ extraArgs: ['--workers', String(LATENCY_WORKERS)] });
  try {
    // When each request reached the front (after its latency): the sequences show what overlaps.
    const front = await startFrontProxy({
      upstream: server.url,
      validKeys: [KEY],
      latencyMs: LATENCY_MS,
      onRequest: (r) => arrivals.set(r, performance.now()),
    });
    const auth = await startFakeAuth({ [KEY]: { service_id: 'platform', scopes: ['read', 'write'] } }, { latencyMs: LATENCY_MS });
    return {
      name,
      server,
      front,
      auth,
      trackingUri: front.trackingUri,
      actionInputs: { 'tracking-uri': front.trackingUri, 'auth-url': auth.url, 'api-key': KEY },
      pythonEnv: { MLFLOW_TRACKING_TOKEN: KEY },
      describe:
        `${front.trackingUri} (front proxy: /api/mlflow, Bearer key) + fake auth ${auth.url}, both ${LATENCY_MS} ms per request, ` +
        `→ ${server.url} (mlflow server, sqlite, local artifacts, --serve-artifacts, ${LATENCY_WORKERS} workers)`,
    };
  } catch (err) {
    await server.stop();
    throw err;
  }
}

async function stopSetup(s: Setup): Promise<void> {
  await Promise.allSettled([s.front?.stop(), s.auth?.stop()]);
  await s.server.stop();
}

/** When the front proxy handled each request (performance.now()), for the sequences. */
const arrivals = new WeakMap<object, number>();

/** A route, for counting: the artifact file paths and query strings left out. */
function routeOf(method: string, p: string): string {
  const sub = p.startsWith('/api/mlflow/') ? p.slice('/api/mlflow'.length) : p;
  const m = /^(\/api\/2\.0\/mlflow-artifacts\/artifacts)\//.exec(sub);
  return `${method} ${m ? `${m[1]}/…` : sub}`;
}

interface RequestLog {
  /** requests the front proxy and the auth service saw during the run */
  requests: number;
  authRequests: number;
  /** by route (see routeOf), in order of first appearance */
  byRoute: Record<string, number>;
  /**
   * "+T ms METHOD path status" in arrival order, T = when the front handled it (after its latency)
   * since the run started, when there are at most 200 (auth requests first, as "auth METHOD path")
   */
  sequence?: string[];
}

/** Counts what the setup's front and auth service saw while `run` ran; undefined on loopback. */
async function counted<T extends RunResult>(setup: Setup, run: () => Promise<T>): Promise<T> {
  const { front, auth } = setup;
  if (!front || !auth) return run();
  const f0 = front.requests.length;
  const a0 = auth.requests.length;
  const t0 = performance.now();
  const result = await run();
  const reqs = front.requests.slice(f0);
  const authReqs = auth.requests.slice(a0);
  const byRoute: Record<string, number> = {};
  for (const r of authReqs) byRoute[`auth ${r.method} ${r.path}`] = (byRoute[`auth ${r.method} ${r.path}`] ?? 0) + 1;
  for (const r of reqs) byRoute[routeOf(r.method, r.path)] = (byRoute[routeOf(r.method, r.path)] ?? 0) + 1;
  const log: RequestLog = { requests: reqs.length, authRequests: authReqs.length, byRoute };
  // The auth service is asked once, before anything else, so it leads the sequence.
  if (reqs.length + authReqs.length <= 200)
    log.sequence = [
      ...authReqs.map((r) => `auth ${r.method} ${r.path}`),
      ...reqs.map((r) => {
        const at = arrivals.get(r);
        const when = at === undefined ? '' : `+${String(Math.round(at - t0)).padStart(5)} ms  `;
        return `${when}${r.method} ${r.url.startsWith('/api/mlflow/') ? r.url.slice('/api/mlflow'.length) : r.url} ${r.status}`;
      }),
    ];
  result.requests = log;
  return result;
}

// ── the three contenders ─────────────────────────────────────────────────────────────────────

interface RunResult {
  wallMs: number;
  peakRssBytes: number;
  /** the action only: the upload phase as the action logs it ("Uploaded N files (…) in X") */
  uploadMs?: number;
  /** python only: the script's own timing, after `import mlflow` */
  inScriptMs?: number;
  /** the latency setup only */
  requests?: RequestLog;
  error?: string;
}

function parseDurationMs(s: string): number | undefined {
  let m = /^(\d+) ms$/.exec(s);
  if (m) return Number(m[1]);
  m = /^([\d.]+) s$/.exec(s);
  if (m) return Number(m[1]) * 1000;
  m = /^(\d+) min (\d+) s$/.exec(s);
  if (m) return (Number(m[1]) * 60 + Number(m[2])) * 1000;
  return undefined;
}

async function runActionOnce(setup: Setup, entry: Entry, w: Workload, modelName: string): Promise<RunResult> {
  let sampler: { stop(): number } | undefined;
  const inputs: Record<string, string> = {
    ...setup.actionInputs,
    'model-path': path.basename(w.dir),
    'model-name': modelName,
    'experiment-name': 'bench-action',
  };
  if (CONCURRENCY) inputs['upload-concurrency'] = CONCURRENCY;
  const r = await runAction(inputs, {
    cwd: path.dirname(w.dir), // the workspace; model-path is relative to it
    entry: entry.path,
    timeoutMs: TIMEOUT_MS,
    onSpawn: (pid) => (sampler = rssSampler(pid)),
  });
  const peakRssBytes = sampler?.stop() ?? 0;
  const result: RunResult = { wallMs: r.exitedAtMs, peakRssBytes };
  const up = /Uploaded \d+ files \([^)]*\) in ([^,]+),/.exec(r.stdout);
  if (up) result.uploadMs = parseDurationMs((up[1] as string).trim());
  if (r.code !== 0) {
    const err = r.stdout.split('\n').find((l) => l.startsWith('::error::')) ?? r.stderr.trim().split('\n').slice(-3).join(' ');
    result.error = `exit ${r.code}: ${err.replace(/%0A/g, ' ').slice(0, 400)}`;
  } else if (r.outputs['reused'] !== 'false') {
    result.error = `expected a new version, got reused=${r.outputs['reused']}`;
  }
  return result;
}

async function runPythonOnce(setup: Setup, w: Workload, modelName: string): Promise<RunResult> {
  const m = await measure(
    PYTHON,
    [
      path.join(SUPPORT_DIR, 'register_with_python.py'),
      modelName,
      w.dir,
      '--experiment',
      'bench-python',
      '--tracking-uri',
      setup.trackingUri,
    ],
    cleanEnv({ PYTHONUNBUFFERED: '1', MLFLOW_TRACKING_URI: setup.trackingUri, ...setup.pythonEnv }),
    ROOT,
  );
  const result: RunResult = { wallMs: m.wallMs, peakRssBytes: m.peakRssBytes };
  if (m.code !== 0) {
    result.error = `exit ${m.code}: ${m.stderr.trim().split('\n').slice(-3).join(' ').slice(0, 400)}`;
    return result;
  }
  try {
    const last = m.stdout.trim().split('\n').pop() ?? '';
    result.inScriptMs = (JSON.parse(last) as { seconds: number }).seconds * 1000;
  } catch {
    // the wall time is what counts
  }
  return result;
}

type CurlMode = 'single' | 'serial' | 'parallel';

/** One curl process uploading every file of the workload (config file; connections reused). */
async function runCurlOnce(server: MlflowServer, w: Workload, tag: string, mode: CurlMode, tmp: string): Promise<RunResult> {
  const q = (s: string): string => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
  const lines = [
    'silent',
    'show-error',
    'header = "Expect:"',
    'header = "Content-Type: application/octet-stream"',
    `write-out = "%{http_code}\\n"`,
  ];
  for (const f of w.files) {
    const rel = f.split('/').map(encodeURIComponent).join('/');
    lines.push(`url = ${q(`${server.url}/api/2.0/mlflow-artifacts/artifacts/bench/curl/${tag}/${rel}`)}`);
    lines.push(`upload-file = ${q(path.join(w.dir, f))}`);
    lines.push('output = "/dev/null"');
  }
  const config = path.join(tmp, `curl-${tag}.conf`);
  fs.writeFileSync(config, lines.join('\n') + '\n');
  const args = ['--config', config];
  if (mode === 'parallel') args.push('--parallel', '--parallel-max', String(CURL_PARALLEL));
  const m = await measure('curl', args, cleanEnv(), tmp);
  fs.rmSync(config, { force: true });
  const result: RunResult = { wallMs: m.wallMs, peakRssBytes: m.peakRssBytes };
  const codes = m.stdout.trim().split('\n').filter(Boolean);
  const bad = codes.filter((c) => c !== '200');
  if (m.code !== 0 || codes.length !== w.files.length || bad.length) {
    result.error = `curl exit ${m.code}, ${codes.length}/${w.files.length} answers, not 200: ${bad.slice(0, 5).join(',')} ${m.stderr.trim().slice(0, 300)}`;
  }
  return result;
}

// ── statistics and formatting ────────────────────────────────────────────────────────────────

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

interface Summary {
  runs: RunResult[];
  wallMs: number;
  /** the largest over the runs */
  peakRssBytes: number;
  uploadMs?: number;
  inScriptMs?: number;
  /** the latency setup only: the median request count of the runs (each run's log is in `runs`) */
  requests?: number;
  authRequests?: number;
  errors: string[];
}

function summarize(runs: RunResult[]): Summary {
  const ok = runs.filter((r) => !r.error);
  const use = ok.length ? ok : runs;
  const s: Summary = {
    runs,
    wallMs: median(use.map((r) => r.wallMs)),
    peakRssBytes: Math.max(...use.map((r) => r.peakRssBytes)),
    errors: runs.flatMap((r) => (r.error ? [r.error] : [])),
  };
  const up = use.flatMap((r) => (r.uploadMs === undefined ? [] : [r.uploadMs]));
  if (up.length) s.uploadMs = median(up);
  const ins = use.flatMap((r) => (r.inScriptMs === undefined ? [] : [r.inScriptMs]));
  if (ins.length) s.inScriptMs = median(ins);
  const reqs = use.flatMap((r) => (r.requests ? [r.requests] : []));
  if (reqs.length) {
    s.requests = median(reqs.map((r) => r.requests));
    s.authRequests = median(reqs.map((r) => r.authRequests));
  }
  return s;
}

const fmtS = (ms: number): string => (ms < 10_000 ? `${(ms / 1000).toFixed(2)} s` : `${(ms / 1000).toFixed(1)} s`);
const fmtMiB = (bytes: number): string => `${(bytes / MiB).toFixed(0)} MiB`;
const fmtRate = (bytes: number, ms: number): string => `${(bytes / MiB / (ms / 1000)).toFixed(0)} MiB/s`;
const fmtSize = (bytes: number): string =>
  bytes >= 1024 * MiB
    ? `${(bytes / 1024 / MiB).toFixed(2)} GiB`
    : bytes >= MiB
      ? `${(bytes / MiB).toFixed(1)} MiB`
      : `${(bytes / KiB).toFixed(0)} KiB`;
const fmtX = (x: number): string => `${x.toFixed(2)}×`;

function table(head: string[], rows: string[][], right: boolean[]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string =>
    cells.map((c, i) => (right[i] ? c.padStart(widths[i] as number) : c.padEnd(widths[i] as number))).join('  ');
  return [line(head), widths.map((w) => '─'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

// ── machine ──────────────────────────────────────────────────────────────────────────────────

function sh(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 30_000 }).trim();
  } catch {
    return '?';
  }
}

/**
 * A fixed CPU task (sha256 of 128 MiB in memory, best of 5), to tell a slow or throttled machine
 * from a slow action when comparing runs.
 */
function cpuCheckMs(): number {
  const buf = Buffer.alloc(32 * MiB, 1);
  let best = Infinity;
  for (let round = 0; round < 5; round++) {
    const t0 = performance.now();
    for (let i = 0; i < 4; i++) createHash('sha256').update(buf).digest();
    best = Math.min(best, performance.now() - t0);
  }
  return Math.round(best);
}

/** Jiffies from the first line of /proc/stat: busy (all but idle and iowait) and steal. */
function cpuTicks(): { busy: number; total: number; steal: number } {
  const f = (fs.readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/).slice(1).map(Number);
  const total = f.reduce((a, b) => a + b, 0);
  return { busy: total - (f[3] ?? 0) - (f[4] ?? 0), total, steal: f[7] ?? 0 };
}

function machine(): Record<string, string | number> {
  const cpuinfo = fs.readFileSync('/proc/cpuinfo', 'utf8');
  const cpu = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? '?';
  return {
    nproc: os.availableParallelism(),
    cpu,
    memory: `${(os.totalmem() / 1024 ** 3).toFixed(1)} GiB`,
    kernel: os.release(),
    node: process.version,
    mlflow: sh(PYTHON, ['-c', 'import importlib.metadata as m; print(m.version("mlflow"))']),
    python: sh(PYTHON, ['-c', 'import platform; print(platform.python_version())']),
    curl: sh('curl', ['--version']).split('\n')[0]?.split(' ').slice(0, 2).join(' ') ?? '?',
    commit: sh('git', ['-C', ROOT, 'describe', '--always', '--dirty']),
    entries: ENTRIES.map(
      (e) => `${e.label}=${path.relative(ROOT, e.path).startsWith('..') ? e.path : path.relative(ROOT, e.path)} (sha256 ${e.sha256})`,
    ).join(', '),
  };
}

// ── main ─────────────────────────────────────────────────────────────────────────────────────

interface Target {
  target: string;
  value: string;
  pass: boolean;
}

interface ActionResult {
  label: string;
  entry: string;
  summary: Summary;
  ratios: {
    pythonOverAction: number;
    actionOverPythonWall: number;
    /** loopback only */
    actionOverCurlThroughput?: number;
    /** the action's upload phase alone (its own figure) against curl */
    uploadOverCurlThroughput?: number;
    /** the first entry's wall over this one's (with several entries: > 1 = faster than the first) */
    firstEntryOverThis?: number;
  };
  targets: Target[];
}

interface WorkloadResult {
  name: WorkloadName;
  setup: SetupName;
  title: string;
  files: number;
  bytes: number;
  /** the latency setup only */
  latencyMs?: number;
  workers: number;
  /** one per BENCH_ENTRY, in order */
  actions: ActionResult[];
  python: Summary;
  /** loopback only */
  curl?: Summary & { mode: CurlMode; modes: Partial<Record<CurlMode, Summary>> };
}

function targetsFor(w: WorkloadResult, a: ActionResult): Target[] {
  const { ratios } = a;
  const faster = (x: number): Target => ({
    target: `≥ ${x}× faster than the Python client${w.latencyMs === undefined ? '' : ` (at ${w.latencyMs} ms${w.latencyMs === 40 ? '' : '; the target is for 40 ms'})`}`,
    value: fmtX(ratios.pythonOverAction),
    pass: ratios.pythonOverAction >= x,
  });
  switch (w.name) {
    case 'latency-sklearn':
      return [faster(3)];
    case 'latency-small':
      return [faster(12)];
    case 'small':
      return [{ ...faster(1), target: 'no slower than the Python client (≥ 1.0×, one worker)' }];
    case 'large': {
      const x = ratios.actionOverCurlThroughput ?? 0;
      return [
        { target: 'throughput ≥ 0.9× a curl PUT', value: fmtX(x), pass: x >= 0.9 },
        { target: 'peak RSS < 130 MiB', value: fmtMiB(a.summary.peakRssBytes), pass: a.summary.peakRssBytes < 130 * MiB },
      ];
    }
    case 'sklearn':
      return [
        {
          target: 'wall ≤ 0.5× the Python client (earlier target)',
          value: fmtX(ratios.actionOverPythonWall),
          pass: ratios.actionOverPythonWall <= 0.5,
        },
      ];
  }
}

const m = machine();
const cpuBefore = cpuCheckMs();
const ticks0 = cpuTicks();
console.log('Benchmark: the action vs MLflow Python client vs curl, local MLflow servers');
console.log(`machine  ${m.nproc} CPUs, ${m.cpu}, ${m.memory} RAM, Linux ${m.kernel}`);
console.log(`versions node ${m.node}, mlflow ${m.mlflow} (python ${m.python}), ${m.curl}; commit ${m.commit}`);
console.log(`entries  ${m.entries}`);
console.log(
  `cpu      sha256 of 128 MiB in ${cpuBefore} ms (best of 5); load average ${os
    .loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')}`,
);
console.log(
  `settings workloads ${selected.join(',')}, repeat ${REPEAT} (median), upload-concurrency ${CONCURRENCY ?? '(action default)'}, curl --parallel-max ${CURL_PARALLEL}` +
    (selected.some((w) => setupOf(w) === 'latency') ? `, latency ${LATENCY_MS} ms, ${LATENCY_WORKERS} workers` : ''),
);

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-'));
const untrackTmp = trackCleanup(() => fs.rmSync(tmp, { recursive: true, force: true }));
const results: WorkloadResult[] = [];
let failed = false;
const fmtSeq = (seq: string[] | undefined): string => (seq ?? []).map((l, i) => `      ${String(i + 1).padStart(3)}  ${l}`).join('\n');

async function runSetup(setupName: SetupName, workloads: WorkloadName[]): Promise<void> {
  const t0 = performance.now();
  const setup = await startSetup(setupName);
  try {
    console.log(`\n${setupName.padEnd(8)} ${setup.describe}, up in ${fmtS(performance.now() - t0)}`);
    const artifactsDir = path.join(setup.server.dir, 'mlartifacts');

    // Warm-up: a fresh server is slow on its first requests of each kind (lazy imports, sqlite), and
    // whoever went first would pay for it. A tiny registration by each contender creates both
    // experiments too, so no measured run creates one. With several workers each one starts cold
    // (and the requests go to whichever worker accepts them), hence more rounds there.
    const warmDir = path.join(tmp, 'warmup');
    fs.mkdirSync(warmDir, { recursive: true });
    fs.writeFileSync(path.join(warmDir, 'MLmodel'), MLMODEL);
    fs.writeFileSync(path.join(warmDir, 'weights.bin'), Buffer.alloc(1024));
    const warm = describe('sklearn', 'warm-up', warmDir);
    const tw = performance.now();
    const rounds = setupName === 'latency' ? 2 : 1;
    for (let round = 1; round <= rounds; round++) {
      for (const entry of ENTRIES) {
        const r = await runActionOnce(setup, entry, warm, `bench-warmup-${entry.label}-${round}`);
        if (r.error) throw new Error(`warm-up (${entry.label}) failed: ${r.error}`);
      }
      const r = await runPythonOnce(setup, warm, `bench-warmup-python-${round}`);
      if (r.error) throw new Error(`warm-up (python) failed: ${r.error}`);
    }
    fs.rmSync(warmDir, { recursive: true, force: true });
    console.log(`warm-up  ${rounds} tiny registration(s) by each action entry and by the Python client, ${fmtS(performance.now() - tw)}\n`);
    // Between measurements: drop what was uploaded (disk, and dirty pages that would be written back
    // during the next measurement).
    const clearServerArtifacts = (): void => {
      if (!fs.existsSync(artifactsDir)) return;
      for (const e of fs.readdirSync(artifactsDir, { withFileTypes: true }))
        fs.rmSync(path.join(artifactsDir, e.name), { recursive: true, force: true });
    };

    for (const name of workloads) {
      const tg = performance.now();
      const w = await makeWorkload(name, tmp);
      console.log(`[${name}] ${w.files.length} files, ${fmtSize(w.bytes)}, generated in ${fmtS(performance.now() - tg)}`);
      const curlModes: CurlMode[] = setupName === 'latency' ? [] : w.files.length === 1 ? ['single'] : ['serial', 'parallel'];
      const runs = {
        actions: ENTRIES.map(() => [] as RunResult[]),
        python: [] as RunResult[],
        curl: {} as Partial<Record<CurlMode, RunResult[]>>,
      };
      for (let rep = 1; rep <= REPEAT; rep++) {
        const notes: string[] = [];
        const errors: string[] = [];
        const req = (r: RunResult): string =>
          r.requests ? ` (${r.requests.requests} requests${r.requests.authRequests ? ` + ${r.requests.authRequests} auth` : ''})` : '';
        for (const [i, entry] of ENTRIES.entries()) {
          const a = await counted(setup, () => runActionOnce(setup, entry, w, `bench-${name}-${entry.label}-${rep}`));
          runs.actions[i]?.push(a);
          clearServerArtifacts();
          notes.push(`${entry.label} ${fmtS(a.wallMs)}${req(a)}${a.error ? ' FAILED' : ''}`);
          if (a.error) errors.push(`${entry.label}: ${a.error}`);
          if (rep === 1 && name === 'latency-sklearn' && a.requests?.sequence)
            console.log(
              `  requests of ${entry.label}'s first run (+ms since its start, when the front took it after the delay; method, path, status):\n${fmtSeq(a.requests.sequence)}`,
            );
        }
        const p = await counted(setup, () => runPythonOnce(setup, w, `bench-${name}-python-${rep}`));
        runs.python.push(p);
        clearServerArtifacts();
        notes.push(`python ${fmtS(p.wallMs)}${req(p)}${p.error ? ' FAILED' : ''}`);
        if (p.error) errors.push(`python: ${p.error}`);
        for (const mode of curlModes) {
          const c = await runCurlOnce(setup.server, w, `${name}-${rep}-${mode}`, mode, tmp);
          (runs.curl[mode] ??= []).push(c);
          clearServerArtifacts();
          notes.push(`curl ${mode} ${fmtS(c.wallMs)}${c.error ? ' FAILED' : ''}`);
        }
        console.log(`  run ${rep}/${REPEAT}: ${notes.join(', ')}`);
        for (const e of errors) console.log(`    ${e}`);
      }
      fs.rmSync(w.dir, { recursive: true, force: true });

      const python = summarize(runs.python);
      let curl: WorkloadResult['curl'];
      if (curlModes.length) {
        const modes: Partial<Record<CurlMode, Summary>> = {};
        for (const mode of curlModes) modes[mode] = summarize(runs.curl[mode] ?? []);
        // The ceiling: the fastest curl mode that succeeded.
        const best = curlModes
          .filter((mode) => !modes[mode]?.errors.length)
          .sort((x, y) => (modes[x] as Summary).wallMs - (modes[y] as Summary).wallMs)[0];
        const bestMode = best ?? (curlModes[0] as CurlMode);
        curl = { ...(modes[bestMode] as Summary), mode: bestMode, modes };
        if (Object.values(modes).some((s) => s.errors.length)) failed = true;
      }
      const r: WorkloadResult = {
        name,
        setup: setupName,
        title: w.title,
        files: w.files.length,
        bytes: w.bytes,
        ...(setupName === 'latency' ? { latencyMs: LATENCY_MS } : {}),
        workers: setupName === 'latency' ? LATENCY_WORKERS : 1,
        actions: [],
        python,
        ...(curl ? { curl } : {}),
      };
      const firstWall = summarize(runs.actions[0] ?? []).wallMs;
      r.actions = ENTRIES.map((entry, i) => {
        const action = summarize(runs.actions[i] ?? []);
        const a: ActionResult = {
          label: entry.label,
          entry: entry.path,
          summary: action,
          ratios: {
            pythonOverAction: python.wallMs / action.wallMs,
            actionOverPythonWall: action.wallMs / python.wallMs,
            ...(curl ? { actionOverCurlThroughput: curl.wallMs / action.wallMs } : {}),
            ...(curl && action.uploadMs ? { uploadOverCurlThroughput: curl.wallMs / action.uploadMs } : {}),
            ...(ENTRIES.length > 1 ? { firstEntryOverThis: firstWall / action.wallMs } : {}),
          },
          targets: [],
        };
        a.targets = targetsFor(r, a);
        if (action.errors.length) failed = true;
        return a;
      });
      if (python.errors.length) failed = true;
      results.push(r);
    }
  } finally {
    await stopSetup(setup);
  }
}

try {
  for (const setupName of ['loopback', 'latency'] as const) {
    const workloads = selected.filter((w) => setupOf(w) === setupName);
    if (workloads.length) await runSetup(setupName, workloads);
  }
} finally {
  fs.rmSync(tmp, { recursive: true, force: true });
  untrackTmp();
}

const curlLabel = (r: WorkloadResult): string => (!r.curl ? '-' : r.curl.mode === 'parallel' ? `parallel ${CURL_PARALLEL}` : r.curl.mode);
const errMark = (s: Summary): string => (s.errors.length ? ' !' : '');
const reqCount = (s: Summary): string => (s.requests === undefined ? '-' : `${s.requests}${s.authRequests ? `+${s.authRequests}` : ''}`);
const targetNote = (ts: Target[]): string => ts.map((t) => `${t.pass ? 'met' : 'MISSED'} (${t.target.split(' (')[0]})`).join('; ');
console.log('');
console.log(
  table(
    [
      'workload',
      'entry',
      'files',
      'size',
      'action',
      'upload',
      'action MiB/s',
      'action RSS',
      'python',
      'python RSS',
      'requests a/py',
      'curl',
      'curl mode',
      'py/action',
      'action/curl',
      'upload/curl',
      ...(ENTRIES.length > 1 ? [`${ENTRIES[0]?.label}/entry`] : []),
      'targets',
    ],
    results.flatMap((r) =>
      r.actions.map((a) => [
        r.latencyMs === undefined ? r.name : `${r.name} @${r.latencyMs}ms`,
        a.label,
        String(r.files),
        fmtSize(r.bytes),
        fmtS(a.summary.wallMs) + errMark(a.summary),
        a.summary.uploadMs === undefined ? '-' : fmtS(a.summary.uploadMs),
        fmtRate(r.bytes, a.summary.wallMs),
        fmtMiB(a.summary.peakRssBytes),
        fmtS(r.python.wallMs) + errMark(r.python),
        fmtMiB(r.python.peakRssBytes),
        `${reqCount(a.summary)} / ${reqCount(r.python)}`,
        r.curl ? fmtS(r.curl.wallMs) + errMark(r.curl) : '-',
        curlLabel(r),
        fmtX(a.ratios.pythonOverAction),
        a.ratios.actionOverCurlThroughput === undefined ? '-' : fmtX(a.ratios.actionOverCurlThroughput),
        a.ratios.uploadOverCurlThroughput === undefined ? '-' : fmtX(a.ratios.uploadOverCurlThroughput),
        ...(ENTRIES.length > 1 ? [fmtX(a.ratios.firstEntryOverThis ?? 1)] : []),
        targetNote(a.targets),
      ]),
    ),
    [
      false,
      false,
      true,
      true,
      true,
      true,
      true,
      true,
      true,
      true,
      true,
      true,
      false,
      true,
      true,
      true,
      ...(ENTRIES.length > 1 ? [true] : []),
      false,
    ],
  ),
);
console.log(
  '\naction, python: wall time of a fresh process (node / python interpreter start included), run to registered version;' +
    '\nupload: the action\'s own "Uploaded … in" figure (upload/curl uses it instead of the wall); MiB/s: size / wall; RSS: peak (VmHWM, sampled every 50 ms);' +
    `\ncurl: one process PUTting every file (config file, connections reused; parallel = --parallel --parallel-max ${CURL_PARALLEL}), the faster mode shown;` +
    '\nrequests a/py (latency setup): requests the front proxy saw during a run of the action / of the Python client (+N: requests to the auth service).' +
    (ENTRIES.length > 1 ? `\n${ENTRIES[0]?.label}/entry: the first entry's wall time over this entry's (> 1×: this entry is faster).` : ''),
);
if (REPEAT > 1) console.log(`Times and request counts are medians of ${REPEAT} runs; RSS the largest.`);

console.log('\nTargets');
console.log(
  table(
    ['workload', 'entry', 'target', 'measured', 'result'],
    results.flatMap((r) => r.actions.flatMap((a) => a.targets.map((t) => [r.name, a.label, t.target, t.value, t.pass ? 'met' : 'MISSED']))),
    [false, false, false, true, false],
  ),
);
for (const r of results) {
  const who: Array<[string, Summary]> = [...r.actions.map((a): [string, Summary] => [a.label, a.summary]), ['python', r.python]];
  if (r.curl) who.push(['curl', r.curl]);
  for (const [label, s] of who) for (const e of s.errors) console.log(`ERROR ${r.name} ${label}: ${e}`);
}

const ticks1 = cpuTicks();
const cpuAfter = cpuCheckMs();
const health = {
  cpuCheckMsBefore: cpuBefore,
  cpuCheckMsAfter: cpuAfter,
  /** share of the machine's CPU time stolen by the hypervisor during the run */
  stealPercent: Number((((ticks1.steal - ticks0.steal) / Math.max(1, ticks1.total - ticks0.total)) * 100).toFixed(2)),
  /** how busy the whole machine was during the run (everything, the benchmark included) */
  busyPercent: Number((((ticks1.busy - ticks0.busy) / Math.max(1, ticks1.total - ticks0.total)) * 100).toFixed(1)),
};
console.log(
  `\nMachine during the run: ${health.busyPercent}% busy overall, ${health.stealPercent}% stolen; cpu check ${cpuBefore} ms before, ${cpuAfter} ms after` +
    (cpuAfter > cpuBefore * 1.3 ? ' (slower: the machine was busy or throttled, figures are less reliable)' : ''),
);

fs.writeFileSync(
  RESULTS,
  JSON.stringify(
    {
      date: new Date().toISOString(),
      machine: m,
      health,
      settings: {
        workloads: selected,
        repeat: REPEAT,
        uploadConcurrency: CONCURRENCY ?? null,
        curlParallel: CURL_PARALLEL,
        latencyMs: LATENCY_MS,
        latencyWorkers: LATENCY_WORKERS,
        entries: ENTRIES,
      },
      results,
    },
    null,
    2,
  ) + '\n',
);
console.log(`\nWrote ${path.relative(process.cwd(), RESULTS) || RESULTS}`);
process.exitCode = failed ? 1 : 0;
