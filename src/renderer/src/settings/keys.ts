/** Provider API keys as the panel shows them (pure): what each is for, where it comes from, local checks. */
import { requestSchemas, type KeyStatus, type KeyId } from '../../../shared/contract';
import type { Settings } from '../../../shared/settings';
import { openAiKeyOptional as keyOptionalFor } from '../../../shared/llm-endpoint';

export const PROVIDER_INFO: Record<KeyId, { name: string; role: string; env: string }> = {
  deepgram: { name: 'Deepgram', role: 'Speech-to-text', env: 'DEEPGRAM_API_KEY' },
  openai: { name: 'OpenAI', role: 'Language model (sent only to api.openai.com)', env: 'OPENAI_API_KEY' },
  elevenlabs: { name: 'ElevenLabs', role: 'Voice', env: 'ELEVENLABS_API_KEY' },
  llm_endpoint: {
    name: 'Custom endpoint',
    role: 'Language model at llm.base_url (optional; sent only to that endpoint)',
    env: 'CUE_LLM_ENDPOINT_KEY',
  },
};

/**
 * "Set · saved by Cue", "Set · from DEEPGRAM_API_KEY", "Not set". Never the key. A key Cue keeps
 * while it cannot encrypt keys on disk lives in memory only, and says so.
 */
export function describeKey(provider: KeyId, status: KeyStatus | undefined, encrypted = true): string {
  if (!status || !status.set) return 'Not set';
  switch (status.source) {
    case 'store':
      return encrypted ? 'Set · saved by Cue' : 'Set · in memory until Cue quits';
    case 'environment':
      return `Set · from ${PROVIDER_INFO[provider].env}`;
    case 'override':
      return 'Set · given to this run';
    default:
      return 'Set';
  }
}

/** The contract's own check of a key (length), as a message for the field; null when fine. */
export function checkKey(key: string): string | null {
  const result = requestSchemas['keys:set'].shape.key.safeParse(key);
  if (result.success) return null;
  return `The key ${result.error.issues[0]?.message ?? 'is not valid'}.`;
}

/** An OpenAI-compatible server other than OpenAI's needs no key (Ollama, LM Studio, llama.cpp). */
export function openAiKeyOptional(settings: Settings | null): boolean {
  return keyOptionalFor(settings?.llm.base_url);
}
