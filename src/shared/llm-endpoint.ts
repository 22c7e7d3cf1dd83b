/** Whether a host is OpenAI's own API, which needs a real key. */
export function isOpenAiHost(host: string): boolean {
  return host === 'openai.com' || host.endsWith('.openai.com');
}

/**
 * An OpenAI-compatible server other than OpenAI's (Ollama, LM Studio, llama.cpp) needs no key.
 * No base URL means OpenAI itself; a base URL that is not a URL decides nothing (a key is asked for).
 */
export function openAiKeyOptional(baseUrl: string | undefined): boolean {
  if (!baseUrl) return false;
  try {
    return !isOpenAiHost(new URL(baseUrl).hostname);
  } catch {
    return false;
  }
}
