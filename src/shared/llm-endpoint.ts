/**
 * Where the language model is reached, and so which key may go there. One rule for the settings
 * schema (llm.base_url), the app core (which key goes where), the OpenAI provider and the settings
 * panel:
 *
 * - empty: OpenAI's API, https://api.openai.com/v1, with the OpenAI key;
 * - a URL on OpenAI's API origin (https://api.openai.com): the same;
 * - anything else is a custom endpoint (Ollama, LM Studio, llama.cpp's server, a proxy) with its
 *   own optional key; the OpenAI key never goes there. It must be https, except on this computer
 *   (localhost, 127.0.0.0/8, [::1]), where plain http never leaves the machine.
 */

export const OPENAI_API_ORIGIN = 'https://api.openai.com';
export const OPENAI_DEFAULT_BASE_URL = `${OPENAI_API_ORIGIN}/v1`;

export type LlmEndpoint =
  | { kind: 'openai'; baseUrl: string; origin: typeof OPENAI_API_ORIGIN }
  | { kind: 'custom'; baseUrl: string; origin: string; loopback: boolean };

/** What an llm.base_url may be, for error messages. */
export const LLM_BASE_URL_RULE =
  'must be an https:// URL, or http:// only on this computer (localhost, 127.0.0.1, [::1]); empty means OpenAI';

/** Hosts on this computer: localhost, the 127.0.0.0/8 block and IPv6's ::1 (as URL hostnames). */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.toLowerCase();
  return host === 'localhost' || host === '[::1]' || /^127(?:\.\d{1,3}){3}$/.test(host);
}

/** Classifies a base URL (empty: OpenAI), or says in a few words why it is not allowed. */
export function classifyLlmEndpoint(
  baseUrl: string | undefined,
): LlmEndpoint | { kind: 'invalid'; problem: string } {
  const value = (baseUrl ?? '').trim();
  if (value === '') return { kind: 'openai', baseUrl: OPENAI_DEFAULT_BASE_URL, origin: OPENAI_API_ORIGIN };
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return { kind: 'invalid', problem: 'is not a URL' };
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    return { kind: 'invalid', problem: `uses ${url.protocol.replace(/:$/, '')}, not https or http` };
  }
  if (url.username !== '' || url.password !== '') {
    return {
      kind: 'invalid',
      problem: 'holds a user name or password (put a key in the endpoint key instead)',
    };
  }
  const loopback = isLoopbackHost(url.hostname);
  if (url.protocol === 'http:' && !loopback) {
    return {
      kind: 'invalid',
      problem: 'is plain http to another computer, which would send prompts and keys in clear',
    };
  }
  if (url.origin === OPENAI_API_ORIGIN) return { kind: 'openai', baseUrl: value, origin: OPENAI_API_ORIGIN };
  return { kind: 'custom', baseUrl: value, origin: url.origin, loopback };
}

/** The problem with an llm.base_url value for the settings schema, or null when it is allowed. */
export function llmBaseUrlProblem(baseUrl: string): string | null {
  const endpoint = classifyLlmEndpoint(baseUrl);
  return endpoint.kind === 'invalid' ? `${LLM_BASE_URL_RULE} (this one ${endpoint.problem})` : null;
}

/**
 * True when the endpoint is not OpenAI's, so no OpenAI key is needed (a custom endpoint's own key
 * is optional). A base URL that is not allowed decides nothing: false.
 */
export function openAiKeyOptional(baseUrl: string | undefined): boolean {
  return classifyLlmEndpoint(baseUrl).kind === 'custom';
}
