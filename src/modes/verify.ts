// mode: verify. Read-only checks of the registry for pull requests: is it reachable, does
// the key work, can the artifact route serve. With model-path, a review too: what this model
// directory changes against the version an alias (compare-to) points at. Nothing is written.
import * as core from '@actions/core';
import { checksJson, overallStatus, runChecks, type Check } from '../checks.ts';
import { ActionError } from '../errors.ts';
import * as log from '../log.ts';
import { buildReview, reviewJson, type Review } from '../review.ts';
import { readCandidate, readRegistered, REVIEW, type Candidate, type Registered } from '../review-sides.ts';
import { renderReview, reviewVerdict } from '../review-summary.ts';
import { phase, roadFor, setOutputs, storeFor, writeSummary, type Session } from '../session.ts';
import { formatBytes, formatDuration, renderChecks } from '../summary.ts';

export async function verifyMode(s: Session): Promise<void> {
  const { cfg } = s;

  // 1. With model-path: the candidate directory, checked as register mode checks it, before any request.
  const candidate = cfg.modelPath
    ? await phase(s, 'Validate model directory', async () => {
        const c = await readCandidate(cfg.modelPath);
        log.info(`${c.dir.root}: ${c.dir.files.length} files, ${formatBytes(c.dir.totalBytes)}, flavors: ${c.dir.flavors.join(', ')}`);
        return c;
      })
    : undefined;

  // 2. The registered side of the review is read while the checks run: both only read.
  const keyMissing = cfg.authUrl !== undefined && !cfg.apiKey;
  const registered = candidate && !keyMissing ? readRegistered(s, cfg.compareTo) : undefined;
  registered?.catch(() => undefined);

  // 3. Every check, each on its own line of the log.
  const checks = await core.group('Check the registry (read-only)', async () => {
    const openRoad = (location: string | undefined) => {
      const road = roadFor(s, location, 'Artifact store');
      return { road, store: storeFor(s, road) };
    };
    const results = await runChecks({ cfg, http: s.http, mlflow: s.mlflow, clock: s.deps.clock, openRoad });
    for (const c of results) {
      const latency = c.latencyMs === undefined ? '' : ` (${formatDuration(c.latencyMs)})`;
      const say = (line: string) => log.info(line);
      say(`${c.result.toUpperCase().padEnd(7)} ${c.name}${latency}: ${c.detail}`);
      if (c.request) say(`        request: ${c.request}`);
      if (c.hint && c.result !== 'pass') say(`        what to do: ${c.hint}`);
    }
    return results;
  });

  // 4. Annotations only for what a person must act on.
  for (const c of checks) {
    if (c.result === 'warn') log.warning(`${c.detail} ${c.hint ?? ''}`.trim(), { title: c.name });
    if (c.result === 'skipped' && !cfg.apiKey && cfg.authUrl && c.name === 'API key present') log.notice(c.detail, { title: 'No API key' });
  }

  // 5. The review, when asked for and the registry could be read.
  const review = candidate ? await phase(s, `${REVIEW} against ${cfg.compareTo}`, () => reviewModel(s, candidate, registered)) : undefined;

  // 6. Outputs, the summary's table and the review.
  const status = overallStatus(checks);
  log.setOutput('status', status);
  log.setOutput('checks', checksJson(checks));
  // Paths and names in the diff came from files and a server: redacted like every output.
  if (review) setOutputs(s, { changed: String(review.changed), diff: reviewJson(review) });
  const page = (fileBudget?: number) =>
    `${renderChecks(checks, { trackingUri: cfg.trackingUri.href, modelName: cfg.modelName, runUrl: s.lineage.runUrl })}${review ? `\n${renderReview(review, { fileListBudgetBytes: fileBudget })}` : ''}`;
  await writeSummary(s.deps.env, page(), s.secrets, s, review ? page(COMMENT_FILE_BUDGET) : undefined);

  // 7. A failed check fails the step; the summary already shows it. The review only informs.
  if (status === 'fail') throw checksFailed(checks);
}

/** A pull-request comment holds at most 64 KiB (comment.ts): the file table gets a third of it. */
const COMMENT_FILE_BUDGET = 20 * 1024;

/** Both sides compared; undefined (with a notice or warning) when the registered side could not be read. */
async function reviewModel(s: Session, candidate: Candidate, registered: Promise<Registered> | undefined): Promise<Review | undefined> {
  const { cfg } = s;
  if (!registered) {
    log.notice('The review reads the registry with the api-key, which is empty (pull requests from forks get no secrets): not reviewed.', {
      title: 'Model not reviewed',
    });
    return undefined;
  }
  let side: Registered;
  try {
    side = await registered;
  } catch (err) {
    if (!(err instanceof ActionError) || err.code === 'CANCELLED') throw err;
    const request = err.request ? ` Request: ${err.request}.` : '';
    log.warning(`Could not find the version "${cfg.compareTo}" points at: ${err.message}.${request} ${err.hint}`, {
      title: 'Model not reviewed',
    });
    return undefined;
  }
  if (!side.against)
    log.notice(`"${cfg.modelName}" has no version with the alias "${cfg.compareTo}" yet: the review shows everything as new.`, {
      title: `No ${cfg.compareTo} yet`,
    });
  for (const w of side.warnings) log.warning(w, { title: 'Review incomplete' });
  const review = buildReview({
    modelName: cfg.modelName,
    compareTo: cfg.compareTo,
    against: side.against,
    before: side.side,
    after: candidate.side,
    metrics: cfg.metrics,
    basis: side.basis,
    notes: side.notes,
  });
  log.info(reviewVerdict(review));
  const worse = review.metrics.filter((m) => m.verdict === 'worse');
  if (worse.length)
    log.warning(
      `Worse than ${cfg.compareTo}: ${worse.map((m) => `${m.name} ${m.from} → ${m.to} (${m.direction} is better)`).join(', ')}.`,
      {
        title: 'Metrics got worse',
      },
    );
  for (const n of review.notes) log.info(n);
  for (const d of [...review.files.added, ...review.files.removed, ...review.files.changed])
    log.debug(`${d.from === null ? 'added' : d.to === null ? 'removed' : 'changed'} ${d.path} (${d.from ?? '-'} → ${d.to ?? '-'} bytes)`);
  return review;
}

function checksFailed(checks: readonly Check[]): ActionError {
  const failed = checks.filter((c) => c.result === 'fail');
  return new ActionError(
    `${failed.length} of ${checks.length} checks failed:\n${failed.map((c) => `  - ${c.name}: ${c.detail}${c.request ? `\n    request: ${c.request}` : ''}`).join('\n')}`,
    { step: 'Check the registry', hint: failed[0]?.hint ?? 'See the checks above.', reported: true },
  );
}
