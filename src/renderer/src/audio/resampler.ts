/**
 * Streaming sample-rate conversion for the audio worklets and the playback path. Pure: no DOM,
 * no Web Audio, runs the same in Node tests and in an AudioWorkletGlobalScope.
 *
 * A polyphase windowed-sinc (Kaiser) low-pass interpolator for any pair of integer rates:
 * - the ratio is reduced to L/M (output/input) and, when L is small enough (every pair in use:
 *   48k→16k is 1/3, 44.1k→16k is 160/441, 16k→48k is 3/1, 22.05k→48k is 320/147), each output
 *   sample uses one exact precomputed phase of the filter; larger L interpolate between
 *   neighbouring phases of a 1024-phase table;
 * - the low-pass cut-off sits at the Nyquist frequency of the lower of the two rates, with a
 *   transition band of ±5 % of that rate around it (48k→16k: flat to 7.2 kHz, ≥ 80 dB down from
 *   8.8 kHz), so decimation does not alias and interpolation leaves no images;
 * - the filter's delay is compensated: output sample n is the input signal at time n / outRate,
 *   so one-shot and streamed conversions give identical output, aligned with the input. Streaming
 *   therefore holds back half a filter (for 48k→16k, 76 input samples, 1.6 ms) until more input
 *   arrives or `flush()` ends the stream.
 */

/** Stopband attenuation of the anti-aliasing filter, dB. */
export const STOPBAND_DB = 80;
/** Half-width of the transition band around the cut-off, as a fraction of the lower rate. */
const HALF_TRANSITION = 0.05;
/** Largest number of exact filter phases; above it, phases are interpolated from a table this size. */
const MAX_EXACT_PHASES = 1024;

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

/** Zeroth-order modified Bessel function of the first kind (series), for the Kaiser window. */
function besselI0(x: number): number {
  let sum = 1;
  let term = 1;
  const q = (x * x) / 4;
  for (let k = 1; k < 200; k++) {
    term *= q / (k * k);
    sum += term;
    if (term < sum * 1e-12) break;
  }
  return sum;
}

function kaiserBeta(attenuationDb: number): number {
  if (attenuationDb > 50) return 0.1102 * (attenuationDb - 8.7);
  if (attenuationDb >= 21) return 0.5842 * (attenuationDb - 21) ** 0.4 + 0.07886 * (attenuationDb - 21);
  return 0;
}

/** A prepared filter bank for one rate pair; shared between resamplers of the same pair. */
interface FilterBank {
  /** Taps per output sample (even). */
  taps: number;
  /** Table rows: phases + 1 rows of `taps` coefficients each (row `phases` is only read when interpolating). */
  phases: number;
  exact: boolean;
  coefficients: Float32Array;
}

const banks = new Map<string, FilterBank>();

function filterBank(inRate: number, outRate: number, up: number): FilterBank {
  const key = `${inRate}:${outRate}`;
  const cached = banks.get(key);
  if (cached) return cached;
  const lower = Math.min(inRate, outRate);
  // Cut-off and transition width in cycles per input sample.
  const cutoff = (0.5 * lower) / inRate;
  const transition = (2 * HALF_TRANSITION * lower) / inRate;
  let taps = Math.ceil((STOPBAND_DB - 7.95) / (2.285 * 2 * Math.PI * transition)) + 1;
  taps += taps % 2;
  const half = taps / 2;
  const exact = up <= MAX_EXACT_PHASES;
  const phases = exact ? up : MAX_EXACT_PHASES;
  const beta = kaiserBeta(STOPBAND_DB);
  const i0Beta = besselI0(beta);
  const coefficients = new Float32Array((phases + 1) * taps);
  for (let p = 0; p <= phases; p++) {
    // Fractional position of the output between input samples i and i+1.
    const frac = p / phases;
    let sum = 0;
    const row = new Float64Array(taps);
    for (let k = 0; k < taps; k++) {
      // Tap k multiplies x[i - half + 1 + k]; its distance from the output position:
      const t = k - half + 1 - frac;
      const x = t / half;
      const taper = Math.abs(x) >= 1 ? 0 : besselI0(beta * Math.sqrt(1 - x * x)) / i0Beta;
      const arg = 2 * cutoff * t;
      const sinc = arg === 0 ? 1 : Math.sin(Math.PI * arg) / (Math.PI * arg);
      row[k] = 2 * cutoff * sinc * taper;
      sum += row[k]!;
    }
    // Unity gain at DC for every phase (no ripple between phases).
    for (let k = 0; k < taps; k++) coefficients[p * taps + k] = row[k]! / sum;
  }
  const bank: FilterBank = { taps, phases, exact, coefficients };
  banks.set(key, bank);
  return bank;
}

function checkRate(name: string, rate: number): void {
  if (!Number.isInteger(rate) || rate < 1000 || rate > 768_000)
    throw new RangeError(`${name} must be a whole number of Hz between 1000 and 768000, got ${rate}`);
}

export class StreamResampler {
  readonly inRate: number;
  readonly outRate: number;
  /** Output samples per input sample. */
  readonly ratio: number;
  private readonly up: number;
  private readonly down: number;
  private readonly bank: FilterBank | null;
  private readonly half: number;
  /** Pending input: buf[0] is input sample `bufStart` (negative at first: the zero history). */
  private buf: Float32Array;
  private bufLen: number;
  private bufStart: number;
  /** Position of the next output in input samples: `pos + phase / up`. */
  private pos = 0;
  private phase = 0;
  private inputs = 0;
  private outputs = 0;
  private flushed = false;

  constructor(inRate: number, outRate: number) {
    checkRate('inRate', inRate);
    checkRate('outRate', outRate);
    this.inRate = inRate;
    this.outRate = outRate;
    this.ratio = outRate / inRate;
    const g = gcd(inRate, outRate);
    this.up = outRate / g;
    this.down = inRate / g;
    this.bank = inRate === outRate ? null : filterBank(inRate, outRate, this.up);
    this.half = this.bank ? this.bank.taps / 2 : 0;
    this.buf = new Float32Array(Math.max(256, 2 * (this.bank?.taps ?? 0) + 256));
    // Zero history before the first sample, so the first outputs see a full filter.
    this.bufStart = -(this.half > 0 ? this.half - 1 : 0);
    this.bufLen = -this.bufStart;
  }

  /** Input samples taken so far. */
  get inputCount(): number {
    return this.inputs;
  }

  /** Output samples produced so far. */
  get outputCount(): number {
    return this.outputs;
  }

  /** Input samples the filter reaches ahead of an output (the latency of streaming), in seconds. */
  get lookaheadSeconds(): number {
    return this.half / this.inRate;
  }

  /** An upper bound on the outputs one `push` of `inputLength` samples can produce. */
  maxOutput(inputLength: number): number {
    return Math.ceil(((inputLength + this.half + 1) * this.up) / this.down) + 1;
  }

  /**
   * Takes `input` and writes the outputs it completes into `out` from `offset`; returns how
   * many. `out` needs room for `maxOutput(input.length)` samples. Allocates only when the
   * input is longer than any before.
   */
  pushInto(input: ArrayLike<number>, out: Float32Array, offset = 0): number {
    if (this.flushed) throw new Error('StreamResampler: push after flush');
    this.append(input);
    return this.drain(out, offset, this.inputs);
  }

  /** Takes `input` and returns the outputs it completes (a new array). */
  push(input: ArrayLike<number>): Float32Array {
    const out = new Float32Array(this.maxOutput(input.length));
    const n = this.pushInto(input, out);
    return out.subarray(0, n);
  }

  /**
   * Ends the stream: returns the remaining outputs, so that the whole stream gives
   * ceil(inputs × outRate / inRate) samples. The resampler takes no input afterwards (`reset()` it).
   */
  flush(): Float32Array {
    if (this.flushed) return new Float32Array(0);
    this.flushed = true;
    if (!this.bank) return new Float32Array(0);
    const end = this.inputs;
    this.append(new Float32Array(this.half + 1), false);
    const out = new Float32Array(this.maxOutput(this.half + 1));
    const n = this.drain(out, 0, end, true);
    return out.subarray(0, n);
  }

  /** Starts a new stream (clears the history). */
  reset(): void {
    this.bufStart = -(this.half > 0 ? this.half - 1 : 0);
    this.bufLen = -this.bufStart;
    this.buf.fill(0, 0, this.bufLen);
    this.pos = 0;
    this.phase = 0;
    this.inputs = 0;
    this.outputs = 0;
    this.flushed = false;
  }

  private append(input: ArrayLike<number>, counts = true): void {
    const need = this.bufLen + input.length;
    if (need > this.buf.length) {
      const bigger = new Float32Array(Math.max(need, this.buf.length * 2));
      bigger.set(this.buf.subarray(0, this.bufLen));
      this.buf = bigger;
    }
    const buf = this.buf;
    const base = this.bufLen;
    for (let i = 0; i < input.length; i++) buf[base + i] = input[i]!;
    this.bufLen = need;
    if (counts) this.inputs += input.length;
  }

  /**
   * Produces every output whose filter lies within the buffer; with `end`, only outputs
   * positioned before input sample `limit` (the true end of the stream).
   */
  private drain(out: Float32Array, offset: number, limit: number, end = false): number {
    const bank = this.bank;
    let n = offset;
    if (!bank) {
      // Same rate: a copy.
      const count = this.bufLen;
      out.set(this.buf.subarray(0, count), offset);
      this.bufStart += count;
      this.bufLen = 0;
      this.pos += count;
      this.outputs += count;
      return count;
    }
    const { taps, phases, exact, coefficients } = bank;
    const half = this.half;
    const buf = this.buf;
    const up = this.up;
    const whole = Math.floor(this.down / up);
    const rest = this.down % up;
    const bufEnd = this.bufStart + this.bufLen;
    let pos = this.pos;
    let phase = this.phase;
    // Output at pos + phase/up needs inputs pos - half + 1 … pos + half.
    while (pos + half < bufEnd && (!end || pos < limit)) {
      const first = pos - half + 1 - this.bufStart;
      let acc = 0;
      if (exact) {
        const row = phase * taps;
        for (let k = 0; k < taps; k++) acc += coefficients[row + k]! * buf[first + k]!;
      } else {
        const at = (phase * phases) / up;
        const p = Math.floor(at);
        const f = at - p;
        const row0 = p * taps;
        const row1 = row0 + taps;
        for (let k = 0; k < taps; k++) {
          const c = coefficients[row0 + k]! + f * (coefficients[row1 + k]! - coefficients[row0 + k]!);
          acc += c * buf[first + k]!;
        }
      }
      out[n++] = acc;
      pos += whole;
      phase += rest;
      if (phase >= up) {
        phase -= up;
        pos += 1;
      }
    }
    this.pos = pos;
    this.phase = phase;
    // Keep only what later outputs can still reach.
    const keepFrom = pos - half + 1;
    const drop = Math.min(Math.max(0, keepFrom - this.bufStart), this.bufLen);
    if (drop > 0) {
      buf.copyWithin(0, drop, this.bufLen);
      this.bufStart += drop;
      this.bufLen -= drop;
    }
    const produced = n - offset;
    this.outputs += produced;
    return produced;
  }
}

/** One-shot conversion of a whole signal (the same samples as streaming it and flushing). */
export function resample(input: ArrayLike<number>, inRate: number, outRate: number): Float32Array {
  const r = new StreamResampler(inRate, outRate);
  const a = r.push(input);
  const b = r.flush();
  const out = new Float32Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
