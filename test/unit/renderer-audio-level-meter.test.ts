import { describe, expect, it } from 'vitest';
import { LEVEL_FLOOR_DB, LevelMeter, peakDbfs, rmsDbfs } from '../../src/renderer/src/audio/level-meter';

function sine(amplitude: number, n = 1600, rate = 16_000, frequency = 1000): Float32Array {
  return Float32Array.from(
    { length: n },
    (_, i) => amplitude * Math.sin((2 * Math.PI * frequency * i) / rate),
  );
}

describe('level meter: dBFS', () => {
  it('measures a full-scale sine at −3 dBFS RMS and 0 dBFS peak, in Float32 and Int16', () => {
    const x = sine(1);
    expect(rmsDbfs(x)).toBeCloseTo(-3.01, 1);
    expect(peakDbfs(x)).toBeCloseTo(0, 2);
    const pcm = Int16Array.from(x, (v) => Math.round(v * 32767));
    expect(rmsDbfs(pcm)).toBeCloseTo(-3.01, 1);
    expect(peakDbfs(pcm)).toBeCloseTo(0, 2);
  });

  it('gives −6 dB for half the amplitude and the floor for silence', () => {
    expect(rmsDbfs(sine(0.5)) - rmsDbfs(sine(1))).toBeCloseTo(-6.02, 1);
    expect(rmsDbfs(new Float32Array(100))).toBe(LEVEL_FLOOR_DB);
    expect(peakDbfs(new Int16Array(100))).toBe(LEVEL_FLOOR_DB);
    expect(rmsDbfs(new Float32Array(0))).toBe(LEVEL_FLOOR_DB);
  });
});

describe('level meter: smoothing', () => {
  const frame = (amplitude: number) => sine(amplitude, 320);

  it('rises fast and falls slowly', () => {
    const meter = new LevelMeter({ attackMs: 10, releaseMs: 300 });
    // 20 ms frames of a −9 dBFS RMS tone: within 1 dB after 40 ms.
    meter.update(frame(0.5), 16_000);
    const risen = meter.update(frame(0.5), 16_000);
    expect(risen.rmsDb).toBeCloseTo(-9.03, 1);
    expect(Math.abs(risen.level - risen.rmsDb)).toBeLessThan(1);
    // Silence: after 100 ms the bar has fallen by a third of the way, not to the floor.
    let reading = risen;
    for (let i = 0; i < 5; i++) reading = meter.update(new Float32Array(320), 16_000);
    const fallen = risen.level + (LEVEL_FLOOR_DB - risen.level) * (1 - Math.exp(-100 / 300));
    expect(reading.level).toBeCloseTo(fallen, 3);
    expect(reading.level).toBeGreaterThan(-50);
    expect(reading.rmsDb).toBe(LEVEL_FLOOR_DB);
  });

  it('holds the peak for a second, then lets it fall at the decay rate', () => {
    const meter = new LevelMeter({ peakHoldMs: 1000, peakDecayDbPerSecond: 20 });
    meter.update(frame(1), 16_000);
    let reading = meter.reading;
    for (let i = 0; i < 50; i++) reading = meter.update(frame(0.01), 16_000); // 1 s
    expect(reading.peak).toBeCloseTo(0, 1);
    for (let i = 0; i < 25; i++) reading = meter.update(frame(0.01), 16_000); // 0.5 s more
    expect(reading.peak).toBeCloseTo(-10, 0);
    meter.reset();
    expect(meter.reading).toEqual({
      rmsDb: LEVEL_FLOOR_DB,
      peakDb: LEVEL_FLOOR_DB,
      level: LEVEL_FLOOR_DB,
      peak: LEVEL_FLOOR_DB,
    });
  });
});
