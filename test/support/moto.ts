/**
 * An S3 endpoint on loopback: moto's standalone server (`.venv/bin/moto_server`, from
 * `moto[server]` in requirements-test.txt), for an MLflow server whose artifact store is S3
 * (mlflow-server.ts `s3` option) and so supports multipart uploads through the artifact proxy.
 *
 * moto does not check signatures: any access key works, and unsigned requests too (a plain
 * `PUT /BUCKET` creates a bucket). State is in memory and gone when the server stops.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { VENV_BIN } from './paths.ts';
import { freePort } from './ports.ts';
import { TailBuffer, cleanEnv, groupAlive, signalGroup, trackProcess, untrackProcess } from './procs.ts';

export const MOTO_SERVER: string = path.join(VENV_BIN, 'moto_server');

export interface MotoServer {
  /** http://127.0.0.1:PORT (the S3 endpoint URL, path-style buckets) */
  url: string;
  port: number;
  /** Captured stdout+stderr (last ~200 KB; one access-log line per request). */
  logs(): string;
  /** SIGTERM the process group, SIGKILL after ~5 s; resolves once everything exited. */
  stop(): Promise<void>;
}

const START_TIMEOUT_MS = 60_000;
const TERM_GRACE_MS = 5_000;

export async function startMoto(): Promise<MotoServer> {
  let lastErr: unknown;
  // freePort() can race with another process binding the port first: retry on EADDRINUSE.
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await startOnce();
    } catch (err) {
      lastErr = err;
      if (!(err instanceof Error) || !/address already in use|Errno 98/i.test(err.message)) throw err;
    }
  }
  throw lastErr;
}

async function startOnce(): Promise<MotoServer> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const log = new TailBuffer(200 * 1024);
  const child = spawn(MOTO_SERVER, ['-H', '127.0.0.1', '-p', String(port)], {
    env: cleanEnv({ PYTHONUNBUFFERED: '1' }),
    detached: true, // own process group: stop() signals it whole
    stdio: ['ignore', 'pipe', 'pipe'],
  });
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
  const pid = child.pid;
  if (pid === undefined) {
    await exitPromise;
    throw new Error(`failed to spawn ${MOTO_SERVER} (${exitInfo}); run: bash scripts/setup.sh`);
  }
  trackProcess(pid, true);
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stdout.on('data', (s: string) => log.push(s));
  child.stderr.on('data', (s: string) => log.push(s));
  child.unref();
  (child.stdout as unknown as { unref?: () => void }).unref?.();
  (child.stderr as unknown as { unref?: () => void }).unref?.();

  const terminate = async (): Promise<void> => {
    const running = (): boolean => !exited || groupAlive(pid);
    if (running()) {
      signalGroup(pid, 'SIGTERM');
      const deadline = Date.now() + TERM_GRACE_MS;
      while (running() && Date.now() < deadline) await Promise.race([exitPromise, sleep(50)]);
    }
    if (running()) {
      signalGroup(pid, 'SIGKILL');
      while (!exited) await sleep(50);
      const deadline = Date.now() + 5_000;
      while (groupAlive(pid) && Date.now() < deadline) await sleep(50);
    }
    untrackProcess(pid);
  };

  const started = Date.now();
  for (;;) {
    if (exited) {
      untrackProcess(pid);
      throw new Error(`moto_server exited during startup (${exitInfo}).\n--- output tail ---\n${log.tail(8000)}`);
    }
    if (Date.now() - started > START_TIMEOUT_MS) {
      await terminate();
      throw new Error(`moto_server not answering after ${START_TIMEOUT_MS} ms at ${url}.\n--- output tail ---\n${log.tail(8000)}`);
    }
    try {
      // S3 ListBuckets; any HTTP answer means it is serving.
      const res = await fetch(`${url}/`, { signal: AbortSignal.timeout(2_000) });
      await res.arrayBuffer().catch(() => undefined);
      break;
    } catch {
      // not listening yet
    }
    await Promise.race([exitPromise, sleep(100)]);
  }

  let stopping: Promise<void> | undefined;
  return { url, port, logs: () => log.text(), stop: () => (stopping ??= terminate()) };
}

/**
 * Create a bucket (S3 CreateBucket, `PUT /BUCKET`, path-style, unsigned: moto does not check
 * signatures). Creating a bucket that already exists is fine. Throws on any other failure.
 */
export async function createBucket(endpointUrl: string, bucket: string): Promise<void> {
  const res = await fetch(`${endpointUrl.replace(/\/+$/, '')}/${encodeURIComponent(bucket)}`, {
    method: 'PUT',
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  if (res.ok || (res.status === 409 && text.includes('BucketAlreadyOwnedByYou'))) return;
  throw new Error(`S3 CreateBucket ${bucket} at ${endpointUrl}: HTTP ${res.status}: ${text.slice(0, 500)}`);
}
