// What an S3 failure means and what to do about it (pure): the AWS SDK's error, or a lost
// connection, becomes one ActionError that names the S3 action, the bucket and the prefix,
// says whether a retry may help, and tells the user the step to take.
import { ActionError, redact } from '../errors.ts';
import { parseRetryAfter, retryReason } from '../retry.ts';
import { s3Uri, type S3Location } from './road.ts';

export interface S3FailureContext {
  step: string;
  /** The S3 API operation, e.g. "PutObject". */
  op: string;
  at: S3Location;
  /** The IAM action it needs, e.g. "s3:PutObject". */
  action: string;
  endpoint: string | undefined;
  region: string;
  secrets: readonly string[];
  /** The job was cancelled while it ran. */
  cancelled: boolean;
  /** Our own deadline for the request ran out. */
  timedOut: boolean;
  nowMs?: number;
}

/** The parts of an AWS SDK error (S3ServiceException, CredentialsProviderError, a Node network error) read here. */
interface SdkErrorLike {
  name?: string;
  message?: string;
  code?: string;
  Code?: string;
  $metadata?: { httpStatusCode?: number };
  $response?: { headers?: Record<string, string | undefined> };
  cause?: unknown;
}

const SERVER_MESSAGE_LIMIT = 300;
const CREDENTIALS_HINT =
  'Give the job AWS credentials before this step: on GitHub-hosted runners, add aws-actions/configure-aws-credentials with role-to-assume (an IAM role that trusts GitHub\'s OIDC provider) and aws-region, and give the job "permissions: id-token: write". Static keys work too (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY from secrets). Nothing was registered.';

/** An S3 error code or region name, or undefined when it has anything else in it. */
function token(value: string | undefined): string | undefined {
  return value && /^[A-Za-z0-9._-]{1,64}$/.test(value) ? value : undefined;
}

export function s3Failure(thrown: unknown, c: S3FailureContext): ActionError {
  if (thrown instanceof ActionError) return thrown;
  const e = (typeof thrown === 'object' && thrown !== null ? thrown : { message: String(thrown) }) as SdkErrorLike;
  const status = e.$metadata?.httpStatusCode;
  // S3's words are data: the code and the region it names are kept to the characters they can have.
  const code = token(e.Code ?? (status !== undefined ? e.name : undefined));
  const where = s3Uri(c.at);
  const bucket = `bucket "${c.at.bucket}"`;
  const prefix = c.at.key ? `, prefix "${c.at.key}"` : '';
  const said = redact(e.message ?? '', c.secrets).slice(0, SERVER_MESSAGE_LIMIT) || undefined;
  const base = { step: c.step, method: c.op, path: where, status, serverMessage: said, code, cause: thrown };
  const fail = (message: string, hint: string, retry?: ActionError['retry']) => new ActionError(message, { ...base, hint, retry });

  if (c.cancelled) return new ActionError('cancelled', { ...base, hint: 'The job was cancelled.', code: 'CANCELLED' });
  if (e.name === 'CredentialsProviderError' || /could not load credentials/i.test(e.message ?? ''))
    return fail(`no AWS credentials were found for ${where}, which the model files go to`, CREDENTIALS_HINT);
  if (e.name === 'AbortError' || e.name === 'TimeoutError' || c.timedOut)
    return fail(
      `${c.op} on ${where} did not finish in time`,
      'Check that the S3 endpoint is reachable from the runner, or raise request-timeout.',
      { reason: 'timed out' },
    );

  switch (code) {
    case 'AccessDenied':
    case 'Forbidden':
    case 'AllAccessDisabled':
      return fail(
        `S3 answered ${code} to ${c.action} (${c.op}) on ${bucket}${prefix}`,
        `Allow ${c.action} for the job's AWS identity: ${c.action === 's3:ListBucket' ? `on arn:aws:s3:::${c.at.bucket}${c.at.key ? ` for the prefix "${c.at.key}/*"` : ''}` : `on arn:aws:s3:::${c.at.bucket}/${c.at.key ? `${c.at.key}/` : ''}*`}. The action needs s3:ListBucket, s3:PutObject and s3:AbortMultipartUpload there (see docs/artifact-stores.md). Nothing was registered.`,
      );
    case 'NoSuchBucket':
      return fail(
        `the ${bucket} does not exist (NoSuchBucket)${c.endpoint ? ` at ${c.endpoint}` : ''}`,
        c.endpoint
          ? "Check the bucket in artifact-store or in the server's --default-artifact-root, and that AWS_ENDPOINT_URL_S3 (or AWS_ENDPOINT_URL, MLFLOW_S3_ENDPOINT_URL) points at the store that holds it."
          : "Check the bucket name in artifact-store, or in the tracking server's --default-artifact-root.",
      );
    case 'PermanentRedirect':
    case 'AuthorizationHeaderMalformed':
    case 'IllegalLocationConstraintException':
    case 'Redirect':
    case '301': {
      const found = token(e.$response?.headers?.['x-amz-bucket-region']);
      return fail(
        `the ${bucket} is in another region than ${c.region} (${code})${found ? `: it is in ${found}` : ''}`,
        `Set AWS_REGION to the bucket's region${found ? ` (${found})` : ''}: aws-region in aws-actions/configure-aws-credentials, or env: AWS_REGION on this step.`,
      );
    }
    case 'ExpiredToken':
    case 'TokenRefreshRequired':
    case 'RequestExpired':
      return fail(
        `the AWS credentials have expired (${code})`,
        'Re-run the job. If it happens again, the credentials last shorter than the job: raise role-duration-seconds in aws-actions/configure-aws-credentials, or run it right before this step.',
      );
    case 'InvalidAccessKeyId':
    case 'SignatureDoesNotMatch':
    case 'InvalidToken':
      return fail(
        `S3 did not accept the AWS credentials (${code})`,
        'Check the AWS credentials the job uses (the role in aws-actions/configure-aws-credentials, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY), and that they are for this endpoint.',
      );
    case 'SlowDown':
      return fail(`S3 asked to slow down (${code}) on ${c.op} ${where}`, 'Re-run the job later, or lower upload-concurrency.', {
        reason: `HTTP ${status ?? 503} SlowDown`,
        afterMs: parseRetryAfter(e.$response?.headers?.['retry-after'], c.nowMs ?? Date.now()),
      });
  }

  if (status !== undefined) {
    const reason = retryReason(status, []) ?? (code === 'RequestTimeout' ? `HTTP ${status} RequestTimeout` : undefined);
    return fail(
      `S3 answered HTTP ${status}${code && code !== String(status) ? ` ${code}` : ''} to ${c.op} ${where}`,
      status >= 500
        ? 'The S3 endpoint failed; re-run the job. Nothing was registered.'
        : `Check the bucket and the job's AWS credentials; the request was ${c.op} on ${bucket}${prefix}.`,
      reason ? { reason } : undefined,
    );
  }
  // No answer at all: a lost or refused connection.
  const codes = networkCodes(thrown);
  const reason = retryReason(undefined, codes) ?? (e.name === 'TimeoutError' ? 'timed out' : undefined);
  return fail(
    `could not reach ${c.endpoint ?? 'S3'} for ${c.op} ${where}${codes.length ? ` (${codes[0]})` : said ? ` (${said})` : ''}`,
    c.endpoint
      ? 'Check AWS_ENDPOINT_URL_S3 (or AWS_ENDPOINT_URL, MLFLOW_S3_ENDPOINT_URL): the S3 endpoint must be reachable from the runner.'
      : 'Check that the runner can reach S3 (a proxy or firewall in between?), then re-run the job.',
    reason ? { reason } : undefined,
  );
}

/** The error codes along the cause chain (ECONNRESET and friends). */
function networkCodes(err: unknown): string[] {
  const codes: string[] = [];
  for (let e = err, i = 0; typeof e === 'object' && e !== null && i < 5; e = (e as { cause?: unknown }).cause, i++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') codes.push(code);
  }
  return codes;
}
