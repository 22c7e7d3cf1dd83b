import { describe, expect, it } from 'vitest';
import { downmix, floatToInt16, int16ToFloat } from '../../src/renderer/src/audio/pcm';
import { StreamResampler, resample } from '../../src/renderer/src/audio/resampler';

function tone(frequency: number, rate: number, seconds: number, amplitude = 0.5, phase = 0): Float32Array {
  const n = Math.round(rate * seconds);
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = amplitude * Math.sin((2 * Math.PI * frequency * i) / rate + phase);
  return x;
}

/** RMS of the middle of a signal (away from the start and end transients). */
function middleRms(x: Float32Array): number {
  const from = Math.floor(x.length * 0.2);
  const to = Math.floor(x.length * 0.8);
  let sum = 0;
  for (let i = from; i < to; i++) sum += x[i]! * x[i]!;
  return Math.sqrt(sum / (to - from));
}

/** Amplitude of one frequency in the middle of a signal (Goertzel). */
function amplitudeAt(x: Float32Array, frequency: number, rate: number): number {
  const from = Math.floor(x.length * 0.2);
  const to = Math.floor(x.length * 0.8);
  const w = (2 * Math.PI * frequency) / rate;
  let re = 0;
  let im = 0;
  for (let i = from; i < to; i++) {
    re += x[i]! * Math.cos(w * i);
    im -= x[i]! * Math.sin(w * i);
  }
  return (2 * Math.hypot(re, im)) / (to - from);
}

const db = (ratio: number) => 20 * Math.log10(ratio);

describe('resampler: capture (context rate → 16 kHz)', () => {
  for (const inRate of [48_000, 44_100, 96_000]) {
    it(`passes tones below 7 kHz within 1 dB from ${inRate} Hz`, () => {
      for (const f of [100, 440, 1000, 3000, 5000, 6500, 6990]) {
        const x = tone(f, inRate, 0.5);
        const y = resample(x, inRate, 16_000);
        const gain = db(middleRms(y) / middleRms(x));
        expect(Math.abs(gain), `${f} Hz: ${gain.toFixed(3)} dB`).toBeLessThan(1);
      }
    });

    it(`attenuates what would alias (above 8.8 kHz) by more than 40 dB from ${inRate} Hz`, () => {
      for (const f of [9000, 10_000, 12_000, 15_000, 20_000]) {
        const x = tone(f, inRate, 0.5);
        const y = resample(x, inRate, 16_000);
        const gain = db(middleRms(y) / middleRms(x));
        expect(gain, `${f} Hz: ${gain.toFixed(1)} dB`).toBeLessThan(-40);
      }
    });
  }

  it('attenuates a 12 kHz tone from 48 kHz by more than 70 dB (it would alias to 4 kHz)', () => {
    const y = resample(tone(12_000, 48_000, 1), 48_000, 16_000);
    expect(db(amplitudeAt(y, 4000, 16_000) / 0.5)).toBeLessThan(-70);
    expect(db(middleRms(y) / (0.5 / Math.SQRT2))).toBeLessThan(-70);
  });

  it('is aligned with its input: the output is the same tone sampled at 16 kHz', () => {
    const x = tone(1000, 48_000, 0.5, 0.5, 0.3);
    const y = resample(x, 48_000, 16_000);
    const ideal = tone(1000, 16_000, 0.5, 0.5, 0.3);
    expect(y.length).toBe(ideal.length);
    const error = new Float32Array(y.length);
    for (let i = 0; i < y.length; i++) error[i] = y[i]! - ideal[i]!;
    expect(db(middleRms(error) / middleRms(ideal))).toBeLessThan(-60);
  });
});

describe('resampler: playback (provider rate → context rate)', () => {
  const pairs: [number, number][] = [
    [16_000, 48_000],
    [22_050, 48_000],
    [24_000, 48_000],
    [16_000, 44_100],
    [22_050, 44_100],
    [24_000, 44_100],
  ];
  for (const [inRate, outRate] of pairs) {
    it(`${inRate} → ${outRate} Hz: flat below 7 kHz, no images, aligned`, () => {
      for (const f of [200, 1000, 4000, 6900]) {
        const x = tone(f, inRate, 0.5, 0.5, 0.7);
        const y = resample(x, inRate, outRate);
        expect(y.length).toBe(Math.ceil((x.length * outRate) / inRate));
        const gain = db(amplitudeAt(y, f, outRate) / 0.5);
        expect(Math.abs(gain), `${f} Hz`).toBeLessThan(1);
        // The first image of the tone, mirrored at the input's Nyquist.
        const image = inRate - f;
        expect(db(amplitudeAt(y, image, outRate) / 0.5), `image of ${f} Hz`).toBeLessThan(-60);
      }
      const x = tone(1000, inRate, 0.5, 0.5, 0.7);
      const y = resample(x, inRate, outRate);
      const ideal = tone(1000, outRate, y.length / outRate, 0.5, 0.7);
      const error = y.map((v, i) => v - ideal[i]!);
      expect(db(middleRms(error) / middleRms(ideal))).toBeLessThan(-60);
    });
  }

  it('handles a ratio too fine for exact phases (interpolated filter table)', () => {
    const x = tone(1000, 44_100, 0.5, 0.5, 0.2);
    const y = resample(x, 44_100, 16_001);
    expect(y.length).toBe(Math.ceil((x.length * 16_001) / 44_100));
    const ideal = tone(1000, 16_001, y.length / 16_001, 0.5, 0.2);
    const error = y.map((v, i) => v - ideal[i]!);
    expect(db(middleRms(error) / middleRms(ideal))).toBeLessThan(-50);
  });
});

describe('resampler: streaming', () => {
  const pairs: [number, number][] = [
    [48_000, 16_000],
    [44_100, 16_000],
    [24_000, 48_000],
    [22_050, 44_100],
    [22_050, 48_000],
    [16_000, 16_000],
  ];
  for (const [inRate, outRate] of pairs) {
    it(`${inRate} → ${outRate} Hz in odd block sizes equals one-shot, sample for sample`, () => {
      const x = new Float32Array(inRate / 4);
      let seed = 7;
      for (let i = 0; i < x.length; i++) {
        seed = (seed * 1103515245 + 12345) % 2147483648;
        x[i] = (seed / 2147483648) * 2 - 1;
      }
      const oneShot = resample(x, inRate, outRate);
      const streamer = new StreamResampler(inRate, outRate);
      const parts: Float32Array[] = [];
      const sizes = [1, 7, 128, 3, 333, 0, 127, 129, 1000, 2];
      let at = 0;
      for (let k = 0; at < x.length; k++) {
        const size = sizes[k % sizes.length]!;
        parts.push(streamer.push(x.subarray(at, Math.min(x.length, at + size))));
        at += size;
      }
      parts.push(streamer.flush());
      const streamed = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
      let offset = 0;
      for (const p of parts) {
        streamed.set(p, offset);
        offset += p.length;
      }
      expect(streamed.length).toBe(oneShot.length);
      expect(streamed).toEqual(oneShot);
      expect(streamer.outputCount).toBe(oneShot.length);
      expect(streamer.inputCount).toBe(x.length);
    });
  }

  it('pushInto writes into a caller buffer, within maxOutput, with no output lost', () => {
    const r = new StreamResampler(44_100, 16_000);
    const out = new Float32Array(r.maxOutput(128));
    let total = 0;
    for (let q = 0; q < 1000; q++) {
      const n = r.pushInto(new Float32Array(128).fill(0.25), out);
      expect(n).toBeLessThanOrEqual(out.length);
      if (q > 10) for (let i = 0; i < n; i++) expect(out[i]).toBeCloseTo(0.25, 5);
      total += n;
    }
    total += r.flush().length;
    expect(total).toBe(Math.ceil((128_000 * 16_000) / 44_100));
  });

  it('holds back only half a filter (the streaming latency) and can be reset', () => {
    const r = new StreamResampler(48_000, 16_000);
    expect(r.lookaheadSeconds).toBeLessThan(0.002);
    const first = r.push(tone(500, 48_000, 0.1));
    r.reset();
    expect(r.push(tone(500, 48_000, 0.1))).toEqual(first);
    r.flush();
    expect(() => r.push(new Float32Array(1))).toThrow(/after flush/);
  });

  it('rejects impossible rates', () => {
    expect(() => new StreamResampler(0, 16_000)).toThrow(RangeError);
    expect(() => new StreamResampler(44_100.5, 16_000)).toThrow(RangeError);
  });
});

describe('pcm helpers', () => {
  it('converts float to Int16 with rounding and clipping, and back', () => {
    expect([...floatToInt16([0, 0.5, -0.5, 1, -1, 2, -2, 1e-6])]).toEqual([
      0, 16384, -16384, 32767, -32768, 32767, -32768, 0,
    ]);
    expect([...int16ToFloat(new Int16Array([0, 16384, -32768]))]).toEqual([0, 0.5, -1]);
  });

  it('downmixes channels by averaging; no channels is no input', () => {
    const out = new Float32Array(3);
    expect(downmix([new Float32Array([1, 0, 0.5]), new Float32Array([0, 0, 0.5])], out)).toBe(3);
    expect([...out]).toEqual([0.5, 0, 0.5]);
    expect(downmix([new Float32Array([0.25, 0.5, 1])], out)).toBe(3);
    expect([...out]).toEqual([0.25, 0.5, 1]);
    expect(downmix([], out)).toBe(0);
  });
});
