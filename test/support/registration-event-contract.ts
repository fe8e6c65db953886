/**
 * The Hokusai API's registration-event contract (hokusai-platform.md §3, "Registration event"), as
 * pure checks for the test front proxy: how FastAPI reads the body, the pydantic schema with its 422
 * error items, the server hook's checks (502), and the success body.
 *
 * Written from HDP `src/api/schemas/model_registration_event.py`, `src/api/routes/models.py`,
 * `src/services/model_registry_hooks.py` and `src/validation/metrics.py`. Deliberate differences:
 * - numbers must be JSON numbers: pydantic's lax mode would also take "0.8" (and true) for a float,
 *   but the action has no reason to send strings, so a string is a 422 `float_type` here;
 * - a JSON syntax error's position and message come from node's parser, not Python's.
 * Unknown fields are ignored, as the schema says (`extra="ignore"`).
 */

/** The one path: `{api-url}` + this, or `{api-url ending in /api}` + `/models/...` (the same URL). */
export const REGISTRATION_EVENT_PATH = '/api/models/tokenized-registration-events';

/** A body that passed the schema (strings stripped, as pydantic's validators return them). */
export interface RegistrationEvent {
  model_name: string;
  version: string;
  token_id: string;
  proposal_identifier: string;
  metric_name: string;
  baseline_value: number;
  mlflow_run_id: string;
  current_value: number | null;
  model_uri: string | null;
  eval_spec: string | null;
  scorer_ref: string | null;
  primary_metric: string | null;
  benchmark_spec_id: string | null;
  api_schema: Record<string, unknown> | null;
  tags: Record<string, string> | null;
}

/** One item of FastAPI's 422 `detail` list (pydantic v2 error, url left out as FastAPI does). */
export interface ValidationIssue {
  type: string;
  loc: Array<string | number>;
  msg: string;
  input: unknown;
  ctx?: Record<string, unknown>;
}

export interface EventAnswer {
  status: number;
  body: unknown;
  /** Why a 422 or 502 was given, for test messages (the 502 body itself says nothing). */
  rejection?: string;
}

export const EMIT_FAILED = { detail: 'Failed to emit model registration event' };
const MAX_METADATA_CHARS = 500;

type Loc = Array<string | number>;
type Checked = { value: unknown } | { issues: ValidationIssue[] };

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
// FastAPI encodes the ValueError in ctx as {} (jsonable_encoder of an exception object).
const valueError = (loc: Loc, input: unknown, message: string): ValidationIssue => ({
  type: 'value_error',
  loc,
  msg: `Value error, ${message}`,
  input,
  ctx: { error: {} },
});
const typeIssue = (type: string, msg: string) => (loc: Loc, input: unknown) => ({ issues: [{ type, loc, msg, input }] });
const stringType = typeIssue('string_type', 'Input should be a valid string');
const floatType = typeIssue('float_type', 'Input should be a valid number');
const dictType = typeIssue('dict_type', 'Input should be a valid dictionary');

const requiredString = (v: unknown, loc: Loc): Checked =>
  typeof v === 'string' && v.trim() !== '' ? { value: v.trim() } : { issues: [valueError(loc, v, 'must be a non-empty string')] };

const finiteNumber = (v: unknown, loc: Loc): Checked => {
  if (typeof v !== 'number') return floatType(loc, v);
  // JSON.parse turns 1e400 into Infinity, as Python's json does; the schema rejects it.
  return Number.isFinite(v) ? { value: v } : { issues: [valueError(loc, v, 'must be a finite number')] };
};

// model_uri: a plain `str | None` with an after-validator (so a non-string is a type error), no length cap.
const modelUri = (v: unknown, loc: Loc): Checked => {
  if (typeof v !== 'string') return stringType(loc, v);
  return v.trim() ? { value: v.trim() } : { issues: [valueError(loc, v, 'model_uri must be a non-empty string when provided')] };
};

// eval_spec & co: a before-validator (any non-string is a value error), then max_length on the stripped text.
const metadata =
  (name: string) =>
  (v: unknown, loc: Loc): Checked => {
    if (typeof v !== 'string' || !v.trim()) return { issues: [valueError(loc, v, `${name} must be a non-empty string when provided`)] };
    const s = v.trim();
    // Python counts code points, not UTF-16 units.
    if ([...s].length > MAX_METADATA_CHARS)
      return {
        issues: [
          {
            type: 'string_too_long',
            loc,
            msg: `String should have at most ${MAX_METADATA_CHARS} characters`,
            input: s,
            ctx: { max_length: 500 },
          },
        ],
      };
    return { value: s };
  };

const object = (v: unknown, loc: Loc): Checked => (isObject(v) ? { value: v } : dictType(loc, v));

const stringMap = (v: unknown, loc: Loc): Checked => {
  if (!isObject(v)) return dictType(loc, v);
  const issues = Object.entries(v).flatMap(([k, s]) => (typeof s === 'string' ? [] : stringType([...loc, k], s).issues));
  return issues.length ? { issues } : { value: v };
};

// In the schema's field order, which is the order pydantic reports errors in.
const FIELDS: Array<{ name: keyof RegistrationEvent; required: boolean; check: (v: unknown, loc: Loc) => Checked }> = [
  { name: 'model_name', required: true, check: requiredString },
  { name: 'version', required: true, check: requiredString },
  { name: 'token_id', required: true, check: requiredString },
  { name: 'proposal_identifier', required: true, check: requiredString },
  { name: 'metric_name', required: true, check: requiredString },
  { name: 'baseline_value', required: true, check: finiteNumber },
  { name: 'mlflow_run_id', required: true, check: requiredString },
  { name: 'current_value', required: false, check: finiteNumber },
  { name: 'model_uri', required: false, check: modelUri },
  { name: 'eval_spec', required: false, check: metadata('eval_spec') },
  { name: 'scorer_ref', required: false, check: metadata('scorer_ref') },
  { name: 'primary_metric', required: false, check: metadata('primary_metric') },
  { name: 'benchmark_spec_id', required: false, check: metadata('benchmark_spec_id') },
  { name: 'api_schema', required: false, check: object },
  { name: 'tags', required: false, check: stringMap },
];

function isJsonContentType(contentType: string): boolean {
  const [type = ''] = contentType.split(';');
  const [main, sub = ''] = type.trim().toLowerCase().split('/');
  return main === 'application' && (sub === 'json' || sub.endsWith('+json'));
}

/**
 * What FastAPI hands the body model: JSON when there is no content-type or a JSON one, the raw
 * text otherwise (which then fails as "not a dictionary"), nothing for an empty body.
 */
export function readEventBody(raw: string, contentType: string | undefined): { value: unknown } | { issue: ValidationIssue } {
  if (raw === '') return { issue: { type: 'missing', loc: ['body'], msg: 'Field required', input: null } };
  if (contentType !== undefined && !isJsonContentType(contentType)) return { value: raw };
  try {
    return { value: JSON.parse(raw) as unknown };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const pos = /at position (\d+)/.exec(message)?.[1];
    return {
      issue: { type: 'json_invalid', loc: ['body', pos ? Number(pos) : 0], msg: 'JSON decode error', input: {}, ctx: { error: message } },
    };
  }
}

/** The pydantic schema: the cleaned event, or every error in field order. Unknown fields are dropped. */
export function validateRegistrationEvent(body: unknown): { event: RegistrationEvent } | { issues: ValidationIssue[] } {
  if (!isObject(body))
    return {
      issues: [
        {
          type: 'model_attributes_type',
          loc: ['body'],
          msg: 'Input should be a valid dictionary or object to extract fields from',
          input: body,
        },
      ],
    };
  const event: Record<string, unknown> = {};
  const issues: ValidationIssue[] = [];
  for (const { name, required, check } of FIELDS) {
    const v = Object.hasOwn(body, name) ? body[name] : undefined;
    if (v === undefined) {
      if (required) issues.push({ type: 'missing', loc: ['body', name], msg: 'Field required', input: body });
      else event[name] = null;
      continue;
    }
    if (v === null && !required) {
      event[name] = null;
      continue;
    }
    const r = check(v, ['body', name]);
    if ('issues' in r) issues.push(...r.issues);
    else event[name] = r.value;
  }
  return issues.length ? { issues } : { event: event as unknown as RegistrationEvent };
}

interface MetricRange {
  min?: number;
  max?: number;
  /** error metrics (lower is better): the baseline must be > 0 */
  positiveBaseline?: boolean;
}

// src/validation/metrics.py: r2 may be negative (max 1); engagement_score has no upper bound.
const METRICS: Record<string, MetricRange> = {
  accuracy: { min: 0, max: 1 },
  auroc: { min: 0, max: 1 },
  auc: { min: 0, max: 1 },
  f1: { min: 0, max: 1 },
  precision: { min: 0, max: 1 },
  recall: { min: 0, max: 1 },
  mse: { min: 0, positiveBaseline: true },
  rmse: { min: 0, positiveBaseline: true },
  mae: { min: 0, positiveBaseline: true },
  r2: { max: 1 },
  reply_rate: { min: 0, max: 1 },
  conversion_rate: { min: 0, max: 1 },
  engagement_score: { min: 0 },
};

export const SUPPORTED_METRICS: readonly string[] = Object.keys(METRICS);

/**
 * The server hook's refusals (each a 502 for the client), or undefined when the event is emitted.
 * Like the server: metric names are matched case-insensitively, a missing current_value is the
 * baseline, and current_value < baseline_value fails even for error metrics where lower is better.
 */
export function hookRejection(event: RegistrationEvent): string | undefined {
  const metric = event.metric_name.toLowerCase();
  const range = Object.hasOwn(METRICS, metric) ? METRICS[metric] : undefined;
  if (!range) return `metric_name ${JSON.stringify(event.metric_name)} is not one of ${SUPPORTED_METRICS.join(', ')}`;
  const outside = (v: number): boolean => (range.min !== undefined && v < range.min) || (range.max !== undefined && v > range.max);
  const bounds = `[${range.min ?? '-inf'}, ${range.max ?? 'inf'}]`;
  const baseline = event.baseline_value;
  const current = event.current_value ?? baseline;
  if (outside(baseline)) return `baseline_value ${baseline} is outside ${bounds} for ${metric}`;
  if (range.positiveBaseline && baseline <= 0) return `baseline_value ${baseline} must be > 0 for the error metric ${metric}`;
  if (outside(current)) return `current_value ${current} is outside ${bounds} for ${metric}`;
  if (current < baseline) return `current_value ${current} is below baseline_value ${baseline}`;
  return undefined;
}

/** The route's answer to an authorized POST: 422, 502 or 200 (with the response model's `detail: null`). */
export function answerRegistrationEvent(raw: string, contentType: string | undefined): EventAnswer {
  const read = readEventBody(raw, contentType);
  if ('issue' in read) return { status: 422, body: { detail: [read.issue] }, rejection: `body: ${read.issue.msg}` };
  const checked = validateRegistrationEvent(read.value);
  if ('issues' in checked)
    return {
      status: 422,
      body: { detail: checked.issues },
      rejection: checked.issues.map((i) => `${i.loc.join('.')}: ${i.msg}`).join('; '),
    };
  const e = checked.event;
  const rejection = hookRejection(e);
  if (rejection) return { status: 502, body: EMIT_FAILED, rejection };
  return {
    status: 200,
    body: {
      status: 'ok',
      model_id: `${e.model_name}/${e.version}/${e.token_id}`,
      model_name: e.model_name,
      version: e.version,
      event_emitted: true,
      detail: null,
    },
  };
}
