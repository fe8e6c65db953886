import { spawn } from 'node:child_process';
import { DEFAULT_VENV, ROOT, type Venv } from './paths.ts';
import { TailBuffer, cleanEnv, trackProcess, untrackProcess } from './procs.ts';

export interface RunPythonOptions {
  /**
   * Extra environment. MLFLOW_* variables of the test process are never inherited;
   * pass MLFLOW_TRACKING_URI / MLFLOW_TRACKING_TOKEN etc. here when needed.
   */
  env?: Record<string, string>;
  /** default 300 000 ms; on timeout the process is killed and the promise rejects */
  timeoutMs?: number;
  /** default: repo root */
  cwd?: string;
  /** Whose Python (and so which MLflow client) runs the script; default `.venv`. */
  venv?: Venv;
}

export interface PythonResult {
  code: number;
  stdout: string;
  stderr: string;
}

const OUTPUT_LIMIT = 4 * 1024 * 1024;

/**
 * Run `.venv/bin/python <script> ...args` (or another virtualenv's python, see `venv`). `script` may also be `-c` (then args[0]
 * is the code) or `-m` (then args[0] is the module).
 * Resolves with the exit code (signal deaths map to 128+n, spawn failure rejects).
 */
export async function runPython(script: string, args: string[], opts: RunPythonOptions = {}): Promise<PythonResult> {
  const timeoutMs = opts.timeoutMs ?? 300_000;
  const env = cleanEnv({ PYTHONUNBUFFERED: '1', ...(opts.env ?? {}) });
  const stdout = new TailBuffer(OUTPUT_LIMIT);
  const stderr = new TailBuffer(OUTPUT_LIMIT);
  const python = (opts.venv ?? DEFAULT_VENV).python;

  return new Promise<PythonResult>((resolve, reject) => {
    const child = spawn(python, [script, ...args], {
      cwd: opts.cwd ?? ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const pid = child.pid;
    if (pid !== undefined) trackProcess(pid, false);
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (s: string) => stdout.push(s));
    child.stderr.on('data', (s: string) => stderr.push(s));

    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);

    child.once('error', (err) => {
      clearTimeout(timer);
      if (pid !== undefined) untrackProcess(pid);
      reject(new Error(`failed to run ${python} ${script}: ${err.message}`));
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (pid !== undefined) untrackProcess(pid);
      if (timedOut) {
        reject(
          new Error(
            `python ${script} ${args.join(' ')} timed out after ${timeoutMs} ms\n--- stderr tail ---\n${stderr.tail(8000)}\n--- stdout tail ---\n${stdout.tail(4000)}`,
          ),
        );
        return;
      }
      const sigNum = signal ? (signalNumber(signal) ?? 0) : 0;
      resolve({ code: code ?? 128 + sigNum, stdout: stdout.text(), stderr: stderr.text() });
    });
  });
}

function signalNumber(signal: NodeJS.Signals): number | undefined {
  const table: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGABRT: 6, SIGKILL: 9, SIGSEGV: 11, SIGTERM: 15 };
  return table[signal];
}

/**
 * Run a python script, throw (with stderr) on a non-zero exit, and parse the LAST
 * non-empty line of stdout as JSON.
 */
export async function pythonJson<T>(script: string, args: string[], opts: RunPythonOptions = {}): Promise<T> {
  const r = await runPython(script, args, opts);
  const what = `python ${script === '-c' ? '-c <code>' : script} ${script === '-c' ? '' : args.join(' ')}`.trim();
  if (r.code !== 0) {
    throw new Error(
      `${what} exited with code ${r.code}\n--- stderr tail ---\n${tailOf(r.stderr, 8000)}\n--- stdout tail ---\n${tailOf(r.stdout, 4000)}`,
    );
  }
  const lines = r.stdout.split(/\r?\n/).filter((l) => l.trim() !== '');
  const last = lines[lines.length - 1];
  if (last === undefined) throw new Error(`${what} printed nothing on stdout\n--- stderr tail ---\n${tailOf(r.stderr, 8000)}`);
  try {
    return JSON.parse(last) as T;
  } catch (err) {
    throw new Error(
      `${what}: last stdout line is not JSON (${(err as Error).message}): ${last.slice(0, 500)}\n--- stderr tail ---\n${tailOf(r.stderr, 4000)}`,
    );
  }
}

function tailOf(s: string, n: number): string {
  return s.length > n ? '...' + s.slice(s.length - n) : s;
}
