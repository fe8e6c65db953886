// Every input is read once, here, and parsed with zod into one typed Config.
// All problems are reported together, each naming the input and what to do.
import path from 'node:path';
import { z } from 'zod';
import { ActionError } from './errors.ts';

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
  'description',
  'tags',
  'aliases',
  'await-timeout',
  'request-timeout',
  'max-retries',
  'allow-insecure-http',
  'upload-concurrency',
  'multipart-threshold',
] as const;
export type InputName = (typeof INPUT_NAMES)[number];
export type RawInputs = Record<InputName, string>;

export const DEFAULT_TRACKING_URI = 'https://registry.hokus.ai/api/mlflow';
export const DEFAULT_AUTH_URL = 'https://auth.hokus.ai';

export type Mode = 'register' | 'verify';

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
const RESERVED_TAG = /^(mlflow\.|git_sha$|git_ref$|github_|model_digest$|failure_reason$|registration_request_id$)/;

/** An http(s) base URL; with `optional`, an empty string means "not set". */
const url = (input: InputName, what: string, optional = false) =>
  z.string().transform((value, ctx): URL | undefined => {
    if (optional && value === '') return undefined;
    const parsed = parseHttpUrl(value);
    if (typeof parsed === 'string') {
      const example = input === 'tracking-uri' ? DEFAULT_TRACKING_URI : DEFAULT_AUTH_URL;
      ctx.addIssue({ code: 'custom', message: `${parsed} Give the ${what} as a full http(s) URL, e.g. ${example}.` });
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
  if (u.search || u.hash) return `"${value}" has a query string or fragment, which a base URL cannot have.`;
  u.pathname = u.pathname.replace(/\/+$/, '');
  return u;
}

const BOOLEAN = ['true', 'True', 'TRUE', 'false', 'False', 'FALSE'] as const;
// The YAML 1.2 core schema booleans, as core.getBooleanInput accepts them.
const bool = z.enum(BOOLEAN, { message: 'must be true or false.' }).transform((v) => v.toLowerCase() === 'true');

/** A whole number within bounds, each problem in the words the user reads. */
function wholeNumber(format: string, min: [number, string] | undefined, max: [number, string]) {
  const bounded = (min ? z.number().min(min[0], min[1]) : z.number()).max(max[0], max[1]);
  return z.string().regex(/^\d+$/, format).transform(Number).pipe(bounded);
}

function schema(ctx: InputContext) {
  return z.object({
    mode: z.enum(['register', 'verify'], { message: 'must be "register" or "verify".' }),
    'dry-run': bool,
    'require-key': bool,
    'api-key': z.string(),
    'tracking-username': z.string(),
    'tracking-password': z.string(),
    'tracking-uri': url('tracking-uri', 'MLflow tracking URI').pipe(z.instanceof(URL)),
    'auth-url': url('auth-url', 'Hokusai auth service URL (or an empty string to skip key validation)', true),
    'service-id': z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, 'must be a service name such as "platform".'),
    // Required in register mode only: checked in crossFieldIssues.
    'model-path': z.string().transform((p) => (p === '' ? '' : path.resolve(ctx.cwd, p))),
    'model-name': z
      .string()
      .max(256, 'is longer than 256 characters.')
      .refine((s) => !/[\u0000-\u001f]/.test(s), 'contains control characters.')
      // The MLflow registry refuses these names, but only after a run exists: refuse them first.
      .refine(
        (s) => !/[/:]/.test(s) && s !== '.' && s !== '..',
        'must not contain "/" or ":" and must not be "." or ".." (MLflow refuses such names).',
      ),
    'experiment-name': z
      .string()
      .transform((s) => s || ctx.repository || '')
      .pipe(z.string().min(1, 'is empty and GITHUB_REPOSITORY is not set: give an experiment name.')),
    'artifact-path': z
      .string()
      .transform((s) => s.replace(/^\.\/|\/+$/g, ''))
      .pipe(
        z
          .string()
          .min(1, 'must not be empty: use a relative path such as "model".')
          .refine(
            (s) => !s.startsWith('/') && s.split('/').every((seg) => seg !== '' && seg !== '.' && seg !== '..'),
            'must be a relative path without "." or ".." segments, e.g. "model".',
          )
          .refine((s) => !/[%#\\]/.test(s), 'must not contain %, # or \\ (the MLflow server mangles them).'),
      ),
    description: z.string().max(5000, 'is longer than 5000 characters.'),
    tags: z.string().transform(parseTags),
    aliases: z.string().transform(parseAliases),
    'await-timeout': wholeNumber('must be a whole number of seconds, e.g. 300.', undefined, [86400, 'must be at most 86400 seconds.']),
    'request-timeout': wholeNumber(
      'must be a whole number of seconds, e.g. 120.',
      [1, 'must be at least 1 second.'],
      [3600, 'must be at most 3600 seconds.'],
    ),
    'max-retries': wholeNumber('must be a whole number, e.g. 5 (0 turns retries off).', undefined, [20, 'must be at most 20.']),
    'upload-concurrency': wholeNumber('must be a whole number, e.g. 8.', [1, 'must be at least 1.'], [64, 'must be at most 64.']),
    'multipart-threshold': z
      .string()
      .transform(parseSize)
      .pipe(
        z
          .number({ message: 'must be a size such as 100MiB, 1GiB or a number of bytes.' })
          .min(5 * 1024 * 1024, 'must be at least 5MiB (the smallest part object stores accept).'),
      ),
    'allow-insecure-http': bool,
  });
}

function parseTags(text: string, ctx: z.RefinementCtx): Array<[string, string]> {
  const tags: Array<[string, string]> = [];
  const seen = new Set<string>();
  text.split(/\r?\n/).forEach((line, i) => {
    const trimmed = line.trim();
    if (trimmed === '') return;
    const eq = trimmed.indexOf('=');
    const key = eq < 0 ? '' : trimmed.slice(0, eq).trim();
    const value = eq < 0 ? '' : trimmed.slice(eq + 1).trim();
    const where = `line ${i + 1} ("${trimmed.slice(0, 40)}")`;
    if (eq < 0 || key === '')
      return ctx.addIssue({ code: 'custom', message: `${where} is not key=value. Write one tag per line, e.g. "team=search".` });
    if (!TAG_KEY.test(key) || key.length > 250)
      return ctx.addIssue({
        code: 'custom',
        message: `${where}: the key may hold only letters, digits, _ - . / : and spaces, at most 250 characters.`,
      });
    if (value.length > 8000) return ctx.addIssue({ code: 'custom', message: `${where}: the value is longer than 8000 characters.` });
    if (seen.has(key)) return ctx.addIssue({ code: 'custom', message: `${where}: the key "${key}" is given twice.` });
    if (RESERVED_TAG.test(key))
      return ctx.addIssue({
        code: 'custom',
        message: `${where}: "${key}" is set by the action itself (lineage tags and mlflow.* tags); choose another key.`,
      });
    seen.add(key);
    tags.push([key, value]);
  });
  return tags;
}

function parseAliases(text: string, ctx: z.RefinementCtx): string[] {
  const aliases: string[] = [];
  for (const alias of text.split(/[,\n]/).map((s) => s.trim())) {
    if (alias === '' || aliases.includes(alias)) continue;
    if (!ALIAS.test(alias) || alias.length > 255) {
      ctx.addIssue({ code: 'custom', message: `"${alias}" is not a valid alias: use letters, digits, _ and - only, e.g. "staging".` });
    } else if (RESERVED_ALIAS.test(alias)) {
      ctx.addIssue({ code: 'custom', message: `"${alias}" is reserved by MLflow ("latest" and "v<number>" cannot be aliases).` });
    } else {
      aliases.push(alias);
    }
  }
  return aliases;
}

const UNITS: Record<string, number> = { '': 1, b: 1, kb: 1e3, mb: 1e6, gb: 1e9, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3 };

/** "100MiB", "1.5GB", "1048576" → bytes; NaN when it is not a size. */
export function parseSize(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(text.trim());
  const unit = m ? UNITS[m[2]!.toLowerCase()] : undefined;
  return m && unit ? Math.round(Number(m[1]) * unit) : NaN;
}

/** http:// to anything but loopback (localhost, 127.0.0.0/8, ::1). */
function isInsecureRemote(value: string): boolean {
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    return false; // reported by the schema
  }
  if (u.protocol !== 'http:') return false;
  const host = u.hostname.replace(/^\[|\]$/g, '');
  return !(host === 'localhost' || host.endsWith('.localhost') || /^127\.\d+\.\d+\.\d+$/.test(host) || host === '::1');
}

/** Rules that depend on the mode or on another input. */
function crossFieldIssues(raw: RawInputs): Array<{ input: string; message: string }> {
  const issues: Array<{ input: string; message: string }> = [];
  const register = raw.mode !== 'verify';
  if (register && raw['model-path'] === '') {
    issues.push({
      input: 'model-path',
      message: 'is required: set it to the directory that holds the model, with MLmodel at its root (e.g. model-path: ./model).',
    });
  }
  if (register && raw['model-name'] === '')
    issues.push({ input: 'model-name', message: 'is required: set it to the registered model name.' });
  if (register && raw['auth-url'] !== '' && raw['api-key'] === '') {
    issues.push({
      input: 'api-key',
      message:
        'is empty. Pass the key from a secret (api-key: ${{ secrets.HOKUSAI_API_KEY }}). Secrets are not given to pull requests from forks: run such workflows in mode: verify, which skips the key checks. For a plain MLflow server without keys, set auth-url to an empty string.',
    });
  }
  if ((raw['tracking-username'] === '') !== (raw['tracking-password'] === '')) {
    const missing = raw['tracking-username'] === '' ? 'tracking-username' : 'tracking-password';
    issues.push({
      input: missing,
      message: 'is empty: tracking-username and tracking-password go together (HTTP basic auth for MLflow servers that use it).',
    });
  }
  if (!/^true$/i.test(raw['allow-insecure-http'])) {
    for (const input of ['tracking-uri', 'auth-url'] as const) {
      if (isInsecureRemote(raw[input])) {
        issues.push({
          input,
          message: `uses http:// to a host that is not this machine, which would send the key in clear text. Use https://, or set allow-insecure-http: true if the network is trusted.`,
        });
      }
    }
  }
  if (raw.mode === 'verify' && /^true$/i.test(raw['dry-run'])) {
    issues.push({ input: 'dry-run', message: 'applies to mode: register only; verify never writes anything.' });
  }
  return issues;
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
    description: v.description,
    tags: v.tags,
    aliases: v.aliases,
    awaitTimeoutSeconds: v['await-timeout'],
    requestTimeoutSeconds: v['request-timeout'],
    maxRetries: v['max-retries'],
    allowInsecureHttp: v['allow-insecure-http'],
    uploadConcurrency: v['upload-concurrency'],
    multipartThreshold: v['multipart-threshold'],
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
  'upload-concurrency': '8',
  'multipart-threshold': '100MiB',
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
