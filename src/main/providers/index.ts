import type { Settings } from '../../shared/settings';
import type { Clock } from '../engine/clock';
import type { LlmProvider, SttProvider, TtsProvider } from '../engine/ports';
import { DeepgramStt } from './deepgram';
import { ElevenLabsHttpTts, ElevenLabsWebSocketTts } from './elevenlabs';
import { OpenAiLlm } from './openai';

/** API keys, from the secret store or the environment; never sent to the renderer. */
export interface ProviderKeys {
  deepgram?: string | undefined;
  openai?: string | undefined;
  elevenlabs?: string | undefined;
}

/** Base URLs that replace the providers' own (a simulator, a proxy, a local OpenAI-compatible server). */
export interface ProviderEndpoints {
  deepgram?: string | undefined;
  openai?: string | undefined;
  elevenlabs?: string | undefined;
}

/** Keys and the OpenAI base URL from DEEPGRAM_API_KEY, OPENAI_API_KEY, OPENAI_BASE_URL, ELEVENLABS_API_KEY. */
export function fromEnvironment(env: NodeJS.ProcessEnv = process.env): {
  keys: ProviderKeys;
  endpoints: ProviderEndpoints;
} {
  const nonEmpty = (v: string | undefined) => (v && v.trim() ? v.trim() : undefined);
  return {
    keys: {
      deepgram: nonEmpty(env.DEEPGRAM_API_KEY),
      openai: nonEmpty(env.OPENAI_API_KEY),
      elevenlabs: nonEmpty(env.ELEVENLABS_API_KEY),
    },
    endpoints: { openai: nonEmpty(env.OPENAI_BASE_URL) },
  };
}

/** Keys given explicitly (settings) win over the environment. */
export function mergeKeys(explicit: ProviderKeys, fallback: ProviderKeys): ProviderKeys {
  return {
    deepgram: explicit.deepgram ?? fallback.deepgram,
    openai: explicit.openai ?? fallback.openai,
    elevenlabs: explicit.elevenlabs ?? fallback.elevenlabs,
  };
}

export interface Providers {
  stt: SttProvider;
  llm: LlmProvider;
  tts: TtsProvider;
  /** Closes kept-warm connections (the ElevenLabs socket). */
  close(): Promise<void>;
}

/** The real providers for these settings, speaking to the given endpoints (the providers' own by default). */
export function createProviders(options: {
  settings: Settings;
  keys: ProviderKeys;
  endpoints?: ProviderEndpoints;
  clock: Clock;
}): Providers {
  const { settings, keys, clock } = options;
  const endpoints = options.endpoints ?? {};
  const stt = new DeepgramStt({
    settings: settings.stt,
    apiKey: keys.deepgram,
    baseUrl: endpoints.deepgram,
    clock,
    eager: settings.turn_handling.preemptive_generation.enabled,
    sampleRate: 16_000,
  });
  const llm = new OpenAiLlm({
    settings: settings.llm,
    apiKey: keys.openai,
    baseUrl: endpoints.openai ?? (settings.llm.base_url || undefined),
    clock,
  });
  const ttsOptions = {
    settings: settings.tts,
    apiKey: keys.elevenlabs,
    baseUrl: endpoints.elevenlabs,
    clock,
  };
  const tts =
    settings.tts.transport === 'websocket'
      ? new ElevenLabsWebSocketTts(ttsOptions)
      : new ElevenLabsHttpTts(ttsOptions);
  return {
    stt,
    llm,
    tts,
    close: async () => {
      if (tts instanceof ElevenLabsWebSocketTts) await tts.close();
    },
  };
}
