/**
 * Whisper log-mel features in TypeScript, and the Smart Turn v3 preparation around them.
 *
 * Whisper's feature extractor (Hugging Face WhisperFeatureExtractor, numpy path), for 16 kHz audio:
 *  - periodic Hann window of 400 samples, hop 160 (10 ms), centred frames: the signal is
 *    reflect-padded by 200 samples on both sides (the edge sample is not repeated);
 *  - power spectrum |rFFT|² of each 400-sample frame (201 bins, 0..8000 Hz);
 *  - 80 triangular mel filters on the Slaney mel scale from 0 to 8000 Hz, Slaney-normalised
 *    (each filter scaled by 2 / its width in Hz);
 *  - log10(max(mel, 1e-10)); the last frame is dropped (n samples → floor(n / 160) frames);
 *  - dynamic range clamp to (global max − 8), then (x + 4) / 4.
 *
 * Smart Turn v3 (pipecat-ai/smart-turn) feeds its model with, per call:
 *  - the last 8 s of 16 kHz audio (128 000 samples), zero-padded at the *start* when shorter;
 *  - zero-mean unit-variance normalisation of that whole 8 s window, zero padding included
 *    (`do_normalize=True`: (x − mean) / sqrt(var + 1e-7), population variance);
 *  - the log-mel above → 80 × 800 floats, row-major [mel][frame], as `input_features` [1, 80, 800].
 *
 * Everything is computed in float64 and written as float32. The FFT is a mixed-radix Stockham
 * FFT (400 = 4·4·5·5) run on two real frames at once (one as the real part, one as the imaginary
 * part), so 800 frames cost 400 complex 400-point FFTs. Buffers are allocated once per instance:
 * an instance is not re-entrant, but it is cheap to keep one per model.
 */

export const WHISPER_SAMPLE_RATE = 16_000;
export const WHISPER_N_FFT = 400;
export const WHISPER_HOP_LENGTH = 160;
export const WHISPER_N_MELS = 80;
/** Floor under the mel energies before log10. */
const MEL_FLOOR = 1e-10;
/** Dynamic range kept below the maximum, in log10 units (80 dB). */
const DYNAMIC_RANGE = 8;
/** Added to the variance by Whisper's zero-mean unit-variance normalisation. */
const NORMALIZE_EPSILON = 1e-7;

/** Seconds of audio Smart Turn v3 looks at. */
export const SMART_TURN_SECONDS = 8;
/** Samples of audio Smart Turn v3 looks at (8 s at 16 kHz). */
export const SMART_TURN_SAMPLES = SMART_TURN_SECONDS * WHISPER_SAMPLE_RATE;
/** Log-mel frames of the Smart Turn input (128 000 / 160). */
export const SMART_TURN_FRAMES = SMART_TURN_SAMPLES / WHISPER_HOP_LENGTH;
/** Floats in one Smart Turn input: 80 × 800. */
export const SMART_TURN_FEATURES = WHISPER_N_MELS * SMART_TURN_FRAMES;

/** Audio accepted by the extractors: 16 kHz mono, Int16 PCM or floats in [-1, 1]. */
export type PcmInput = Int16Array | Float32Array | Float64Array;

/**
 * Copies audio[from, from + count) into target[at, at + count) as floats in [-1, 1] (Int16 divided
 * by 32768). Typed-array set() does the conversion natively; only Int16 needs a scaling pass.
 */
function copySamples(audio: PcmInput, from: number, count: number, target: Float64Array, at: number): void {
  target.set(audio.subarray(from, from + count), at);
  if (audio instanceof Int16Array) {
    for (let i = at; i < at + count; i++) target[i] = target[i]! / 32768;
  }
}

// ---------- FFT ----------

interface Stage {
  radix: number;
  /** Length of the sub-transforms this stage splits (n), and the stride of its elements (s). */
  n: number;
  stride: number;
  /** Twiddles w^(r·j), w = e^(−2πi/n), for j < n/radix and 1 ≤ r < radix: [re, im] interleaved. */
  twiddles: Float64Array;
}

/** Factors of n: 4s and 5s first, then 2s, 3s and any other prime. */
function factorize(n: number): number[] {
  const factors: number[] = [];
  let rest = n;
  for (const p of [4, 5, 2, 3]) {
    while (rest % p === 0) {
      factors.push(p);
      rest /= p;
    }
  }
  for (let p = 7; rest > 1; p += 2) {
    while (rest % p === 0) {
      factors.push(p);
      rest /= p;
    }
  }
  return factors;
}

/**
 * In-place forward complex FFT of a fixed length (any length; fast for products of 2, 4 and 5):
 * X[k] = Σ x[t]·e^(−2πi·kt/N). Stockham auto-sort: each stage reads one buffer and writes the
 * other, no bit reversal.
 */
export class ComplexFft {
  private readonly stages: Stage[] = [];
  private readonly scratchRe: Float64Array;
  private readonly scratchIm: Float64Array;

  constructor(readonly size: number) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`FFT size must be a positive integer`);
    this.scratchRe = new Float64Array(size);
    this.scratchIm = new Float64Array(size);
    let n = size;
    let stride = 1;
    for (const radix of factorize(size)) {
      const m = n / radix;
      const twiddles = new Float64Array(2 * m * (radix - 1));
      for (let j = 0; j < m; j++) {
        for (let r = 1; r < radix; r++) {
          const angle = (-2 * Math.PI * r * j) / n;
          const at = 2 * (j * (radix - 1) + r - 1);
          twiddles[at] = Math.cos(angle);
          twiddles[at + 1] = Math.sin(angle);
        }
      }
      this.stages.push({ radix, n, stride, twiddles });
      n = m;
      stride *= radix;
    }
  }

  /** Transforms (re, im) in place. */
  transform(re: Float64Array, im: Float64Array): void {
    let xr = re;
    let xi = im;
    let yr = this.scratchRe;
    let yi = this.scratchIm;
    for (const stage of this.stages) {
      switch (stage.radix) {
        case 4:
          radix4(stage, xr, xi, yr, yi);
          break;
        case 5:
          radix5(stage, xr, xi, yr, yi);
          break;
        case 2:
          radix2(stage, xr, xi, yr, yi);
          break;
        default:
          radixGeneric(stage, xr, xi, yr, yi);
      }
      [xr, yr] = [yr, xr];
      [xi, yi] = [yi, xi];
    }
    if (xr !== re) {
      re.set(xr);
      im.set(xi);
    }
  }
}

// Each stage: for j < m = n/p and q < s, the p inputs x[q + s(j + km)] (k < p) go through a
// p-point DFT; output r, times the twiddle w^(rj), goes to y[q + s(pj + r)].

function radix2(stage: Stage, xr: Float64Array, xi: Float64Array, yr: Float64Array, yi: Float64Array) {
  const { n, stride: s, twiddles: tw } = stage;
  const m = n / 2;
  for (let j = 0; j < m; j++) {
    const wr = tw[2 * j]!;
    const wi = tw[2 * j + 1]!;
    for (let q = 0; q < s; q++) {
      const a = q + s * j;
      const b = a + s * m;
      const ar = xr[a]!;
      const ai = xi[a]!;
      const br = xr[b]!;
      const bi = xi[b]!;
      const o = q + s * 2 * j;
      yr[o] = ar + br;
      yi[o] = ai + bi;
      const dr = ar - br;
      const di = ai - bi;
      yr[o + s] = dr * wr - di * wi;
      yi[o + s] = dr * wi + di * wr;
    }
  }
}

function radix4(stage: Stage, xr: Float64Array, xi: Float64Array, yr: Float64Array, yi: Float64Array) {
  const { n, stride: s, twiddles: tw } = stage;
  const m = n / 4;
  const sm = s * m;
  for (let j = 0; j < m; j++) {
    const w1r = tw[6 * j]!;
    const w1i = tw[6 * j + 1]!;
    const w2r = tw[6 * j + 2]!;
    const w2i = tw[6 * j + 3]!;
    const w3r = tw[6 * j + 4]!;
    const w3i = tw[6 * j + 5]!;
    for (let q = 0; q < s; q++) {
      const i0 = q + s * j;
      const a0r = xr[i0]!;
      const a0i = xi[i0]!;
      const a1r = xr[i0 + sm]!;
      const a1i = xi[i0 + sm]!;
      const a2r = xr[i0 + 2 * sm]!;
      const a2i = xi[i0 + 2 * sm]!;
      const a3r = xr[i0 + 3 * sm]!;
      const a3i = xi[i0 + 3 * sm]!;
      const t0r = a0r + a2r;
      const t0i = a0i + a2i;
      const t1r = a0r - a2r;
      const t1i = a0i - a2i;
      const t2r = a1r + a3r;
      const t2i = a1i + a3i;
      const t3r = a1r - a3r;
      const t3i = a1i - a3i;
      // b1 = t1 − i·t3, b3 = t1 + i·t3
      const b1r = t1r + t3i;
      const b1i = t1i - t3r;
      const b2r = t0r - t2r;
      const b2i = t0i - t2i;
      const b3r = t1r - t3i;
      const b3i = t1i + t3r;
      const o = q + s * 4 * j;
      yr[o] = t0r + t2r;
      yi[o] = t0i + t2i;
      yr[o + s] = b1r * w1r - b1i * w1i;
      yi[o + s] = b1r * w1i + b1i * w1r;
      yr[o + 2 * s] = b2r * w2r - b2i * w2i;
      yi[o + 2 * s] = b2r * w2i + b2i * w2r;
      yr[o + 3 * s] = b3r * w3r - b3i * w3i;
      yi[o + 3 * s] = b3r * w3i + b3i * w3r;
    }
  }
}

const C1 = Math.cos((2 * Math.PI) / 5);
const C2 = Math.cos((4 * Math.PI) / 5);
const S1 = Math.sin((2 * Math.PI) / 5);
const S2 = Math.sin((4 * Math.PI) / 5);

function radix5(stage: Stage, xr: Float64Array, xi: Float64Array, yr: Float64Array, yi: Float64Array) {
  const { n, stride: s, twiddles: tw } = stage;
  const m = n / 5;
  const sm = s * m;
  for (let j = 0; j < m; j++) {
    const base = 8 * j;
    const w1r = tw[base]!;
    const w1i = tw[base + 1]!;
    const w2r = tw[base + 2]!;
    const w2i = tw[base + 3]!;
    const w3r = tw[base + 4]!;
    const w3i = tw[base + 5]!;
    const w4r = tw[base + 6]!;
    const w4i = tw[base + 7]!;
    for (let q = 0; q < s; q++) {
      const i0 = q + s * j;
      const a0r = xr[i0]!;
      const a0i = xi[i0]!;
      const a1r = xr[i0 + sm]!;
      const a1i = xi[i0 + sm]!;
      const a2r = xr[i0 + 2 * sm]!;
      const a2i = xi[i0 + 2 * sm]!;
      const a3r = xr[i0 + 3 * sm]!;
      const a3i = xi[i0 + 3 * sm]!;
      const a4r = xr[i0 + 4 * sm]!;
      const a4i = xi[i0 + 4 * sm]!;
      const t1r = a1r + a4r;
      const t1i = a1i + a4i;
      const t2r = a2r + a3r;
      const t2i = a2i + a3i;
      const t3r = a1r - a4r;
      const t3i = a1i - a4i;
      const t4r = a2r - a3r;
      const t4i = a2i - a3i;
      // b1,4 = a0 + c1·t1 + c2·t2 ∓ i(s1·t3 + s2·t4); b2,3 = a0 + c2·t1 + c1·t2 ∓ i(s2·t3 − s1·t4)
      const p1r = a0r + C1 * t1r + C2 * t2r;
      const p1i = a0i + C1 * t1i + C2 * t2i;
      const p2r = a0r + C2 * t1r + C1 * t2r;
      const p2i = a0i + C2 * t1i + C1 * t2i;
      const u1r = S1 * t3r + S2 * t4r;
      const u1i = S1 * t3i + S2 * t4i;
      const u2r = S2 * t3r - S1 * t4r;
      const u2i = S2 * t3i - S1 * t4i;
      const b1r = p1r + u1i;
      const b1i = p1i - u1r;
      const b4r = p1r - u1i;
      const b4i = p1i + u1r;
      const b2r = p2r + u2i;
      const b2i = p2i - u2r;
      const b3r = p2r - u2i;
      const b3i = p2i + u2r;
      const o = q + s * 5 * j;
      yr[o] = a0r + t1r + t2r;
      yi[o] = a0i + t1i + t2i;
      yr[o + s] = b1r * w1r - b1i * w1i;
      yi[o + s] = b1r * w1i + b1i * w1r;
      yr[o + 2 * s] = b2r * w2r - b2i * w2i;
      yi[o + 2 * s] = b2r * w2i + b2i * w2r;
      yr[o + 3 * s] = b3r * w3r - b3i * w3i;
      yi[o + 3 * s] = b3r * w3i + b3i * w3r;
      yr[o + 4 * s] = b4r * w4r - b4i * w4i;
      yi[o + 4 * s] = b4r * w4i + b4i * w4r;
    }
  }
}

/** Any radix, by a direct p-point DFT (radix 3 and primes above 5; Whisper's 400 never needs it). */
function radixGeneric(stage: Stage, xr: Float64Array, xi: Float64Array, yr: Float64Array, yi: Float64Array) {
  const { radix: p, n, stride: s, twiddles: tw } = stage;
  const m = n / p;
  for (let j = 0; j < m; j++) {
    for (let q = 0; q < s; q++) {
      for (let r = 0; r < p; r++) {
        let sr = 0;
        let si = 0;
        for (let k = 0; k < p; k++) {
          const angle = (-2 * Math.PI * ((r * k) % p)) / p;
          const c = Math.cos(angle);
          const sn = Math.sin(angle);
          const at = q + s * (j + k * m);
          sr += xr[at]! * c - xi[at]! * sn;
          si += xr[at]! * sn + xi[at]! * c;
        }
        const o = q + s * (p * j + r);
        if (r === 0) {
          yr[o] = sr;
          yi[o] = si;
        } else {
          const wr = tw[2 * (j * (p - 1) + r - 1)]!;
          const wi = tw[2 * (j * (p - 1) + r - 1) + 1]!;
          yr[o] = sr * wr - si * wi;
          yi[o] = sr * wi + si * wr;
        }
      }
    }
  }
}

// ---------- mel filters and window ----------

/** Hz → mel on the Slaney scale: linear below 1 kHz (3 mel per 200 Hz), logarithmic above. */
export function hertzToMelSlaney(hz: number): number {
  if (hz < 1000) return (3 * hz) / 200;
  return 15 + (Math.log(hz / 1000) * 27) / Math.log(6.4);
}

export function melToHertzSlaney(mel: number): number {
  if (mel < 15) return (200 * mel) / 3;
  return 1000 * Math.exp((Math.log(6.4) / 27) * (mel - 15));
}

/** One triangular filter: the weights of bins [start, start + weights.length). */
export interface MelFilter {
  start: number;
  weights: Float64Array;
}

/**
 * Slaney-style mel filterbank (as librosa/Whisper): `nMels` triangles between mel points evenly
 * spaced on the Slaney scale from 0 Hz to sampleRate/2, each scaled by 2 / (its width in Hz).
 * Returns the non-zero span of each filter over the nFft/2 + 1 rFFT bins.
 */
export function melFilterbank(
  nMels = WHISPER_N_MELS,
  nFft = WHISPER_N_FFT,
  sampleRate = WHISPER_SAMPLE_RATE,
): MelFilter[] {
  const bins = Math.floor(nFft / 2) + 1;
  const melMax = hertzToMelSlaney(sampleRate / 2);
  const edges = Array.from({ length: nMels + 2 }, (_, i) => melToHertzSlaney((melMax * i) / (nMels + 1)));
  const filters: MelFilter[] = [];
  for (let m = 0; m < nMels; m++) {
    const lo = edges[m]!;
    const mid = edges[m + 1]!;
    const hi = edges[m + 2]!;
    const scale = 2 / (hi - lo);
    const dense = new Float64Array(bins);
    let first = -1;
    let last = -1;
    for (let k = 0; k < bins; k++) {
      const hz = (k * (sampleRate / 2)) / (bins - 1);
      const w = Math.max(0, Math.min((hz - lo) / (mid - lo), (hi - hz) / (hi - mid))) * scale;
      dense[k] = w;
      if (w > 0) {
        if (first < 0) first = k;
        last = k;
      }
    }
    filters.push(
      first < 0
        ? { start: 0, weights: new Float64Array(0) }
        : { start: first, weights: dense.slice(first, last + 1) },
    );
  }
  return filters;
}

/** Periodic Hann window (as torch.hann_window / numpy hanning(n + 1)[:-1]). */
export function periodicHann(length: number): Float64Array {
  const w = new Float64Array(length);
  for (let i = 0; i < length; i++) w[i] = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / length);
  return w;
}

// ---------- the extractor ----------

/** Log-mel frames Whisper produces for `samples` samples (the last STFT frame is dropped). */
export function logMelFrameCount(samples: number): number {
  return Math.floor(samples / WHISPER_HOP_LENGTH);
}

/**
 * Whisper log-mel extractor for 16 kHz audio. One instance owns its scratch buffers (reused
 * from call to call, grown when a longer input comes): not re-entrant.
 */
export class WhisperLogMel {
  private readonly window = periodicHann(WHISPER_N_FFT);
  /** The mel filters flattened: filter m weighs bins [starts[m], starts[m] + lengths[m]) with weights[offsets[m]...]. */
  private readonly starts: Int32Array;
  private readonly lengths: Int32Array;
  private readonly offsets: Int32Array;
  private readonly weights: Float64Array;
  private readonly fft = new ComplexFft(WHISPER_N_FFT);
  private readonly re = new Float64Array(WHISPER_N_FFT);
  private readonly im = new Float64Array(WHISPER_N_FFT);
  private readonly powerA = new Float64Array(WHISPER_N_FFT / 2 + 1);
  private readonly powerB = new Float64Array(WHISPER_N_FFT / 2 + 1);
  /** Reflect-padded (and possibly normalised) signal. */
  private padded = new Float64Array(0);

  constructor() {
    const filters = melFilterbank();
    this.starts = Int32Array.from(filters, (f) => f.start);
    this.lengths = Int32Array.from(filters, (f) => f.weights.length);
    this.offsets = new Int32Array(filters.length);
    this.weights = new Float64Array(filters.reduce((sum, f) => sum + f.weights.length, 0));
    let at = 0;
    filters.forEach((f, m) => {
      this.offsets[m] = at;
      this.weights.set(f.weights, at);
      at += f.weights.length;
    });
  }

  /**
   * Log-mel of `audio` (> 200 samples), no normalisation: Float32Array of 80 × frames,
   * row-major [mel][frame], frames = floor(length / 160). `out`, when given, must hold at least
   * that many floats and is returned (filled from index 0).
   */
  compute(audio: PcmInput, out?: Float32Array): Float32Array {
    const n = audio.length;
    this.checkLength(n);
    const padded = this.preparePadded(n);
    copySamples(audio, 0, n, padded, WHISPER_N_FFT / 2);
    this.reflectEdges(n);
    return this.run(n, out, 0);
  }

  /**
   * Smart Turn v3 input features for the end of a user's turn: the last 8 s of `audio`
   * (zero-padded at the start when shorter, any length including 0), normalised to zero mean and
   * unit variance over the 8 s window, then log-mel → 80 × 800 floats, row-major [mel][frame].
   */
  smartTurnFeatures(audio: PcmInput, out?: Float32Array): Float32Array {
    const n = SMART_TURN_SAMPLES;
    const padded = this.preparePadded(n);
    const pad = WHISPER_N_FFT / 2;
    const take = Math.min(audio.length, n);
    const from = audio.length - take;
    const lead = n - take;
    // Window = [zeros × lead | last `take` samples]; mean and variance over all n samples.
    padded.fill(0, pad, pad + lead);
    copySamples(audio, from, take, padded, pad + lead);
    let sum = 0;
    for (let i = pad + lead; i < pad + n; i++) sum += padded[i]!;
    const mean = sum / n;
    // Two-pass variance; the `lead` zeros each contribute mean².
    let squares = lead * mean * mean;
    for (let i = pad + lead; i < pad + n; i++) {
      const d = padded[i]! - mean;
      squares += d * d;
    }
    const scale = 1 / Math.sqrt(squares / n + NORMALIZE_EPSILON);
    for (let i = pad; i < pad + n; i++) padded[i] = (padded[i]! - mean) * scale;
    this.reflectEdges(n);
    // Frame f spans padded[160f, 160f + 400): constant while it ends inside the padding (the
    // reflected edge mirrors padded[pad + 1 .. pad + 200], constant too when lead > pad).
    const flatFrames = lead > pad ? Math.floor((lead - pad) / WHISPER_HOP_LENGTH) + 1 : 0;
    return this.run(n, out, flatFrames);
  }

  private checkLength(n: number): void {
    if (n <= WHISPER_N_FFT / 2) {
      throw new RangeError(
        `Whisper log-mel needs more than ${WHISPER_N_FFT / 2} samples (reflect padding), got ${n}`,
      );
    }
  }

  private preparePadded(n: number): Float64Array {
    const length = n + WHISPER_N_FFT;
    if (this.padded.length < length) this.padded = new Float64Array(length);
    return this.padded;
  }

  /** Reflect padding of n samples already at [pad, pad + n): x[-j] = x[j], x[n-1+j] = x[n-1-j]. */
  private reflectEdges(n: number): void {
    const p = this.padded;
    const pad = WHISPER_N_FFT / 2;
    for (let j = 1; j <= pad; j++) {
      p[pad - j] = p[pad + j]!;
      p[pad + n - 1 + j] = p[pad + n - 1 - j]!;
    }
  }

  /**
   * STFT → mel → log of the `n` samples at [pad, pad + n) of the padded buffer. The first
   * `flatFrames` frames are known to see one constant value (Smart Turn's normalised zero
   * padding, reflect padding included): they all get the columns of frame 0, computed once.
   */
  private run(n: number, out: Float32Array | undefined, flatFrames = 0): Float32Array {
    const frames = logMelFrameCount(n);
    const size = WHISPER_N_MELS * frames;
    if (out && out.length < size) {
      throw new RangeError(`output buffer holds ${out.length} floats, ${size} needed`);
    }
    const result = out ?? new Float32Array(size);
    const { padded, window, re, im, powerA, powerB } = this;
    const N = WHISPER_N_FFT;
    const half = N / 2;
    // Frames to compute, in order: 0, then past the flat ones (copied from frame 0 at the end).
    const skipTo = Math.min(frames, flatFrames);
    const after = (f: number) => (f === 0 && skipTo > 1 ? skipTo : f + 1);
    let max = Number.NEGATIVE_INFINITY;
    // Two frames per complex FFT: frame fa as the real part, frame fb as the imaginary part.
    for (let fa = 0; fa < frames;) {
      const fb = after(fa);
      const second = fb < frames;
      const a = fa * WHISPER_HOP_LENGTH;
      for (let k = 0; k < N; k++) re[k] = padded[a + k]! * window[k]!;
      if (second) {
        const b = fb * WHISPER_HOP_LENGTH;
        for (let k = 0; k < N; k++) im[k] = padded[b + k]! * window[k]!;
      } else {
        im.fill(0);
      }
      this.fft.transform(re, im);
      // X = FFT(a + ib): A_k = (X_k + conj X_{N−k}) / 2, B_k = (X_k − conj X_{N−k}) / 2i.
      for (let k = 0; k <= half; k++) {
        const c = k === 0 ? 0 : N - k;
        const xr = re[k]!;
        const xi = im[k]!;
        const yr = re[c]!;
        const yi = im[c]!;
        const sr = xr + yr;
        const di = xi - yi;
        const dr = xr - yr;
        const si = xi + yi;
        powerA[k] = 0.25 * (sr * sr + di * di);
        powerB[k] = 0.25 * (dr * dr + si * si);
      }
      max = Math.max(max, this.melInto(powerA, powerB, second, result, fa, fb, frames));
      fa = second ? after(fb) : frames;
    }
    if (skipTo > 1) {
      for (let m = 0; m < WHISPER_N_MELS; m++) {
        const row = m * frames;
        result.fill(result[row]!, row + 1, row + skipTo);
      }
    }
    const floor = max - DYNAMIC_RANGE;
    for (let i = 0; i < size; i++) {
      const v = result[i]!;
      result[i] = ((v > floor ? v : floor) + 4) / 4;
    }
    return result;
  }

  /**
   * log10 mel energies of frame `frameA` (power spectrum a) and, when `second`, of frame
   * `frameB` (power spectrum b) into their columns of `out`; returns the largest value stored.
   */
  private melInto(
    a: Float64Array,
    b: Float64Array,
    second: boolean,
    out: Float32Array,
    frameA: number,
    frameB: number,
    frames: number,
  ): number {
    const { starts, lengths, offsets, weights } = this;
    let max = Number.NEGATIVE_INFINITY;
    for (let m = 0; m < WHISPER_N_MELS; m++) {
      const start = starts[m]!;
      const length = lengths[m]!;
      const offset = offsets[m]!;
      let ea = 0;
      let eb = 0;
      for (let k = 0; k < length; k++) {
        const w = weights[offset + k]!;
        ea += w * a[start + k]!;
        eb += w * b[start + k]!;
      }
      // ln × log10(e): twice as fast as Math.log10 in V8, same result to ~1e-16. The max is
      // taken over the float32 values stored, so the clamp matches the output exactly.
      const at = m * frames + frameA;
      out[at] = Math.log(ea > MEL_FLOOR ? ea : MEL_FLOOR) * Math.LOG10E;
      if (out[at]! > max) max = out[at]!;
      if (second) {
        const bt = m * frames + frameB;
        out[bt] = Math.log(eb > MEL_FLOOR ? eb : MEL_FLOOR) * Math.LOG10E;
        if (out[bt]! > max) max = out[bt]!;
      }
    }
    return max;
  }
}
