// Runs the built action (dist/index.js) the way the GitHub runner does: a fresh Node 24
// process, inputs as INPUT_* variables, and GITHUB_OUTPUT / GITHUB_STATE / GITHUB_STEP_SUMMARY /
// GITHUB_EVENT_PATH files. Returns what a workflow would see. runPostStep() runs the `post:`
// entry (dist/post/index.js) with the main step's saved state as STATE_* variables.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { DIST, DIST_POST, ROOT } from './paths.ts';

export interface ActionRun {
  /** exit code; null when the process died of a signal (see exitSignal) */
  code: number | null;
  /** the signal that ended the process, if one did */
  exitSignal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  outputs: Record<string, string>;
  /** What the step saved with core.saveState (GITHUB_STATE), by name as saved. */
  state: Record<string, string>;
  summary: string;
  /** stdout without the runner's ::add-mask:: commands, which the runner consumes and never shows. */
  visibleStdout: string;
  /** Signals actually sent (see RunOptions.signals), ms since spawn, in the order sent. */
  signalled: Array<{ signal: string; atMs: number }>;
  /** When the process exited, ms since spawn. */
  exitedAtMs: number;
}

export interface SignalTrigger {
  signal: NodeJS.Signals;
  /** A pattern tested against the child's whole stdout so far (on every chunk), or ms after spawn. */
  when: RegExp | number;
  /** Extra wait after the trigger fires; default 0. */
  delayMs?: number;
}

export interface RunOptions {
  /** GITHUB_EVENT_NAME; default "push". */
  eventName?: string;
  /** Webhook payload written to GITHUB_EVENT_PATH. */
  event?: object;
  /** Extra or overriding environment variables. */
  env?: Record<string, string>;
  /** Working directory (the workspace); default the repository root. */
  cwd?: string;
  /** SIGKILL the child after this long; default 120 s. */
  timeoutMs?: number;
  /**
   * Each one is sent once (with child.kill, to the node process only, as the runner does on
   * cancellation) when its trigger fires, unless the child has exited by then.
   */
  signals?: SignalTrigger[];
  /** Script to run instead of dist/index.js (runAction) or dist/post/index.js (runPostStep). */
  entry?: string;
  /** Called with the child's pid right after the spawn (e.g. to sample /proc/<pid>/status). */
  onSpawn?: (pid: number) => void;
}

export const GITHUB_ENV = {
  GITHUB_SHA: 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678',
  GITHUB_REF: 'refs/heads/main',
  GITHUB_REPOSITORY: 'acme/churn-model',
  GITHUB_WORKFLOW: 'register-model',
  GITHUB_RUN_ID: '4242',
  GITHUB_RUN_ATTEMPT: '1',
  GITHUB_RUN_NUMBER: '7',
  GITHUB_ACTOR: 'octocat',
  GITHUB_SERVER_URL: 'https://github.com',
  GITHUB_API_URL: 'https://api.github.com',
  GITHUB_ACTIONS: 'true',
};

export function parseGithubOutput(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const m = /^([^<=]+)<<(.+)$/.exec(lines[i]!);
    if (m) {
      const [, name, delimiter] = m;
      const value: string[] = [];
      for (i++; i < lines.length && lines[i] !== delimiter; i++) value.push(lines[i]!);
      out[name!] = value.join('\n');
    } else if (lines[i]!.includes('=')) {
      const eq = lines[i]!.indexOf('=');
      out[lines[i]!.slice(0, eq)] = lines[i]!.slice(eq + 1);
    }
  }
  return out;
}

/** Runs the main entry (dist/index.js, or opts.entry) like the runner runs the action's step. */
export async function runAction(inputs: Record<string, string>, opts: RunOptions = {}): Promise<ActionRun> {
  return runStep(opts.entry ?? DIST, inputs, {}, opts);
}

/**
 * Runs the `post:` entry (dist/post/index.js, or opts.entry) like the runner runs a post step:
 * the same INPUT_* variables as the main step, and each saved state value as `STATE_<name>`
 * (name as saved, case kept). Pass the main run's `state`.
 */
export async function runPostStep(
  inputs: Record<string, string>,
  state: Record<string, string>,
  opts: RunOptions = {},
): Promise<ActionRun> {
  const stateEnv: Record<string, string> = {};
  for (const [name, value] of Object.entries(state)) stateEnv[`STATE_${name}`] = value;
  return runStep(opts.entry ?? DIST_POST, inputs, stateEnv, opts);
}

async function runStep(
  entry: string,
  inputs: Record<string, string>,
  stateEnv: Record<string, string>,
  opts: RunOptions,
): Promise<ActionRun> {
  const dir = mkdtempSync(path.join(tmpdir(), 'action-run-'));
  const files = {
    output: path.join(dir, 'output'),
    state: path.join(dir, 'state'),
    summary: path.join(dir, 'summary.md'),
    event: path.join(dir, 'event.json'),
  };
  writeFileSync(files.output, '');
  writeFileSync(files.state, '');
  writeFileSync(files.summary, '');
  writeFileSync(files.event, JSON.stringify(opts.event ?? {}));

  // Start from a clean environment: nothing of the test process's INPUT_* or MLFLOW_* leaks in.
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? dir,
    ...GITHUB_ENV,
    GITHUB_EVENT_NAME: opts.eventName ?? 'push',
    GITHUB_EVENT_PATH: files.event,
    GITHUB_OUTPUT: files.output,
    GITHUB_STATE: files.state,
    GITHUB_STEP_SUMMARY: files.summary,
    GITHUB_WORKSPACE: opts.cwd ?? ROOT,
    RUNNER_TEMP: dir,
    ...stateEnv,
    ...opts.env,
  };
  for (const [name, value] of Object.entries(inputs)) env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] = value;

  const t0 = performance.now();
  const since = (): number => Math.round(performance.now() - t0);
  const child = spawn(process.execPath, [entry], { cwd: opts.cwd ?? ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  if (child.pid !== undefined) opts.onSpawn?.(child.pid);
  let stdout = '';
  let stderr = '';
  let exited = false;
  let exitedAtMs = -1;
  const signalled: ActionRun['signalled'] = [];
  const timers = new Set<NodeJS.Timeout>();
  const later = (ms: number, fn: () => void): void => {
    const t = setTimeout(() => {
      timers.delete(t);
      fn();
    }, ms);
    timers.add(t);
  };
  const send = (signal: NodeJS.Signals): void => {
    if (exited) return;
    signalled.push({ signal, atMs: since() });
    child.kill(signal);
  };
  const patternTriggers: Array<SignalTrigger & { when: RegExp }> = [];
  for (const s of opts.signals ?? []) {
    if (typeof s.when === 'number') later(s.when + (s.delayMs ?? 0), () => send(s.signal));
    else patternTriggers.push({ ...s, when: s.when });
  }

  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stdout.on('data', (d: string) => {
    stdout += d;
    for (let i = 0; i < patternTriggers.length; i++) {
      const s = patternTriggers[i]!;
      s.when.lastIndex = 0;
      if (!s.when.test(stdout)) continue;
      patternTriggers.splice(i--, 1);
      later(s.delayMs ?? 0, () => send(s.signal));
    }
  });
  child.stderr.on('data', (d: string) => (stderr += d));
  child.once('exit', () => {
    exited = true;
    exitedAtMs = since();
  });
  later(opts.timeoutMs ?? 120_000, () => child.kill('SIGKILL'));
  const [code, exitSignal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
    child.once('close', (c, sig) => resolve([c, sig])),
  );
  for (const t of timers) clearTimeout(t);
  timers.clear();
  if (exitedAtMs < 0) exitedAtMs = since();

  return {
    code,
    exitSignal,
    stdout,
    stderr,
    outputs: parseGithubOutput(readFileSync(files.output, 'utf8')),
    state: parseGithubOutput(readFileSync(files.state, 'utf8')),
    summary: readFileSync(files.summary, 'utf8'),
    visibleStdout: stdout
      .split('\n')
      .filter((l) => !l.startsWith('::add-mask::'))
      .join('\n'),
    signalled,
    exitedAtMs,
  };
}
