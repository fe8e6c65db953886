// The MLmodel file's flavors and signature, read and compared (the model review). Pure.

/** One input or output of a signature: a named column, or an unnamed tensor named by its position ("[0]"). */
export interface Column {
  name: string;
  /** e.g. "double", "string", "tensor(int64, [-1])", "double (optional)". */
  type: string;
}

export interface ColumnsDiff {
  added: Column[];
  removed: Column[];
  changed: Array<{ name: string; from: string; to: string }>;
}

export interface MlmodelSummary {
  flavors: string[];
  /** Undefined when MLmodel has no signature. */
  signature: { inputs: Column[]; outputs: Column[] } | undefined;
}

export interface MlmodelDiff {
  flavors: { added: string[]; removed: string[] };
  signature: { inputs: ColumnsDiff; outputs: ColumnsDiff };
  /** One side has a signature and the other has none. */
  signatureNote?: string;
}

export function readMlmodelSummary(_text: string): MlmodelSummary {
  throw new Error('not implemented');
}

export function diffMlmodel(_before: MlmodelSummary | undefined, _after: MlmodelSummary): MlmodelDiff {
  throw new Error('not implemented');
}
