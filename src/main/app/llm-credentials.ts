/**
 * Which LLM endpoint the app talks to and which key goes with it (src/shared/llm-endpoint.ts has
 * the rule for the URL itself):
 *
 * - the endpoint is llm.base_url, else OPENAI_BASE_URL, else OpenAI's API;
 * - OpenAI's API gets the OpenAI key (saved in Cue, else OPENAI_API_KEY) and nothing else does,
 *   whatever the settings say;
 * - a custom endpoint gets the custom endpoint key, and only the endpoint it was given for: the
 *   saved one is stored together with the origin it was saved for (keys:set binds it to the
 *   endpoint configured at that moment), CUE_LLM_ENDPOINT_KEY belongs to the origin of
 *   OPENAI_BASE_URL. Changing llm.base_url to another origin therefore sends no key at all until
 *   one is saved for the new endpoint.
 */
import { classifyLlmEndpoint, LLM_BASE_URL_RULE, type LlmEndpoint } from '../../shared/llm-endpoint';
import type { KeyStatus } from '../../shared/contract';
import type { KeyEnvironment } from './secret-store';

export interface LlmCredentialInputs {
  /** settings.llm.base_url */
  baseUrlSetting: string;
  /** OPENAI_BASE_URL, OPENAI_API_KEY and CUE_LLM_ENDPOINT_KEY are read. */
  env: KeyEnvironment;
  /** The OpenAI key saved in Cue. */
  storedOpenAiKey: string | undefined;
  /** The saved custom endpoint key, as stored (encodeEndpointKey). */
  storedEndpointKey: string | undefined;
}

export type LlmCredentials =
  | {
      ok: true;
      endpoint: LlmEndpoint;
      /** The key to send, or undefined for none. */
      apiKey: string | undefined;
      keySource: 'store' | 'environment' | null;
    }
  | { ok: false; error: string };

/** The custom endpoint key as saved: the key with the origin it belongs to. */
export function encodeEndpointKey(origin: string, key: string): string {
  return JSON.stringify({ origin, key });
}

export function decodeEndpointKey(stored: string | undefined): { origin: string; key: string } | undefined {
  if (!stored) return undefined;
  try {
    const value = JSON.parse(stored) as { origin?: unknown; key?: unknown };
    if (typeof value.origin === 'string' && typeof value.key === 'string' && value.key.trim()) {
      return { origin: value.origin, key: value.key };
    }
  } catch {
    // not an endpoint key record: treated as no key
  }
  return undefined;
}

/** The endpoint in use and its key, or an error naming the setting (or variable) that is wrong. */
export function resolveLlmCredentials(inputs: LlmCredentialInputs): LlmCredentials {
  const fromSetting = inputs.baseUrlSetting.trim();
  const fromEnv = inputs.env['OPENAI_BASE_URL']?.trim() ?? '';
  const value = fromSetting || fromEnv;
  const endpoint = classifyLlmEndpoint(value);
  if (endpoint.kind === 'invalid') {
    const name = fromSetting ? 'llm.base_url' : 'OPENAI_BASE_URL';
    return {
      ok: false,
      error: `${name}: ${LLM_BASE_URL_RULE} (this one ${endpoint.problem}; got "${value}")`,
    };
  }
  if (endpoint.kind === 'openai') {
    const envKey = inputs.env['OPENAI_API_KEY']?.trim() || undefined;
    const apiKey = inputs.storedOpenAiKey ?? envKey;
    return {
      ok: true,
      endpoint,
      apiKey,
      keySource: inputs.storedOpenAiKey ? 'store' : envKey ? 'environment' : null,
    };
  }
  const saved = decodeEndpointKey(inputs.storedEndpointKey);
  if (saved && saved.origin === endpoint.origin) {
    return { ok: true, endpoint, apiKey: saved.key, keySource: 'store' };
  }
  const envKey = inputs.env['CUE_LLM_ENDPOINT_KEY']?.trim();
  const envEndpoint = classifyLlmEndpoint(fromEnv);
  if (envKey && fromEnv && envEndpoint.kind === 'custom' && envEndpoint.origin === endpoint.origin) {
    return { ok: true, endpoint, apiKey: envKey, keySource: 'environment' };
  }
  return { ok: true, endpoint, apiKey: undefined, keySource: null };
}

/** The custom endpoint key's status for the settings panel: set only when it belongs to the endpoint in use. */
export function endpointKeyStatus(credentials: LlmCredentials): KeyStatus {
  if (!credentials.ok || credentials.endpoint.kind !== 'custom' || !credentials.apiKey) {
    return { set: false, source: null };
  }
  return { set: true, source: credentials.keySource };
}
