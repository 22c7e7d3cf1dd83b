import { describe, expect, it } from 'vitest';
import {
  CONJUNCTIONS,
  DETERMINERS,
  FILLERS,
  HeuristicTurnDetector,
  PREPOSITIONS,
  TURN_ENDING_PROBABILITY,
  classifyTurnEnding,
  endOfTurnProbability,
  type TurnEndingCue,
} from '../../src/main/engine/text/heuristic-turn-detector';

const P = TURN_ENDING_PROBABILITY;

function expectCue(cases: Record<string, TurnEndingCue>): void {
  for (const [transcript, cue] of Object.entries(cases)) {
    expect({ transcript, cue: classifyTurnEnding(transcript) }).toEqual({ transcript, cue });
  }
}

describe('HeuristicTurnDetector', () => {
  it('implements TurnDetector with the name "heuristic"', async () => {
    const detector = new HeuristicTurnDetector();
    expect(detector.name).toBe('heuristic');
    await expect(detector.predictEndOfTurn({ transcript: 'what time is it', history: [] })).resolves.toBe(
      0.9,
    );
    await expect(detector.predictEndOfTurn({ transcript: 'remind me to', history: [] })).resolves.toBe(0.15);
  });

  it('documents probabilities in the promised ranges', () => {
    for (const cue of ['empty', 'filler', 'determiner', 'dangling_contraction', 'conjunction'] as const) {
      expect(P[cue]).toBeGreaterThanOrEqual(0.05);
      expect(P[cue]).toBeLessThanOrEqual(0.1);
    }
    expect(P.preposition).toBe(0.15);
    expect(P.hanging).toBe(0.2);
    expect(P.complete).toBe(0.9);
    expect(P.complete_sentence).toBeGreaterThan(P.complete);
    expect(P.complete_question).toBeGreaterThan(P.complete_sentence);
    expect(P.trailing_pause).toBeGreaterThan(P.hanging);
    expect(P.trailing_pause).toBeLessThan(P.complete);
  });

  it('scores the brief examples', () => {
    expect(endOfTurnProbability('what time is it')).toBe(0.9);
    expect(endOfTurnProbability('remind me to')).toBe(0.15);
    expect(endOfTurnProbability('book a flight to')).toBe(0.15);
    expect(endOfTurnProbability('um')).toBe(0.05);
    expect(endOfTurnProbability('')).toBe(0.05);
  });

  it('is low for an empty or word-less transcript', () => {
    expectCue({ '': 'empty', '   ': 'empty', '...': 'empty', '?!': 'empty' });
  });

  it('is not done after a trailing filler', () => {
    expectCue({
      um: 'filler',
      'so um': 'filler',
      'I want to uh': 'filler',
      hmm: 'filler',
      'it was like': 'filler',
      "I'd like": 'filler',
      'you know': 'filler',
      'it was great you know': 'filler',
      'I mean': 'filler',
      'what kind of': 'filler',
    });
  });

  it('treats "you know" and "I mean" in a question or clause as words, not fillers', () => {
    expectCue({
      'do you know': 'complete',
      'how did you know': 'complete',
      'you know what I mean': 'complete',
      'if you like': 'complete',
    });
  });

  it('is not done after an article or possessive', () => {
    expectCue({
      the: 'determiner',
      'book a': 'determiner',
      'play the': 'determiner',
      'call my': 'determiner',
    });
  });

  it('is not done after a conjunction', () => {
    expectCue({
      'salt and': 'conjunction',
      'tea or': 'conjunction',
      'I would but': 'conjunction',
      because: 'conjunction',
      'call me if': 'conjunction',
      so: 'conjunction',
    });
  });

  it('keeps complete phrases that end in a conjunction complete', () => {
    expectCue({ 'I think so': 'complete', 'I hope so': 'complete', 'ten minutes or so': 'complete' });
  });

  it('is not done after a preposition', () => {
    expectCue({
      'remind me to': 'preposition',
      'book a flight to': 'preposition',
      'set a timer for': 'preposition',
      'tell me about': 'preposition',
      "what's the capital of": 'preposition',
      'what is the weather in': 'preposition',
      'what are you going to': 'preposition',
      'what about': 'preposition',
      'turn on': 'preposition',
    });
  });

  it('keeps stranded prepositions in questions complete', () => {
    expectCue({
      'where are you from': 'complete',
      'what is it made of': 'complete',
      'who is it for': 'complete',
      'what is the weather like': 'complete',
      "what's it like": 'complete',
      'what are you looking at': 'complete',
      "what's going on": 'complete',
      'what are you up to': 'complete',
    });
  });

  it('keeps phrasal particles complete', () => {
    expectCue({
      'turn it on': 'complete',
      'log me in': 'complete',
      'hold on': 'complete',
      'stop by': 'complete',
    });
  });

  it('is not done after a dangling contraction', () => {
    expectCue({
      "it's": 'dangling_contraction',
      "I'm": 'dangling_contraction',
      "what's": 'dangling_contraction',
    });
    expectCue({ "let's": 'dangling_contraction', 'and then I’ll': 'dangling_contraction' });
  });

  it('is not done when an auxiliary or pronoun is left hanging', () => {
    expectCue({
      'I want': 'hanging',
      'we really need': 'hanging',
      'I was wondering': 'hanging',
      "I'm gonna": 'hanging',
      'can you': 'hanging',
      'is it': 'hanging',
      'what can you': 'hanging',
      'how do I': 'hanging',
      'did it': 'hanging',
      'can I have': 'hanging',
      'the weather is': 'hanging',
      'what is': 'hanging',
      'that would be': 'hanging',
      'and then we': 'hanging',
    });
  });

  it('reads "may" after a date word or number as the month, and after a subject as the auxiliary', () => {
    expectCue({
      'book a flight to denver on the twenty first of may': 'complete',
      'Book it for the 21st of May.': 'complete_sentence',
      'we leave in may': 'complete',
      'next may': 'complete',
      'until 3 may': 'complete',
      'that may': 'hanging',
      'the weather may': 'hanging',
    });
  });

  it('is done for complete questions and elliptical answers', () => {
    expectCue({
      'what time is it': 'complete',
      'how are you': 'complete',
      'who am I': 'complete',
      'is that it': 'complete',
      'yes I can': 'complete',
      'I know what time it is': 'complete',
      'where the station is': 'complete',
      'what do you want': 'complete',
      'what can I have': 'complete',
      "it's nice isn't it": 'complete',
      "you like it don't you": 'complete',
      'so do I': 'complete',
      'do it': 'complete',
      'I did it': 'complete',
      'that is it': 'complete',
      'can you do that': 'complete',
      'thank you': 'complete',
      'play some music': 'complete',
      yes: 'complete',
    });
  });

  it('ignores case and punctuation when reading the words', () => {
    expect(classifyTurnEnding('Remind me TO.')).toBe('preposition');
    expect(classifyTurnEnding('BOOK A FLIGHT TO!')).toBe('preposition');
    expect(classifyTurnEnding('Um?')).toBe('filler');
    expect(classifyTurnEnding('I WANT,')).toBe('hanging');
    expect(classifyTurnEnding('What Time Is It')).toBe('complete');
    expect(classifyTurnEnding('Turn it ON')).toBe('complete');
  });

  it('raises a complete transcript a little for final punctuation and lowers it for a trailing pause', () => {
    expect(endOfTurnProbability('what time is it?')).toBe(P.complete_question);
    expect(endOfTurnProbability('what time is it ?! ')).toBe(P.complete_question);
    expect(endOfTurnProbability('that is all.')).toBe(P.complete_sentence);
    expect(endOfTurnProbability('thanks!')).toBe(P.complete_sentence);
    expect(endOfTurnProbability('"thanks."')).toBe(P.complete_sentence);
    expect(endOfTurnProbability('well,')).toBe(P.trailing_pause);
    expect(endOfTurnProbability('let me think...')).toBe(P.trailing_pause);
    expect(endOfTurnProbability('let me think…')).toBe(P.trailing_pause);
    expect(endOfTurnProbability('let me think')).toBe(P.complete);
  });

  it('only looks at the end of the transcript', () => {
    expect(classifyTurnEnding('um so and the to book a flight to paris')).toBe('complete');
    expect(classifyTurnEnding('what time is it and')).toBe('conjunction');
  });

  it('exports word lists that drive the cues', () => {
    for (const word of FILLERS.filter((w) => w !== 'like'))
      expect(classifyTurnEnding(`well ${word}`)).toBe('filler');
    for (const word of DETERMINERS) expect(classifyTurnEnding(`find ${word}`)).toBe('determiner');
    for (const word of CONJUNCTIONS) expect(classifyTurnEnding(`the red one ${word}`)).toBe('conjunction');
    for (const word of PREPOSITIONS) expect(classifyTurnEnding(`the red one ${word}`)).toBe('preposition');
    expect(CONJUNCTIONS).toEqual(expect.arrayContaining(['and', 'but', 'or', 'so', 'because']));
    expect(PREPOSITIONS).toEqual(
      expect.arrayContaining(['to', 'for', 'from', 'with', 'about', 'in', 'on', 'at', 'of']),
    );
    expect(DETERMINERS).toEqual(expect.arrayContaining(['a', 'an', 'the', 'my', 'your']));
    expect(FILLERS).toEqual(expect.arrayContaining(['um', 'uh', 'er', 'like']));
  });
});
