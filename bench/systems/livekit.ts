/**
 * LiveKit Agents for Node (`@livekit/agents` 1.9.0) as a system under test, headless: no LiveKit
 * server, no room. An `AgentSession` runs the STT-LLM-TTS pipeline with LiveKit's own Deepgram,
 * OpenAI, ElevenLabs and Silero plugins pointed at the provider simulators; the case audio goes in
 * through a `voice.AudioInput` in real time and the replies come out at a virtual real-time
 * speaker (livekit-io.ts), which dates each reply's first audible sample.
 *
 * Configuration: LiveKit's documented defaults, except (each also commented where it is set)
 * - the plugins' endpoints and key (the simulators);
 * - `turnHandling.turnDetection: 'vad'`: left unset, LiveKit builds its hosted turn-detector
 *   model (`inference.TurnDetector`), whose weights are licensed for use inside LiveKit Agents only
 *   and which needs LiveKit Cloud. `'vad'` ends the turn at the VAD's end of speech (Silero
 *   `minSilenceDuration` 550 ms) with the endpointing delays 500 ms (min) / 3000 ms (max), LiveKit's
 *   defaults for a non-streaming detector (the hosted detector would get 300 / 2500);
 * - `turnHandling.interruption.mode: 'vad'`: left unset, LiveKit may pick "adaptive", which calls
 *   a hosted interruption model;
 * - `turnHandling.preemptiveGeneration`: `enabled: true` (the default already) and `preemptiveTts`
 *   false (the default) for "livekit", true for "livekit-tts";
 * - LLM model `gpt-4o-mini` (LiveKit's default is gpt-4.1), ElevenLabs voice `21m00Tcm4TlvDq8ikWAM`
 *   and model `eleven_flash_v2_5` (LiveKit's defaults: voice bIHbv24MWmeRgasZH58o,
 *   eleven_turbo_v2_5): the same as Cue's defaults, so both systems ask for the same models. The
 *   simulators answer any model and voice alike.
 * Everything else (endpointing delays, interruption min duration / words, false-interruption
 * resume, AEC warm-up, Deepgram's nova-3 / endpointing 25 ms / interim results / smart format,
 * ElevenLabs' multi-stream-input WebSocket with auto_mode and pcm_22050, the VAD's thresholds)
 * is LiveKit's default.
 *
 * The replies are played into the benchmark's speaker (SpeakerOutput in livekit-io.ts); what was
 * heard, and which reply it was, is read from the speaker and the simulators, as for Cue.
 */
import { voice } from '@livekit/agents';
import * as deepgram from '@livekit/agents-plugin-deepgram';
import * as elevenlabs from '@livekit/agents-plugin-elevenlabs';
import * as openai from '@livekit/agents-plugin-openai';
import * as silero from '@livekit/agents-plugin-silero';
import { dispose as disposeRtcNative } from '@livekit/rtc-node';
import { SAMPLE_RATE } from '../../src/main/engine/ports';
import { CaseAudioInput, SpeakerOutput } from './livekit-io';
import { installLiveKitLogging, LOG_ERROR, onLiveKitLog } from './livekit-log';
import {
  lateStreamingNote,
  settledAfterLastTurn,
  streamRealtime,
  type RealtimeStreamResult,
} from './realtime';
import type { BenchSystem, SystemRunInput, SystemRunResult } from './types';

export interface LiveKitSystemOptions {
  /** LiveKit's `turnHandling.preemptiveGeneration.preemptiveTts` (the "livekit-tts" variant). */
  preemptiveTts: boolean;
}

export const LIVEKIT_INSTRUCTIONS = 'You are a helpful voice assistant.';
/** Cue's defaults (src/shared/settings.ts), so both systems name the same models. */
export const LIVEKIT_LLM_MODEL = 'gpt-4o-mini';
export const LIVEKIT_TTS_VOICE_ID = '21m00Tcm4TlvDq8ikWAM';
export const LIVEKIT_TTS_MODEL = 'eleven_flash_v2_5';
/** After the tail, how long a reply still being generated or played may take before the case is closed. */
const SETTLE_TIMEOUT_MS = 15_000;
/** Notes kept per case (a failing provider can log a line per retry). */
const MAX_NOTES = 20;

export async function createLiveKitSystem(options: LiveKitSystemOptions): Promise<BenchSystem> {
  installLiveKitLogging();
  // LiveKit's Silero plugin at its defaults, loaded once and shared by the cases' sessions (as
  // LiveKit's docs advise: load in prewarm, reuse per job).
  const vad = await silero.VAD.load();
  const name = options.preemptiveTts ? 'livekit-tts' : 'livekit';
  return {
    name,
    description:
      'LiveKit Agents 1.9 with its own Deepgram, OpenAI, ElevenLabs and Silero plugins; VAD turn detection, interruption mode vad, ' +
      `preemptive generation on${options.preemptiveTts ? ' with preemptive TTS' : ''}; everything else at LiveKit's defaults.`,
    run: (input) => runCase(vad, options, input),
    close: async () => {
      await vad.close();
    },
  };
}

/**
 * Releases @livekit/rtc-node's native handle, which otherwise keeps the process alive. It is
 * process-wide and cannot be undone: call it only when no LiveKit code will run again in this
 * process (e.g. just before the bench exits).
 */
export async function disposeLiveKitNative(): Promise<void> {
  await disposeRtcNative();
}

async function runCase(
  vad: Awaited<ReturnType<typeof silero.VAD.load>>,
  options: LiveKitSystemOptions,
  input: SystemRunInput,
): Promise<SystemRunResult> {
  const { caseData, sims, apiKey, tailMs, clock } = input;
  const notes: string[] = [];
  const note = (line: string) => {
    if (notes.length < MAX_NOTES && !notes.includes(line)) notes.push(line);
  };
  const stopLogNotes = onLiveKitLog((line) => {
    if (line.level >= LOG_ERROR) note(`livekit logged: ${line.text}`);
  });

  const speaker = new SpeakerOutput(input.speaker);
  const microphone = new CaseAudioInput(SAMPLE_RATE);
  // Endpoints and key: the simulators. Deepgram's `baseUrl` is the WebSocket origin (default
  // wss://api.deepgram.com, the plugin appends /v1/listen); OpenAI's `baseURL` ends in /v1;
  // ElevenLabs' `baseURL` is the API root with /v1 (default https://api.elevenlabs.io/v1).
  const stt = new deepgram.STT({ apiKey, baseUrl: sims.endpoints.deepgram.replace(/^http/, 'ws') });
  const llmPlugin = new openai.LLM({ apiKey, baseURL: sims.endpoints.openai, model: LIVEKIT_LLM_MODEL });
  const tts = new elevenlabs.TTS({
    apiKey,
    baseURL: `${sims.endpoints.elevenlabs}/v1`,
    voiceId: LIVEKIT_TTS_VOICE_ID,
    model: LIVEKIT_TTS_MODEL,
  });
  const session = new voice.AgentSession({
    vad,
    stt,
    llm: llmPlugin,
    tts,
    turnHandling: {
      // Not LiveKit's hosted turn-detector model (licence, LiveKit Cloud): end turns on the VAD.
      turnDetection: 'vad',
      // Not "adaptive" interruption (a hosted model): interrupt on VAD speech, LiveKit's own rule.
      interruption: { mode: 'vad' },
      // enabled: LiveKit's default, stated; preemptiveTts: the variant (default false).
      preemptiveGeneration: { enabled: true, preemptiveTts: options.preemptiveTts },
    },
  });
  // The last time anything happened (agent or user state, playback), for ending the tail early.
  let lastActivity = clock.now();
  session.on(voice.AgentSessionEventTypes.AgentStateChanged, () => (lastActivity = clock.now()));
  session.on(voice.AgentSessionEventTypes.UserStateChanged, () => (lastActivity = clock.now()));
  session.on(voice.AgentSessionEventTypes.Error, (ev) => {
    const error = ev.error as { type?: string; label?: string; error?: unknown; recoverable?: boolean };
    const cause = error.error instanceof Error ? error.error.message : String(error.error ?? 'unknown error');
    note(
      `livekit ${error.type ?? 'error'}${error.label ? ` (${error.label})` : ''}: ${cause}` +
        (error.recoverable ? ' (recoverable)' : ''),
    );
  });
  session.on(voice.AgentSessionEventTypes.Close, (ev) => {
    if (ev.error) note(`livekit session closed on an error (${ev.reason})`);
  });
  session.input.audio = microphone;
  session.output.audio = speaker;
  const busy = () => !speaker.idle || session.agentState === 'thinking' || session.agentState === 'speaking';

  let streamed: RealtimeStreamResult;
  try {
    // No greeting: the agent speaks only in reply to the user.
    await session.start({ agent: new voice.Agent({ instructions: LIVEKIT_INSTRUCTIONS }) });
    streamed = await streamRealtime({
      audio: caseData.audio,
      tailMs,
      now: () => clock.now(),
      onFrame: (samples) => microphone.push(samples),
      // The tail may end once a reply to the last turn was heard and all has been quiet for 1 s.
      stopWhen: (_offsetMs, started) =>
        settledAfterLastTurn(input.speaker, {
          startedAt: started,
          now: clock.now(),
          lastTurnEndMs: input.lastTurnEndMs,
          busy: busy(),
          lastActivity,
        }),
    });
    const late = lateStreamingNote(streamed);
    if (late) note(late);
    const deadline = clock.now() + SETTLE_TIMEOUT_MS;
    while (busy() && clock.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    if (busy())
      note(`still ${session.agentState} ${SETTLE_TIMEOUT_MS / 1000} s after the tail; closed anyway`);
  } finally {
    await session.close().catch((error: unknown) => note(`closing the session failed: ${String(error)}`));
    speaker.stop();
    await microphone.close();
    await Promise.allSettled([stt.close(), tts.close(), llmPlugin.aclose()]);
    stopLogNotes();
  }
  return { startedAt: streamed.startedAt, notes };
}
