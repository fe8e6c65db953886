import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository root (this file lives at ROOT/test/support/paths.ts). */
export const ROOT: string = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const VENV_BIN: string = path.join(ROOT, '.venv', 'bin');
export const PYTHON: string = path.join(VENV_BIN, 'python');
export const MLFLOW: string = path.join(VENV_BIN, 'mlflow');
export const DIST: string = path.join(ROOT, 'dist', 'index.js');
/** The action's `post:` entry point (action.yml `runs.post`). */
export const DIST_POST: string = path.join(ROOT, 'dist', 'post', 'index.js');
/** Directory holding the harness itself (python helper scripts live here). */
export const SUPPORT_DIR: string = path.join(ROOT, 'test', 'support');

/** A project-local virtualenv with one MLflow (server and Python client). */
export interface Venv {
  /** The MLflow version pinned in its requirements file, e.g. "3.9.0". */
  mlflowVersion: string;
  dir: string;
  python: string;
  mlflow: string;
}

function venvAt(dirName: string, mlflowVersion: string): Venv {
  const dir = path.join(ROOT, dirName);
  return { mlflowVersion, dir, python: path.join(dir, 'bin', 'python'), mlflow: path.join(dir, 'bin', 'mlflow') };
}

/** `mlflow==X` (extras allowed) from a requirements file. */
function pinnedMlflow(file: string): string {
  const m = /^mlflow(?:\[[^\]]*\])?==(\S+)/m.exec(readFileSync(path.join(ROOT, file), 'utf8'));
  if (!m?.[1]) throw new Error(`${file} pins no mlflow==VERSION`);
  return m[1];
}

/** `.venv`, from requirements-test.txt: what every test uses unless it asks for another. */
export const DEFAULT_VENV: Venv = venvAt('.venv', pinnedMlflow('requirements-test.txt'));

/**
 * The other MLflow versions the tests run against, one per `requirements-mlflow-*.txt`, each in
 * `.venv-mlflow-<version>` (scripts/setup.sh makes them the same way), by MLflow version.
 */
export const EXTRA_VENVS: Record<string, Venv> = Object.fromEntries(
  readdirSync(ROOT)
    .filter((f) => /^requirements-mlflow-.+\.txt$/.test(f))
    .sort()
    .map((f) => {
      const version = pinnedMlflow(f);
      return [version, venvAt(`.venv-mlflow-${version}`, version)];
    }),
);
