// Validates the Hokusai API key with the auth service before anything is written.
// Contract: POST {auth-url}/api/v1/keys/validate, Bearer key, body {"service_id": ...}.
import { ActionError } from './errors.ts';
import type { HttpClient } from './http.ts';
import { apiUrl } from './urls.ts';

export interface KeyInfo {
  keyId: string | undefined;
  serviceId: string;
  /** Undefined when the service did not say. */
  scopes: string[] | undefined;
  canWrite: boolean | undefined;
}

interface ValidationResult {
  is_valid?: boolean;
  key_id?: string;
  service_id?: string;
  scopes?: string[];
  is_admin?: boolean;
  roles?: string[];
  error?: string | null;
}

const STEP = 'Validate API key';
// Scopes that allow registry writes (Hokusai data pipeline, PR #85), plus admin roles.
const WRITE_SCOPES = new Set([
  'write',
  'model:write',
  'mlflow:write',
  'mlflow:access',
  'full_access',
  'admin',
  'mlflow:admin',
  'registry:admin',
  'model-registry:admin',
]);
const NEW_KEY = 'Create a new key for the "platform" service in your Hokusai account and store it as the api-key secret.';

export async function validateKey(http: HttpClient, authUrl: URL, key: string, serviceId: string): Promise<KeyInfo> {
  const url = apiUrl(authUrl, '/api/v1/keys/validate');
  const where = { step: STEP, method: 'POST', path: url.pathname };
  const res = await http.send<ValidationResult>({
    step: STEP,
    method: 'POST',
    url,
    json: { service_id: serviceId },
    authorization: `Bearer ${key}`,
    hintFor: (status, body) => {
      if (status === 401 && /service/i.test(`${body.message ?? ''}`))
        return `The key was issued for another service. Keys must be issued for "${serviceId}"${serviceId === 'platform' ? ' (old "ml-platform" keys were replaced by "platform" keys)' : ''}. ${NEW_KEY}`;
      if (status === 401) return `The key is invalid, expired or revoked. ${NEW_KEY}`;
      if (status === 400) return 'The auth service did not receive a key. Check that the api-key secret is not empty.';
      return undefined;
    },
  });
  const r = res.data;
  // Only 200 with is_valid and the right service counts: a 2xx alone proves nothing.
  if (res.status !== 200) {
    throw new ActionError(`the auth service answered HTTP ${res.status}, not 200`, {
      ...where,
      status: res.status,
      hint: 'Check that auth-url points at the Hokusai auth service (https://auth.hokus.ai).',
    });
  }
  if (r.is_valid !== true) {
    throw new ActionError(`the auth service says the key is not valid${r.error ? `: ${r.error}` : ''}`, {
      ...where,
      status: res.status,
      hint: NEW_KEY,
    });
  }
  if (r.service_id === undefined) {
    throw new ActionError('the auth service did not say which service the key was issued for', {
      ...where,
      status: res.status,
      hint: `The answer lacks service_id, so the key cannot be shown to be a "${serviceId}" key. Check that auth-url points at the Hokusai auth service.`,
    });
  }
  if (r.service_id !== serviceId) {
    throw new ActionError(`the key was issued for service "${r.service_id}", but this action needs a key for "${serviceId}"`, {
      ...where,
      status: res.status,
      hint: `${r.service_id === 'ml-platform' ? '"ml-platform" keys were replaced by "platform" keys. ' : ''}${NEW_KEY} If your registry really expects "${r.service_id}", set service-id to it.`,
    });
  }
  const scopes = Array.isArray(r.scopes) ? r.scopes : undefined;
  const grants = [...(scopes ?? []), ...(Array.isArray(r.roles) ? r.roles : [])];
  const canWrite = r.is_admin === true || grants.some((s) => WRITE_SCOPES.has(s)) ? true : scopes === undefined ? undefined : false;
  return { keyId: r.key_id, serviceId: r.service_id, scopes, canWrite };
}

/** Register mode writes to the registry, so a key that cannot write fails before anything is created. */
export function requireWrite(info: KeyInfo): void {
  if (info.canWrite === false) {
    throw new ActionError(`the key has no write scope (its scopes: ${info.scopes?.join(', ') || 'none'})`, {
      step: STEP,
      hint: 'Registering a model needs a key with the "write" scope (or registry admin rights). Create such a key and store it as the api-key secret.',
    });
  }
}
