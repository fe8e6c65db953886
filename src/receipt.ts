// The receipt: one JSON file that says what was registered, from which commit and job,
// and every file's size and sha256. It is written after a successful registration and
// uploaded as a workflow artifact, so the job's page keeps a record even if the
// registry is later cleaned up. The upload is best effort: it never fails the step.
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Lineage } from './lineage.ts';
import type { ManifestEntry } from './manifest.ts';
import { redactSecrets } from './log.ts';

export const RECEIPT_SCHEMA = 'hokusai-register-model/receipt@1';

export interface ReceiptInput {
  modelName: string;
  version: string;
  modelUri: string;
  versionUrl: string;
  source: string;
  runId: string;
  experimentId: string;
  digest: string;
  aliases: readonly string[];
  reused: boolean;
  lineage: Lineage;
  files: readonly ManifestEntry[];
  hokusai?: ReceiptHokusai;
  createdAt: Date;
}

/** Lineage with absent values as null, so every receipt has the same keys. */
export type ReceiptLineage = Omit<Lineage, 'runUrl' | 'prNumber'> & { runUrl: string | null; prNumber: string | null };

/** The token metadata and what became of the registration event. */
export interface ReceiptHokusai {
  tokenId: string;
  metric: string;
  value: string;
  proposalId: string;
  event: 'sent' | 'failed' | 'skipped';
}

export interface Receipt {
  schema: typeof RECEIPT_SCHEMA;
  createdAt: string;
  model: { name: string; version: string; uri: string; versionUrl: string; source: string; aliases: string[]; reused: boolean };
  run: { id: string; experimentId: string };
  digest: string;
  lineage: ReceiptLineage;
  hokusai?: ReceiptHokusai;
  totals: { files: number; bytes: number };
  files: ManifestEntry[];
}

/** Copies field by field: nothing else on the input objects leaks into the receipt. */
export function buildReceipt(input: ReceiptInput): Receipt {
  const l = input.lineage;
  const files = input.files
    .map((f) => ({ path: f.path, size: f.size, sha256: f.sha256 }))
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const h = input.hokusai;
  return {
    schema: RECEIPT_SCHEMA,
    createdAt: input.createdAt.toISOString(),
    model: {
      name: input.modelName,
      version: input.version,
      uri: input.modelUri,
      versionUrl: input.versionUrl,
      source: input.source,
      aliases: [...input.aliases],
      reused: input.reused,
    },
    run: { id: input.runId, experimentId: input.experimentId },
    digest: input.digest,
    lineage: {
      commit: l.commit,
      ref: l.ref,
      branch: l.branch,
      repository: l.repository,
      workflow: l.workflow,
      actor: l.actor,
      eventName: l.eventName,
      runId: l.runId,
      runAttempt: l.runAttempt,
      runUrl: l.runUrl ?? null,
      prNumber: l.prNumber ?? null,
    },
    ...(h ? { hokusai: { tokenId: h.tokenId, metric: h.metric, value: h.value, proposalId: h.proposalId, event: h.event } } : {}),
    totals: { files: files.length, bytes: files.reduce((sum, f) => sum + f.size, 0) },
    files,
  };
}

/** Longest UTF-8 byte length of each part of a name; keeps file names under NAME_MAX (255 bytes). */
const MODEL_PART_BYTES = 80;
const VERSION_PART_BYTES = 20;
const JOB_PART_BYTES = 40;
const ATTEMPT_PART_BYTES = 10;

/** The longest name `artifactName` returns, in UTF-8 bytes: the fixed words plus each part's cap. */
export const ARTIFACT_NAME_MAX_BYTES =
  'hokusai-receipt--v--attempt'.length + MODEL_PART_BYTES + VERSION_PART_BYTES + JOB_PART_BYTES + ATTEMPT_PART_BYTES;

/**
 * Letters and digits of any script, `.`, `_` and `-`; anything else becomes `-`. That
 * excludes every character the artifact service or a file system refuses
 * (`" : < > | * ? \r \n \ /`, controls, NUL). A lossy or shortened part gets 8 hex digits of
 * the original's sha256, so two names that differ only in what was dropped stay apart.
 */
export function safeNamePart(text: string, maxBytes: number, fallback: string): string {
  if (!text) return fallback;
  const cleaned = Array.from(text, (ch) => (/^[\p{L}\p{N}._-]$/u.test(ch) ? ch : '-'))
    .join('')
    .replace(/-{2,}/g, '-')
    .replace(/^[-.]+|[-.]+$/g, '');
  if (cleaned === text && Buffer.byteLength(cleaned) <= maxBytes) return cleaned;
  const hash = createHash('sha256').update(text, 'utf8').digest('hex').slice(0, 8);
  const head = truncateBytes(cleaned, maxBytes - hash.length - 1).replace(/[-.]+$/, '');
  return `${head || fallback}-${hash}`;
}

/** Cuts at a code-point boundary, never inside a character. */
function truncateBytes(text: string, maxBytes: number): string {
  let out = '';
  let bytes = 0;
  for (const ch of text) {
    const n = Buffer.byteLength(ch);
    if (bytes + n > maxBytes) break;
    out += ch;
    bytes += n;
  }
  return out;
}

/**
 * `hokusai-receipt-<model>-v<version>-<job>-attempt<n>`. Artifact names are unique per workflow
 * run, so the job id keeps two jobs registering the same model apart, and the attempt keeps a
 * re-run from colliding with the artifact of the attempt before it.
 */
export function artifactName(p: { modelName: string; version: string; job: string; runAttempt: string }): string {
  const model = safeNamePart(p.modelName, MODEL_PART_BYTES, 'model');
  const version = safeNamePart(p.version, VERSION_PART_BYTES, 'unknown');
  const job = p.job ? `-${safeNamePart(p.job, JOB_PART_BYTES, 'job')}` : '';
  const attempt = /^\d{1,10}$/.test(p.runAttempt) ? p.runAttempt : '1';
  return `hokusai-receipt-${model}-v${version}${job}-attempt${attempt}`;
}

/** Writes `hokusai-receipt-<model>-v<version>.json` under `dir` (created if missing). */
export async function writeReceipt(dir: string, receipt: Receipt): Promise<string> {
  const model = safeNamePart(receipt.model.name, MODEL_PART_BYTES, 'model');
  const version = safeNamePart(receipt.model.version, VERSION_PART_BYTES, 'unknown');
  const file = path.resolve(dir, `hokusai-receipt-${model}-v${version}.json`);
  await mkdir(path.dirname(file), { recursive: true });
  // Every string redacted on its own: a server may put the key anywhere (artifact_uri, so the source).
  const text = JSON.stringify(receipt, (_key, value: unknown) => (typeof value === 'string' ? redactSecrets(value) : value), 2);
  await writeFile(file, `${text}\n`, 'utf8');
  return file;
}

export type ReceiptUpload =
  | { kind: 'uploaded'; name: string; id: number; size: number; url: string | undefined }
  | { kind: 'unavailable'; reason: string }
  | { kind: 'failed'; reason: string };

/**
 * Mirrors `isGhes()` in @actions/artifact 6.2.1 (`shared/config.ts`). Checked here first because
 * the library answers GHES with a `::warning::` that says "errors can be temporary, try again",
 * which is wrong there; the catch below still maps its GHESNotSupportedError as a backstop.
 */
export function isGhesServer(serverUrl: string | undefined): boolean {
  let host: string;
  try {
    host = new URL(serverUrl || 'https://github.com').hostname.trimEnd().toUpperCase();
  } catch {
    return false; // let the library report the malformed URL
  }
  return host !== 'GITHUB.COM' && !host.endsWith('.GHE.COM') && !host.endsWith('.LOCALHOST');
}

function ghesReason(): string {
  return 'the workflow artifact store used by @actions/artifact v2+ is not available on GitHub Enterprise Server';
}

/** Where the artifact can be downloaded from, when the run's coordinates are known. */
export function artifactUrl(env: NodeJS.ProcessEnv, id: number): string | undefined {
  const server = env.GITHUB_SERVER_URL?.replace(/\/+$/, '');
  const repo = env.GITHUB_REPOSITORY;
  const runId = env.GITHUB_RUN_ID;
  if (!server || !repo || !runId) return undefined;
  return `${server}/${repo}/actions/runs/${runId}/artifacts/${id}`;
}

/**
 * Maps anything the library throws to a result with a reason that says what to do. Matched by
 * message as well as by name: the library's twirp client rethrows its NetworkError and
 * UsageError as plain `Error("Failed to CreateArtifact: <message>")`.
 */
export function classifyUploadError(err: unknown): Exclude<ReceiptUpload, { kind: 'uploaded' }> {
  const name = err instanceof Error ? err.name : '';
  const message = ((err instanceof Error ? err.message : String(err)).split('\n')[0] ?? '').replace(/[.\s]+$/, '');
  const kept = 'The registration itself succeeded.';
  if (name === 'GHESNotSupportedError' || /not currently supported on GHES/.test(message)) {
    return { kind: 'unavailable', reason: ghesReason() };
  }
  const network = /Unable to make request: (\w+)/.exec(message);
  if (name === 'NetworkError' || network) {
    return {
      kind: 'failed',
      reason: `could not reach the GitHub artifact service (${network?.[1] ?? message}). On a self-hosted runner behind a firewall, allow the GitHub Actions endpoints (results-receiver.actions.githubusercontent.com and *.blob.core.windows.net). ${kept}`,
    };
  }
  if (name === 'UsageError' || /storage quota has been hit/.test(message)) {
    return {
      kind: 'failed',
      reason: `the artifact storage quota of this account is used up: delete old artifacts or shorten their retention (repository or organization settings → Actions). ${kept}`,
    };
  }
  if (/\(409\)|Conflict/.test(message)) {
    return {
      kind: 'failed',
      reason: `an artifact with this name already exists in this workflow run (${message}). Give each registering step its own job, or register each model once per job. ${kept}`,
    };
  }
  return {
    kind: 'failed',
    reason: `artifact upload failed: ${message}. Re-run the job to try again, with ACTIONS_STEP_DEBUG=true for details. ${kept}`,
  };
}

/**
 * Uploads the receipt as a zipped workflow artifact. Never throws. `env` must be the
 * environment the library sees (it reads process.env itself); it decides, before loading the
 * library, whether an upload is possible. Retention is the repository's default: a few KB,
 * and the owner's retention policy should win.
 */
export async function uploadReceipt(file: string, name: string, env: NodeJS.ProcessEnv): Promise<ReceiptUpload> {
  if (!env.ACTIONS_RUNTIME_TOKEN || !env.ACTIONS_RESULTS_URL) {
    return {
      kind: 'unavailable',
      reason: 'not running in the GitHub Actions runtime (ACTIONS_RUNTIME_TOKEN and ACTIONS_RESULTS_URL are not set)',
    };
  }
  if (isGhesServer(env.GITHUB_SERVER_URL)) return { kind: 'unavailable', reason: ghesReason() };
  // Loaded only here: it adds megabytes and start-up time to every run otherwise.
  let client: InstanceType<(typeof import('@actions/artifact'))['DefaultArtifactClient']>;
  try {
    const { DefaultArtifactClient } = await import('@actions/artifact');
    client = new DefaultArtifactClient();
  } catch (err) {
    return classifyUploadError(err);
  }
  // Two matrix legs of one job can reuse the same version: the second takes the next free name.
  for (let n = 1; ; n++) {
    const candidate = n === 1 ? name : `${name}-${n}`;
    try {
      const result = await client.uploadArtifact(candidate, [file], path.dirname(file));
      if (result.id === undefined) return { kind: 'failed', reason: 'the artifact service did not return an artifact id' };
      return { kind: 'uploaded', name: candidate, id: result.id, size: result.size ?? 0, url: artifactUrl(env, result.id) };
    } catch (err) {
      if (n < MAX_NAME_TRIES && isNameConflict(err)) continue;
      return classifyUploadError(err);
    }
  }
}

const MAX_NAME_TRIES = 3;
const isNameConflict = (err: unknown) => /\(409\)|Conflict/.test(err instanceof Error ? err.message : String(err));
