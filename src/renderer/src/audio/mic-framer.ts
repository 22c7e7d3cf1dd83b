/**
 * What both capture paths do to the microphone's audio (the capture worklet, and the capture
 * worker that reads the track's MediaStreamTrackProcessor stream): downmix each block to mono,
 * resample it to 16 kHz with an anti-aliasing filter, cut 20 ms Int16 frames, each with the
 * capture time of its first sample, and meter them. Level readings go out at most every
 * `levelIntervalS` and only when the level moved by `levelStepDb`, and none while the meter is
 * off. Times are seconds on whatever clock the caller's block times use. No browser API.
 */
import { LevelMeter } from './level-meter';
import { downmix, floatToInt16 } from './pcm';
import { StreamResampler } from './resampler';

export interface MicFramerOptions {
  /** Rate of the blocks pushed, Hz. */
  inRate: number;
  /** Rate of the frames, Hz (default 16 000). */
  targetRate?: number;
  /** Frame length, ms (default 20). */
  frameMs?: number;
  /** Minimum interval between two level readings, s (default 0.1). */
  levelIntervalS?: number;
  /** Smallest level change worth a reading, dB (default 1). */
  levelStepDb?: number;
}

export interface MicFramerOutput {
  /** A whole frame (a new buffer each time, free to transfer) and its first sample's capture time, s. */
  frame(samples: Int16Array, capturedAt: number): void;
  /** The meter moved: smoothed RMS and held peak, dBFS. */
  level(level: number, peak: number): void;
}

export class MicFramer {
  readonly inRate: number;
  readonly targetRate: number;
  private readonly resampler: StreamResampler;
  private readonly frameSamples: number;
  private readonly frame: Float32Array;
  private mono = new Float32Array(128);
  private resampled: Float32Array;
  private filled = 0;
  private frameTime = 0;
  private readonly meter = new LevelMeter();
  private readonly levelIntervalS: number;
  private readonly levelStepDb: number;
  private postedLevel = Number.NEGATIVE_INFINITY;
  private postedLevelAt = Number.NEGATIVE_INFINITY;
  private meterOn = true;

  constructor(
    options: MicFramerOptions,
    private readonly output: MicFramerOutput,
  ) {
    this.inRate = options.inRate;
    this.targetRate = options.targetRate ?? 16_000;
    this.levelIntervalS = options.levelIntervalS ?? 0.1;
    this.levelStepDb = options.levelStepDb ?? 1;
    this.resampler = new StreamResampler(this.inRate, this.targetRate);
    this.frameSamples = Math.max(1, Math.round((this.targetRate * (options.frameMs ?? 20)) / 1000));
    this.frame = new Float32Array(this.frameSamples);
    this.resampled = new Float32Array(this.resampler.maxOutput(128));
  }

  /** Level readings on or off; turned on, the next frame gives one. */
  setMeter(on: boolean): void {
    this.meterOn = on;
    this.postedLevel = Number.NEGATIVE_INFINITY;
    this.postedLevelAt = Number.NEGATIVE_INFINITY;
  }

  /** Drops the partial frame and the resampler's history (a new stream). */
  reset(): void {
    this.resampler.reset();
    this.filled = 0;
  }

  /**
   * One block: `channels` (at least `frames` samples each) whose first sample was captured at
   * `startTime`; `now` (same clock) paces the level readings.
   */
  push(channels: readonly Float32Array[], frames: number, startTime: number, now: number): void {
    if (channels.length === 0 || frames === 0) return;
    if (this.mono.length < frames) {
      this.mono = new Float32Array(frames);
      this.resampled = new Float32Array(this.resampler.maxOutput(frames));
    }
    const block = channels[0]!.length === frames ? channels : channels.map((c) => c.subarray(0, frames));
    downmix(block, this.mono);
    const resampler = this.resampler;
    const inputsBefore = resampler.inputCount;
    const outputsBefore = resampler.outputCount;
    const count = resampler.pushInto(
      frames === this.mono.length ? this.mono : this.mono.subarray(0, frames),
      this.resampled,
    );
    for (let i = 0; i < count; i++) {
      if (this.filled === 0) {
        // Output n is the input signal at input sample n × inRate / outRate.
        const position = ((outputsBefore + i) * this.inRate) / this.targetRate;
        this.frameTime = startTime + (position - inputsBefore) / this.inRate;
      }
      this.frame[this.filled++] = this.resampled[i]!;
      if (this.filled === this.frameSamples) {
        this.filled = 0;
        const samples = floatToInt16(this.frame);
        this.meterFrame(samples, now);
        this.output.frame(samples, this.frameTime);
      }
    }
  }

  private meterFrame(samples: Int16Array, now: number): void {
    const { level, peak } = this.meter.update(samples, this.targetRate);
    if (!this.meterOn) return;
    if (now - this.postedLevelAt < this.levelIntervalS) return;
    if (Math.abs(level - this.postedLevel) < this.levelStepDb) return;
    this.postedLevel = level;
    this.postedLevelAt = now;
    this.output.level(level, peak);
  }
}
