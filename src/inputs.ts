// Every input is read once, here, and parsed with zod into one typed Config.
// All problems are reported together, each naming the input and what to do.
import path from 'node:path';
// zod/mini: the same checks as zod's chained API, lighter to load at start (its schemas
// carry no chained methods); in the bundle, about 4 MB less memory before the inputs are read.
import * as z from 'zod/mini';
import { ActionError } from './errors.ts';
import { nameProblem } from './names.ts';
import { parseS3Uri, type S3Location } from './stores/road.ts';
import { isLoopback } from './urls.ts';

export const INPUT_NAMES = [
  'mode',
  'dry-run',
  'require-key',
  'api-key',
  'tracking-username',
  'tracking-password',
  'tracking-uri',
  'auth-url',
  'service-id',
  'model-path',
  'model-name',
  'experiment-name',
  'artifact-path',
  'artifact-store',
  'description',
  'tags',
  'aliases',
  'await-timeout',
  'request-timeout',
  'max-retries',
  'allow-insecure-http',
  'upload-concurrency',
  'multipart-threshold',
  'version',
  'git-sha',
  'token-id',
  'benchmark-metric',
  'benchmark-value',
  'proposal-id',
  'api-url',
  'notify-hokusai',
  'upload-receipt',
  'metrics',
  'compare-to',
  'comment',
  'github-token',
] as const;
export type InputName = (typeof INPUT_NAMES)[number];
export type RawInputs = Record<InputName, string>;

export const DEFAULT_TRACKING_URI = 'https://registry.hokus.ai/api/mlflow';
export const DEFAULT_AUTH_URL = 'https://auth.hokus.ai';
export const DEFAULT_API_URL = 'https://api.hokus.ai';

export type Mode = 'register' | 'verify' | 'promote';

/** The metrics the Hokusai platform accepts for a benchmark (hokusai-platform.md §3). */
export const HOKUSAI_METRICS = [
  'accuracy',
  'auroc',
  'auc',
  'f1',
  'precision',
  'recall',
  'mse',
  'rmse',
  'mae',
  'r2',
  'reply_rate',
  'conversion_rate',
  'engagement_score',
] as const;
export type HokusaiMetric = (typeof HOKUSAI_METRICS)[number];
// The platform's range rules: it answers 502 after MLflow has the version, so they are checked first.
const UNIT_INTERVAL_METRICS = new Set<string>(['accuracy', 'auroc', 'auc', 'f1', 'precision', 'recall', 'reply_rate', 'conversion_rate']);
const ERROR_METRICS = new Set<string>(['mse', 'rmse', 'mae']);

/** Hokusai token metadata: version tags the way the Hokusai CLI sets them, and the registration event. */
export interface HokusaiToken {
  /** Upper-cased, as the platform stores it. */
  tokenId: string;
  metric: HokusaiMetric;
  /** The value as given (the tag's text); a finite number. */
  value: string;
  proposalId: string;
  /** Send the platform's registration event after MLflow succeeds. */
  notify: boolean;
}

export interface Config {
  mode: Mode;
  /** register mode: plan and check everything, write nothing. */
  dryRun: boolean;
  /** verify mode: a missing key fails instead of skipping the key checks. */
  requireKey: boolean;
  /** Undefined when no key was given (verify mode, or key validation off). */
  apiKey: string | undefined;
  /** HTTP basic credentials for a plain MLflow server with auth; they take precedence over the key, as in MLflow's client. */
  trackingCredentials: { username: string; password: string } | undefined;
  /** Tracking URI without a trailing slash; REST paths are appended below it. */
  trackingUri: URL;
  /** Undefined means: do not validate the key (plain MLflow servers). */
  authUrl: URL | undefined;
  serviceId: string;
  /** Absolute path of the model directory ("" when not given, which only verify mode allows). */
  modelPath: string;
  /** "" when not given, which only verify mode allows. */
  modelName: string;
  experimentName: string;
  artifactPath: string;
  /** register mode: send the files to this bucket instead of the run's artifact location. */
  artifactStore: S3Location | undefined;
  description: string;
  tags: ReadonlyArray<readonly [string, string]>;
  aliases: readonly string[];
  awaitTimeoutSeconds: number;
  requestTimeoutSeconds: number;
  maxRetries: number;
  allowInsecureHttp: boolean;
  uploadConcurrency: number;
  /** Bytes. */
  multipartThreshold: number;
  /** promote mode: the version to point the aliases at; undefined means "the version of the commit". */
  version: string | undefined;
  /** promote mode: the commit whose version to promote; undefined means the current commit. */
  gitSha: string | undefined;
  /** Undefined when token-id is empty. */
  hokusai: HokusaiToken | undefined;
  /** Base of the Hokusai API for the registration event; undefined when empty. */
  apiUrl: URL | undefined;
  uploadReceipt: boolean;
  /** register: logged on the run; verify with model-path: compared with the champion's. In the order given. */
  metrics: ReadonlyArray<readonly [string, number]>;
  /** verify with model-path: the alias of the version the candidate is reviewed against. */
  compareTo: string;
  /** Keep one PR comment with the result (pull_request events only). */
  comment: boolean;
  githubToken: string | undefined;
}

export interface InputContext {
  /** Directory that relative model paths are resolved against (the workspace). */
  cwd: string;
  /** GITHUB_REPOSITORY, the default experiment name. */
  repository: string | undefined;
}

// MLflow's own rules (mlflow/utils/validation.py, model registry alias checks).
const TAG_KEY = /^[/\w.\- :]+$/;
const ALIAS = /^[\w-]+$/;
const RESERVED_ALIAS = /^(latest|v\d+)$/i;
// Keys the action sets on runs and versions (lineage.ts), and MLflow's own namespace.
const RESERVED_TAG =
  /^(mlflow\.|git_sha$|git_ref$|github_|model_digest$|failure_reason$|registration_request_id$|hokusai_|benchmark_metric$|benchmark_value$|mlflow_run_id$)/;
// A Hokusai token id (the CLI's rule): letters, digits and inner hyphens, at most 64.
const TOKEN_ID = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?$/;

/** A number as written in an input: no hex, no commas, no words (NaN, Infinity). */
const NUMBER = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;

type Payload = z.core.ParsePayload;

/** A problem found while transforming (zod/mini hands transforms the bare payload). */
function addIssue(ctx: Payload, message: string): void {
  ctx.issues.push({ code: 'custom', message, input: ctx.value });
}

/** A string turned into something else, with the problems found on the way. */
const parsed = <T>(fn: (value: string, ctx: Payload) => T) => z.pipe(z.string(), z.transform(fn));

/** An http(s) base URL; with `optional`, an empty string means "not set". */
const url = (input: InputName, what: string, optional = false) =>
  parsed((value, ctx): URL | undefined => {
    if (optional && value === '') return undefined;
    const parsed = parseHttpUrl(value);
    if (typeof parsed === 'string') {
      const example = input === 'tracking-uri' ? DEFAULT_TRACKING_URI : input === 'api-url' ? DEFAULT_API_URL : DEFAULT_AUTH_URL;
      addIssue(ctx, `${parsed} Give the ${what} as a full http(s) URL, e.g. ${example}.`);
      return z.NEVER;
    }
    return parsed;
  });

function parseHttpUrl(value: string): URL | string {
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    return `"${value}" is not a URL.`;
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') return `"${value}" uses ${u.protocol.replace(':', '')}, not http or https.`;
  if (u.username || u.password) return 'it contains credentials; pass the key through api-key instead, never in the URL.';
  // Not shown: a query or fragment may hold a token (session.ts masks and redacts it too).
  if (u.search || u.hash) return `"${u.origin}${u.pathname}" has a query string or fragment, which a base URL cannot have.`;
  u.pathname = u.pathname.replace(/\/+$/, '');
  return u;
}

const BOOLEAN = ['true', 'True', 'TRUE', 'false', 'False', 'FALSE'] as const;
// The YAML 1.2 core schema booleans, as core.getBooleanInput accepts them.
const bool = z.pipe(
  z.enum(BOOLEAN, 'must be true or false.'),
  z.transform((v) => v.toLowerCase() === 'true'),
);

/** A whole number within bounds, each problem in the words the user reads. */
function wholeNumber(format: string, min: [number, string] | undefined, max: [number, string]) {
  const bounded = z.number().check(...(min ? [z.gte(min[0], min[1])] : []), z.lte(max[0], max[1]));
  return z.pipe(z.pipe(z.string().check(z.regex(/^\d+$/, format)), z.transform(Number)), bounded);
}

function schema(ctx: InputContext) {
  return z.object({
    mode: z.enum(['register', 'verify', 'promote'], 'must be "register", "verify" or "promote".'),
    'dry-run': bool,
    'require-key': bool,
    'api-key': z.string(),
    'tracking-username': z.string(),
    'tracking-password': z.string(),
    'tracking-uri': z.pipe(url('tracking-uri', 'MLflow tracking URI'), z.instanceof(URL)),
    'auth-url': url('auth-url', 'Hokusai auth service URL (or an empty string to skip key validation)', true),
    'service-id': z.string().check(z.regex(/^[a-z0-9][a-z0-9_-]*$/, 'must be a service name such as "platform".')),
    // Required in register mode only: checked in crossFieldIssues.
    'model-path': parsed((value, issue) => {
      const p = value === '' ? '' : path.resolve(ctx.cwd, value);
      // Scanning a whole file system is never what was meant ("/", or "." run from "/").
      if (p !== '' && path.parse(p).root === p)
        addIssue(
          issue,
          `resolves to ${p}, the root of the file system: set it to the directory that holds the model, with MLmodel at its root (e.g. model-path: ./model).`,
        );
      return p;
    }),
    'model-name': z.string().check(
      z.maxLength(256, 'is longer than 256 characters.'),
      z.refine((s) => !/[\u0000-\u001f]/.test(s), 'contains control characters.'),
      // The MLflow registry refuses these names, but only after a run exists: refuse them first.
      z.refine(
        (s) => !/[/:]/.test(s) && s !== '.' && s !== '..',
        'must not contain "/" or ":" and must not be "." or ".." (MLflow refuses such names).',
      ),
    ),
    'experiment-name': z.pipe(
      parsed((s) => s || ctx.repository || ''),
      z.string().check(z.minLength(1, 'is empty and GITHUB_REPOSITORY is not set: give an experiment name.')),
    ),
    'artifact-path': z.pipe(
      parsed((s) => s.replace(/^\.\/|\/+$/g, '')),
      z.string().check(
        z.minLength(1, 'must not be empty: use a relative path such as "model".'),
        z.refine(
          (s) => !s.startsWith('/') && s.split('/').every((seg) => seg !== '' && seg !== '.' && seg !== '..'),
          'must be a relative path without "." or ".." segments, e.g. "model".',
        ),
        // Every file is stored below it: the same names as in the model directory round-trip.
        z.superRefine((s, ctx) => {
          for (const seg of s.split('/')) {
            const bad = nameProblem(seg);
            if (bad) addIssue(ctx, `the part ${JSON.stringify(seg)} has ${bad}; use a plain name such as "model".`);
          }
        }),
      ),
    ),
    'artifact-store': parsed((value, ctx): S3Location | undefined => {
      if (value === '') return undefined;
      const parsed = parseS3Uri(value.replace(/\/+$/, ''));
      if (typeof parsed === 'string') {
        addIssue(ctx, `${parsed} Leave it empty to use the run's artifact location.`);
        return z.NEVER;
      }
      return parsed;
    }),
    description: z.string().check(z.maxLength(5000, 'is longer than 5000 characters.')),
    tags: parsed(parseTags),
    aliases: parsed(parseAliases),
    'await-timeout': wholeNumber('must be a whole number of seconds, e.g. 300.', undefined, [86400, 'must be at most 86400 seconds.']),
    'request-timeout': wholeNumber(
      'must be a whole number of seconds, e.g. 120.',
      [1, 'must be at least 1 second.'],
      [3600, 'must be at most 3600 seconds.'],
    ),
    'max-retries': wholeNumber('must be a whole number, e.g. 5 (0 turns retries off).', undefined, [20, 'must be at most 20.']),
    'upload-concurrency': wholeNumber('must be a whole number, e.g. 8.', [1, 'must be at least 1.'], [64, 'must be at most 64.']),
    'multipart-threshold': z.pipe(
      parsed(parseSize),
      z
        .number('must be a size such as 100MiB, 1GiB or a number of bytes.')
        .check(z.gte(5 * 1024 * 1024, 'must be at least 5MiB (the smallest part object stores accept).')),
    ),
    'allow-insecure-http': bool,
    version: z.string().check(z.regex(/^(|[1-9]\d{0,9})$/, 'must be a version number such as 3 (or empty to use the version of git-sha).')),
    'git-sha': z
      .string()
      .check(
        z.regex(
          /^(|[0-9a-f]{40}|[0-9a-f]{64})$/,
          'must be a full commit sha in lower-case hex, e.g. ${{ github.sha }} (short shas are ambiguous).',
        ),
      ),
    'token-id': z
      .string()
      .check(
        z.refine(
          (s) => s === '' || TOKEN_ID.test(s),
          'must be letters, digits and hyphens, at most 64 characters, with no hyphen at either end (e.g. XRAY or churn-model-2).',
        ),
      ),
    'benchmark-metric': z
      .string()
      .check(
        z.refine((s) => s === '' || (HOKUSAI_METRICS as readonly string[]).includes(s), `must be one of ${HOKUSAI_METRICS.join(', ')}.`),
      ),
    'benchmark-value': z
      .string()
      .check(z.refine((s) => s === '' || (NUMBER.test(s) && Number.isFinite(Number(s))), 'must be a number, e.g. 0.82.')),
    'proposal-id': z.string().check(
      z.maxLength(500, 'is longer than 500 characters.'),
      z.refine((s) => !/[\u0000-\u001f]/.test(s), 'contains control characters.'),
    ),
    'api-url': url('api-url', 'Hokusai API URL', true),
    'notify-hokusai': bool,
    'upload-receipt': bool,
    metrics: parsed(parseMetrics),
    'compare-to': z
      .string()
      .check(
        z.refine(
          (s) => ALIAS.test(s) && s.length <= 255 && !RESERVED_ALIAS.test(s),
          'must be an alias such as "champion": letters, digits, _ and - only ("latest" and "v<number>" are not aliases).',
        ),
      ),
    comment: bool,
    'github-token': z.string(),
  });
}

/**
 * Each non-empty line of a `key=value` input, trimmed, with where it is for messages; a line
 * without a key is reported here, as `shape` (e.g. "key=value") with an example.
 */
function eachKeyValue(
  text: string,
  ctx: Payload,
  shape: string,
  example: string,
  fn: (key: string, value: string, where: string) => void,
): void {
  text.split(/\r?\n/).forEach((line, i) => {
    const trimmed = line.trim();
    if (trimmed === '') return;
    const eq = trimmed.indexOf('=');
    const key = eq < 0 ? '' : trimmed.slice(0, eq).trim();
    const where = `line ${i + 1} ("${trimmed.slice(0, 40)}")`;
    if (eq < 0 || key === '') return addIssue(ctx, `${where} is not ${shape}. ${example}`);
    fn(key, trimmed.slice(eq + 1).trim(), where);
  });
}

function parseTags(text: string, ctx: Payload): Array<[string, string]> {
  const tags: Array<[string, string]> = [];
  const seen = new Set<string>();
  eachKeyValue(text, ctx, 'key=value', 'Write one tag per line, e.g. "team=search".', (key, value, where) => {
    if (!TAG_KEY.test(key) || key.length > 250)
      return addIssue(ctx, `${where}: the key may hold only letters, digits, _ - . / : and spaces, at most 250 characters.`);
    if (value.length > 8000) return addIssue(ctx, `${where}: the value is longer than 8000 characters.`);
    if (seen.has(key)) return addIssue(ctx, `${where}: the key "${key}" is given twice.`);
    if (RESERVED_TAG.test(key))
      return addIssue(ctx, `${where}: "${key}" is set by the action itself (lineage tags and mlflow.* tags); choose another key.`);
    seen.add(key);
    tags.push([key, value]);
  });
  return tags;
}

function parseAliases(text: string, ctx: Payload): string[] {
  const aliases: string[] = [];
  for (const alias of text.split(/[,\n]/).map((s) => s.trim())) {
    if (alias === '' || aliases.includes(alias)) continue;
    if (!ALIAS.test(alias) || alias.length > 255) {
      addIssue(ctx, `"${alias}" is not a valid alias: use letters, digits, _ and - only, e.g. "staging".`);
    } else if (RESERVED_ALIAS.test(alias)) {
      addIssue(ctx, `"${alias}" is reserved by MLflow ("latest" and "v<number>" cannot be aliases).`);
    } else {
      aliases.push(alias);
    }
  }
  return aliases;
}

/** MLflow takes at most 1,000 metrics in one batch; a review table of more is unreadable anyway. */
const MAX_METRICS = 1000;

function parseMetrics(text: string, ctx: Payload): Array<[string, number]> {
  const metrics: Array<[string, number]> = [];
  const seen = new Set<string>();
  let tooMany = false;
  eachKeyValue(text, ctx, 'name=value', 'Write one metric per line, e.g. "auroc=0.84".', (name, value, where) => {
    if (!TAG_KEY.test(name) || name.length > 250)
      return addIssue(ctx, `${where}: the name may hold only letters, digits, _ - . / : and spaces, at most 250 characters.`);
    // MLflow refuses names that are not a plain relative path ("a//b", "./a", "a/", "/a", "..").
    if (name.split('/').some((seg) => seg === '' || seg === '.' || seg === '..'))
      return addIssue(
        ctx,
        `${where}: "${name}" is not a plain path; MLflow refuses names with empty, "." or ".." parts or a leading or trailing "/".`,
      );
    if (!NUMBER.test(value) || !Number.isFinite(Number(value)))
      return addIssue(ctx, `${where}: "${value.slice(0, 40)}" is not a number; write the value as a number, e.g. 0.84 or 1.5e-3.`);
    if (seen.has(name)) return addIssue(ctx, `${where}: the metric "${name}" is given twice.`);
    if (metrics.length === MAX_METRICS) {
      if (!tooMany) addIssue(ctx, `has more than ${MAX_METRICS} metrics; keep the ones reviewers compare.`);
      tooMany = true;
      return;
    }
    seen.add(name);
    metrics.push([name, Number(value)]);
  });
  return metrics;
}

/** The aliases as listed, without validation (for cross-field rules). */
const parseAliasList = (text: string) => text.split(/[,\n]/).filter((s) => s.trim() !== '');

const UNITS: Record<string, number> = { '': 1, b: 1, kb: 1e3, mb: 1e6, gb: 1e9, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3 };

/** "100MiB", "1.5GB", "1048576" → bytes; NaN when it is not a size. */
export function parseSize(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(text.trim());
  const unit = m ? UNITS[m[2]!.toLowerCase()] : undefined;
  return m && unit ? Math.round(Number(m[1]) * unit) : NaN;
}

/** http:// to anything but this machine (localhost, 127.0.0.0/8, ::1). */
function isInsecureRemote(value: string): boolean {
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    return false; // reported by the schema
  }
  return u.protocol === 'http:' && !isLoopback(u);
}

/** Rules that depend on the mode or on another input. */
function crossFieldIssues(raw: RawInputs): Array<{ input: string; message: string }> {
  const issues: Array<{ input: string; message: string }> = [];
  const add = (input: string, message: string) => issues.push({ input, message });
  const promote = raw.mode === 'promote';
  const register = raw.mode !== 'verify' && !promote;
  const isTrue = (name: InputName) => /^true$/i.test(raw[name]);
  if (register && raw['model-path'] === '')
    add('model-path', 'is required: set it to the directory that holds the model, with MLmodel at its root (e.g. model-path: ./model).');
  if ((register || promote) && raw['model-name'] === '') add('model-name', 'is required: set it to the registered model name.');
  if ((register || promote) && raw['auth-url'] !== '' && raw['api-key'] === '') {
    add(
      'api-key',
      'is empty. Pass the key from a secret (api-key: ${{ secrets.HOKUSAI_API_KEY }}). Secrets are not given to pull requests from forks: run such workflows in mode: verify, which skips the key checks. For a plain MLflow server without keys, set auth-url to an empty string.',
    );
  }
  if ((raw['tracking-username'] === '') !== (raw['tracking-password'] === '')) {
    const missing = raw['tracking-username'] === '' ? 'tracking-username' : 'tracking-password';
    add(missing, 'is empty: tracking-username and tracking-password go together (HTTP basic auth for MLflow servers that use it).');
  }
  if (!isTrue('allow-insecure-http')) {
    for (const input of ['tracking-uri', 'auth-url', 'api-url'] as const) {
      if (isInsecureRemote(raw[input]))
        add(
          input,
          'uses http:// to a host that is not this machine, which would send the key in clear text. Use https://, or set allow-insecure-http: true if the network is trusted.',
        );
    }
  }
  if (raw.mode === 'verify' && raw['model-path'] !== '' && raw['model-name'] === '')
    add(
      'model-name',
      'is required with model-path in verify mode: the model directory is reviewed against a version of that registered model (compare-to names which).',
    );
  if (raw.metrics.trim() !== '' && (promote || (raw.mode === 'verify' && raw['model-path'] === '')))
    add(
      'metrics',
      'applies to mode: register (logged on the run) or to verify with model-path (compared with compare-to); set model-path, or remove it here.',
    );
  if (raw.mode === 'verify' && isTrue('dry-run')) add('dry-run', 'applies to mode: register or promote; verify never writes anything.');

  // promote: which version, and which aliases.
  if (promote) {
    if (parseAliasList(raw.aliases).length === 0 && raw['token-id'] === '')
      add(
        'aliases',
        'is empty: promote points aliases at an existing version; name at least one, e.g. aliases: champion (or give token-id to send the Hokusai registration event for that version).',
      );
    if (raw.version !== '' && raw['git-sha'] !== '')
      add('version', 'and git-sha are both set: give one (version picks a version; git-sha picks the version registered for that commit).');
  } else {
    for (const input of ['version', 'git-sha'] as const)
      if (raw[input] !== '') add(input, 'applies to mode: promote only; remove it, or set mode: promote.');
  }

  // Hokusai token metadata: all of it describes a token, so it needs the token id.
  const token = raw['token-id'] !== '';
  if (token && !register && !promote)
    add('token-id', 'applies to mode: register or promote (the token metadata is set on the version registered or promoted).');
  if (token && (register || promote)) {
    for (const input of ['benchmark-metric', 'benchmark-value'] as const)
      if (raw[input] === '')
        add(input, `is required with token-id: the platform needs the benchmark ${input.slice(10)} of every token model.`);
    const range = benchmarkRangeIssue(raw['benchmark-metric'], raw['benchmark-value']);
    if (range) add('benchmark-value', range);
    if (isTrue('notify-hokusai')) {
      if (raw['api-url'] === '')
        add(
          'api-url',
          'is empty, but notify-hokusai is true: set the Hokusai API URL (default https://api.hokus.ai), or set notify-hokusai: false.',
        );
      if (raw['api-key'] === '')
        add(
          'api-key',
          'is empty, but notify-hokusai is true: the registration event is sent with the API key. Pass it from a secret, or set notify-hokusai: false.',
        );
    }
  }
  if (!token) {
    for (const input of ['benchmark-metric', 'benchmark-value', 'proposal-id'] as const)
      if (raw[input] !== '') add(input, 'describes a Hokusai token: set token-id too, or remove it.');
  }
  if (isTrue('comment') && raw['github-token'] === '')
    add(
      'github-token',
      'is empty, but comment is true: pass a token that may write pull-request comments (the default is ${{ github.token }}).',
    );
  return issues;
}

/** The platform's range rules for a benchmark value; undefined when fine or not checkable. */
function benchmarkRangeIssue(metric: string, value: string): string | undefined {
  const n = Number(value);
  if (value === '' || !Number.isFinite(n)) return undefined;
  if (UNIT_INTERVAL_METRICS.has(metric) && (n < 0 || n > 1))
    return `is ${value}, but ${metric} is a fraction between 0 and 1 (write 0.82, not 82).`;
  if (ERROR_METRICS.has(metric) && n <= 0) return `is ${value}, but ${metric} is an error metric and must be greater than 0.`;
  if (metric === 'r2' && n > 1) return `is ${value}, but r2 is at most 1.`;
  if (metric === 'engagement_score' && n < 0) return `is ${value}, but engagement_score cannot be negative.`;
  return undefined;
}

/** Parses the raw inputs. Throws one ActionError listing every problem. */
export function parseInputs(raw: RawInputs, ctx: InputContext): Config {
  const result = schema(ctx).safeParse(raw);
  const issues = result.success ? [] : result.error.issues.map((i) => ({ input: String(i.path[0] ?? 'inputs'), message: i.message }));
  // Checked apart from zod, which skips cross-field refinements once any field fails.
  issues.push(...crossFieldIssues(raw));
  if (!result.success || issues.length > 0) {
    const problems = issues.map((i) => `  - ${i.input}: ${i.message}`);
    const names = [...new Set(issues.map((i) => i.input))];
    throw new ActionError(`${problems.length === 1 ? 'an input is' : `${problems.length} inputs are`} invalid:\n${problems.join('\n')}`, {
      step: 'Read inputs',
      hint: `Fix ${names.join(', ')} in the step's "with:" block.`,
    });
  }
  const v = result.data;
  return {
    mode: v.mode,
    dryRun: v['dry-run'],
    requireKey: v['require-key'],
    apiKey: v['api-key'] === '' ? undefined : v['api-key'],
    trackingCredentials: v['tracking-username'] ? { username: v['tracking-username'], password: v['tracking-password'] } : undefined,
    trackingUri: v['tracking-uri'],
    authUrl: v['auth-url'],
    serviceId: v['service-id'],
    modelPath: v['model-path'],
    modelName: v['model-name'],
    experimentName: v['experiment-name'],
    artifactPath: v['artifact-path'],
    artifactStore: v['artifact-store'],
    description: v.description,
    tags: v.tags,
    aliases: v.aliases,
    awaitTimeoutSeconds: v['await-timeout'],
    requestTimeoutSeconds: v['request-timeout'],
    maxRetries: v['max-retries'],
    allowInsecureHttp: v['allow-insecure-http'],
    uploadConcurrency: v['upload-concurrency'],
    multipartThreshold: v['multipart-threshold'],
    version: v.version === '' ? undefined : v.version,
    gitSha: v['git-sha'] === '' ? undefined : v['git-sha'],
    hokusai:
      v['token-id'] === ''
        ? undefined
        : {
            tokenId: v['token-id'].toUpperCase(),
            metric: v['benchmark-metric'] as HokusaiMetric,
            value: v['benchmark-value'],
            proposalId: v['proposal-id'] || v['token-id'].toUpperCase(),
            notify: v['notify-hokusai'],
          },
    apiUrl: v['api-url'],
    uploadReceipt: v['upload-receipt'],
    metrics: v.metrics,
    compareTo: v['compare-to'],
    comment: v.comment,
    githubToken: v['github-token'] === '' ? undefined : v['github-token'],
  };
}

/** Defaults, as in action.yml (a test keeps the two in step). The runner applies action.yml's; these cover runs outside it. */
export const INPUT_DEFAULTS: Partial<RawInputs> = {
  mode: 'register',
  'dry-run': 'false',
  'require-key': 'false',
  'tracking-uri': DEFAULT_TRACKING_URI,
  'auth-url': DEFAULT_AUTH_URL,
  'service-id': 'platform',
  'artifact-path': 'model',
  'await-timeout': '300',
  'request-timeout': '120',
  'max-retries': '5',
  'allow-insecure-http': 'false',
  'upload-concurrency': '32',
  'multipart-threshold': '100MiB',
  'api-url': DEFAULT_API_URL,
  'notify-hokusai': 'true',
  'upload-receipt': 'true',
  'compare-to': 'champion',
  comment: 'false',
};

/**
 * Reads every input from the INPUT_* variables the runner sets. An unset input takes its
 * default; an input set to "" stays empty (auth-url: "" turns key validation off).
 */
export function readRawInputs(env: NodeJS.ProcessEnv): RawInputs {
  return Object.fromEntries(
    INPUT_NAMES.map((name) => {
      const value = env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`];
      return [name, value === undefined ? (INPUT_DEFAULTS[name] ?? '') : value.trim()];
    }),
  ) as RawInputs;
}
