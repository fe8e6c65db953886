import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { DEFAULT_VENV, type Venv } from './paths.ts';
import { createBucket } from './moto.ts';
import { freePort } from './ports.ts';
import { TailBuffer, cleanEnv, groupAlive, signalGroup, trackCleanup, trackProcess, untrackProcess } from './procs.ts';

export interface MlflowServer {
  /** http://127.0.0.1:PORT, no trailing slash (and no static prefix). */
  url: string;
  /** The MLflow version of the virtualenv it runs from (`venv` option). */
  mlflowVersion: string;
  port: number;
  /** temp dir holding mlflow.db + mlartifacts/ (no mlartifacts/ with the `s3` option) */
  dir: string;
  /**
   * Value of `--static-prefix` if given in extraArgs, else ''. In MLflow 3.17 the
   * prefix moves the REST API *and* /health under it (`${url}${staticPrefix}/api/2.0/...`).
   * In 3.9.0 it moves /health but not the REST API; in 2.22.4 neither (only /ajax-api moves).
   */
  staticPrefix: string;
  /** The admin credentials when started with `basicAuth`, else undefined. */
  basicAuth: BasicAuthCredentials | undefined;
  /** Captured stdout+stderr (last ~200 KB). */
  logs(): string;
  /** SIGTERM the process group, SIGKILL after ~5 s; resolves once everything exited; removes dir. */
  stop(): Promise<void>;
  /**
   * SIGKILL the whole process group (a crash / OOM kill); resolves once everything exited. The temp
   * dir (db + artifacts) is kept, for `restart()`. No-op when the server is already down.
   */
  kill(): Promise<void>;
  /**
   * Start the server again on the same port with the same db, artifacts dir and options; resolves
   * once /health answers 200. When it is still running, it is SIGKILLed first. Rejects after `stop()`.
   * kill/restart/stop calls are serialized (each waits for the previous one).
   */
  restart(): Promise<void>;
}

export interface BasicAuthCredentials {
  username: string;
  password: string;
}

export type BasicAuthPermission = 'READ' | 'EDIT' | 'MANAGE' | 'NO_PERMISSIONS';

export interface BasicAuthOptions {
  adminUsername: string;
  /** MLflow requires at least 12 characters for user passwords. */
  adminPassword: string;
  /** Permission every user has on resources without an explicit grant. Default 'READ' (MLflow's default). */
  defaultPermission?: BasicAuthPermission;
  /**
   * ini `auth_cache_ttl_seconds` (default 0 = off, as in MLflow). Each uncached credential check is a
   * PBKDF2 hash: ~0.5 s per authenticated request on this box, ~60 ms with e.g. 60 here. Safe with
   * the single worker for password/user changes, BUT in 3.17.2 a non-Basic `Authorization` header
   * (`Bearer …`) then gets a 500 HTML page (AttributeError in `_auth_cache_key`) instead of the 401,
   * so leave it off in tests that send Bearer tokens to this server.
   */
  authCacheTtlSeconds?: number;
}

export interface StartMlflowServerOptions {
  /** default true */
  serveArtifacts?: boolean;
  /**
   * Start MLflow's built-in auth app (`--app-name basic-auth`, needs `mlflow[auth]`). An auth
   * ini is written into the server's temp dir (user db there too) and passed through
   * `MLFLOW_AUTH_CONFIG_PATH`. `/health` stays unauthenticated, everything else needs
   * `Authorization: Basic …` (401 text body otherwise; 403 "Permission denied" when not allowed).
   */
  basicAuth?: BasicAuthOptions;
  extraArgs?: string[];
  /** extra environment for the server (MLFLOW_* vars of the test process are NOT inherited). */
  env?: Record<string, string>;
  /**
   * Store artifacts in S3 instead of the temp dir: the bucket is created (unsigned CreateBucket, as
   * on moto; see moto.ts startMoto()) and the server runs with `--artifacts-destination
   * s3://BUCKET/artifacts`, `MLFLOW_S3_ENDPOINT_URL`, fake AWS credentials (`testing`, us-east-1)
   * and `MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD=true`. With `serveArtifacts` (the default) the
   * artifact proxy then also answers `mlflow-artifacts/mpu/{create,complete,abort}` (a local
   * artifact store answers 501), handing out presigned part URLs on `endpointUrl`.
   */
  s3?: { endpointUrl: string; bucket: string };
  /**
   * The virtualenv whose `mlflow server` to run (paths.ts EXTRA_VENVS, e.g. MLflow 3.9.0 or 2.22.4);
   * default `.venv` (requirements-test.txt). 2.x serves with gunicorn, 3.x with uvicorn; both
   * are stopped as a process group.
   */
  venv?: Venv;
}

const LOG_LIMIT = 200 * 1024;
const HEALTH_TIMEOUT_MS = 120_000;
const HEALTH_POLL_MS = 250;
const TERM_GRACE_MS = 5_000;

function staticPrefixFrom(args: string[]): string {
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (a === '--static-prefix') return normalizePrefix(args[i + 1] ?? '');
    if (a.startsWith('--static-prefix=')) return normalizePrefix(a.slice('--static-prefix='.length));
  }
  return '';
}

function normalizePrefix(p: string): string {
  if (!p || p === '/') return '';
  return ('/' + p.replace(/^\/+/, '')).replace(/\/+$/, '');
}

export async function startMlflowServer(opts: StartMlflowServerOptions = {}): Promise<MlflowServer> {
  // A port from freePort() can be taken by someone else before mlflow binds it;
  // retry a couple of times when that is what killed the server.
  let lastErr: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await startOnce(opts);
    } catch (err) {
      lastErr = err;
      if (!(err instanceof Error) || !/address already in use|Errno 98/i.test(err.message)) throw err;
    }
  }
  throw lastErr;
}

async function startOnce(opts: StartMlflowServerOptions): Promise<MlflowServer> {
  const serveArtifacts = opts.serveArtifacts ?? true;
  const extraArgs = opts.extraArgs ?? [];
  const staticPrefix = staticPrefixFrom(extraArgs);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlflow-test-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const s3Env: Record<string, string> = {};
  if (opts.s3) {
    try {
      await createBucket(opts.s3.endpointUrl, opts.s3.bucket);
    } catch (err) {
      fs.rmSync(dir, { recursive: true, force: true });
      throw err;
    }
    Object.assign(s3Env, {
      MLFLOW_S3_ENDPOINT_URL: opts.s3.endpointUrl,
      AWS_ACCESS_KEY_ID: 'testing',
      AWS_SECRET_ACCESS_KEY: 'testing',
      AWS_DEFAULT_REGION: 'us-east-1',
      MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD: 'true',
    });
  }
  const authEnv: Record<string, string> = {};
  if (opts.basicAuth) {
    const iniPath = path.join(dir, 'basic_auth.ini');
    fs.writeFileSync(iniPath, basicAuthIni(opts.basicAuth, path.join(dir, 'basic_auth.db')));
    authEnv['MLFLOW_AUTH_CONFIG_PATH'] = iniPath;
    authEnv['MLFLOW_FLASK_SERVER_SECRET_KEY'] = randomBytes(24).toString('hex');
  }
  const venv = opts.venv ?? DEFAULT_VENV;
  // 3.x defaults the root to ./mlruns without artifact serving; 2.x refuses to start without one.
  const needsRoot =
    !serveArtifacts && venv.mlflowVersion.startsWith('2.') && !extraArgs.some((a) => a.startsWith('--default-artifact-root'));
  const args = [
    'server',
    '--host',
    '127.0.0.1',
    '--port',
    String(port),
    '--workers',
    '1',
    '--backend-store-uri',
    `sqlite:///${path.join(dir, 'mlflow.db')}`,
    '--artifacts-destination',
    opts.s3 ? `s3://${opts.s3.bucket}/artifacts` : path.join(dir, 'mlartifacts'),
    serveArtifacts ? '--serve-artifacts' : '--no-serve-artifacts',
    ...(needsRoot ? ['--default-artifact-root', path.join(dir, 'mlruns')] : []),
    ...(opts.basicAuth ? ['--app-name', 'basic-auth'] : []),
    ...extraArgs,
  ];
  const env = cleanEnv({
    PYTHONUNBUFFERED: '1',
    // 3.17 starts a job runner + ~7 huey consumer processes by default; the tests
    // don't need them and they slow start/stop on a 2-core box. Overridable via opts.env.
    MLFLOW_SERVER_ENABLE_JOB_EXECUTION: 'false',
    ...s3Env,
    ...authEnv,
    ...(opts.env ?? {}),
  });

  const log = new TailBuffer(LOG_LIMIT);
  const untrackDir = trackCleanup(() => fs.rmSync(dir, { recursive: true, force: true }));
  const removeDir = (): void => {
    untrackDir();
    fs.rmSync(dir, { recursive: true, force: true });
  };
  // 2.x keeps /health at the root whatever the prefix.
  const healthUrl = `${url}${venv.mlflowVersion.startsWith('2.') ? '' : staticPrefix}/health`;

  let current: Proc;
  try {
    current = launch(venv.mlflow, args, env, dir, log);
  } catch (err) {
    removeDir();
    throw err;
  }
  try {
    await waitHealthy(current, healthUrl, args, log);
  } catch (err) {
    await terminate(current, true);
    removeDir();
    throw err;
  }

  // kill / restart / stop run one after the other.
  let queue: Promise<unknown> = Promise.resolve();
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const p = queue.then(fn);
    queue = p.catch(() => undefined);
    return p;
  };
  let stopped = false;
  let stopping: Promise<void> | undefined;

  const stop = (): Promise<void> => {
    if (stopping) return stopping;
    stopped = true;
    stopping = serial(async () => {
      await terminate(current, true);
      removeDir();
    });
    return stopping;
  };

  const kill = (): Promise<void> =>
    serial(async () => {
      if (!stopped) await terminate(current, false);
    });

  const restart = (): Promise<void> =>
    serial(async () => {
      if (stopped) throw new Error('mlflow server: restart() after stop()');
      await terminate(current, false);
      // The port was ours a moment ago; retry briefly in case the bind races the old socket's teardown.
      for (let attempt = 1; ; attempt++) {
        log.push(`\n--- [harness] restarting mlflow server on port ${port} (attempt ${attempt}) ---\n`);
        current = launch(venv.mlflow, args, env, dir, log);
        try {
          await waitHealthy(current, healthUrl, args, log);
          return;
        } catch (err) {
          await terminate(current, false);
          if (attempt < 5 && err instanceof Error && /address already in use|Errno 98/i.test(err.message)) {
            await sleep(500);
            continue;
          }
          throw err;
        }
      }
    });

  return {
    url,
    mlflowVersion: venv.mlflowVersion,
    port,
    dir,
    staticPrefix,
    basicAuth: opts.basicAuth ? { username: opts.basicAuth.adminUsername, password: opts.basicAuth.adminPassword } : undefined,
    logs: () => log.text(),
    stop,
    kill,
    restart,
  };
}

/** One `mlflow server` process (group leader) and its exit state. */
interface Proc {
  pid: number;
  exited: boolean;
  exitInfo: string;
  exitPromise: Promise<void>;
}

function launch(exe: string, args: string[], env: NodeJS.ProcessEnv, dir: string, log: TailBuffer): Proc {
  const child: ChildProcess = spawn(exe, args, {
    cwd: dir,
    env,
    detached: true, // own process group, so we can signal uvicorn & friends too
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const proc: Proc = { pid: child.pid ?? -1, exited: false, exitInfo: '', exitPromise: Promise.resolve() };
  proc.exitPromise = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      proc.exited = true;
      proc.exitInfo = signal ? `signal ${signal}` : `code ${code}`;
      resolve();
    });
    child.once('error', (err) => {
      proc.exited = true;
      proc.exitInfo = `spawn error: ${err.message}`;
      resolve();
    });
  });
  if (child.pid === undefined) throw new Error(`failed to spawn ${exe}`);
  trackProcess(child.pid, true);

  child.stdout?.setEncoding('utf8');
  child.stderr?.setEncoding('utf8');
  child.stdout?.on('data', (s: string) => log.push(s));
  child.stderr?.on('data', (s: string) => log.push(s));
  // Don't let a forgotten server keep the test process alive; the exit hook kills it.
  child.unref();
  (child.stdout as unknown as { unref?: () => void } | null)?.unref?.();
  (child.stderr as unknown as { unref?: () => void } | null)?.unref?.();
  return proc;
}

/**
 * Signal the process group (SIGTERM with `graceful`, SIGKILL after TERM_GRACE_MS; else SIGKILL at
 * once) and wait for the leader to exit and the rest of the group to be gone. Untracks the pid.
 */
async function terminate(proc: Proc, graceful: boolean): Promise<void> {
  const { pid } = proc;
  const running = (): boolean => !proc.exited || groupAlive(pid);
  const waitABit = (): Promise<unknown> => (proc.exited ? sleep(50) : Promise.race([proc.exitPromise, sleep(100)]));
  if (graceful && running()) {
    signalGroup(pid, 'SIGTERM');
    const deadline = Date.now() + TERM_GRACE_MS;
    while (running() && Date.now() < deadline) await waitABit();
  }
  if (running()) {
    signalGroup(pid, 'SIGKILL');
    // Poll (a ref'd timer) rather than only awaiting exitPromise: the child is unref'd, so a
    // script with nothing else pending would otherwise exit here with an unsettled await.
    while (!proc.exited) await waitABit();
    const killDeadline = Date.now() + 5_000;
    while (groupAlive(pid) && Date.now() < killDeadline) await sleep(50);
  }
  untrackProcess(pid);
}

async function waitHealthy(proc: Proc, healthUrl: string, args: string[], log: TailBuffer): Promise<void> {
  const started = Date.now();
  for (;;) {
    if (proc.exited) {
      throw new Error(
        `mlflow server exited during startup (${proc.exitInfo}).\nargs: ${args.join(' ')}\n--- output tail ---\n${log.tail(8000)}`,
      );
    }
    if (Date.now() - started > HEALTH_TIMEOUT_MS) {
      throw new Error(`mlflow server not healthy after ${HEALTH_TIMEOUT_MS} ms at ${healthUrl}.\n--- output tail ---\n${log.tail(8000)}`);
    }
    try {
      const res = await fetch(healthUrl, { signal: AbortSignal.timeout(2_000) });
      await res.arrayBuffer().catch(() => undefined);
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    await Promise.race([proc.exitPromise, sleep(HEALTH_POLL_MS)]);
  }
}

function basicAuthIni(o: BasicAuthOptions, dbPath: string): string {
  for (const [k, v] of Object.entries({ adminUsername: o.adminUsername, adminPassword: o.adminPassword })) {
    // configparser: no newlines; '%' would be taken as interpolation.
    if (!v || /[\r\n%]/.test(v)) throw new Error(`basicAuth.${k} must be non-empty without newlines or '%'`);
  }
  return [
    '[mlflow]',
    `default_permission = ${o.defaultPermission ?? 'READ'}`,
    `database_uri = sqlite:///${dbPath}`,
    `admin_username = ${o.adminUsername}`,
    `admin_password = ${o.adminPassword}`,
    'authorization_function = mlflow.server.auth:authenticate_request_basic_auth',
    `auth_cache_ttl_seconds = ${o.authCacheTtlSeconds ?? 0}`,
    '',
  ].join('\n');
}

export function basicAuthHeader(user: BasicAuthCredentials): string {
  return 'Basic ' + Buffer.from(`${user.username}:${user.password}`, 'utf8').toString('base64');
}

/**
 * Create a (non-admin) user on a basic-auth server: `POST /api/2.0/mlflow/users/create` with the
 * admin's Basic credentials. MLflow wants passwords of at least 12 characters. Throws on non-2xx.
 */
export async function createUser(server: MlflowServer, admin: BasicAuthCredentials, user: BasicAuthCredentials): Promise<void> {
  const res = await fetch(`${server.url}${server.staticPrefix}/api/2.0/mlflow/users/create`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: basicAuthHeader(admin) },
    body: JSON.stringify({ username: user.username, password: user.password }),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`createUser(${user.username}): HTTP ${res.status}: ${text.slice(0, 500)}`);
}
