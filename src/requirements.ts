// Python requirements of a model directory, as MLflow writes them (requirements.txt, conda.yaml,
// python_env.yaml), parsed and compared. Pure.

/** One requirement as a file states it. */
export interface Requirement {
  /** The package name as written, e.g. "scikit-learn". */
  name: string;
  /** PEP 503 normalized name (lower case, runs of "-", "_", "." as one "-"); conda packages are prefixed "conda:". */
  key: string;
  /** What is pinned, without the name: "1.9.1" for a plain "==1.9.1", else the rest as written, e.g. "[pandas]>=1.2,<2; python_version < \"3.12\"" ("" when unpinned). */
  pin: string;
  /** The whole requirement, normalized, e.g. "lightgbm==4.6.0". */
  text: string;
}

/** The requirement files of one model directory, by name; absent when the directory has none. */
export interface RequirementFiles {
  'requirements.txt'?: string;
  'conda.yaml'?: string;
  'python_env.yaml'?: string;
}

export interface RequirementsDiff {
  /** Whole requirements, e.g. "lightgbm==4.6.0". */
  added: string[];
  removed: string[];
  changed: Array<{ name: string; from: string; to: string }>;
}

export function parseRequirementsTxt(_text: string): Requirement[] {
  throw new Error('not implemented');
}

export function parseCondaYaml(_text: string): Requirement[] {
  throw new Error('not implemented');
}

export function parsePythonEnv(_text: string): Requirement[] {
  throw new Error('not implemented');
}

export function diffRequirements(_before: RequirementFiles, _after: RequirementFiles): RequirementsDiff {
  throw new Error('not implemented');
}
