import { words } from './normalize';

/**
 * Word overlap of two transcripts, in [0, 1], for the "similar" reuse strategy
 * (compared with `preemptive_generation.similarity_threshold`).
 *
 * Both transcripts are normalised with `words()` (case, punctuation and spacing
 * ignored). The score is the number of `a`'s words found among `b`'s words,
 * divided by the word count of the longer transcript; 0 if either is empty.
 *
 * Each of `b`'s words can match only once (multiset matching), so repeating a
 * word cannot inflate the score: "yes yes yes" against "yes no maybe" is 1/3,
 * not 1. Without repeated words this equals plain set matching. The result is
 * symmetric: wordOverlap(a, b) === wordOverlap(b, a).
 */
export function wordOverlap(a: string, b: string): number {
  const wordsA = words(a);
  const wordsB = words(b);
  if (wordsA.length === 0 || wordsB.length === 0) return 0;
  const available = new Map<string, number>();
  for (const word of wordsB) available.set(word, (available.get(word) ?? 0) + 1);
  let matches = 0;
  for (const word of wordsA) {
    const left = available.get(word) ?? 0;
    if (left > 0) {
      matches += 1;
      available.set(word, left - 1);
    }
  }
  return matches / Math.max(wordsA.length, wordsB.length);
}
