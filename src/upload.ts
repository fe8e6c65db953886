// Uploads the model directory through MLflow's artifact proxy and checks, by listing the
// run's artifacts, that every file arrived with its full size before anything is registered.
import { createReadStream } from 'node:fs';
import { ActionError } from './errors.ts';
import type { MlflowClient } from './mlflow.ts';
import type { ModelFile } from './model-dir.ts';
import { encodePath } from './urls.ts';

const STEP = 'Upload model';

export interface UploadPlan {
  /** Artifact-proxy URL of the run's artifact root. */
  base: URL;
  /** Directory inside the run's artifacts, e.g. "model". */
  artifactPath: string;
  files: readonly ModelFile[];
}

/** The URL each file is PUT to. */
export function fileUrl(plan: UploadPlan, relPath: string): URL {
  const u = new URL(plan.base.href);
  u.pathname = `${u.pathname}/${encodePath(plan.artifactPath)}/${encodePath(relPath)}`;
  return u;
}

export async function uploadFiles(
  client: MlflowClient,
  plan: UploadPlan,
  concurrency: number,
  onFile?: (f: ModelFile) => void,
): Promise<void> {
  const queue = [...plan.files];
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    for (let f = queue.shift(); f; f = queue.shift()) {
      try {
        // A fresh stream per attempt; Content-Length is always sent.
        await client.putArtifact(STEP, fileUrl(plan, f.relPath), () => createReadStream(f.absPath), f.size);
        onFile?.(f);
      } catch (error) {
        // Stop at the first failure: start nothing new, let the uploads in flight finish.
        failure ??= { error };
        queue.length = 0;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, queue.length)) }, worker));
  if (failure) throw failure.error;
}

/** Compares what the server lists with what was sent; returns the problems found (pure). */
export function compareUpload(
  files: readonly ModelFile[],
  artifactPath: string,
  listed: ReadonlyArray<{ path: string; file_size?: number | string }>,
): string[] {
  // MLflow leaves file_size out for empty files.
  const sizes = new Map(listed.map((f) => [f.path, Number(f.file_size ?? 0)]));
  const problems: string[] = [];
  for (const f of files) {
    const remote = `${artifactPath}/${f.relPath}`;
    if (!sizes.has(remote)) problems.push(`${f.relPath}: missing on the server`);
    else if (sizes.get(remote) !== f.size) problems.push(`${f.relPath}: ${sizes.get(remote)} bytes on the server, ${f.size} bytes here`);
  }
  return problems;
}

export async function verifyUpload(client: MlflowClient, runId: string, plan: UploadPlan): Promise<void> {
  const listed = await client.listArtifactsRecursive('Verify upload', runId, plan.artifactPath);
  const problems = compareUpload(plan.files, plan.artifactPath, listed);
  if (problems.length > 0) {
    const shown = problems.slice(0, 20).map((p) => `  - ${p}`);
    if (problems.length > 20) shown.push(`  - … and ${problems.length - 20} more`);
    throw new ActionError(
      `${problems.length} uploaded file${problems.length === 1 ? ' does' : 's do'} not match on the server:\n${shown.join('\n')}`,
      {
        step: 'Verify upload',
        hint: 'The server accepted the upload but did not store every byte. A proxy in front of MLflow may be dropping request bodies or the Content-Length header. Nothing was registered; re-run the job, and check the proxy if it repeats.',
      },
    );
  }
}
