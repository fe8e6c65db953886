// npm run bench: how fast the built action (dist/index.js) uploads and registers a model, next to
// MLflow's own Python client doing the same job and a raw curl upload of the same bytes (the
// ceiling), all against one local MLflow server (local artifacts, --serve-artifacts) started here.
//
// Workloads (generated in a temp dir, removed afterwards):
//   small    2,000 files of 64 KiB (random bytes) + MLmodel
//   large    one 1 GiB file (random bytes) + MLmodel
//   sklearn  a typical scikit-learn model directory (test/support/make_model.py)
//
// Environment:
//   BENCH_ONLY=small,large,sklearn   workloads to run (default: all)
//   BENCH_REPEAT=N                   runs of each measurement; the median is reported (default 1)
//   BENCH_CONCURRENCY=N              passed as the action's `upload-concurrency` input (only when set)
//   BENCH_CURL_PARALLEL=N            curl's --parallel-max (default BENCH_CONCURRENCY, else 8)
//   BENCH_SMALL_FILES=N, BENCH_LARGE_MIB=N   shrink the workloads (for trying the script out)
//
// Prints a table and writes bench-results.json at the repository root.
import { execFileSync, spawn } from 'node:child_process';
import { createHash, randomFillSync } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { startMlflowServer } from '../test/support/mlflow-server.ts';
import type { MlflowServer } from '../test/support/mlflow-server.ts';
import { DIST, PYTHON, ROOT, SUPPORT_DIR } from '../test/support/paths.ts';
import { cleanEnv, trackCleanup, trackProcess, untrackProcess } from '../test/support/procs.ts';
import { pythonJson } from '../test/support/python.ts';
import { runAction } from '../test/support/run-action.ts';

const KiB = 1024;
const MiB = 1024 * KiB;
const WORKLOADS = ['small', 'large', 'sklearn'] as const;
type WorkloadName = (typeof WORKLOADS)[number];

function intEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer, got ${JSON.stringify(raw)}`);
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
const RESULTS = path.join(ROOT, 'bench-results.json');
const TIMEOUT_MS = 30 * 60_000;

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
  if (name === 'small') {
    fs.mkdirSync(path.join(dir, 'data'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'MLmodel'), MLMODEL);
    const buf = Buffer.alloc(64 * KiB);
    for (let i = 0; i < SMALL_FILES; i++) writeRandomFile(path.join(dir, 'data', `part-${String(i).padStart(4, '0')}.bin`), 64 * KiB, buf);
    return describe(name, `${SMALL_FILES} × 64 KiB`, dir);
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

// ── the three contenders ─────────────────────────────────────────────────────────────────────

interface RunResult {
  wallMs: number;
  peakRssBytes: number;
  /** the action only: the upload phase as the action logs it ("Uploaded N files (…) in X") */
  uploadMs?: number;
  /** python only: the script's own timing, after `import mlflow` */
  inScriptMs?: number;
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

async function runActionOnce(server: MlflowServer, w: Workload, modelName: string): Promise<RunResult> {
  let sampler: { stop(): number } | undefined;
  const inputs: Record<string, string> = {
    'tracking-uri': server.url,
    'auth-url': '',
    'model-path': path.basename(w.dir),
    'model-name': modelName,
    'experiment-name': 'bench-action',
  };
  if (CONCURRENCY) inputs['upload-concurrency'] = CONCURRENCY;
  const r = await runAction(inputs, {
    cwd: path.dirname(w.dir), // the workspace; model-path is relative to it
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

async function runPythonOnce(server: MlflowServer, w: Workload, modelName: string): Promise<RunResult> {
  const m = await measure(
    PYTHON,
    [path.join(SUPPORT_DIR, 'register_with_python.py'), modelName, w.dir, '--experiment', 'bench-python', '--tracking-uri', server.url],
    cleanEnv({ PYTHONUNBUFFERED: '1' }),
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
  return s;
}

const fmtS = (ms: number): string => (ms < 10_000 ? `${(ms / 1000).toFixed(2)} s` : `${(ms / 1000).toFixed(1)} s`);
const fmtMB = (bytes: number): string => `${(bytes / 1e6).toFixed(0)} MB`;
const fmtRate = (bytes: number, ms: number): string => `${(bytes / MiB / (ms / 1000)).toFixed(0)} MiB/s`;
const fmtSize = (bytes: number): string =>
  bytes >= 1024 * MiB ? `${(bytes / 1024 / MiB).toFixed(2)} GiB` : `${(bytes / MiB).toFixed(1)} MiB`;
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
    dist: createHash('sha256').update(fs.readFileSync(DIST)).digest('hex').slice(0, 12),
  };
}

// ── main ─────────────────────────────────────────────────────────────────────────────────────

interface WorkloadResult {
  name: WorkloadName;
  title: string;
  files: number;
  bytes: number;
  action: Summary;
  python: Summary;
  curl: Summary & { mode: CurlMode; modes: Partial<Record<CurlMode, Summary>> };
  ratios: {
    pythonOverAction: number;
    actionOverCurlThroughput: number;
    actionOverPythonWall: number;
    /** the action's upload phase alone (its own figure) against curl */
    uploadOverCurlThroughput?: number;
  };
  targets: Array<{ target: string; value: string; pass: boolean }>;
}

function targetsFor(w: WorkloadResult): WorkloadResult['targets'] {
  const { ratios } = w;
  if (w.name === 'small')
    return [{ target: '≥ 3× faster than the Python client', value: fmtX(ratios.pythonOverAction), pass: ratios.pythonOverAction >= 3 }];
  if (w.name === 'large')
    return [
      {
        target: 'throughput ≥ 0.9× curl',
        value: fmtX(ratios.actionOverCurlThroughput),
        pass: ratios.actionOverCurlThroughput >= 0.9,
      },
      { target: 'peak RSS < 150 MB', value: fmtMB(w.action.peakRssBytes), pass: w.action.peakRssBytes < 150e6 },
    ];
  return [{ target: 'wall ≤ 0.5× the Python client', value: fmtX(ratios.actionOverPythonWall), pass: ratios.actionOverPythonWall <= 0.5 }];
}

const m = machine();
const cpuBefore = cpuCheckMs();
const ticks0 = cpuTicks();
console.log('Benchmark: the action (dist/index.js) vs MLflow Python client vs curl, one local MLflow server');
console.log(`machine  ${m.nproc} CPUs, ${m.cpu}, ${m.memory} RAM, Linux ${m.kernel}`);
console.log(`versions node ${m.node}, mlflow ${m.mlflow} (python ${m.python}), ${m.curl}; commit ${m.commit}, dist sha256 ${m.dist}`);
console.log(
  `cpu      sha256 of 128 MiB in ${cpuBefore} ms (best of 5); load average ${os
    .loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')}`,
);
console.log(
  `settings workloads ${selected.join(',')}, repeat ${REPEAT} (median), upload-concurrency ${CONCURRENCY ?? '(action default)'}, curl --parallel-max ${CURL_PARALLEL}`,
);

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-'));
const untrackTmp = trackCleanup(() => fs.rmSync(tmp, { recursive: true, force: true }));
let server: MlflowServer | undefined;
const results: WorkloadResult[] = [];
let failed = false;

try {
  const t0 = performance.now();
  server = await startMlflowServer();
  console.log(
    `server   ${server.url} (mlflow server, sqlite, local artifacts, --serve-artifacts, 1 worker) up in ${fmtS(performance.now() - t0)}`,
  );
  const artifactsDir = path.join(server.dir, 'mlartifacts');

  // Warm-up: a fresh server is slow on its first requests of each kind (lazy imports, sqlite), and
  // whoever went first would pay for it. One tiny registration by each client creates both
  // experiments too, so no measured run creates one.
  const warmDir = path.join(tmp, 'warmup');
  fs.mkdirSync(warmDir);
  fs.writeFileSync(path.join(warmDir, 'MLmodel'), MLMODEL);
  fs.writeFileSync(path.join(warmDir, 'weights.bin'), Buffer.alloc(1024));
  const warm = describe('sklearn', 'warm-up', warmDir);
  const tw = performance.now();
  for (const r of [await runActionOnce(server, warm, 'bench-warmup-action'), await runPythonOnce(server, warm, 'bench-warmup-python')])
    if (r.error) throw new Error(`warm-up failed: ${r.error}`);
  fs.rmSync(warmDir, { recursive: true, force: true });
  console.log(`warm-up  one tiny registration by the action and by the Python client, ${fmtS(performance.now() - tw)}\n`);
  // Between measurements: drop what was uploaded (disk, and dirty pages that would be written back
  // during the next measurement).
  const clearServerArtifacts = (): void => {
    if (!fs.existsSync(artifactsDir)) return;
    for (const e of fs.readdirSync(artifactsDir, { withFileTypes: true }))
      fs.rmSync(path.join(artifactsDir, e.name), { recursive: true, force: true });
  };

  for (const name of selected) {
    const tg = performance.now();
    const w = await makeWorkload(name, tmp);
    console.log(`[${name}] ${w.files.length} files, ${fmtSize(w.bytes)}, generated in ${fmtS(performance.now() - tg)}`);
    const curlModes: CurlMode[] = w.files.length === 1 ? ['single'] : ['serial', 'parallel'];
    const runs = { action: [] as RunResult[], python: [] as RunResult[], curl: {} as Partial<Record<CurlMode, RunResult[]>> };
    for (let rep = 1; rep <= REPEAT; rep++) {
      const a = await runActionOnce(server, w, `bench-${name}-action-${rep}`);
      runs.action.push(a);
      clearServerArtifacts();
      const p = await runPythonOnce(server, w, `bench-${name}-python-${rep}`);
      runs.python.push(p);
      clearServerArtifacts();
      const curlNotes: string[] = [];
      for (const mode of curlModes) {
        const c = await runCurlOnce(server, w, `${name}-${rep}-${mode}`, mode, tmp);
        (runs.curl[mode] ??= []).push(c);
        clearServerArtifacts();
        curlNotes.push(`curl ${mode} ${fmtS(c.wallMs)}${c.error ? ' FAILED' : ''}`);
      }
      console.log(
        `  run ${rep}/${REPEAT}: action ${fmtS(a.wallMs)}${a.error ? ' FAILED' : ''}, python ${fmtS(p.wallMs)}${p.error ? ' FAILED' : ''}, ${curlNotes.join(', ')}`,
      );
      for (const e of [a.error && `action: ${a.error}`, p.error && `python: ${p.error}`]) if (e) console.log(`    ${e}`);
    }
    fs.rmSync(w.dir, { recursive: true, force: true });

    const modes: Partial<Record<CurlMode, Summary>> = {};
    for (const mode of curlModes) modes[mode] = summarize(runs.curl[mode] ?? []);
    // The ceiling: the fastest curl mode that succeeded.
    const best = curlModes
      .filter((mode) => !modes[mode]?.errors.length)
      .sort((x, y) => (modes[x] as Summary).wallMs - (modes[y] as Summary).wallMs)[0];
    const bestMode = best ?? (curlModes[0] as CurlMode);
    const action = summarize(runs.action);
    const python = summarize(runs.python);
    const curl = { ...(modes[bestMode] as Summary), mode: bestMode, modes };
    const r: WorkloadResult = {
      name,
      title: w.title,
      files: w.files.length,
      bytes: w.bytes,
      action,
      python,
      curl,
      ratios: {
        pythonOverAction: python.wallMs / action.wallMs,
        actionOverCurlThroughput: curl.wallMs / action.wallMs,
        actionOverPythonWall: action.wallMs / python.wallMs,
        ...(action.uploadMs ? { uploadOverCurlThroughput: curl.wallMs / action.uploadMs } : {}),
      },
      targets: [],
    };
    r.targets = targetsFor(r);
    if (action.errors.length || python.errors.length || Object.values(modes).some((s) => s.errors.length)) failed = true;
    results.push(r);
  }
} finally {
  await server?.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
  untrackTmp();
}

const curlLabel = (r: WorkloadResult): string => (r.curl.mode === 'parallel' ? `parallel ${CURL_PARALLEL}` : r.curl.mode);
const errMark = (s: Summary): string => (s.errors.length ? ' !' : '');
console.log('');
console.log(
  table(
    [
      'workload',
      'files',
      'size',
      'action',
      'upload',
      'action MiB/s',
      'action RSS',
      'python',
      'python RSS',
      'curl',
      'curl mode',
      'curl MiB/s',
      'py/action',
      'action/curl',
      'upload/curl',
    ],
    results.map((r) => [
      r.name,
      String(r.files),
      fmtSize(r.bytes),
      fmtS(r.action.wallMs) + errMark(r.action),
      r.action.uploadMs === undefined ? '-' : fmtS(r.action.uploadMs),
      fmtRate(r.bytes, r.action.wallMs),
      fmtMB(r.action.peakRssBytes),
      fmtS(r.python.wallMs) + errMark(r.python),
      fmtMB(r.python.peakRssBytes),
      fmtS(r.curl.wallMs) + errMark(r.curl),
      curlLabel(r),
      fmtRate(r.bytes, r.curl.wallMs),
      fmtX(r.ratios.pythonOverAction),
      fmtX(r.ratios.actionOverCurlThroughput),
      r.ratios.uploadOverCurlThroughput === undefined ? '-' : fmtX(r.ratios.uploadOverCurlThroughput),
    ]),
    [false, true, true, true, true, true, true, true, true, true, false, true, true, true, true],
  ),
);
console.log(
  '\naction, python: wall time of a fresh process (node / python interpreter start included), run to registered version;' +
    '\nupload: the action\'s own "Uploaded … in" figure (upload/curl uses it instead of the wall); MiB/s: size / wall; RSS: peak (VmHWM, sampled every 50 ms), MB = 10^6 bytes;' +
    `\ncurl: one process PUTting every file (config file, connections reused; parallel = --parallel --parallel-max ${CURL_PARALLEL}), the faster mode shown.`,
);
if (REPEAT > 1) console.log(`Times are medians of ${REPEAT} runs; RSS the largest.`);

console.log('\nTargets');
console.log(
  table(
    ['workload', 'target', 'measured', 'result'],
    results.flatMap((r) => r.targets.map((t) => [r.name, t.target, t.value, t.pass ? 'PASS' : 'MISS'])),
    [false, false, true, false],
  ),
);
for (const r of results) {
  for (const [who, s] of [
    ['action', r.action],
    ['python', r.python],
    ['curl', r.curl],
  ] as const)
    for (const e of s.errors) console.log(`ERROR ${r.name} ${who}: ${e}`);
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
      settings: { workloads: selected, repeat: REPEAT, uploadConcurrency: CONCURRENCY ?? null, curlParallel: CURL_PARALLEL },
      results,
    },
    null,
    2,
  ) + '\n',
);
console.log(`\nWrote ${path.relative(process.cwd(), RESULTS) || RESULTS}`);
process.exitCode = failed ? 1 : 0;
