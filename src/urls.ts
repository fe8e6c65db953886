// URLs: every REST path hangs below the tracking URI's own path, and artifact URIs map to
// the tracking server's artifact proxy the way MLflow's own client maps them.
import { ActionError } from './errors.ts';

/** `{tracking-uri}/api/2.0/...`: the REST path is appended below the URI's own path. */
export function apiUrl(trackingUri: URL, restPath: string, query?: Record<string, string>): URL {
  const u = new URL(trackingUri.href);
  u.pathname = `${u.pathname.replace(/\/+$/, '')}${restPath}`;
  u.search = '';
  if (query) for (const [k, v] of Object.entries(query)) u.searchParams.set(k, v);
  return u;
}

/** `url` is `base` or below it: the same origin, and the base's path as a prefix of whole segments. */
export function isBelow(url: URL, base: URL): boolean {
  if (url.origin !== base.origin) return false;
  const prefix = base.pathname.replace(/\/+$/, '');
  return url.pathname === prefix || url.pathname.startsWith(`${prefix}/`);
}

/** This machine: localhost, 127.0.0.0/8, ::1. Only names that never go through DNS ("*.localhost" may resolve anywhere). */
export function isLoopback(u: URL): boolean {
  const host = u.hostname.replace(/^\[|\]$/g, '');
  return host === 'localhost' || /^127\.\d+\.\d+\.\d+$/.test(host) || host === '::1';
}

/** Encodes each path segment and keeps the separators. */
export function encodePath(relPath: string): string {
  return relPath.split('/').map(encodeURIComponent).join('/');
}

/**
 * The artifact-proxy URL under which a run's artifacts live, following MLflow's own
 * MlflowArtifactsRepository.resolve_uri. The key is only ever sent to the tracking host,
 * so an artifact URI on another host is refused.
 */
export function artifactBaseUrl(trackingUri: URL, artifactUri: string, step: string): URL {
  const m = /^mlflow-artifacts:(?:\/\/([^/]*))?(\/.*)?$/.exec(artifactUri);
  if (m) {
    const host = m[1];
    if (host && host !== trackingUri.host) {
      throw new ActionError(`the run's artifact location ${artifactUri} is on host ${host}, not on the tracking host ${trackingUri.host}`, {
        step,
        hint: 'The action sends the API key only to the tracking host. Use an experiment whose artifact location is plain mlflow-artifacts:/ (the server default with --serve-artifacts).',
      });
    }
    const rest = (m[2] ?? '/').replace(/\/+/g, '/').replace(/\/$/, '');
    refuseDotSegments(artifactUri, rest, trackingUri, step);
    return apiUrl(trackingUri, `/api/2.0/mlflow-artifacts/artifacts${rest}`);
  }
  if (/^https?:\/\//.test(artifactUri)) {
    const u = new URL(artifactUri);
    // Only below the tracking URI's own artifact route: the key goes nowhere else.
    if (isBelow(u, apiUrl(trackingUri, '/api/2.0/mlflow-artifacts/artifacts'))) {
      refuseDotSegments(artifactUri, /^https?:\/\/[^/]*(\/[^?#]*)?/.exec(artifactUri)?.[1] ?? '', trackingUri, step);
      u.pathname = u.pathname.replace(/\/+$/, '');
      return u;
    }
  }
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(artifactUri)?.[1] ?? 'a local path';
  throw new ActionError(`the run's artifact location is ${artifactUri}, which the tracking server does not proxy (${scheme})`, {
    step,
    hint: "Use an experiment whose artifact location is mlflow-artifacts:/ (MLflow's default with --serve-artifacts) or an s3:// bucket, or set artifact-store: s3://<bucket>/<prefix>.",
  });
}

/**
 * The server and proxies between decode paths (MLflow up to 10 times), so a "." or ".."
 * segment, however encoded, could take the uploads and the key out of the tracking URI's path.
 */
function refuseDotSegments(artifactUri: string, rawPath: string, trackingUri: URL, step: string): void {
  let p = rawPath;
  for (let i = 0; i < 10; i++) {
    let decoded: string;
    try {
      decoded = decodeURIComponent(p);
    } catch {
      break;
    }
    if (decoded === p) break;
    p = decoded;
  }
  if (p.split(/[/\\]/).some((seg) => seg === '.' || seg === '..')) {
    throw new ActionError(`the run's artifact location ${artifactUri} has a "." or ".." segment, which could leave ${trackingUri.href}`, {
      step,
      hint: "The action sends the key only below tracking-uri. Check the experiment's artifact location on the server (it should be mlflow-artifacts:/<experiment id>), or use another experiment.",
    });
  }
}

/**
 * The registry UI, below the tracking URI, as MLflow serves it (also with --static-prefix).
 * Hokusai serves its UI at /mlflow next to the /api/mlflow proxy.
 */
function uiBase(trackingUri: URL): string {
  const base = new URL(trackingUri.href);
  const hokusai = base.hostname === 'hokus.ai' || base.hostname.endsWith('.hokus.ai');
  const prefix = base.pathname.replace(/\/+$/, '').replace(hokusai ? /\/api\/mlflow$/ : /^$/, hokusai ? '/mlflow' : '');
  return `${base.origin}${prefix}/#`;
}

const seg = encodeURIComponent;

/** The registry UI page of a model version. */
export function versionUiUrl(trackingUri: URL, name: string, version: string): string {
  return `${uiBase(trackingUri)}/models/${seg(name)}/versions/${seg(version)}`;
}

/** The registry UI page of a registered model, which lists its versions. */
export function modelUiUrl(trackingUri: URL, name: string): string {
  return `${uiBase(trackingUri)}/models/${seg(name)}`;
}

/** The registry UI page of an experiment. */
export function experimentUiUrl(trackingUri: URL, experimentId: string): string {
  return `${uiBase(trackingUri)}/experiments/${seg(experimentId)}`;
}

/** The registry UI page of an MLflow run. */
export function runUiUrl(trackingUri: URL, experimentId: string, runId: string): string {
  return `${experimentUiUrl(trackingUri, experimentId)}/runs/${seg(runId)}`;
}
