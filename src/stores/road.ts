// Which road the model files take, and why (pure): through the tracking server's artifact
// proxy for mlflow-artifacts: locations, straight to the bucket for s3:// ones or when
// artifact-store names a bucket. Every other store is named, with what to do instead.

/** A place in a bucket: `key` has no leading or trailing slash ("" for the bucket's root). */
export interface S3Location {
  bucket: string;
  key: string;
}

export type Road =
  | { kind: 'proxy'; why: string }
  /** `base`: the experiment's location (runs live below it), or artifact-store's prefix when `explicit`. */
  | { kind: 's3'; base: S3Location; explicit: boolean; why: string };

/** What other schemes are, to name them in an error. */
const OTHER_STORES: Record<string, string> = {
  gs: 'a Google Cloud Storage bucket',
  wasbs: 'an Azure Blob Storage container',
  wasb: 'an Azure Blob Storage container',
  abfss: 'an Azure Data Lake Storage location',
  abfs: 'an Azure Data Lake Storage location',
  hdfs: 'an HDFS path',
  viewfs: 'an HDFS path',
  dbfs: 'a Databricks file system path',
  ftp: 'an FTP server',
  sftp: 'an SFTP server',
  oss: 'an Alibaba Cloud OSS bucket',
  file: 'a path on the server',
  s3a: 'an S3A (Hadoop) location',
  s3n: 'an S3N (Hadoop) location',
};

// S3's bucket naming rules (no dots next to each other or to a hyphen, not an IP address).
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

export const s3Uri = (loc: S3Location): string => `s3://${loc.bucket}${loc.key ? `/${loc.key}` : ''}`;

/** Joins key parts with single slashes. */
export function keyJoin(...parts: string[]): string {
  return parts
    .map((p) => p.replace(/^\/+|\/+$/g, ''))
    .filter((p) => p !== '')
    .join('/');
}

/** Parses s3://bucket[/prefix]; a string is the problem, in words that fit after the input's name. */
export function parseS3Uri(uri: string): S3Location | string {
  const m = /^([a-z][a-z0-9+.-]*):\/\/([^/?#]*)([^?#]*)([?#].*)?$/i.exec(uri);
  if (!m) return `"${uri}" is not a bucket URI such as s3://my-bucket/models.`;
  const [, scheme = '', bucket = '', rest = '', extra] = m;
  if (scheme.toLowerCase() !== 's3')
    return `uses ${scheme}://${OTHER_STORES[scheme.toLowerCase()] ? ` (${OTHER_STORES[scheme.toLowerCase()]})` : ''}, which the action cannot write to yet; only s3:// buckets (and S3-compatible stores through AWS_ENDPOINT_URL_S3) are supported.`;
  if (extra) return `"s3://${bucket}${rest}" has a query string or fragment, which a bucket URI cannot have.`;
  if (!BUCKET.test(bucket) || /\.\.|\.-|-\./.test(bucket) || /^\d+\.\d+\.\d+\.\d+$/.test(bucket))
    return `names the bucket ${JSON.stringify(bucket)}, which is not a valid S3 bucket name (3 to 63 lower-case letters, digits, dots and hyphens).`;
  const segments = rest.split('/').filter((s) => s !== '');
  if (segments.some((s) => s === '.' || s === '..'))
    return `has a "." or ".." segment in its prefix; give a plain prefix such as s3://${bucket}/models.`;
  return { bucket, key: segments.join('/') };
}

/**
 * The road for a location: the experiment's or run's artifact location, or artifact-store when
 * it is set. A string is why no road fits (the caller adds the step and the hint).
 */
export function chooseRoad(artifactStore: S3Location | undefined, location: string | undefined): Road | { unsupported: string } {
  if (artifactStore) return { kind: 's3', base: artifactStore, explicit: true, why: `artifact-store is set to ${s3Uri(artifactStore)}` };
  if (location === undefined || /^mlflow-artifacts:/.test(location) || /^https?:\/\//.test(location))
    return {
      kind: 'proxy',
      why: location
        ? `the artifact location is ${location}`
        : "the server did not say where the files go; MLflow's default is its artifact proxy",
    };
  if (/^s3:\/\//i.test(location)) {
    const parsed = parseS3Uri(location);
    if (typeof parsed === 'string') return { unsupported: `the artifact location ${location} ${parsed}` };
    return { kind: 's3', base: parsed, explicit: false, why: `the artifact location ${location} is a bucket` };
  }
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(location)?.[1]?.toLowerCase();
  const what = scheme ? (OTHER_STORES[scheme] ?? `a ${scheme}:// store`) : 'a path on the server (a local artifact store)';
  return {
    unsupported: `the artifact location is ${location}, ${what}, which the action cannot write to yet${scheme ? ` (${scheme})` : ''}`,
  };
}

/**
 * Where a run's model files go on the bucket road: below the run's own s3:// location, or with
 * artifact-store, a path per run below its prefix, laid out as MLflow lays out runs. A string
 * is why there is no such place.
 */
export function runDestination(
  road: Extract<Road, { kind: 's3' }>,
  run: { experiment_id: string; run_id: string; artifact_uri: string },
  artifactPath: string,
): S3Location | string {
  if (road.explicit)
    return { bucket: road.base.bucket, key: keyJoin(road.base.key, run.experiment_id, run.run_id, 'artifacts', artifactPath) };
  const own = /^s3:\/\//i.test(run.artifact_uri)
    ? parseS3Uri(run.artifact_uri)
    : `the run's artifact location ${run.artifact_uri} is not a bucket`;
  return typeof own === 'string' ? own : { bucket: own.bucket, key: keyJoin(own.key, artifactPath) };
}
