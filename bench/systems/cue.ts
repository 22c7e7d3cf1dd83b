/**
 * Cue as a system under test: the real engine (Silero VAD on the case audio, the real provider
 * SDKs against the simulators) on the real clock, with a virtual speaker that plays in real time.
 */
import { ClockedAudioOutput } from '../../src/main/engine/audio/clocked-output';
import { loadSileroModel } from '../../src/main/engine/vad/silero';
import { VoiceActivityDetector } from '../../src/main/engine/vad/voice-activity-detector';
import { VoiceSession } from '../../src/main/engine/session';
import { createProviders } from '../../src/main/providers';
import { parseSettings, type SettingsInput } from '../../src/shared/settings';
import type { TimelineEvent } from '../../src/shared/timeline';
import { lateStreamingNote, QUIET_BEFORE_STOP_MS, streamRealtime } from './realtime';
import type { BenchSystem, HeardReply, SystemRunInput, SystemRunResult } from './types';

export async function createCueSystem(name: string, overrides: SettingsInput = {}): Promise<BenchSystem> {
  const settings = parseSettings(overrides);
  const model = await loadSileroModel(settings.vad.model);
  return {
    name,
    run: (input) => runCue(input, settings, model),
    close: () => model.dispose(),
  };
}

async function runCue(
  input: SystemRunInput,
  settings: ReturnType<typeof parseSettings>,
  model: Awaited<ReturnType<typeof loadSileroModel>>,
): Promise<SystemRunResult> {
  const { clock, sims, apiKey } = input;
  model.reset();
  const providers = createProviders({
    settings,
    keys: { deepgram: apiKey, openai: apiKey, elevenlabs: apiKey },
    endpoints: sims.endpoints,
    clock,
  });
  const output = new ClockedAudioOutput(clock);
  const { stt, llm, tts } = providers;
  const vad = new VoiceActivityDetector(model, settings.vad);
  const session = new VoiceSession({ clock, vad, stt, llm, tts, output }, settings);
  const events: TimelineEvent[] = [];
  const notes: string[] = [];
  session.subscribe((event) => {
    if (event.type === 'vad_probability') return;
    events.push(event);
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
        lastReplyFinished(events, startedAt, clock.now(), input.lastTurnEndMs),
    });
    const late = lateStreamingNote(streamed);
    if (late) notes.push(late);
    return { startedAt: streamed.startedAt, replies: heardReplies(events, streamed.startedAt), notes };
  } finally {
    await session.stop();
    await providers.close();
  }
}

/** A reply became audible after the last turn's end, and all has been quiet for a second since. */
function lastReplyFinished(
  events: readonly TimelineEvent[],
  startedAt: number,
  now: number,
  lastTurnEndMs: number,
): boolean {
  const playing = new Set<number>();
  let answered = false;
  for (const e of events) {
    if (e.type === 'agent_speech_started') {
      playing.add(e.request);
      if (e.t - startedAt >= lastTurnEndMs) answered = true;
    }
    if (e.type === 'agent_speech_ended') playing.delete(e.request);
  }
  const lastActivity = events.at(-1)?.t ?? now;
  return answered && playing.size === 0 && now - lastActivity >= QUIET_BEFORE_STOP_MS;
}

/** Replies that became audible, from the session's timeline (times moved to the case's axis). */
export function heardReplies(events: readonly TimelineEvent[], startedAt: number): HeardReply[] {
  const text = new Map<number, string>();
  const heard = new Map<number, number>();
  for (const e of events) {
    if (e.type === 'llm_done') text.set(e.request, e.text);
    if (e.type === 'agent_speech_ended') heard.set(e.request, e.played_ms);
  }
  return events
    .filter(
      (e): e is Extract<TimelineEvent, { type: 'agent_speech_started' }> =>
        e.type === 'agent_speech_started' && e.turn >= 0,
    )
    .map((e) => ({
      audibleAtMs: e.t - startedAt,
      text: text.get(e.request) ?? e.text_so_far,
      // Still playing when the run ended: heard up to then at least.
      heardMs: heard.get(e.request) ?? Number.POSITIVE_INFINITY,
    }));
}
