/**
 * Speech energy over 10 ms frames, and the check that a case's word times agree with its audio:
 * every word's span holds speech, and each phrase (the words between two pauses) starts and ends
 * within 60 ms of where its audio's energy starts and ends. Used by the corpus generator on every
 * case it writes and by test/unit/bench-corpus.test.ts on the committed corpus.
 */
import { SAMPLE_RATE } from '../../src/main/engine/ports';
import type { CaseJsonInput } from '../../src/main/engine/scripted/case';

export const FRAME_SAMPLES = SAMPLE_RATE / 100;
/**
 * A frame at or above this RMS level (dBFS) holds speech. The generator scales each phrase so
 * that its loudest frame is at PEAK_FRAME_DBFS; this is 40 dB below that, above the synthesisers'
 * own noise floor between words (flite's pauses sit near -60 dBFS after scaling).
 */
export const SPEECH_DBFS = -52;
export const PEAK_FRAME_DBFS = -12;
/** How far (ms) a phrase's first word start and last word end may be from its audio's energy. */
export const EDGE_TOLERANCE_MS = 60;
/** The least share of a word's whole frames that must hold speech. */
const MIN_SPEECH_SHARE = 0.5;

/** RMS level (dBFS) of samples[from, to); -Infinity for digital silence. */
export function levelDbfs(samples: Int16Array, from: number, to: number): number {
  let sum = 0;
  for (let i = from; i < to; i++) sum += samples[i]! * samples[i]!;
  return 10 * Math.log10(sum / Math.max(1, to - from) / (32768 * 32768));
}

/** Start and end (samples) of the speech in samples[from, to), on 10 ms frames counted from `from`. */
export function speechBounds(
  samples: Int16Array,
  from = 0,
  to = samples.length,
): { start: number; end: number } | undefined {
  let start: number | undefined;
  let end = 0;
  for (let frame = from; frame < to; frame += FRAME_SAMPLES) {
    const frameEnd = Math.min(frame + FRAME_SAMPLES, to);
    if (levelDbfs(samples, frame, frameEnd) < SPEECH_DBFS) continue;
    start ??= frame;
    end = frameEnd;
  }
  return start === undefined ? undefined : { start, end };
}

/** Share of the whole 10 ms frames inside samples[from, to) that hold speech (0 if none fit). */
export function speechShare(samples: Int16Array, from: number, to: number): number {
  let frames = 0;
  let speech = 0;
  for (let frame = from; frame + FRAME_SAMPLES <= to; frame += FRAME_SAMPLES) {
    frames++;
    if (levelDbfs(samples, frame, frame + FRAME_SAMPLES) >= SPEECH_DBFS) speech++;
  }
  return frames ? speech / frames : 0;
}

interface TimedWord {
  text: string;
  start: number;
  end: number;
}

/** Words of each phrase of a case, in time order: each turn split at its holds. */
export function casePhrases(turns: CaseJsonInput['turns']): TimedWord[][] {
  const phrases: TimedWord[][] = [];
  for (const turn of turns) {
    const breaks = new Set((turn.holds ?? []).map((hold) => hold.after));
    let phrase: TimedWord[] = [];
    turn.words.forEach((word, i) => {
      phrase.push(word);
      if (breaks.has(i) || i === turn.words.length - 1) {
        phrases.push(phrase);
        phrase = [];
      }
    });
  }
  return phrases;
}

export interface EdgeOffsets {
  /** Per phrase: first word start − speech start, last word end − speech end (ms). */
  startMs: number;
  endMs: number;
}

/**
 * What is wrong with a case's word times against its audio (none: an empty list), and the
 * phrase edge offsets measured. Each phrase's speech is looked for from halfway through the
 * silence before it to halfway through the silence after it.
 */
export function checkWordTiming(
  turns: CaseJsonInput['turns'],
  audio: Int16Array,
): { problems: string[]; edges: EdgeOffsets[] } {
  const problems: string[] = [];
  const edges: EdgeOffsets[] = [];
  const at = (seconds: number) => Math.min(audio.length, Math.max(0, Math.round(seconds * SAMPLE_RATE)));
  const phrases = casePhrases(turns);
  phrases.forEach((phrase, p) => {
    const first = phrase[0]!;
    const last = phrase[phrase.length - 1]!;
    const name = `phrase "${phrase.map((w) => w.text).join(' ')}"`;
    // Look from halfway through the silence before the phrase to halfway through the one after it.
    const from = p === 0 ? 0 : at((phrases[p - 1]!.at(-1)!.end + first.start) / 2);
    const to = p === phrases.length - 1 ? audio.length : at((last.end + phrases[p + 1]![0]!.start) / 2);
    const speech = speechBounds(audio, from, to);
    if (!speech) {
      problems.push(
        `${name}: no speech in the audio between ${from / SAMPLE_RATE} s and ${to / SAMPLE_RATE} s`,
      );
      return;
    }
    const offsets = {
      startMs: Math.round(first.start * 1000 - (speech.start / SAMPLE_RATE) * 1000),
      endMs: Math.round(last.end * 1000 - (speech.end / SAMPLE_RATE) * 1000),
    };
    edges.push(offsets);
    if (Math.abs(offsets.startMs) > EDGE_TOLERANCE_MS)
      problems.push(`${name}: starts ${offsets.startMs} ms from where its speech starts`);
    if (Math.abs(offsets.endMs) > EDGE_TOLERANCE_MS)
      problems.push(`${name}: ends ${offsets.endMs} ms from where its speech ends`);
    for (const word of phrase) {
      const share = speechShare(audio, at(word.start), at(word.end));
      if (share < MIN_SPEECH_SHARE)
        problems.push(
          `word "${word.text}" (${word.start}–${word.end} s): ${Math.round(share * 100)} % of it holds speech`,
        );
    }
  });
  return { problems, edges };
}
