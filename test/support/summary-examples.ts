// The summaries and comments of the main scenarios, rendered by the action's own renderers
// from fixed inputs: the unit tests check them with GitHub's parser, and
// scripts/render-examples.ts keeps one of each kind in docs/examples/ for the README.
import type { Check } from '../../src/checks.ts';
import { commentMarker, renderComment } from '../../src/comment.ts';
import { ActionError } from '../../src/errors.ts';
import type { Review } from '../../src/review.ts';
import { renderReview } from '../../src/review-summary.ts';
import {
  renderChecks,
  renderFailure,
  renderPromotion,
  renderSuccess,
  type FileEntry,
  type PromotionResult,
  type RegisteredResult,
} from '../../src/summary.ts';

const REPO = 'https://github.com/acme/churn-model';
const SHA = '9fceb02d0ae598e95dc970b74767f19372d61af8';
const RUN = '5f1c2d3e4f5a4b7c8d9e0f1a2b3c4d5e';
const UI = 'https://registry.hokus.ai/mlflow/#';
export const RUN_URL = `${REPO}/actions/runs/14921/attempts/1`;
export const COMMIT_URL = `${REPO}/commit/${SHA}`;
export const VERSION_URL = `${UI}/models/churn-classifier/versions/7`;
export const MLFLOW_RUN_URL = `${UI}/experiments/12/runs/${RUN}`;
const UPDATED = new Date('2026-12-03T23:50:00Z');

const hex = (i: number) => ((i * 2654435761) >>> 0).toString(16).padStart(8, '0').repeat(8);

/** An MLflow sklearn model as mlflow.sklearn.save_model writes it. */
const MODEL_FILES: FileEntry[] = [
  ['model.pkl', 41_870],
  ['MLmodel', 512],
  ['conda.yaml', 236],
  ['python_env.yaml', 122],
  ['requirements.txt', 98],
].map(([path, size], i) => ({ path: String(path), size: Number(size), sha256: hex(i + 1) }));

export const success: RegisteredResult = {
  modelName: 'churn-classifier',
  version: '7',
  versionUrl: VERSION_URL,
  modelUri: 'models:/churn-classifier/7',
  aliases: ['staging'],
  files: MODEL_FILES.length,
  bytes: MODEL_FILES.reduce((n, f) => n + f.size, 0),
  digest: `sha256:${hex(99)}`,
  runId: RUN,
  experimentId: '12',
  experimentName: 'acme/churn-model',
  experimentUrl: `${UI}/experiments/12`,
  mlflowRunUrl: MLFLOW_RUN_URL,
  source: `mlflow-artifacts:/12/${RUN}/artifacts/model`,
  commit: SHA,
  commitUrl: COMMIT_URL,
  runUrl: RUN_URL,
  durationMs: 590,
  reused: false,
  note: undefined,
  uploadMs: 120,
  fileList: MODEL_FILES,
  timings: [
    ['Validate model directory', 18],
    ['Preflight (read-only)', 66],
    ['Start MLflow run', 37],
    ['Upload model', 120],
    ['Register model version', 158],
    ['Notify Hokusai', 76],
    ['Write receipt', 29],
  ].map(([phase, ms]) => ({ phase: String(phase), ms: Number(ms) })),
  hokusai: { tokenId: 'CHURN', metric: 'auroc', value: '0.91', proposalId: 'PROP-12', event: 'sent' },
  receipt: {
    path: '/home/runner/work/_temp/hokusai-receipt-churn-classifier-v7.json',
    artifactName: 'hokusai-receipt-churn-classifier-v7-register-attempt1',
    artifactUrl: `${REPO}/actions/runs/14921/artifacts/3141`,
  },
  description: 'Weekly retrain',
  tags: [['team', 'growth']],
};

/** A registry whose artifact route is not configured (the July 2025 failure). */
export const proxy404 = new ActionError('HTTP 404', {
  step: 'Check artifact proxy',
  method: 'GET',
  path: '/api/mlflow/api/2.0/mlflow-artifacts/artifacts',
  status: 404,
  serverMessage: '<!doctype html><title>404 Not Found</title>',
  hint: 'The tracking server has no artifact route at this path: start it with --serve-artifacts, or route /api/2.0/mlflow-artifacts to it. Nothing was registered.',
});

export const checks: Check[] = [
  { name: 'API key present', result: 'pass', latencyMs: undefined, detail: 'api-key is set (masked).' },
  { name: 'Key validation', result: 'pass', latencyMs: 41, detail: 'Valid for "platform"; scopes: read, write.' },
  {
    name: 'Tracking server',
    result: 'pass',
    latencyMs: 63,
    detail: 'Reachable at https://registry.hokus.ai/api/mlflow; experiments/search answered.',
  },
  { name: 'Model registry', result: 'pass', latencyMs: 58, detail: 'registered-models/search answered.' },
  {
    name: 'Artifact proxy',
    result: 'fail',
    latencyMs: 44,
    detail: 'HTTP 404',
    hint: proxy404.hint,
    request: 'GET /api/mlflow/api/2.0/mlflow-artifacts/artifacts → HTTP 404',
  },
  { name: 'Model', result: 'pass', latencyMs: 70, detail: '"churn-classifier" exists; latest version 7; aliases: staging → 7.' },
];
export const passing: Check[] = checks.map((c) =>
  c.result === 'fail' ? { name: c.name, result: 'pass', latencyMs: 44, detail: 'The mlflow-artifacts route is routed and serving.' } : c,
);
const target = { trackingUri: 'https://registry.hokus.ai/api/mlflow', modelName: 'churn-classifier', runUrl: RUN_URL };

export const promotion: PromotionResult = {
  modelName: 'churn-classifier',
  version: '7',
  versionUrl: VERSION_URL,
  modelUri: 'models:/churn-classifier/7',
  chosenBy: { kind: 'commit', commit: SHA, commitUrl: COMMIT_URL },
  aliases: [{ alias: 'champion', previous: '5' }],
  digest: `sha256:${hex(99)}`,
  source: `mlflow-artifacts:/12/${RUN}/artifacts/model`,
  runId: RUN,
  runUrl: RUN_URL,
  durationMs: 310,
  timings: [
    { phase: 'Find the version to promote', ms: 125 },
    { phase: 'Promote version', ms: 150 },
  ],
};

export const footer = { runUrl: RUN_URL, commit: SHA, commitUrl: COMMIT_URL, updatedAt: UPDATED };
export const marker = commentMarker('verify:churn-classifier');

/** n files of a few KiB each, as a model with many shards would have. */
export function manyFiles(n: number): FileEntry[] {
  return Array.from({ length: n }, (_, i) => ({
    path: `data/shard-${String(i).padStart(5, '0')}.parquet`,
    size: 4096 + ((i * 7919) % 65_536),
    sha256: hex(i),
  }));
}

/** A retrained model against the champion, as verify mode with model-path reviews it. */
export const review: Review = {
  modelName: 'churn-classifier',
  compareTo: 'champion',
  against: { alias: 'champion', version: '7', source: `mlflow-artifacts:/12/${RUN}/artifacts/model`, runId: RUN },
  changed: true,
  files: {
    basis: 'sha256',
    added: [{ path: 'thresholds.json', from: null, to: 64 }],
    removed: [{ path: 'serving_input_example.json', from: 518, to: null }],
    changed: [
      { path: 'model.skops', from: 11_079, to: 14_212 },
      { path: 'MLmodel', from: 1140, to: 1172 },
      { path: 'requirements.txt', from: 34, to: 50 },
    ],
    unchanged: 3,
  },
  requirements: {
    added: ['lightgbm==4.6.0'],
    removed: [],
    changed: [{ name: 'scikit-learn', from: '1.8.0', to: '1.9.1' }],
  },
  mlmodel: {
    flavors: { added: [], removed: [] },
    signature: {
      inputs: {
        added: [{ name: 'tenure_months', type: 'long' }],
        removed: [],
        changed: [{ name: 'plan', from: 'string', to: 'string (optional)' }],
      },
      outputs: { added: [], removed: [], changed: [] },
    },
  },
  metrics: [
    { name: 'auroc', from: 0.81, to: 0.84, direction: 'higher', verdict: 'better' },
    { name: 'log_loss', from: 0.412, to: 0.398, direction: 'lower', verdict: 'better' },
    { name: 'rows_seen', from: 120_000, to: 150_000, direction: undefined, verdict: undefined },
  ],
  notes: [],
};

/** One of each kind, as the action writes them: name → markdown. */
export function examples(): Record<string, string> {
  return {
    success: renderSuccess(success),
    failure: renderFailure(proxy404),
    verify: renderChecks(checks, target),
    promote: renderPromotion(promotion),
    'pr-comment': renderComment(marker, renderChecks(passing, target), footer),
    review: renderComment(
      commentMarker('verify-review:churn-classifier'),
      `${renderChecks(passing, target)}\n${renderReview(review)}`,
      footer,
    ),
  };
}
