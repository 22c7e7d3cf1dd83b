import { describe, expect, it } from 'vitest';
import { wordOverlap } from '../../src/main/engine/text/similarity';

describe('wordOverlap', () => {
  it('is 1 for the same words, ignoring case, punctuation and spacing', () => {
    expect(wordOverlap('What time is it?', 'what  time is it')).toBe(1);
    expect(wordOverlap("What's up", 'WHAT’S UP!')).toBe(1);
  });

  it('divides the matches by the longer transcript', () => {
    // 4 of 4 words of a are in b, b has 5 words.
    expect(wordOverlap('what time is it', 'what time is it now')).toBeCloseTo(4 / 5, 10);
    expect(wordOverlap('what time is it now', 'what time is it')).toBeCloseTo(4 / 5, 10);
    // 2 matches (book, flight) of max(4, 5).
    expect(wordOverlap('book a cheap flight', 'book the flight to paris')).toBeCloseTo(2 / 5, 10);
  });

  it('ignores word order', () => {
    expect(wordOverlap('is it time', 'time it is')).toBe(1);
  });

  it('is 0 when nothing matches', () => {
    expect(wordOverlap('play some jazz', 'set an alarm')).toBe(0);
  });

  it('is 0 when either transcript has no words', () => {
    expect(wordOverlap('', 'hello')).toBe(0);
    expect(wordOverlap('hello', '  ...  ')).toBe(0);
    expect(wordOverlap('', '')).toBe(0);
  });

  it('does not let repeated words inflate the score', () => {
    expect(wordOverlap('yes yes yes', 'yes no maybe')).toBeCloseTo(1 / 3, 10);
    expect(wordOverlap('yes no maybe', 'yes yes yes')).toBeCloseTo(1 / 3, 10);
    expect(wordOverlap('no no', 'no no')).toBe(1);
  });

  it('is symmetric', () => {
    const pairs: [string, string][] = [
      ['remind me to call mom', 'remind me to call my mom tomorrow'],
      ['the the cat', 'the cat sat'],
      ['a b c d', 'd c x'],
    ];
    for (const [a, b] of pairs) expect(wordOverlap(a, b)).toBe(wordOverlap(b, a));
  });

  it('separates a finished speculation from a changed request at the default threshold (0.8)', () => {
    expect(
      wordOverlap('what is the weather in paris', 'what is the weather in paris today'),
    ).toBeGreaterThanOrEqual(0.8);
    expect(wordOverlap('what is the weather in paris', 'what is the weather in london')).toBeLessThan(0.9);
    expect(wordOverlap('what is the weather in paris', 'what is the time in london')).toBeLessThan(0.8);
  });
});
