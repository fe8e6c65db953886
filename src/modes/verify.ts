// mode: verify. Read-only checks of the registry for pull requests: is it reachable, does
// the key work, can the artifact route serve. Nothing is written to the registry.
import * as core from '@actions/core';
import { checksJson, overallStatus, runChecks } from '../checks.ts';
import { ActionError } from '../errors.ts';
import * as log from '../log.ts';
import { roadFor, storeFor, writeSummary, type Session } from '../session.ts';
import { formatDuration, renderChecks } from '../summary.ts';

export async function verifyMode(s: Session): Promise<void> {
  const { cfg } = s;

  // 1. Every check, each on its own line of the log.
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

  // 2. Annotations only for what a person must act on.
  for (const c of checks) {
    if (c.result === 'warn') log.warning(`${c.detail} ${c.hint ?? ''}`.trim(), { title: c.name });
    if (c.result === 'skipped' && !cfg.apiKey && cfg.authUrl && c.name === 'API key present') log.notice(c.detail, { title: 'No API key' });
  }

  // 3. Outputs and the summary's table.
  const status = overallStatus(checks);
  log.setOutput('status', status);
  log.setOutput('checks', checksJson(checks));
  await writeSummary(
    s.deps.env,
    renderChecks(checks, { trackingUri: cfg.trackingUri.href, modelName: cfg.modelName, runUrl: s.lineage.runUrl }),
    s.secrets,
    s,
  );

  // 4. A failed check fails the step; the summary already shows it.
  if (status === 'fail') {
    const failed = checks.filter((c) => c.result === 'fail');
    throw new ActionError(
      `${failed.length} of ${checks.length} checks failed:\n${failed.map((c) => `  - ${c.name}: ${c.detail}${c.request ? `\n    request: ${c.request}` : ''}`).join('\n')}`,
      { step: 'Check the registry', hint: failed[0]?.hint ?? 'See the checks above.', reported: true },
    );
  }
}
