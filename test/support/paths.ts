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
