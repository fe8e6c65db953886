// One run of the action: open the session, run the mode the inputs pick, and report.
// The only catch and the only setFailed live here; a run created in MLflow always ends
// FINISHED, FAILED or KILLED.
import { eventRetryHint } from './announce.ts';
import { ActionError, formatError, toActionError } from './errors.ts';
import { EVENT_SENT_TAG } from './hokusai.ts';
import * as log from './log.ts';
import { endRun } from './run-state.ts';
import { defaultDeps, listenForCancel, openSession, setOutputs, writeSummary, type Deps, type Session } from './session.ts';
import { renderFailure } from './summary.ts';
import { modelUiUrl } from './urls.ts';

// Each mode (and the comment) is its own bundle chunk, loaded once the inputs are valid: a run
// that stops at its inputs loads none of them (nor the YAML parser, the stores' code).
const MODES = {
  register: async () => (await import('./modes/register.ts')).registerMode,
  verify: async () => (await import('./modes/verify.ts')).verifyMode,
  promote: async () => (await import('./modes/promote.ts')).promoteMode,
} satisfies Record<Session['cfg']['mode'], () => Promise<(s: Session) => Promise<void>>>;

export async function run(overrides: Partial<Deps> = {}): Promise<void> {
  const deps = { ...defaultDeps(), ...overrides };
  const secrets: string[] = [];
  const cancel = listenForCancel(deps.signals);
  let session: Session | undefined;
  let title = 'Model registration';
  try {
    session = openSession(deps, secrets, cancel.signal);
    const { mode, dryRun } = session.cfg;
    title =
      dryRun && mode !== 'verify' ? 'Dry run' : { register: 'Model registration', verify: 'Registry check', promote: 'Promotion' }[mode];
    const runMode = await MODES[mode]();
    await runMode(session);
  } catch (thrown) {
    await fail(toActionError(thrown, 'Run'), deps, session, secrets, cancel.by(), title);
  } finally {
    cancel.stop();
  }
  // After a failure too: a failing pull-request check is what a reviewer most needs to see.
  if (session?.cfg.comment && !cancel.by()) await (await import('./comment.ts')).commentOnPullRequest(session);
}

/** Ends what the run started, keeps what it made visible, and fails the step once. */
async function fail(
  error: ActionError,
  deps: Deps,
  s: Session | undefined,
  secrets: string[],
  cancelledBy: string | undefined,
  title: string,
) {
  let err = error;
  if (cancelledBy) {
    // Keep what had happened by then (e.g. "version 3 was created, but …") unless it is just the abort.
    const before = err.message === 'cancelled' ? '' : ` (${err.message})`;
    err = new ActionError(`the job was cancelled (${cancelledBy}) during this step${before}`, { step: err.step, hint: cancelHint(s) });
  }
  if (s?.registered && !err.reported) {
    // The version exists whatever failed after it: a later step may still want it.
    setOutputs(s, { 'model-version': s.registered.version, 'model-uri': s.registered.modelUri });
  }
  if (s && !s.activeRun && s.pendingRun) {
    // Cancelled (or failed) while runs/create was in flight: the server may have made the run anyway.
    const { experimentId, requestId } = s.pendingRun;
    s.activeRun = await s.cleanup.findRunByRequest('Find the run being created', experimentId, requestId).catch(() => undefined);
  }
  if (s?.activeRun) {
    // endRun redacts the reason before it cuts it to the tag's size.
    await endRun(s.cleanup, s.activeRun, cancelledBy ? 'KILLED' : 'FAILED', `${err.step}: ${err.message}`, s.deps.clock.now());
  }
  log.setFailed(formatError(err));
  // Promote works on a model that exists: its page lists the versions to choose from.
  const modelUrl = s?.cfg.mode === 'promote' && s.cfg.modelName ? modelUiUrl(s.cfg.trackingUri, s.cfg.modelName) : undefined;
  if (!err.reported) await writeSummary(deps.env, renderFailure(err, title, { modelUrl }), secrets, s);
}

/** What a cancelled job leaves behind, and how to finish what it started. */
function cancelHint(s: Session | undefined): string {
  const done = s?.registered;
  const event =
    s?.cfg.hokusai?.notify && (done || s.cfg.version)
      ? ` If the Hokusai event was under way, the platform may not have been told (then the version has no ${EVENT_SENT_TAG} tag for it). ${eventRetryHint(s.cfg.modelName, done?.version ?? s.cfg.version ?? '')}`
      : '';
  if (s?.cfg.mode === 'promote') return `Nothing to fix: the runner cancelled the job. Re-run the job to promote.${event}`;
  if (done)
    return `Nothing to fix: the runner cancelled the job after ${done.modelUri} was created, so that version stays. Re-running the job with the same model files reuses it and finishes what is missing (aliases, the Hokusai event).${event}`;
  const run = s?.activeRun || s?.pendingRun ? ' The MLflow run this job started is marked KILLED.' : '';
  return `Nothing to fix: the runner cancelled the job.${run} Re-run the job to register.`;
}
