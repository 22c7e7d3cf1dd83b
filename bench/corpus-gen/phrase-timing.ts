/**
 * From a synthesised phrase to the audio and word times the corpus holds: the phrase is scaled to
 * a common loudness, trimmed to where its speech energy starts and ends, and each word gets
 *  - its start from the synthesiser (the first word's at the trimmed start), and
 *  - its end where the word's energy ends before the next word starts (in connected speech this
 *    is the next word's start; before a stop consonant's silent closure it is earlier), capped by
 *    the synthesiser's own end for the word when it gives one; the last word ends with the speech.
 */
import { SAMPLE_RATE } from '../../src/main/engine/ports';
import { FRAME_SAMPLES, PEAK_FRAME_DBFS, levelDbfs, speechBounds } from './speech-energy';
import type { SynthesisedPhrase } from './synthesisers';

/** How far around the synthesiser's phrase span to look for its speech when measuring its accuracy (s). */
const SEARCH_MARGIN = 0.1;
/** Highest sample after scaling (a little under full scale). */
const MAX_PEAK = 30_000;

export interface TimedPhrase {
  samples: Int16Array;
  /** Seconds from the phrase's first sample. */
  words: { start: number; end: number }[];
  /** The synthesiser's first word start and phrase end against the speech energy, and the pauses cut (ms). */
  record: { startMs: number; endMs: number; removedPauseMs: number };
}

export function timePhrase(synthesised: SynthesisedPhrase, where: string): TimedPhrase {
  const phrase = withoutInnerPauses(synthesised);
  const samples = scaleToPeakFrame(phrase.samples);
  const at = (seconds: number) => Math.min(samples.length, Math.max(0, Math.round(seconds * SAMPLE_RATE)));
  const synthStart = at(phrase.words[0]!.start);
  const synthEnd = at(phrase.end);
  // Trim inside the synthesiser's own span: outside it lies only what it calls silence (flite's
  // voices leave some noise there, kal16's near the speech level of a quiet consonant).
  const speech = speechBounds(samples, synthStart, synthEnd);
  if (!speech) throw new Error(`${where}: the synthesiser produced no speech`);
  const starts = phrase.words.map((word, i) =>
    i === 0 ? speech.start : Math.max(speech.start, at(word.start)),
  );
  const words = starts.map((start, i) => {
    const isLast = i === starts.length - 1;
    const limit = isLast ? speech.end : Math.min(starts[i + 1]!, at(phrase.words[i]!.end ?? Infinity));
    if (limit <= start) throw new Error(`${where}: word ${i} has no time of its own`);
    const end = isLast ? limit : speechBounds(samples, start, limit)?.end;
    if (end === undefined) throw new Error(`${where}: word ${i} holds no speech energy`);
    return { start: (start - speech.start) / SAMPLE_RATE, end: (end - speech.start) / SAMPLE_RATE };
  });
  return {
    samples: samples.slice(speech.start, speech.end),
    words,
    record: {
      ...synthOffsets(samples, synthStart, synthEnd),
      removedPauseMs: Math.round(phrase.removedSeconds * 1000),
    },
  };
}

/**
 * How far the synthesiser's phrase start and end are from the speech energy found within
 * SEARCH_MARGIN of them (ms, positive: the synthesiser is late). For the record only: the trim
 * above does not depend on it.
 */
function synthOffsets(samples: Int16Array, start: number, end: number): { startMs: number; endMs: number } {
  const margin = SEARCH_MARGIN * SAMPLE_RATE;
  const speech = speechBounds(samples, Math.max(0, start - margin), Math.min(samples.length, end + margin));
  const ms = (samples: number) => Math.round((samples / SAMPLE_RATE) * 1000);
  return speech
    ? { startMs: ms(start - speech.start), endMs: ms(end - speech.end) }
    : { startMs: NaN, endMs: NaN };
}

/**
 * The phrase with the pauses the synthesiser put between its words cut out of the audio (and
 * later times moved up), so its only silences are the script's own pauses between phrases.
 */
export function withoutInnerPauses(
  phrase: SynthesisedPhrase,
): SynthesisedPhrase & { removedSeconds: number } {
  const inner = phrase.pauses
    .filter((pause) => pause.start > phrase.words[0]!.start && pause.end < phrase.end)
    .sort((a, b) => b.start - a.start); // from the last: cutting one leaves the earlier ones' times as they are
  let samples = phrase.samples;
  let { words, end } = phrase;
  let removedSeconds = 0;
  for (const pause of inner) {
    const from = Math.round(pause.start * SAMPLE_RATE);
    const to = Math.round(pause.end * SAMPLE_RATE);
    const cut = (to - from) / SAMPLE_RATE;
    const move = (t: number) => (t >= pause.end ? t - cut : t > pause.start ? pause.start : t);
    const kept = new Int16Array(samples.length - (to - from));
    kept.set(samples.subarray(0, from));
    kept.set(samples.subarray(to), from);
    samples = kept;
    words = words.map((word) => ({
      start: move(word.start),
      ...(word.end !== undefined ? { end: move(word.end) } : {}),
    }));
    end = move(end);
    removedSeconds += cut;
  }
  return { samples, words, end, pauses: [], removedSeconds };
}

/** The phrase scaled so its loudest 10 ms frame is at PEAK_FRAME_DBFS (and no sample clips). */
export function scaleToPeakFrame(samples: Int16Array): Int16Array {
  let loudest = -Infinity;
  let peak = 0;
  for (let frame = 0; frame < samples.length; frame += FRAME_SAMPLES)
    loudest = Math.max(loudest, levelDbfs(samples, frame, Math.min(frame + FRAME_SAMPLES, samples.length)));
  for (const sample of samples) peak = Math.max(peak, Math.abs(sample));
  if (peak === 0) return samples.slice();
  const gain = Math.min(10 ** ((PEAK_FRAME_DBFS - loudest) / 20), MAX_PEAK / peak);
  return samples.map((sample) => Math.round(sample * gain));
}
