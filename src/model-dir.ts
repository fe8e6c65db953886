// Scans and validates the model directory before anything touches the network,
// so a bad directory never leaves a half-registered model behind.
import { constants as fsc } from 'node:fs';
import { lstat, open, readdir, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { ActionError } from './errors.ts';
import { nameProblem } from './names.ts';

export interface ModelFile {
  /** Path relative to the model directory, with "/" separators. */
  relPath: string;
  /** Where to read it from (a symlink's target when the file is a link inside the directory). */
  absPath: string;
  size: number;
}

export interface ModelDir {
  root: string;
  /** Sorted by relPath (code-unit order), so every later step is deterministic. */
  files: ModelFile[];
  totalBytes: number;
  flavors: string[];
  /** MLmodel's text, as read for the checks. */
  mlmodel: string;
}

const STEP = 'Validate model directory';

function fail(message: string, hint: string): never {
  throw new ActionError(message, { step: STEP, hint });
}

export async function scanModelDir(root: string): Promise<ModelDir> {
  const rootStat = await stat(root).catch(() => undefined);
  if (!rootStat)
    fail(
      `model-path "${root}" does not exist`,
      'Set model-path to the directory that holds the model (with MLmodel at its root), relative to the repository root.',
    );
  if (!rootStat.isDirectory())
    fail(
      `model-path "${root}" is a file, not a directory`,
      'Point model-path at the directory that holds the MLmodel file, not at a single file.',
    );
  const realRoot = await realpath(root);
  // Scanning a whole file system (model-path: / or a link to it) is never what was meant.
  if (realRoot === path.parse(realRoot).root)
    fail(
      `model-path "${root}" is the root of the file system${realRoot === root ? '' : ` (it resolves to ${realRoot})`}`,
      'Set model-path to the directory that holds the model (with MLmodel at its root), relative to the repository root, e.g. model-path: ./model.',
    );

  const files: ModelFile[] = [];
  const problems: string[] = [];

  // A linked directory is walked under the link's own path, like any other directory;
  // `ancestors` (real paths of the directories above) only guards against link loops.
  async function walk(dir: string, rel: string, ancestors: ReadonlySet<string>): Promise<void> {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (err) {
      // An unreadable directory is a problem with the model directory, not a crash.
      problems.push(
        `${JSON.stringify(rel || '.')}: a directory that cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)})`,
      );
      return;
    }
    for (const entry of entries) {
      const relPath = rel ? `${rel}/${entry.name}` : entry.name;
      const abs = path.join(dir, entry.name);
      const bad = nameProblem(entry.name);
      if (bad) {
        // Quoted with escapes: the name may hold spaces at its start or control characters.
        problems.push(`${JSON.stringify(relPath)}: the name has ${bad}`);
        continue;
      }
      let target = abs;
      let info = await lstat(abs);
      if (info.isSymbolicLink()) {
        const resolved = await realpath(abs).catch(() => undefined);
        if (!resolved) {
          problems.push(`${relPath}: a broken symlink`);
          continue;
        }
        if (resolved !== realRoot && !resolved.startsWith(realRoot + path.sep)) {
          problems.push(`${relPath}: a symlink that points outside the model directory (to ${resolved}); copy the file in instead`);
          continue;
        }
        target = resolved;
        info = await stat(resolved);
      }
      if (info.isDirectory()) {
        const real = await realpath(target);
        if (ancestors.has(real)) {
          problems.push(`${relPath}: a symlink to a directory that contains it (a loop)`);
          continue;
        }
        await walk(target, relPath, new Set([...ancestors, real]));
      } else if (info.isFile()) {
        files.push({ relPath, absPath: target, size: info.size });
      } else {
        const kind = (info.mode & fsc.S_IFMT) === fsc.S_IFIFO ? 'a FIFO' : info.isSocket() ? 'a socket' : 'a device file';
        problems.push(`${relPath}: ${kind}, not a regular file`);
      }
    }
  }
  await walk(realRoot, '', new Set([realRoot]));

  if (problems.length > 0) {
    fail(
      `the model directory has ${problems.length} file${problems.length === 1 ? '' : 's'} that cannot be uploaded:\n${problems.map((p) => `  - ${p}`).join('\n')}`,
      'Rename (for example with "_" in place of those characters), copy in or remove the files listed above, then re-run. Nothing was sent to the server.',
    );
  }
  files.sort((a, b) => (a.relPath < b.relPath ? -1 : a.relPath > b.relPath ? 1 : 0));

  const mlmodel = files.find((f) => f.relPath === 'MLmodel');
  if (!mlmodel)
    fail(
      `no MLmodel file at the root of "${root}"`,
      'model-path must be a directory saved by MLflow (for example with mlflow.sklearn.save_model), which writes MLmodel at its root. If the model sits in a subdirectory, point model-path there.',
    );
  const text = await readMlmodel(mlmodel.absPath, root);
  const flavors = checkMlmodel(text);
  return { root: realRoot, files, totalBytes: files.reduce((n, f) => n + f.size, 0), flavors, mlmodel: text };
}

/** MLmodel files are a few KiB; a bigger one is not an MLmodel, and is not read whole. */
export const MLMODEL_LIMIT_BYTES = 1024 * 1024;

/** Reads MLmodel, refusing one over the limit (checked on the bytes read, in case it grew since the scan). */
async function readMlmodel(file: string, root: string): Promise<string> {
  const buf = await readStart(file, MLMODEL_LIMIT_BYTES + 1);
  if (buf.length > MLMODEL_LIMIT_BYTES)
    fail(
      `MLmodel in "${root}" is larger than ${MLMODEL_LIMIT_BYTES / (1024 * 1024)} MiB (the limit), so it is not an MLmodel file written by MLflow`,
      'MLflow writes MLmodel as a few KiB of YAML. Check that model-path points at the directory MLflow saved, and that MLmodel at its root is that file.',
    );
  return buf.toString('utf8');
}

/** At most the first `bytes` bytes of a file: the small files the action reads whole are never read past a bound. */
export async function readStart(file: string, bytes: number): Promise<Buffer> {
  const handle = await open(file, 'r');
  try {
    const buf = Buffer.alloc(bytes);
    let size = 0;
    while (size < buf.length) {
      const { bytesRead } = await handle.read(buf, size, buf.length - size, size);
      if (bytesRead === 0) break;
      size += bytesRead;
    }
    return buf.subarray(0, size);
  } finally {
    await handle.close();
  }
}

/** A model file that cannot be read (permissions, removed while the step ran) is a problem of the model directory. */
export function unreadableModelFile(e: unknown): ActionError {
  if (e instanceof ActionError) return e;
  return new ActionError(`a model file could not be read: ${e instanceof Error ? e.message : String(e)}`, {
    step: STEP,
    hint: 'Check that the model directory can be read by the job (permissions, files removed while the step ran). Nothing was registered.',
  });
}

/** Checks that MLmodel is a YAML mapping with a non-empty `flavors` mapping; returns the flavor names. */
export function checkMlmodel(text: string): string[] {
  const hint = 'Save the model with MLflow (mlflow.<flavor>.save_model) so that MLmodel is written for you, or fix the file by hand.';
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    const reason = err instanceof Error ? err.message.split('\n')[0] : String(err);
    fail(`MLmodel is not valid YAML: ${reason}`, hint);
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) fail('MLmodel is not a YAML mapping', hint);
  const flavors = (doc as Record<string, unknown>).flavors;
  if (flavors === null || typeof flavors !== 'object' || Array.isArray(flavors) || Object.keys(flavors).length === 0) {
    fail('MLmodel has no flavors: the "flavors" mapping is missing or empty', hint);
  }
  return Object.keys(flavors);
}
