/**
 * Numbers in transcripts: one reading of spoken numbers (numbers.ts), so "fifteen percent" and
 * "15%" compare equal (normalize.ts) whichever way a speech-to-text service wrote them.
 */
import { describe, expect, it } from 'vitest';
import { readNumber } from '../../src/main/engine/text/numbers';
import { normalizeTranscript, sameTranscript } from '../../src/main/engine/text/normalize';

const read = (text: string) => {
  const n = readNumber(text.split(' '), 0);
  return n && { value: n.value, ordinal: n.ordinal, length: n.length };
};

describe('readNumber', () => {
  it('reads compound, hundred, thousand and ordinal numbers, and stops where a number ends', () => {
    expect(read('twenty one pilots')).toEqual({ value: 21, ordinal: false, length: 2 });
    expect(read('one hundred and five dogs')).toEqual({ value: 105, ordinal: false, length: 4 });
    expect(read('two thousand and twenty six')).toEqual({ value: 2026, ordinal: false, length: 5 });
    expect(read('twenty first of may')).toEqual({ value: 21, ordinal: true, length: 2 });
    expect(read('one two')).toEqual({ value: 1, ordinal: false, length: 1 });
    expect(read('six thirty')).toEqual({ value: 6, ordinal: false, length: 1 });
    expect(read('and then')).toBeNull();
    expect(read('a second')).toBeNull();
    expect(read('second')).toBeNull();
  });
});

describe('normalizeTranscript', () => {
  it('compares numbers as numbers, however they were written', () => {
    expect(sameTranscript("What's 15% of 80?", "what's fifteen percent of eighty")).toBe(true);
    expect(sameTranscript('Call mom at 6:30 PM.', 'call mom at six thirty p m')).toBe(true);
    expect(sameTranscript('Book it for the 21st of May.', 'book it for the twenty first of may')).toBe(true);
    expect(sameTranscript('That is $5.', 'that is five dollars')).toBe(true);
    expect(sameTranscript('1,000 people', 'one thousand people')).toBe(true);
    expect(sameTranscript('twenty-one', '21')).toBe(true);
  });

  it('still tells different words and different numbers apart', () => {
    expect(sameTranscript('call mom at six', 'call mom at seven')).toBe(false);
    expect(sameTranscript('fifteen percent', 'fifty percent')).toBe(false);
    expect(normalizeTranscript('one two three')).toBe('1 2 3');
    expect(normalizeTranscript("Don't stop!")).toBe("don't stop");
  });
});
