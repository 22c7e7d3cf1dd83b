/**
 * The agent's voice for the timeline benchmark: what main's audio channel sends the window while
 * the synthetic conversation's agent speaks, so the window plays it as it would in a session.
 *
 * Each reply (agent_speech_started … agent_speech_ended of one request) becomes one utterance of
 * speech-like audio (a 140 Hz voice with harmonics, its loudness moving at syllable rate) in
 * chunks of `chunkMs`, each sent `aheadMs` before it is due at the speaker, as a streaming TTS
 * keeps the playback buffer ahead. A reply played to its end gets `end` after its last chunk; an
 * interrupted one (whose TTS had `overrunMs` more to say than was heard) is sent up to the
 * barge-in, then `clear`, as main flushes the speaker.
 */
import type { AudioDown } from '../src/shared/contract';
import type { TimelineEvent } from '../src/shared/timeline';

export interface VoiceAction {
  /** Session time (ms) at which main sends the message. */
  t: number;
  message: AudioDown;
}

export interface AgentVoiceOptions {
  sampleRate: number;
  chunkMs?: number;
  aheadMs?: number;
  overrunMs?: number;
}

/** The audio messages for every reply in `events` that both starts and ends there, in time order. */
export function agentVoice(events: readonly TimelineEvent[], options: AgentVoiceOptions): VoiceAction[] {
  const { sampleRate, chunkMs = 100, aheadMs = 300, overrunMs = 1000 } = options;
  const started = new Map<number, number>();
  const actions: VoiceAction[] = [];
  for (const event of events) {
    if (event.type === 'agent_speech_started') started.set(event.request, event.t);
    if (event.type !== 'agent_speech_ended') continue;
    const start = started.get(event.request);
    if (start === undefined) continue;
    started.delete(event.request);
    const utterance = event.request;
    // Interrupted: the TTS had more to say than was heard; main stops sending at the barge-in.
    const audioMs = event.interrupted ? event.played_ms + overrunMs : event.played_ms;
    const chunks = Math.max(1, Math.ceil(audioMs / chunkMs));
    let lastSent = start;
    for (let k = 0; k < chunks; k++) {
      const t = start + Math.max(0, k * chunkMs - aheadMs);
      if (event.interrupted && t > event.t) break;
      lastSent = t;
      actions.push({
        t,
        message: { type: 'audio', utterance, samples: voiceChunk(sampleRate, chunkMs, k), sampleRate },
      });
    }
    actions.push(
      event.interrupted
        ? { t: event.t, message: { type: 'clear', utterance } }
        : { t: lastSent, message: { type: 'end', utterance } },
    );
  }
  return actions.sort((a, b) => a.t - b.t);
}

/** Chunk `index` of a continuous speech-like signal (peak about -12 dBFS). */
export function voiceChunk(sampleRate: number, chunkMs: number, index: number): Int16Array {
  const length = Math.round((sampleRate * chunkMs) / 1000);
  const samples = new Int16Array(length);
  const first = index * length;
  for (let i = 0; i < length; i++) {
    const time = (first + i) / sampleRate;
    const voice =
      Math.sin(2 * Math.PI * 140 * time) +
      0.5 * Math.sin(2 * Math.PI * 280 * time) +
      0.25 * Math.sin(2 * Math.PI * 420 * time);
    const syllables = 0.55 + 0.45 * Math.sin(2 * Math.PI * 4 * time);
    samples[i] = Math.round(voice * syllables * 0.25 * 32767 * (1 / 1.75));
  }
  return samples;
}
