/**
 * Provider errors the engine and the UI can explain: which provider, what went wrong, the
 * setting or environment variable to fix when it is a key problem, and whether a retry may help.
 */
export type ProviderName = 'Deepgram' | 'OpenAI' | 'ElevenLabs';

export type ProviderErrorKind =
  | 'missing_key'
  | 'invalid_key'
  | 'rate_limited'
  | 'server_error'
  | 'timeout'
  | 'connection'
  | 'protocol'
  | 'bad_request';

const KEY_SETTING: Record<ProviderName, string> = {
  Deepgram: 'the Deepgram API key in settings, or DEEPGRAM_API_KEY',
  OpenAI: 'the OpenAI API key in settings, or OPENAI_API_KEY',
  ElevenLabs: 'the ElevenLabs API key in settings, or ELEVENLABS_API_KEY',
};

export class ProviderError extends Error {
  override name = 'ProviderError';

  constructor(
    readonly provider: ProviderName,
    readonly kind: ProviderErrorKind,
    detail: string,
    readonly retryable: boolean,
    readonly status?: number,
  ) {
    super(`${provider}: ${describe(provider, kind, detail)}`);
  }
}

function describe(provider: ProviderName, kind: ProviderErrorKind, detail: string): string {
  switch (kind) {
    case 'missing_key':
      return `no API key; set ${KEY_SETTING[provider]}`;
    case 'invalid_key':
      return `the API key was rejected (${detail}); check ${KEY_SETTING[provider]}`;
    default:
      return detail;
  }
}

export function missingKey(provider: ProviderName): ProviderError {
  return new ProviderError(provider, 'missing_key', '', false);
}

/** Maps an HTTP status from a provider to a ProviderError. */
export function fromStatus(provider: ProviderName, status: number, message: string): ProviderError {
  if (status === 401 || status === 403)
    return new ProviderError(provider, 'invalid_key', `${status} ${message}`, false, status);
  if (status === 429)
    return new ProviderError(provider, 'rate_limited', `rate limited (429): ${message}`, true, status);
  if (status >= 500)
    return new ProviderError(provider, 'server_error', `server error (${status}): ${message}`, true, status);
  return new ProviderError(provider, 'bad_request', `request refused (${status}): ${message}`, false, status);
}
