/** Turn audio from the fixture cases, for the Smart Turn tests: finished turns and turns cut mid-word. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeWav } from '../../src/main/engine/audio/wav';
import { SAMPLE_RATE } from '../../src/main/engine/ports';

export interface TurnFixture {
  id: string;
  samples: Int16Array;
  /** Words of the first turn (s). */
  words: { start: number; end: number }[];
}

export function turnFixture(id: string): TurnFixture {
  const dir = join('test/fixtures/cases', id);
  const doc = JSON.parse(readFileSync(join(dir, 'case.json'), 'utf8')) as {
    turns: { words: { start: number; end: number }[] }[];
  };
  return {
    id,
    samples: decodeWav(readFileSync(join(dir, 'audio.wav')), id).samples,
    words: doc.turns[0]!.words,
  };
}

export const upTo = (f: TurnFixture, seconds: number) =>
  f.samples.subarray(0, Math.round(seconds * SAMPLE_RATE));
/** The first turn followed by 500 ms of its trailing silence: a finished turn. */
export const finished = (f: TurnFixture) => upTo(f, f.words.at(-1)!.end + 0.5);
/** The audio cut in the middle of the last word of the first turn: an unfinished one. */
export const midWord = (f: TurnFixture) => {
  const last = f.words.at(-1)!;
  return upTo(f, (last.start + last.end) / 2);
};
