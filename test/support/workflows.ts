// What the checks of the example workflows (test/unit/examples.test.ts) and of the repository's
// own workflows (test/unit/workflows.test.ts) share: GitHub's workflow parser, the shape of a
// parsed workflow, and the check of what a step gives the action.
import { readFileSync } from 'node:fs';
import { registerHooks } from 'node:module';
import path from 'node:path';
import { parse } from 'yaml';
import { ROOT } from './paths.ts';

// @actions/workflow-parser imports its JSON schemas without `with { type: 'json' }`, which
// bundlers accept and Node refuses: add the attribute, for that package's JSON files only.
registerHooks({
  load(url, context, nextLoad) {
    if (url.includes('/node_modules/@actions/workflow-parser/') && url.endsWith('.json'))
      return nextLoad(url, { ...context, importAttributes: { ...context.importAttributes, type: 'json' } });
    return nextLoad(url, context);
  },
});
const { parseWorkflow, convertWorkflowTemplate, NoOperationTraceWriter } = await import('@actions/workflow-parser');

export interface Step {
  id?: string;
  name?: string;
  if?: string;
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
  env?: Record<string, unknown>;
}
export interface Job {
  name?: string;
  permissions?: unknown;
  'timeout-minutes'?: number;
  env?: Record<string, unknown>;
  steps?: Step[];
}
export interface Workflow {
  on?: unknown;
  permissions?: unknown;
  concurrency?: unknown;
  jobs?: Record<string, Job>;
}
export interface ActionUse {
  where: string;
  job: Job;
  with: Record<string, unknown>;
}

/** Every error GitHub's parser reports: YAML, schema and expressions, then converting jobs and steps. */
export async function workflowErrors(name: string, content: string): Promise<string[]> {
  const parsed = parseWorkflow({ name, content }, new NoOperationTraceWriter());
  if (parsed.value) await convertWorkflowTemplate(parsed.context, parsed.value);
  return parsed.context.errors.getErrors().map((e) => e.message);
}

/** action.yml's inputs and their defaults, read at run time so that a new input needs no change here. */
export const actionInputs = (): Map<string, string | undefined> =>
  new Map(
    Object.entries(
      (parse(readFileSync(path.join(ROOT, 'action.yml'), 'utf8')) as { inputs: Record<string, { default?: unknown }> }).inputs,
    ).map(([name, spec]) => [name, spec.default === undefined ? undefined : String(spec.default)]),
  );

export const text = (value: unknown): string => (value === undefined || value === null ? '' : String(value));
export const modeOf = (use: ActionUse): string => text(use.with.mode) || 'register';

/** Inputs action.yml lacks, and what each mode needs. */
export function inputProblems(use: ActionUse, inputs: ReadonlyMap<string, unknown>): string[] {
  const problems = Object.keys(use.with)
    .filter((key) => !inputs.has(key))
    .map((key) => `${use.where}: "${key}" is not an input in action.yml`);
  const mode = modeOf(use);
  const needs: Record<string, string[]> = { register: ['model-name', 'model-path'], verify: [], promote: ['model-name', 'aliases'] };
  if (!needs[mode]) problems.push(`${use.where}: mode "${mode}" is not register, verify or promote`);
  for (const key of needs[mode] ?? []) if (!text(use.with[key]).trim()) problems.push(`${use.where}: ${mode} mode needs "${key}"`);
  return problems;
}

/** Scripts that expand expressions inline: a value holding a quote or `$(` would run as shell. */
export function scriptProblems(wf: Workflow): string[] {
  return Object.entries(wf.jobs ?? {}).flatMap(([id, job]) =>
    (job.steps ?? []).flatMap((step, i) =>
      step.run?.includes('${{') ? [`jobs.${id}.steps[${i}].run: pass expressions through env, not inline`] : [],
    ),
  );
}
