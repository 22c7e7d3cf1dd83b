import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseTurnText, specSchema } from '../../bench/corpus-gen/generate';

describe('corpus generator: turn text', () => {
  it('splits words and attaches a pause marker to the word before it', () => {
    expect(parseTurnText('book a flight to [pause 1.0 conf 0.3] paris', 'x')).toEqual([
      { word: 'book' },
      { word: 'a' },
      { word: 'flight' },
      { word: 'to', pause: { seconds: 1, confidence: 0.3 } },
      { word: 'paris' },
    ]);
  });

  it('rejects misplaced or malformed markers', () => {
    expect(() => parseTurnText('[pause 1 conf 0.3] hello', 'case "a" turn 0')).toThrow(
      'case "a" turn 0: a pause must follow a word',
    );
    expect(() => parseTurnText('hello [pause 1 conf 0.3]', 'w')).toThrow(
      'w: a pause must be followed by a word',
    );
    expect(() => parseTurnText('hello [pause 1] there', 'w')).toThrow(
      'w: bad marker [pause 1] (expected [pause SECONDS conf P])',
    );
    expect(() => parseTurnText('a [pause 1 conf 0.3] [pause 1 conf 0.2] b', 'w')).toThrow(
      'two pauses in a row',
    );
  });
});

describe('corpus generator: spec', () => {
  it('accepts the fixture spec', () => {
    const spec: unknown = JSON.parse(
      readFileSync(join(import.meta.dirname, '..', 'fixtures', 'spec.json'), 'utf8'),
    );
    const parsed = specSchema.parse(spec);
    expect(parsed.cases.map((c) => c.id)).toContain('flight-hesitation');
  });

  it('rejects unknown profile fields and unknown keys', () => {
    const bad = {
      cases: [
        { id: 'a', description: '', profile: { llm_ttfb_ms: 1 }, turns: [{ text: 'hi', reply: 'Hi.' }] },
      ],
    };
    const result = specSchema.safeParse(bad);
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]).toMatchObject({ code: 'unrecognized_keys', keys: ['llm_ttfb_ms'] });
  });
});
