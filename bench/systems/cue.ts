/**
 * Cue as a system under test: the real engine (Silero VAD on the case audio, the real provider
 * SDKs against the simulators) on the real clock, playing into the benchmark's speaker.
 */
import { loadSileroModel } from '../../src/main/engine/vad/silero';
import { VoiceActivityDetector } from '../../src/main/engine/vad/voice-activity-detector';
import { VoiceSession } from '../../src/main/engine/session';
import { createProviders } from '../../src/main/providers';
import { parseSettings, type SettingsInput } from '../../src/shared/settings';
import type { TimelineEvent } from '../../src/shared/timeline';
import { lateStreamingNote, settledAfterLastTurn, streamRealtime } from './realtime';
import type { BenchSystem, SystemRunInput, SystemRunResult } from './types';

export async function createCueSystem(
  name: string,
  overrides: SettingsInput = {},
  description = 'Cue.',
): Promise<BenchSystem> {
  const settings = parseSettings(overrides);
  const model = await loadSileroModel(settings.vad.model);
  return {
    name,
    description,
    run: (input) => runCue(input, settings, model),
    close: () => model.dispose(),
  };
}

async function runCue(
  input: SystemRunInput,
  settings: ReturnType<typeof parseSettings>,
  model: Awaited<ReturnType<typeof loadSileroModel>>,
): Promise<SystemRunResult> {
  const { clock, sims, apiKey, speaker } = input;
  model.reset();
  const providers = createProviders({
    settings,
    keys: { deepgram: apiKey, openai: apiKey, elevenlabs: apiKey },
    endpoints: sims.endpoints,
    clock,
  });
  const { stt, llm, tts } = providers;
  const vad = new VoiceActivityDetector(model, settings.vad);
  const session = new VoiceSession({ clock, vad, stt, llm, tts, output: speaker }, settings);
  const notes: string[] = [];
  // Only to know when the run may end (something still in the works), never to measure.
  let lastActivity = clock.now();
  let pending = 0;
  session.subscribe((event: TimelineEvent) => {
    if (event.type === 'vad_probability') return;
    lastActivity = clock.now();
    if (event.type === 'turn_committed') pending++;
    if (event.type === 'agent_speech_ended' && pending > 0) pending--;
    if (event.type === 'error') notes.push(`${event.source}: ${event.message}`);
  });
  try {
    await session.start();
    const streamed = await streamRealtime({
      audio: input.caseData.audio,
      tailMs: input.tailMs,
      now: () => clock.now(),
      onFrame: (samples, offsetMs) => session.pushAudio({ samples, capturedAt: offsetMs }),
      stopWhen: (_offsetMs, startedAt) =>
        settledAfterLastTurn(speaker, {
          startedAt,
          now: clock.now(),
          lastTurnEndMs: input.lastTurnEndMs,
          busy: pending > 0,
          lastActivity,
        }),
    });
    const late = lateStreamingNote(streamed);
    if (late) notes.push(late);
    return { startedAt: streamed.startedAt, notes };
  } finally {
    await session.stop();
    await providers.close();
  }
}
