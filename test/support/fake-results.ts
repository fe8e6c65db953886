/**
 * Fake of the GitHub Actions results service, written from the protocol of
 * `@actions/artifact` 6.2.1 (lib/internal/upload/upload-artifact.js and shared/*):
 *
 * - the runtime token is a JWT whose `scp` claim holds
 *   `Actions.Results:<workflowRunBackendId>:<workflowJobRunBackendId>`; the library only decodes it;
 * - twirp JSON: `POST /twirp/github.actions.results.api.v1.ArtifactService/CreateArtifact` with
 *   proto field names (`workflow_run_backend_id`, `name`, `version`: 7, ...) answers
 *   `{ok, signed_upload_url}`; `FinalizeArtifact` with `size` (int64 as a string) and
 *   `hash` (`sha256:<hex>`) answers `{ok, artifact_id}`; errors are `{code, msg}` JSON;
 * - the zip goes to the signed URL as an Azure block blob (@azure/storage-blob
 *   `uploadStream`): `PUT ?comp=block&blockid=…` per chunk, then `PUT ?comp=blocklist` with an
 *   XML list of block ids. An IP host makes the SDK read the path as `/<account>/<container>/<blob>`.
 *
 * Everything is served from one http://127.0.0.1:<port> server.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHash, randomUUID } from 'node:crypto';
import { crc32, inflateRawSync } from 'node:zlib';

const SERVICE = '/twirp/github.actions.results.api.v1.ArtifactService/';
/** The characters the real service refuses in a name (the library checks them too). */
const INVALID_NAME = /[":<>|*?\r\n\\/]/;
const ACCOUNT = 'fakeaccount';
const CONTAINER = 'actions-results';

export interface FakeArtifact {
  name: string;
  /** bytes of the committed zip */
  size: number;
  zip: Buffer;
  finalized: boolean;
  id: number;
  /** what FinalizeArtifact reported */
  reportedSize: string | undefined;
  reportedHash: string | undefined;
  mimeType: string | undefined;
}

export interface FakeResultsRequest {
  method: string;
  /** pathname, without the query string */
  path: string;
  status: number;
}

export interface FakeResults {
  /** for ACTIONS_RESULTS_URL */
  url: string;
  /** for ACTIONS_RUNTIME_TOKEN: a JWT the library accepts */
  token: string;
  /** ACTIONS_RUNTIME_TOKEN, ACTIONS_RESULTS_URL, and the GITHUB_* variables a step has */
  env(): Record<string, string>;
  artifacts: FakeArtifact[];
  requests: FakeResultsRequest[];
  /**
   * Make the next CreateArtifact calls fail with this status and a twirp error body
   * (`msg` defaults to a message fitting the status). `times` defaults to every call from now on.
   */
  failCreate(opts: { status: number; times?: number; msg?: string }): void;
  close(): Promise<void>;
}

function base64url(data: string | Buffer): string {
  return Buffer.from(data).toString('base64url');
}

function fakeJwt(runBackendId: string, jobBackendId: string): string {
  const header = base64url(JSON.stringify({ typ: 'JWT', alg: 'RS256' }));
  const now = Math.floor(Date.now() / 1000);
  const payload = base64url(
    JSON.stringify({
      scp: `Actions.ExampleScope Actions.Results:${runBackendId}:${jobBackendId}`,
      iat: now,
      exp: now + 3600,
      iss: 'fake-results',
      aud: 'fake-results',
    }),
  );
  return `${header}.${payload}.${base64url('fake-key-signature')}`;
}

function twirpCode(status: number): string {
  if (status === 400) return 'invalid_argument';
  if (status === 401) return 'unauthenticated';
  if (status === 403) return 'permission_denied';
  if (status === 404) return 'not_found';
  if (status === 409) return 'already_exists';
  if (status === 429) return 'resource_exhausted';
  if (status === 503) return 'unavailable';
  return 'internal';
}

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function twirpError(res: http.ServerResponse, status: number, msg: string): void {
  sendJson(res, status, { code: twirpCode(status), msg });
}

function azureHeaders(extra: Record<string, string> = {}): Record<string, string> {
  return {
    'x-ms-request-id': randomUUID(),
    'x-ms-version': '2025-01-05',
    'x-ms-request-server-encrypted': 'true',
    date: new Date().toUTCString(),
    'content-length': '0',
    ...extra,
  };
}

function azureError(res: http.ServerResponse, status: number, code: string, message: string): void {
  const xml = `<?xml version="1.0" encoding="utf-8"?><Error><Code>${code}</Code><Message>${message}</Message></Error>`;
  res.writeHead(status, {
    ...azureHeaders(),
    'content-type': 'application/xml',
    'content-length': String(Buffer.byteLength(xml)),
    'x-ms-error-code': code,
  });
  res.end(xml);
}

export async function startFakeResults(): Promise<FakeResults> {
  const runBackendId = randomUUID();
  const jobBackendId = randomUUID();
  const token = fakeJwt(runBackendId, jobBackendId);
  const artifacts: FakeArtifact[] = [];
  const requests: FakeResultsRequest[] = [];
  /** blob path → artifact and its staged blocks */
  const blobs = new Map<string, { artifact: FakeArtifact; blocks: Map<string, Buffer> }>();
  let failure: { status: number; times: number; msg: string | undefined } | undefined;
  let nextId = 1001;
  let origin = '';

  function createArtifact(body: Record<string, unknown>, res: http.ServerResponse): void {
    if (failure && failure.times > 0) {
      failure.times -= 1;
      const msg =
        failure.msg ?? (failure.status === 409 ? 'an artifact with this name already exists on the workflow run' : 'fake failure');
      return twirpError(res, failure.status, msg);
    }
    const name = typeof body.name === 'string' ? body.name : '';
    if (!name || INVALID_NAME.test(name)) return twirpError(res, 400, `invalid artifact name: ${JSON.stringify(name)}`);
    if (body.version !== 7) return twirpError(res, 400, `unsupported artifact version ${String(body.version)}`);
    if (artifacts.some((a) => a.name === name))
      return twirpError(res, 409, 'an artifact with this name already exists on the workflow run');
    const mime = body.mime_type;
    const artifact: FakeArtifact = {
      name,
      size: 0,
      zip: Buffer.alloc(0),
      finalized: false,
      id: nextId++,
      reportedSize: undefined,
      reportedHash: undefined,
      mimeType: typeof mime === 'string' ? mime : undefined,
    };
    artifacts.push(artifact);
    const blobPath = `/${ACCOUNT}/${CONTAINER}/${runBackendId}/${jobBackendId}/${randomUUID()}.zip`;
    blobs.set(blobPath, { artifact, blocks: new Map() });
    sendJson(res, 200, {
      ok: true,
      signed_upload_url: `${origin}${blobPath}?sv=2025-01-05&sr=b&sp=cw&se=${encodeURIComponent(new Date(Date.now() + 3_600_000).toISOString())}`,
    });
  }

  function finalizeArtifact(body: Record<string, unknown>, res: http.ServerResponse): void {
    const artifact = artifacts.find((a) => a.name === body.name);
    if (!artifact) return twirpError(res, 404, 'artifact not found');
    if (artifact.finalized) return twirpError(res, 409, 'artifact already finalized');
    if (artifact.size === 0) return twirpError(res, 400, 'no content was uploaded for this artifact');
    const hash = body.hash;
    artifact.reportedSize = typeof body.size === 'string' ? body.size : undefined;
    artifact.reportedHash = typeof hash === 'string' ? hash : undefined;
    if (artifact.reportedSize !== String(artifact.size)) {
      return twirpError(res, 400, `size ${String(body.size)} does not match the uploaded ${artifact.size} bytes`);
    }
    const digest = `sha256:${createHash('sha256').update(artifact.zip).digest('hex')}`;
    if (artifact.reportedHash !== undefined && artifact.reportedHash !== digest) {
      return twirpError(res, 400, `hash ${artifact.reportedHash} does not match the uploaded ${digest}`);
    }
    artifact.finalized = true;
    sendJson(res, 200, { ok: true, artifact_id: String(artifact.id) });
  }

  function handleTwirp(req: http.IncomingMessage, pathname: string, raw: Buffer, res: http.ServerResponse): void {
    if (req.method !== 'POST') return twirpError(res, 404, 'twirp routes take POST');
    if (req.headers.authorization !== `Bearer ${token}`) return twirpError(res, 401, 'the runtime token is missing or wrong');
    if (!String(req.headers['content-type']).startsWith('application/json')) return twirpError(res, 400, 'expected application/json');
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(raw.toString('utf8')) as Record<string, unknown>;
    } catch {
      return twirpError(res, 400, 'the body is not JSON');
    }
    if (body.workflow_run_backend_id !== runBackendId || body.workflow_job_run_backend_id !== jobBackendId) {
      return twirpError(res, 400, 'backend ids do not match the runtime token');
    }
    const method = pathname.slice(SERVICE.length);
    if (method === 'CreateArtifact') return createArtifact(body, res);
    if (method === 'FinalizeArtifact') return finalizeArtifact(body, res);
    return twirpError(res, 404, `no such method: ${method}`);
  }

  function handleBlob(req: http.IncomingMessage, url: URL, raw: Buffer, res: http.ServerResponse): void {
    const blob = blobs.get(url.pathname);
    if (!blob) return azureError(res, 404, 'BlobNotFound', 'The specified blob does not exist.');
    if (req.method !== 'PUT') return azureError(res, 405, 'UnsupportedHttpVerb', 'Only PUT is served.');
    if (blob.artifact.finalized) return azureError(res, 409, 'BlobImmutable', 'The artifact is already finalized.');
    const comp = url.searchParams.get('comp');
    if (comp === 'block') {
      const id = url.searchParams.get('blockid');
      if (!id) return azureError(res, 400, 'InvalidQueryParameterValue', 'blockid is required.');
      blob.blocks.set(id, raw);
      res.writeHead(201, azureHeaders({ 'content-md5': createHash('md5').update(raw).digest('base64') }));
      return void res.end();
    }
    let content: Buffer;
    if (comp === 'blocklist') {
      const ids = [...raw.toString('utf8').matchAll(/<(?:Latest|Uncommitted|Committed)>([^<]*)<\//g)].map((m) => m[1] ?? '');
      const parts: Buffer[] = [];
      for (const id of ids) {
        const part = blob.blocks.get(id);
        if (!part) return azureError(res, 400, 'InvalidBlockList', `Block ${id} was not staged.`);
        parts.push(part);
      }
      content = Buffer.concat(parts);
    } else if (comp === null && req.headers['x-ms-blob-type'] === 'BlockBlob') {
      content = raw; // single-shot Put Blob
    } else {
      return azureError(res, 400, 'InvalidQueryParameterValue', `unsupported comp=${String(comp)}`);
    }
    blob.artifact.zip = content;
    blob.artifact.size = content.length;
    res.writeHead(
      201,
      azureHeaders({ etag: `"0x${randomUUID().replace(/-/g, '').slice(0, 16).toUpperCase()}"`, 'last-modified': new Date().toUTCString() }),
    );
    res.end();
  }

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('error', () => res.destroy());
    req.on('end', () => {
      const url = new URL(req.url ?? '/', origin);
      const raw = Buffer.concat(chunks);
      res.on('finish', () => requests.push({ method: req.method ?? '', path: url.pathname, status: res.statusCode }));
      try {
        if (url.pathname.startsWith(SERVICE)) handleTwirp(req, url.pathname, raw, res);
        else handleBlob(req, url, raw, res);
      } catch (err) {
        twirpError(res, 500, `fake-results bug: ${err instanceof Error ? err.message : String(err)}`);
      }
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  origin = `http://127.0.0.1:${port}`;

  let closing: Promise<void> | undefined;
  return {
    url: `${origin}/`,
    token,
    env: () => ({
      ACTIONS_RUNTIME_TOKEN: token,
      ACTIONS_RESULTS_URL: `${origin}/`,
      GITHUB_SERVER_URL: 'https://github.com',
      GITHUB_REPOSITORY: 'octo-org/octo-repo',
      GITHUB_RUN_ID: '4242',
    }),
    artifacts,
    requests,
    failCreate: ({ status, times, msg }) => {
      failure = { status, times: times ?? Number.POSITIVE_INFINITY, msg };
    },
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      })),
  };
}

/**
 * One file out of a zip, read through the central directory (the local headers of a streamed
 * zip carry no sizes), inflated with node:zlib and checked against its CRC-32.
 */
export function unzipEntry(zip: Buffer, name: string): Buffer {
  const EOCD = 0x06054b50;
  let eocd = -1;
  for (let i = zip.length - 22; i >= Math.max(0, zip.length - 22 - 0xffff); i--) {
    if (zip.readUInt32LE(i) === EOCD) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new Error('unzipEntry: no end of central directory record');
  const count = zip.readUInt16LE(eocd + 10);
  let at = zip.readUInt32LE(eocd + 16);
  const names: string[] = [];
  for (let n = 0; n < count; n++) {
    if (zip.readUInt32LE(at) !== 0x02014b50) throw new Error('unzipEntry: bad central directory entry');
    const method = zip.readUInt16LE(at + 10);
    const crc = zip.readUInt32LE(at + 16);
    const compressedSize = zip.readUInt32LE(at + 20);
    const size = zip.readUInt32LE(at + 24);
    const nameLen = zip.readUInt16LE(at + 28);
    const extraLen = zip.readUInt16LE(at + 30);
    const commentLen = zip.readUInt16LE(at + 32);
    const localOffset = zip.readUInt32LE(at + 42);
    const entryName = zip.toString('utf8', at + 46, at + 46 + nameLen);
    names.push(entryName);
    at += 46 + nameLen + extraLen + commentLen;
    if (entryName !== name) continue;
    if (compressedSize === 0xffffffff || size === 0xffffffff || localOffset === 0xffffffff)
      throw new Error('unzipEntry: zip64 is not supported');
    if (zip.readUInt32LE(localOffset) !== 0x04034b50) throw new Error('unzipEntry: bad local file header');
    const start = localOffset + 30 + zip.readUInt16LE(localOffset + 26) + zip.readUInt16LE(localOffset + 28);
    const data = zip.subarray(start, start + compressedSize);
    let out: Buffer;
    if (method === 0) out = Buffer.from(data);
    else if (method === 8) out = inflateRawSync(data);
    else throw new Error(`unzipEntry: compression method ${method} is not supported`);
    if (out.length !== size) throw new Error(`unzipEntry: ${name} is ${out.length} bytes, the directory says ${size}`);
    if (crc32(out) !== crc) throw new Error(`unzipEntry: CRC-32 mismatch for ${name}`);
    return out;
  }
  throw new Error(`unzipEntry: no entry ${JSON.stringify(name)} (entries: ${names.map((n) => JSON.stringify(n)).join(', ')})`);
}
