import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { MLFLOW } from './paths.ts';
import { freePort } from './ports.ts';
import { TailBuffer, cleanEnv, groupAlive, signalGroup, trackProcess, untrackProcess } from './procs.ts';

export interface MlflowServer {
  /** http://127.0.0.1:PORT, no trailing slash (and no static prefix). */
  url: string;
  port: number;
  /** temp dir holding mlflow.db + mlartifacts/ */
  dir: string;
  /**
   * Value of `--static-prefix` if given in extraArgs, else ''. In MLflow 3.17 the
   * prefix moves the REST API *and* /health under it (`${url}${staticPrefix}/api/2.0/...`).
   */
  staticPrefix: string;
  /** The admin credentials when started with `basicAuth`, else undefined. */
  basicAuth: BasicAuthCredentials | undefined;
  /** Captured stdout+stderr (last ~200 KB). */
  logs(): string;
  /** SIGTERM the process group, SIGKILL after ~5 s; resolves once everything exited; removes dir. */
  stop(): Promise<void>;
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
  const authEnv: Record<string, string> = {};
  if (opts.basicAuth) {
    const iniPath = path.join(dir, 'basic_auth.ini');
    fs.writeFileSync(iniPath, basicAuthIni(opts.basicAuth, path.join(dir, 'basic_auth.db')));
    authEnv['MLFLOW_AUTH_CONFIG_PATH'] = iniPath;
    authEnv['MLFLOW_FLASK_SERVER_SECRET_KEY'] = randomBytes(24).toString('hex');
  }
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
    path.join(dir, 'mlartifacts'),
    serveArtifacts ? '--serve-artifacts' : '--no-serve-artifacts',
    ...(opts.basicAuth ? ['--app-name', 'basic-auth'] : []),
    ...extraArgs,
  ];
  const env = cleanEnv({
    PYTHONUNBUFFERED: '1',
    // 3.17 starts a job runner + ~7 huey consumer processes by default; the tests
    // don't need them and they slow start/stop on a 2-core box. Overridable via opts.env.
    MLFLOW_SERVER_ENABLE_JOB_EXECUTION: 'false',
    ...authEnv,
    ...(opts.env ?? {}),
  });

  const log = new TailBuffer(LOG_LIMIT);
  const child: ChildProcess = spawn(MLFLOW, args, {
    cwd: dir,
    env,
    detached: true, // own process group, so we can signal uvicorn & friends too
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const pid = child.pid;
  if (pid === undefined) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw new Error(`failed to spawn ${MLFLOW}`);
  }
  trackProcess(pid, true, () => fs.rmSync(dir, { recursive: true, force: true }));

  child.stdout?.setEncoding('utf8');
  child.stderr?.setEncoding('utf8');
  child.stdout?.on('data', (s: string) => log.push(s));
  child.stderr?.on('data', (s: string) => log.push(s));
  // Don't let a forgotten server keep the test process alive; the exit hook kills it.
  child.unref();
  (child.stdout as unknown as { unref?: () => void } | null)?.unref?.();
  (child.stderr as unknown as { unref?: () => void } | null)?.unref?.();

  let exited = false;
  let exitInfo = '';
  const exitPromise = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exited = true;
      exitInfo = signal ? `signal ${signal}` : `code ${code}`;
      resolve();
    });
    child.once('error', (err) => {
      exited = true;
      exitInfo = `spawn error: ${err.message}`;
      resolve();
    });
  });

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      if (!exited) signalGroup(pid, 'SIGTERM');
      const deadline = Date.now() + TERM_GRACE_MS;
      // Wait for the leader to exit and for the rest of the group to be gone.
      while ((!exited || groupAlive(pid)) && Date.now() < deadline) {
        await Promise.race([exitPromise, sleep(100)]);
      }
      if (!exited || groupAlive(pid)) {
        signalGroup(pid, 'SIGKILL');
        await exitPromise;
        const killDeadline = Date.now() + 5_000;
        while (groupAlive(pid) && Date.now() < killDeadline) await sleep(50);
      }
      untrackProcess(pid);
      fs.rmSync(dir, { recursive: true, force: true });
    })();
    return stopping;
  };

  const healthUrl = `${url}${staticPrefix}/health`;
  const started = Date.now();
  for (;;) {
    if (exited) {
      const tail = log.tail(8000);
      await stop();
      throw new Error(`mlflow server exited during startup (${exitInfo}).\nargs: ${args.join(' ')}\n--- output tail ---\n${tail}`);
    }
    if (Date.now() - started > HEALTH_TIMEOUT_MS) {
      const tail = log.tail(8000);
      await stop();
      throw new Error(`mlflow server not healthy after ${HEALTH_TIMEOUT_MS} ms at ${healthUrl}.\n--- output tail ---\n${tail}`);
    }
    try {
      const res = await fetch(healthUrl, { signal: AbortSignal.timeout(2_000) });
      await res.arrayBuffer().catch(() => undefined);
      if (res.status === 200) break;
    } catch {
      // not listening yet
    }
    await Promise.race([exitPromise, sleep(HEALTH_POLL_MS)]);
  }

  return {
    url,
    port,
    dir,
    staticPrefix,
    basicAuth: opts.basicAuth ? { username: opts.basicAuth.adminUsername, password: opts.basicAuth.adminPassword } : undefined,
    logs: () => log.text(),
    stop,
  };
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
