// The post: step. If the main step was killed before it could end its MLflow run (the
// runner's SIGKILL, a crash), the run is still RUNNING: end it as KILLED. Bundled on its
// own (dist/post/index.js) and importing only what that needs: no input parsing (the main
// step saved the tracking URI it had checked), no rendering, no artifact or GitHub clients.
import { systemClock } from './clock.ts';
import { DEFAULT_POLICY, HttpClient, USER_AGENT } from './http.ts';
import * as log from './log.ts';
import { MlflowClient, trackingAuth } from './mlflow.ts';
import { endRun, leftOpen } from './run-state.ts';

const TIMEOUT_MS = 30_000;

export async function post(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const open = leftOpen();
  if (!open) return;
  try {
    const input = (name: string) => env[`INPUT_${name.toUpperCase()}`]?.trim() ?? '';
    const secrets = [input('api-key'), input('tracking-password')].filter((v) => v !== '');
    const [username, password] = [input('tracking-username'), input('tracking-password')];
    const auth = trackingAuth(input('api-key') || undefined, username && password ? { username, password } : undefined);
    if (auth.kind === 'basic' && auth.header) secrets.push(auth.header.slice('Basic '.length));
    for (const secret of secrets) log.addSecret(secret);
    const trackingUri = new URL(open.trackingUri);
    // No dispatcher: http.ts loads undici (its own chunk) only now, so a post step with no
    // run left open (nearly every one) loads none of it; proxies from HTTPS_PROXY as in the main step.
    const http = new HttpClient({
      secrets,
      authorizedBases: [trackingUri],
      userAgent: USER_AGENT,
      debug: log.debug,
      clock: systemClock,
      random: Math.random,
      timeoutMs: TIMEOUT_MS,
      retry: { ...DEFAULT_POLICY, maxRetries: 2 },
    });
    const mlflow = new MlflowClient(http, trackingUri, auth);
    const step = 'End a run left open';
    // Killed during runs/create: the run id was never saved, but the request id finds the run.
    const info = open.runId
      ? await mlflow.getRun(step, open.runId)
      : await mlflow.findRunByRequest(step, open.experimentId, open.requestId);
    if (!info) return log.info('No MLflow run was created before the step stopped.');
    if (info.status !== 'RUNNING') return log.info(`MLflow run ${info.run_id} already ended (${info.status}).`);
    await endRun(mlflow, info, 'KILLED', 'the job was cancelled or stopped before the action could end this run', systemClock.now());
  } catch (err) {
    log.warning(
      `Could not check the MLflow run of this job: ${err instanceof Error ? err.message : String(err)}. End it in the MLflow UI if it is still RUNNING.`,
    );
  }
}

await post();
