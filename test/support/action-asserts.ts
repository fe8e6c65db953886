// Assertions shared by the end-to-end tests.
import assert from 'node:assert/strict';
import type { ActionRun } from './run-action.ts';

/** The ::error:: annotation's text, as the log shows it. */
export function errorOf(r: ActionRun): string {
  return (r.stdout.split('\n').find((l) => l.startsWith('::error::')) ?? '').replace(/%0A/g, '\n');
}

/** None of the secrets is in anything a person or a later step can see. */
export function assertNoSecret(r: ActionRun, secrets: readonly string[]): void {
  for (const secret of secrets) {
    assert.ok(!r.visibleStdout.includes(secret), 'a secret in stdout');
    assert.ok(!r.stderr.includes(secret), 'a secret in stderr');
    assert.ok(!r.summary.includes(secret), 'a secret in the summary');
    assert.ok(!JSON.stringify(r.outputs).includes(secret), 'a secret in the outputs');
  }
}

export interface CheckOutput {
  name: string;
  result: 'pass' | 'warn' | 'fail' | 'skipped';
  latency_ms: number | null;
  detail: string;
  request?: string;
  hint?: string;
}

/** The `checks` output of verify mode, by check name. */
export function checksOf(r: ActionRun): Record<string, CheckOutput> {
  const list = JSON.parse(r.outputs.checks ?? '[]') as CheckOutput[];
  return Object.fromEntries(list.map((c) => [c.name, c]));
}
