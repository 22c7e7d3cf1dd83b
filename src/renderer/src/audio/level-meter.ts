/**
 * Input level for the meter: RMS and peak in dBFS (0 dBFS = full scale; a full-scale sine is
 * −3 dBFS RMS), smoothed like a VU meter (fast attack in amplitude, slow release in dB) with a
 * peak hold. Pure.
 */

/** The level of silence (digital zero) and the bottom of the meter, dBFS. */
export const LEVEL_FLOOR_DB = -100;

function scaleOf(samples: ArrayLike<number>): number {
  return samples instanceof Int16Array ? 1 / 32768 : 1;
}

function toDb(amplitude: number): number {
  if (!(amplitude > 0)) return LEVEL_FLOOR_DB;
  return Math.max(LEVEL_FLOOR_DB, 20 * Math.log10(amplitude));
}

/** RMS level of a block in dBFS (Float32 in [-1, 1] or Int16), LEVEL_FLOOR_DB for silence. */
export function rmsDbfs(samples: ArrayLike<number>): number {
  if (samples.length === 0) return LEVEL_FLOOR_DB;
  const scale = scaleOf(samples);
  let sum = 0;
  for (let i = 0; i < samples.length; i++) {
    const v = samples[i]! * scale;
    sum += v * v;
  }
  return toDb(Math.sqrt(sum / samples.length));
}

/** Sample peak of a block in dBFS, LEVEL_FLOOR_DB for silence. */
export function peakDbfs(samples: ArrayLike<number>): number {
  const scale = scaleOf(samples);
  let peak = 0;
  for (let i = 0; i < samples.length; i++) {
    const v = Math.abs(samples[i]!);
    if (v > peak) peak = v;
  }
  return toDb(peak * scale);
}

export interface LevelMeterOptions {
  /** Time constant of a rising level, ms. */
  attackMs?: number;
  /** Time constant of a falling level, ms. */
  releaseMs?: number;
  /** How long the peak indicator holds its highest value, ms. */
  peakHoldMs?: number;
  /** How fast the held peak falls afterwards, dB per second. */
  peakDecayDbPerSecond?: number;
}

export interface LevelReading {
  /** RMS of the last block, dBFS. */
  rmsDb: number;
  /** Sample peak of the last block, dBFS. */
  peakDb: number;
  /** Smoothed RMS for the meter bar, dBFS. */
  level: number;
  /** Held peak for the meter's peak mark, dBFS. */
  peak: number;
}

export class LevelMeter {
  private readonly attackMs: number;
  private readonly releaseMs: number;
  private readonly holdMs: number;
  private readonly decay: number;
  private smoothed = LEVEL_FLOOR_DB;
  private held = LEVEL_FLOOR_DB;
  private holdLeftMs = 0;
  private last: LevelReading = {
    rmsDb: LEVEL_FLOOR_DB,
    peakDb: LEVEL_FLOOR_DB,
    level: LEVEL_FLOOR_DB,
    peak: LEVEL_FLOOR_DB,
  };

  constructor(options: LevelMeterOptions = {}) {
    this.attackMs = options.attackMs ?? 10;
    this.releaseMs = options.releaseMs ?? 300;
    this.holdMs = options.peakHoldMs ?? 1000;
    this.decay = options.peakDecayDbPerSecond ?? 20;
  }

  get reading(): LevelReading {
    return this.last;
  }

  /** Takes the next block of samples (Float32 or Int16) at `sampleRate` and returns the reading. */
  update(samples: ArrayLike<number>, sampleRate: number): LevelReading {
    const dtMs = (samples.length / sampleRate) * 1000;
    const rmsDb = rmsDbfs(samples);
    const peakDb = peakDbfs(samples);
    if (rmsDb > this.smoothed) {
      // Rising: smoothed in amplitude, so a sound shows at once whatever the level before.
      const keep = this.attackMs > 0 ? Math.exp(-dtMs / this.attackMs) : 0;
      const amplitude = 10 ** (rmsDb / 20) + (10 ** (this.smoothed / 20) - 10 ** (rmsDb / 20)) * keep;
      this.smoothed = toDb(amplitude);
    } else {
      // Falling: smoothed in dB, so the bar sinks evenly.
      const keep = this.releaseMs > 0 ? Math.exp(-dtMs / this.releaseMs) : 0;
      this.smoothed = rmsDb + (this.smoothed - rmsDb) * keep;
    }
    if (peakDb >= this.held) {
      this.held = peakDb;
      this.holdLeftMs = this.holdMs;
    } else if (this.holdLeftMs > 0) {
      this.holdLeftMs = Math.max(0, this.holdLeftMs - dtMs);
    } else {
      this.held = Math.max(peakDb, this.held - (this.decay * dtMs) / 1000);
    }
    this.last = { rmsDb, peakDb, level: this.smoothed, peak: this.held };
    return this.last;
  }

  /** Back to silence (a new device, a stopped stream). */
  reset(): void {
    this.smoothed = LEVEL_FLOOR_DB;
    this.held = LEVEL_FLOOR_DB;
    this.holdLeftMs = 0;
    this.last = {
      rmsDb: LEVEL_FLOOR_DB,
      peakDb: LEVEL_FLOOR_DB,
      level: LEVEL_FLOOR_DB,
      peak: LEVEL_FLOOR_DB,
    };
  }
}
