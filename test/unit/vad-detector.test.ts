import { describe, expect, it } from 'vitest';
import type { AudioFrame, SpeechProbabilityModel } from '../../src/main/engine/ports';
import { defaultSettings, type VadSettings } from '../../src/shared/settings';
import {
  MAX_RECENT_AUDIO_MS,
  VoiceActivityDetector,
  type VadEvent,
} from '../../src/main/engine/vad/voice-activity-detector';

const FRAME = 512;
const FRAME_MS = 32;
const T0 = 1000;

/** Returns scripted probabilities, one per frame (0 after the script), and records what it saw. */
class ScriptedModel implements SpeechProbabilityModel {
  readonly frameSamples = FRAME;
  frames = 0;
  resets = 0;
  firstSamples: number[] = [];
  constructor(private script: readonly number[]) {}
  async predict(frame: Float32Array): Promise<number> {
    expect(frame.length).toBe(FRAME);
    this.firstSamples.push(Math.round(frame[0]! * 32768));
    await Promise.resolve();
    return this.script[this.frames++] ?? 0;
  }
  reset(): void {
    this.resets++;
    this.frames = 0;
  }
}

function vad(overrides: Partial<VadSettings> = {}): VadSettings {
  return { ...defaultSettings().vad, ...overrides };
}

/** Frame-wise script: [probability, count] runs. */
function script(...runs: [number, number][]): number[] {
  return runs.flatMap(([p, n]) => Array<number>(n).fill(p));
}

/** Audio whose sample i is i % 30000, so positions can be checked in what comes back. */
function ramp(length: number, from = 0): Int16Array {
  const out = new Int16Array(length);
  for (let i = 0; i < length; i++) out[i] = (from + i) % 30_000;
  return out;
}

/** Feeds `totalSamples` samples in chunks of `chunk`, stamped as contiguous capture from T0. */
async function feed(
  detector: VoiceActivityDetector,
  totalSamples: number,
  chunk: number,
): Promise<VadEvent[]> {
  const audio = ramp(totalSamples);
  const events: VadEvent[] = [];
  for (let i = 0; i < totalSamples; i += chunk) {
    const frame: AudioFrame = { samples: audio.subarray(i, i + chunk), capturedAt: T0 + i / 16 };
    events.push(...(await detector.process(frame)));
  }
  return events;
}

async function run(probs: number[], settings: Partial<VadSettings> = {}, chunk = FRAME) {
  const model = new ScriptedModel(probs);
  const detector = new VoiceActivityDetector(model, vad(settings));
  const events = await feed(detector, probs.length * FRAME, chunk);
  return { model, detector, events, changes: events.filter((e) => e.type !== 'probability') };
}

const at = (frame: number) => T0 + frame * FRAME_MS;

describe('VoiceActivityDetector', () => {
  it('emits one probability event per model frame, stamped with the frame start', async () => {
    const { events } = await run([0.1, 0.2, 0.3]);
    expect(events).toEqual([
      { type: 'probability', at: at(0), probability: 0.1, speaking: false },
      { type: 'probability', at: at(1), probability: 0.2, speaking: false },
      { type: 'probability', at: at(2), probability: 0.3, speaking: false },
    ]);
  });

  it('starts speech after min_speech_duration and ends it after min_silence_duration', async () => {
    // Defaults: activation 0.5, deactivation 0.35, min speech 0.05 s (2 frames), min silence 0.55 s (18 frames).
    const probs = script([0, 10], [0.9, 30], [0.1, 25]);
    const { events, changes } = await run(probs);
    expect(changes).toEqual([
      { type: 'speech_started', at: at(10), detectedAt: at(12) },
      { type: 'speech_ended', at: at(40), detectedAt: at(58), durationMs: 30 * FRAME_MS },
    ]);
    // The state change follows the probability event of the frame that caused it.
    const started = events.findIndex((e) => e.type === 'speech_started');
    expect(events[started - 1]).toEqual({
      type: 'probability',
      at: at(11),
      probability: 0.9,
      speaking: true,
    });
    const ended = events.findIndex((e) => e.type === 'speech_ended');
    expect(events[ended - 1]).toMatchObject({ type: 'probability', at: at(57), speaking: false });
    expect(events.filter((e) => e.type === 'probability' && e.speaking)).toHaveLength(29 + 17);
  });

  it.each([160, 333, 1000, 4096, 7])(
    'gives identical events for audio in chunks of %i samples',
    async (chunk) => {
      const probs = script([0, 7], [0.8, 3], [0.4, 5], [0.2, 10], [0.9, 12], [0.1, 20], [0.6, 1], [0, 5]);
      const reference = await run(probs);
      const chunked = await run(probs, {}, chunk);
      expect(chunked.events).toEqual(reference.events);
      expect(chunked.changes.length).toBeGreaterThan(0);
      // The model saw contiguous 512-sample frames.
      expect(chunked.model.firstSamples).toEqual(probs.map((_, i) => (i * FRAME) % 30_000));
    },
  );

  it('needs min_speech_duration of consecutive frames above the activation threshold', async () => {
    const blips = script([0, 5], [0.9, 1], [0.1, 5], [0.9, 1], [0.4, 1], [0.9, 1], [0, 5]);
    expect((await run(blips)).changes).toEqual([]);
    const atZero = await run(blips, { min_speech_duration: 0 });
    expect(atZero.changes[0]).toEqual({ type: 'speech_started', at: at(5), detectedAt: at(6) });

    // 0.2 s = 6.25 frames: speech is confirmed on the 7th frame.
    const long = await run(script([0, 2], [0.9, 6], [0, 2], [0.9, 7], [0, 30]), { min_speech_duration: 0.2 });
    expect(long.changes[0]).toEqual({ type: 'speech_started', at: at(10), detectedAt: at(17) });
  });

  it('applies hysteresis between the two thresholds', async () => {
    // Between the thresholds (0.4): does not start speech, but keeps it going once started.
    const probs = script([0.4, 20], [0.9, 3], [0.4, 40], [0.3, 20]);
    const { changes } = await run(probs);
    expect(changes).toEqual([
      { type: 'speech_started', at: at(20), detectedAt: at(22) },
      { type: 'speech_ended', at: at(63), detectedAt: at(63 + 18), durationMs: 43 * FRAME_MS },
    ]);
  });

  it('does not end speech on pauses shorter than min_silence_duration', async () => {
    // 17 silent frames (544 ms) < 550 ms, then speech resumes; speech_ended marks the end of the last speech frame.
    const probs = script([0.9, 5], [0.1, 17], [0.9, 5], [0.1, 30]);
    const { changes } = await run(probs);
    expect(changes).toEqual([
      { type: 'speech_started', at: at(0), detectedAt: at(2) },
      { type: 'speech_ended', at: at(27), detectedAt: at(45), durationMs: 27 * FRAME_MS },
    ]);
    const shorter = await run(probs, { min_silence_duration: 0.3 });
    expect(shorter.changes.map((e) => e.type)).toEqual([
      'speech_started',
      'speech_ended',
      'speech_started',
      'speech_ended',
    ]);
    expect(shorter.changes[1]).toEqual({
      type: 'speech_ended',
      at: at(5),
      detectedAt: at(5 + 10),
      durationMs: 5 * FRAME_MS,
    });
  });

  it('honours other thresholds', async () => {
    const probs = script([0.3, 5], [0.7, 10], [0.25, 30]);
    expect((await run(probs)).changes).toHaveLength(2);
    expect((await run(probs, { activation_threshold: 0.8 })).changes).toEqual([]);
    // With deactivation 0.2 the 0.25 frames keep speech going.
    expect((await run(probs, { deactivation_threshold: 0.2 })).changes).toHaveLength(1);
    // Deactivation above activation is clamped to it.
    const clamped = await run(script([0.6, 5], [0.55, 30]), {
      activation_threshold: 0.5,
      deactivation_threshold: 0.9,
    });
    expect(clamped.changes).toHaveLength(1);
  });

  it('applies updateSettings from the next frame on', async () => {
    const model = new ScriptedModel(script([0.6, 10], [0.6, 10], [0, 30]));
    const detector = new VoiceActivityDetector(model, vad({ activation_threshold: 0.7 }));
    const audio = ramp(50 * FRAME);
    const first = await detector.process({ samples: audio.subarray(0, 10 * FRAME), capturedAt: 0 });
    expect(first.filter((e) => e.type !== 'probability')).toEqual([]);
    detector.updateSettings({ activation_threshold: 0.5, min_silence_duration: 0.1 });
    const rest = await detector.process({ samples: audio.subarray(10 * FRAME), capturedAt: 10 * FRAME_MS });
    expect(rest.filter((e) => e.type !== 'probability')).toEqual([
      { type: 'speech_started', at: 10 * FRAME_MS, detectedAt: 12 * FRAME_MS },
      { type: 'speech_ended', at: 20 * FRAME_MS, detectedAt: 24 * FRAME_MS, durationMs: 10 * FRAME_MS },
    ]);
  });

  it('stamps each model frame with the capture time of its first sample', async () => {
    const model = new ScriptedModel(script([0.9, 4], [0, 30]));
    const detector = new VoiceActivityDetector(model, vad({ min_speech_duration: 0 }));
    const audio = ramp(4 * FRAME);
    // 300 samples at t=5000, then a capture gap: the next chunk was captured at t=9000.
    await detector.process({ samples: audio.subarray(0, 300), capturedAt: 5000 });
    const events = await detector.process({
      samples: audio.subarray(300, 2 * FRAME + 100),
      capturedAt: 9000,
    });
    const probabilityTimes = events.filter((e) => e.type === 'probability').map((e) => e.at);
    expect(probabilityTimes).toEqual([5000, 9000 + (FRAME - 300) / 16]);
    expect(events.find((e) => e.type === 'speech_started')).toEqual({
      type: 'speech_started',
      at: 5000,
      detectedAt: 5000 + FRAME_MS,
    });
  });

  it('keeps prefix_padding of audio before the utterance in speechAudio()', async () => {
    const probs = script([0, 40], [0.9, 20], [0, 30]);
    const model = new ScriptedModel(probs);
    const detector = new VoiceActivityDetector(model, vad({ prefix_padding: 0.5 }));
    expect(detector.speechAudio()).toHaveLength(0);
    const audio = ramp(probs.length * FRAME);
    // Up to the middle of the utterance: from 500 ms before its start to the latest sample.
    await detector.process({ samples: audio.subarray(0, 50 * FRAME + 100), capturedAt: 0 });
    expect(detector.speaking).toBe(true);
    const during = detector.speechAudio();
    const start = 40 * FRAME - 8000;
    expect(during).toEqual(audio.subarray(start, 50 * FRAME + 100));
    // After the end: up to the end of the last speech frame.
    await detector.process({
      samples: audio.subarray(50 * FRAME + 100),
      capturedAt: (50 * FRAME + 100) / 16,
    });
    expect(detector.speaking).toBe(false);
    expect(detector.speechAudio()).toEqual(audio.subarray(start, 60 * FRAME));
    // Live prefix change.
    detector.updateSettings({ prefix_padding: 0 });
    expect(detector.speechAudio()).toEqual(audio.subarray(40 * FRAME, 60 * FRAME));
  });

  it('clips the prefix at the start of the stream', async () => {
    const { detector } = await run(script([0.9, 5], [0, 30]));
    expect(detector.speechAudio()).toEqual(ramp(5 * FRAME));
  });

  it('returns the last ms of audio from recentAudio(), capped at 8 s', async () => {
    const model = new ScriptedModel([]);
    const detector = new VoiceActivityDetector(model, vad());
    expect(detector.recentAudio(1000)).toHaveLength(0);
    const audio = ramp(16_000 * 10 + 77);
    await detector.process({ samples: audio.subarray(0, 1000), capturedAt: 0 });
    expect(detector.recentAudio(1000)).toEqual(audio.subarray(0, 1000));
    expect(detector.recentAudio(10)).toEqual(audio.subarray(840, 1000));
    await detector.process({ samples: audio.subarray(1000), capturedAt: 1000 / 16 });
    expect(detector.recentAudio(250)).toEqual(audio.subarray(audio.length - 4000));
    expect(detector.recentAudio(60_000)).toEqual(audio.subarray(audio.length - MAX_RECENT_AUDIO_MS * 16));
    expect(detector.recentAudio(-5)).toHaveLength(0);
  });

  it('stays bounded in long sessions', async () => {
    // 60 s of continuous speech with a 10 s utterance cap, fed in 20 ms chunks.
    const frames = (60 * 16_000) / FRAME;
    const model = new ScriptedModel(script([0.9, frames]));
    const detector = new VoiceActivityDetector(model, vad({ prefix_padding: 1 }), {
      maxSpeechAudioMs: 10_000,
    });
    const chunk = ramp(320);
    for (let i = 0; i < 60 * 50; i++) await detector.process({ samples: chunk, capturedAt: i * 20 });
    expect(detector.speaking).toBe(true);
    expect(detector.speechAudio()).toHaveLength(11 * 16_000);
    expect(detector.recentAudio(8_000)).toHaveLength(8 * 16_000);
    const ring = (detector as unknown as { ring: Int16Array }).ring;
    expect(ring.length).toBeLessThanOrEqual(12.1 * 16_000);
  });

  it('processes calls in order even when they are not awaited one by one', async () => {
    const probs = script([0, 3], [0.9, 10], [0, 25]);
    const reference = await run(probs, {}, 333);
    const model = new ScriptedModel(probs);
    const detector = new VoiceActivityDetector(model, vad());
    const audio = ramp(probs.length * FRAME);
    const pending: Promise<VadEvent[]>[] = [];
    for (let i = 0; i < audio.length; i += 333) {
      pending.push(detector.process({ samples: audio.subarray(i, i + 333), capturedAt: T0 + i / 16 }));
    }
    expect((await Promise.all(pending)).flat()).toEqual(reference.events);
  });

  it('reset() forgets state and audio and resets the model', async () => {
    const { detector, model } = await run(script([0, 3], [0.9, 10]));
    expect(detector.speaking).toBe(true);
    detector.reset();
    expect(model.resets).toBe(1);
    expect(detector.speaking).toBe(false);
    expect(detector.speechAudio()).toHaveLength(0);
    expect(detector.recentAudio(1000)).toHaveLength(0);
    // The scripted model restarts its script; the detector starts afresh.
    const events = await feed(detector, 6 * FRAME, 512);
    expect(events.filter((e) => e.type !== 'probability')).toEqual([
      { type: 'speech_started', at: at(3), detectedAt: at(5) },
    ]);
  });

  it('reports a failing model and keeps working afterwards', async () => {
    let fail = true;
    const model: SpeechProbabilityModel = {
      frameSamples: FRAME,
      predict: async () => {
        if (fail) throw new Error('model broke');
        return 0.9;
      },
      reset: () => undefined,
    };
    const detector = new VoiceActivityDetector(model, vad());
    await expect(detector.process({ samples: ramp(FRAME), capturedAt: 0 })).rejects.toThrow('model broke');
    fail = false;
    const events = await detector.process({ samples: ramp(2 * FRAME), capturedAt: FRAME_MS });
    expect(events.some((e) => e.type === 'speech_started')).toBe(true);
  });
});
