/**
 * Voice activity detection over a frame-wise speech probability model (Silero), with
 * hysteresis: a frame opens speech when its probability is at least
 * `activation_threshold`, and once speaking, only frames below `deactivation_threshold`
 * count as silence. Speech starts after `min_speech_duration` of consecutive frames
 * above the activation threshold and ends after `min_silence_duration` of consecutive
 * frames below the deactivation threshold.
 *
 * Audio comes in frames of any size; it is cut into model frames, each stamped with the
 * capture time of its first sample (the AudioFrame's `capturedAt` plus 1/16 ms per sample
 * of offset). All times are ms on the capture clock. A bounded ring buffer keeps recent
 * audio for the turn detector and the current utterance, so memory stays flat however
 * long the session runs.
 */
import { SAMPLE_RATE, type AudioFrame, type SpeechProbabilityModel } from '../ports';
import type { VadSettings } from '../../../shared/settings';

const SAMPLES_PER_MS = SAMPLE_RATE / 1000;
/** Longest audio recentAudio() returns. */
export const MAX_RECENT_AUDIO_MS = 8_000;
/** Longest prefix_padding the settings allow. */
const MAX_PREFIX_PADDING_MS = 2_000;
/** Tolerance for comparing accumulated durations with settings converted from seconds. */
const EPSILON_MS = 1e-6;

export type VadEvent =
  /** One per model frame; `at` is the capture time of the frame's first sample, `speaking` the state after it. */
  | { type: 'probability'; at: number; probability: number; speaking: boolean }
  /** Speech began at `at` (start of its first frame); known at `detectedAt` (end of the frame that confirmed it). */
  | { type: 'speech_started'; at: number; detectedAt: number }
  /** Speech ended at `at` (end of its last speech frame); known at `detectedAt`, after min_silence_duration. */
  | { type: 'speech_ended'; at: number; detectedAt: number; durationMs: number };

export interface VoiceActivityDetectorOptions {
  /** Longest utterance audio speechAudio() returns, prefix padding excluded (default 30 s); older audio is dropped. */
  maxSpeechAudioMs?: number;
}

type Thresholds = Pick<
  VadSettings,
  | 'activation_threshold'
  | 'deactivation_threshold'
  | 'min_speech_duration'
  | 'min_silence_duration'
  | 'prefix_padding'
>;

export class VoiceActivityDetector {
  /** Duration of one model frame (ms). */
  readonly frameMs: number;
  private settings: Thresholds;

  // Model frame being filled.
  private readonly frame: Float32Array;
  private frameFill = 0;
  private frameStartAt = 0;
  private frameStartIndex = 0;

  // Ring buffer of the most recent audio; `written` counts every sample ever received.
  private readonly ring: Int16Array;
  private written = 0;
  private readonly maxSpeechSamples: number;

  // Detection state.
  private isSpeaking = false;
  private candidateFrames = 0;
  private candidateAt = 0;
  private candidateIndex = 0;
  private silenceFrames = 0;
  private speechStartAt = 0;
  private lastSpeechEndAt = 0;
  /** Sample range of the current (or last) utterance; end is undefined while it lasts. */
  private utterance: { start: number; end: number | undefined } | undefined;

  private queue: Promise<unknown> = Promise.resolve();
  private generation = 0;

  constructor(
    private readonly model: SpeechProbabilityModel,
    settings: VadSettings | Thresholds,
    options: VoiceActivityDetectorOptions = {},
  ) {
    if (!Number.isInteger(model.frameSamples) || model.frameSamples <= 0) {
      throw new RangeError(`model frame size must be a positive integer, got ${model.frameSamples}`);
    }
    this.settings = normalise(settings);
    this.frameMs = model.frameSamples / SAMPLES_PER_MS;
    this.frame = new Float32Array(model.frameSamples);
    const maxSpeechMs = Math.max(0, options.maxSpeechAudioMs ?? 30_000);
    this.maxSpeechSamples = Math.round(maxSpeechMs * SAMPLES_PER_MS);
    const ringMs = Math.max(MAX_RECENT_AUDIO_MS, maxSpeechMs + MAX_PREFIX_PADDING_MS);
    this.ring = new Int16Array(Math.ceil(ringMs * SAMPLES_PER_MS) + model.frameSamples);
  }

  /** Whether the user is speaking, as of the last model frame processed. */
  get speaking(): boolean {
    return this.isSpeaking;
  }

  /** Applies new thresholds and durations from the next model frame on (the model itself is not swapped). */
  updateSettings(settings: Partial<VadSettings>): void {
    this.settings = normalise({ ...this.settings, ...settings });
  }

  /**
   * Feeds audio of any length. Returns the events of every model frame this audio
   * completed, in order. Calls are serialised: audio is processed in call order even
   * when a call is not awaited before the next.
   */
  process(frame: AudioFrame): Promise<VadEvent[]> {
    const run = this.queue.then(() => this.run(frame));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async run({ samples, capturedAt }: AudioFrame): Promise<VadEvent[]> {
    const events: VadEvent[] = [];
    const generation = this.generation;
    const size = this.frame.length;
    let offset = 0;
    while (offset < samples.length) {
      if (this.frameFill === 0) {
        this.frameStartAt = capturedAt + offset / SAMPLES_PER_MS;
        this.frameStartIndex = this.written;
      }
      const n = Math.min(size - this.frameFill, samples.length - offset);
      const chunk = samples.subarray(offset, offset + n);
      for (let i = 0; i < n; i++) this.frame[this.frameFill + i] = chunk[i]! / 32768;
      this.writeRing(chunk);
      this.frameFill += n;
      offset += n;
      if (this.frameFill < size) break;
      this.frameFill = 0;
      const probability = await this.model.predict(this.frame);
      if (generation !== this.generation) return events; // reset() while the model ran
      this.onFrame(Number.isFinite(probability) ? probability : 0, events);
    }
    return events;
  }

  private onFrame(probability: number, events: VadEvent[]): void {
    const s = this.settings;
    const start = this.frameStartAt;
    const end = start + this.frameMs;
    let change: VadEvent | undefined;
    if (!this.isSpeaking) {
      if (probability >= s.activation_threshold) {
        if (this.candidateFrames === 0) {
          this.candidateAt = start;
          this.candidateIndex = this.frameStartIndex;
        }
        this.candidateFrames++;
        if (this.candidateFrames * this.frameMs + EPSILON_MS >= s.min_speech_duration * 1000) {
          this.isSpeaking = true;
          this.silenceFrames = 0;
          this.speechStartAt = this.candidateAt;
          this.lastSpeechEndAt = end;
          this.utterance = { start: this.candidateIndex, end: undefined };
          change = { type: 'speech_started', at: this.candidateAt, detectedAt: end };
        }
      } else {
        this.candidateFrames = 0;
      }
    } else if (probability >= s.deactivation_threshold) {
      this.silenceFrames = 0;
      this.lastSpeechEndAt = end;
      if (this.utterance) this.utterance.end = undefined;
    } else {
      if (this.silenceFrames === 0 && this.utterance) this.utterance.end = this.frameStartIndex;
      this.silenceFrames++;
      if (this.silenceFrames * this.frameMs + EPSILON_MS >= s.min_silence_duration * 1000) {
        this.isSpeaking = false;
        this.candidateFrames = 0;
        change = {
          type: 'speech_ended',
          at: this.lastSpeechEndAt,
          detectedAt: end,
          durationMs: this.lastSpeechEndAt - this.speechStartAt,
        };
      }
    }
    events.push({ type: 'probability', at: start, probability, speaking: this.isSpeaking });
    if (change) events.push(change);
  }

  private writeRing(chunk: Int16Array): void {
    const cap = this.ring.length;
    // Only the last `cap` samples of a huge chunk can survive.
    const skip = Math.max(0, chunk.length - cap);
    let pos = (this.written + skip) % cap;
    let rest = chunk.subarray(skip);
    while (rest.length > 0) {
      const n = Math.min(rest.length, cap - pos);
      this.ring.set(rest.subarray(0, n), pos);
      rest = rest.subarray(n);
      pos = (pos + n) % cap;
    }
    this.written += chunk.length;
  }

  /** Copies samples [from, to) (absolute indices, still in the ring) out of the ring. */
  private readRing(from: number, to: number): Int16Array {
    const cap = this.ring.length;
    const start = Math.max(from, this.written - cap, 0);
    const out = new Int16Array(Math.max(0, to - start));
    let pos = start % cap;
    let filled = 0;
    while (filled < out.length) {
      const n = Math.min(out.length - filled, cap - pos);
      out.set(this.ring.subarray(pos, pos + n), filled);
      filled += n;
      pos = (pos + n) % cap;
    }
    return out;
  }

  /** The last `ms` of audio received (at most 8 s, less if less was received). */
  recentAudio(ms: number): Int16Array {
    const wanted = Math.round(Math.min(Math.max(ms, 0), MAX_RECENT_AUDIO_MS) * SAMPLES_PER_MS);
    return this.readRing(this.written - Math.min(wanted, this.written), this.written);
  }

  /**
   * Audio of the current utterance (up to the latest sample while speech lasts), or of
   * the last one once it ended (up to its last speech frame), with `prefix_padding` of
   * audio before its start. Empty before any speech. An utterance longer than
   * maxSpeechAudioMs is returned without its beginning.
   */
  speechAudio(): Int16Array {
    const u = this.utterance;
    if (!u) return new Int16Array(0);
    const to = u.end === undefined || this.isSpeaking ? this.written : u.end;
    const prefix = Math.round(this.settings.prefix_padding * SAMPLE_RATE);
    const from = Math.max(u.start - prefix, to - this.maxSpeechSamples - prefix);
    return this.readRing(from, to);
  }

  /** Forgets all audio and state, as at the start of a new stream (no speech_ended is emitted). */
  reset(): void {
    this.generation++;
    this.model.reset();
    this.frameFill = 0;
    this.written = 0;
    this.isSpeaking = false;
    this.candidateFrames = 0;
    this.silenceFrames = 0;
    this.utterance = undefined;
  }
}

function normalise(s: Thresholds): Thresholds {
  const prefix = Math.min(Math.max(s.prefix_padding, 0), MAX_PREFIX_PADDING_MS / 1000);
  return {
    activation_threshold: s.activation_threshold,
    // Hysteresis needs deactivation <= activation (the settings schema enforces it too).
    deactivation_threshold: Math.min(s.deactivation_threshold, s.activation_threshold),
    min_speech_duration: Math.max(0, s.min_speech_duration),
    min_silence_duration: Math.max(0, s.min_silence_duration),
    prefix_padding: prefix,
  };
}
