import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildCase } from '../../bench/corpus-gen/generate';
import { helperExecutable } from '../../bench/corpus-gen/native-helper';
import { timePhrase, withoutInnerPauses } from '../../bench/corpus-gen/phrase-timing';
import { parseTurnText, phrasesOf, specSchema } from '../../bench/corpus-gen/spec';
import { checkWordTiming } from '../../bench/corpus-gen/speech-energy';
import {
  espeakWordTimes,
  fliteWordTimes,
  parseHelperReport,
  phraseText,
  type SynthesisedPhrase,
} from '../../bench/corpus-gen/synthesisers';
import { SAMPLE_RATE } from '../../src/main/engine/ports';

const ROOT = join(import.meta.dirname, '..', '..');
const readSpec = (path: string): unknown => JSON.parse(readFileSync(join(ROOT, path), 'utf8'));

/** A 220 Hz tone at about -15 dBFS RMS, `seconds` long. */
const tone = (seconds: number) =>
  Int16Array.from({ length: Math.round(seconds * SAMPLE_RATE) }, (_, i) =>
    Math.round(8000 * Math.sin((2 * Math.PI * 220 * i) / SAMPLE_RATE)),
  );
const silence = (seconds: number) => new Int16Array(Math.round(seconds * SAMPLE_RATE));
function concat(...parts: Int16Array[]): Int16Array {
  const out = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

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

  it('reads "?" and "." at the end of a phrase as its intonation, not as part of the word', () => {
    expect(parseTurnText("what's the weather. [pause 0.6 conf 0.7] is it warm?", 'x')).toEqual([
      { word: "what's" },
      { word: 'the' },
      { word: 'weather', ending: '.', pause: { seconds: 0.6, confidence: 0.7 } },
      { word: 'is' },
      { word: 'it' },
      { word: 'warm', ending: '?' },
    ]);
  });

  it('rejects misplaced or malformed markers and punctuation inside a phrase', () => {
    expect(() => parseTurnText('[pause 1 conf 0.3] hello', 'case "a" turn 0')).toThrow(
      'case "a" turn 0: a pause must follow a word',
    );
    expect(() => parseTurnText('hello [pause 1 conf 0.3]', 'w')).toThrow(
      'w: a pause must be followed by a word',
    );
    expect(() => parseTurnText('hello [pause 1] there', 'w')).toThrow(
      'w: bad marker [pause 1] (expected [pause SECONDS conf P])',
    );
    expect(() => parseTurnText('hello [pause 1 conf 1.5] there', 'w')).toThrow('P between 0 and 1');
    expect(() => parseTurnText('a [pause 1 conf 0.3] [pause 1 conf 0.2] b', 'w')).toThrow(
      'two pauses in a row',
    );
    expect(() => parseTurnText('is it? really', 'w')).toThrow('w: "?" after "it" must end a phrase');
    // A comma would make a synthesiser pause inside the phrase.
    expect(() => parseTurnText('well, okay', 'w')).toThrow('w: "well," is not a word');
  });

  it('groups a turn into the phrases between its pauses, unfinished before a pause unless marked', () => {
    const tokens = parseTurnText(
      'add eggs and [pause 0.5 conf 0.2] milk. [pause 0.7 conf 0.6] and bread',
      'x',
    );
    expect(phrasesOf(tokens)).toEqual([
      { words: ['add', 'eggs', 'and'], first: 0, ending: ',', pause: { seconds: 0.5, confidence: 0.2 } },
      { words: ['milk'], first: 3, ending: '.', pause: { seconds: 0.7, confidence: 0.6 } },
      { words: ['and', 'bread'], first: 4, ending: '.' },
    ]);
    expect(phrasesOf(parseTurnText('is it raining?', 'x'))).toEqual([
      { words: ['is', 'it', 'raining'], first: 0, ending: '?' },
    ]);
  });
});

describe('corpus generator: spec', () => {
  it('accepts the fixture spec and both benchmark splits', () => {
    expect(specSchema.parse(readSpec('test/fixtures/spec.json')).cases.map((c) => c.id)).toContain(
      'flight-hesitation',
    );
    for (const split of ['tune', 'test']) {
      const spec = specSchema.parse(readSpec(`bench/corpus-gen/${split}.json`));
      expect(new Set(spec.cases.map((c) => c.synth))).toEqual(new Set(['espeak-ng', 'flite']));
    }
  });

  it('rejects unknown profile fields and unknown keys', () => {
    const bad = {
      cases: [
        {
          id: 'a',
          description: '',
          synth: 'espeak-ng',
          voice: 'en-us',
          rate: 170,
          profile: { llm_ttfb_ms: 1 },
          turns: [{ text: 'hi', reply: 'Hi.' }],
        },
      ],
    };
    const result = specSchema.safeParse(bad);
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]).toMatchObject({ code: 'unrecognized_keys', keys: ['llm_ttfb_ms'] });
  });

  it('names the synthesiser field when it is missing or unknown, and checks each synthesiser’s own fields', () => {
    const base = { id: 'a', description: '', turns: [{ text: 'hi', reply: 'Hi.' }] };
    const issues = (c: object) =>
      specSchema.safeParse({ cases: [c] }).error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    expect(issues({ ...base, voice: 'en-us', rate: 170 })).toEqual([
      'cases.0.synth: must be "espeak-ng" or "flite"',
    ]);
    expect(issues({ ...base, synth: 'festival', voice: 'en-us', rate: 170 })).toEqual([
      'cases.0.synth: must be "espeak-ng" or "flite"',
    ]);
    expect(issues({ ...base, synth: 'flite', voice: 'slt', rate: 170, duration_stretch: 1 })).toEqual([
      'cases.0: Unrecognized key: "rate"',
    ]);
    expect(issues({ ...base, synth: 'flite', voice: 'kal', duration_stretch: 1 })?.[0]).toMatch(
      /^cases\.0\.voice: /,
    );
    expect(issues({ ...base, synth: 'espeak-ng', voice: 'en us', rate: 170 })).toEqual([
      'cases.0.voice: must be an espeak-ng voice such as en-us, en-gb-scotland or en-us+f3',
    ]);
  });
});

describe('corpus generator: what the synthesiser helpers report', () => {
  it('gives espeak-ng the words joined by no-break spaces (so word pairs stay two words), flite plain spaces', () => {
    expect(phraseText('espeak-ng', ['in', 'the', 'morning'], ',')).toBe('in\u00a0the\u00a0morning,');
    expect(phraseText('flite', ['in', 'the', 'morning'], '?')).toBe('in the morning?');
  });

  it('maps espeak-ng word events to the words by character position, first event per word', () => {
    const report = parseHelperReport(
      [
        'sample_rate 22050',
        'word 1 0.000',
        'word 8 0.406',
        'word 10 0.450',
        'word 11 0.531',
        'end 0.900',
        'samples 19845',
      ].join('\n'),
    );
    expect(report).toMatchObject({ sampleRate: 22050, samples: 19845 });
    // "remind me to": "me" starts at character 8 (its second event, at 10, is inside it), "to" at 11.
    expect(espeakWordTimes(report, ['remind', 'me', 'to'], 'x')).toEqual({
      words: [{ start: 0 }, { start: 0.406 }, { start: 0.531 }],
      end: 0.9,
    });
    expect(() => espeakWordTimes(report, ['remind', 'me', 'to', 'call'], 'x')).toThrow(
      'x: espeak-ng gave no word event for "call"',
    );
  });

  it('takes flite token spans as the words and refuses a different count', () => {
    const report = parseHelperReport(
      'sample_rate 16000\ntoken 0.2 0.5 call\ntoken 0.5 0.9 mom\nsamples 16000',
    );
    expect(fliteWordTimes(report, ['call', 'mom'], 'x')).toEqual({
      words: [
        { start: 0.2, end: 0.5 },
        { start: 0.5, end: 0.9 },
      ],
      end: 0.9,
    });
    expect(() => fliteWordTimes(report, ['call'], 'x')).toThrow(
      'flite read 2 tokens, the phrase has 1 words',
    );
    expect(() => parseHelperReport('samples 3')).toThrow('expected one "sample_rate" line');
  });
});

describe('corpus generator: phrase timing', () => {
  it('cuts the pauses a synthesiser put between words and moves the later times up', () => {
    const phrase: SynthesisedPhrase = {
      samples: concat(tone(0.5), silence(0.1), tone(0.4)),
      words: [{ start: 0 }, { start: 0.6 }],
      end: 1,
      pauses: [
        { start: 0.5, end: 0.6 },
        { start: 1, end: 1.2 }, // at the phrase's end: left to the trim
      ],
    };
    const cut = withoutInnerPauses(phrase);
    expect(cut.samples.length).toBe(0.9 * SAMPLE_RATE);
    expect(cut.words).toEqual([{ start: 0 }, { start: 0.5 }]);
    expect(cut.end).toBeCloseTo(0.9, 9);
    expect(cut.removedSeconds).toBeCloseTo(0.1, 9);
  });

  it('trims to the speech, starts the first word there and ends a word where its energy ends', () => {
    // 0.2 s of silence, word one (0.3 s of tone), a 60 ms stop closure that the synthesiser counts
    // as the start of word two, word two (0.25 s), 0.3 s of silence after the phrase's end.
    const phrase: SynthesisedPhrase = {
      samples: concat(silence(0.2), tone(0.3), silence(0.06), tone(0.25), silence(0.3)),
      words: [{ start: 0.15 }, { start: 0.5 }],
      end: 0.85,
      pauses: [],
    };
    const timed = timePhrase(phrase, 'x');
    expect(timed.samples.length).toBe(Math.round(0.61 * SAMPLE_RATE));
    expect(timed.words[0]).toEqual({ start: 0, end: 0.3 });
    expect(timed.words[1]!.start).toBeCloseTo(0.3, 9);
    expect(timed.words[1]!.end).toBeCloseTo(0.61, 9);
    // The synthesiser's first word began 50 ms before the speech; its end 40 ms after it.
    expect(timed.record).toEqual({ startMs: -50, endMs: 40, removedPauseMs: 0 });
  });

  it('refuses a word the synthesiser timed over silence', () => {
    const phrase: SynthesisedPhrase = {
      samples: concat(tone(0.3), silence(0.3), tone(0.3)),
      words: [{ start: 0 }, { start: 0.3 }, { start: 0.6 }],
      end: 0.9,
      pauses: [],
    };
    expect(() => timePhrase(phrase, 'x')).toThrow('x: word 1 holds no speech energy');
  });
});

describe('corpus generator: word times against the audio', () => {
  // Two phrases of one turn: 0.5–1.0 s ("a b") and 1.8–2.2 s ("c").
  const audio = concat(silence(0.5), tone(0.5), silence(0.8), tone(0.4), silence(0.5));
  const words = [
    { text: 'a', start: 0.5, end: 0.75 },
    { text: 'b', start: 0.75, end: 1 },
    { text: 'c', start: 1.8, end: 2.2 },
  ];
  const turn = (w: typeof words) => [{ words: w, holds: [{ after: 1, eot_confidence: 0.3 }], reply: 'R.' }];

  it('accepts words on their speech', () => {
    expect(checkWordTiming(turn(words), audio)).toEqual({
      problems: [],
      edges: [
        { startMs: 0, endMs: 0 },
        { startMs: 0, endMs: 0 },
      ],
    });
  });

  it('reports a phrase edge more than 60 ms off and a word over silence', () => {
    const late = words.map((w) => (w.text === 'c' ? { ...w, start: 1.9 } : w));
    expect(checkWordTiming(turn(late), audio).problems).toEqual([
      'phrase "c": starts 100 ms from where its speech starts',
    ]);
    const silent = [...words.slice(0, 2), { text: 'c', start: 1.3, end: 2.2 }];
    expect(checkWordTiming(turn(silent), audio).problems).toEqual([
      'phrase "c": starts -500 ms from where its speech starts',
      'word "c" (1.3–2.2 s): 44 % of it holds speech',
    ]);
  });
});

describe('corpus generator: synthesis with espeak-ng and flite', () => {
  const spec = specSchema.parse({
    cases: [
      {
        id: 'espeak-case',
        description: '',
        synth: 'espeak-ng',
        voice: 'en-gb+m3',
        rate: 170,
        turns: [{ text: 'one of the [pause 0.7 conf 0.2] best in town', reply: 'Ok.' }],
      },
      {
        id: 'flite-case',
        description: '',
        synth: 'flite',
        voice: 'slt',
        duration_stretch: 1.1,
        turns: [{ text: 'play some jazz. [pause 0.6 conf 0.7] from the fifties', reply: 'Ok.' }],
      },
    ],
  });

  for (const caseSpec of spec.cases) {
    it(`${caseSpec.synth}: one phrase per pause, no silence inside a phrase, word times on the audio`, () => {
      const { caseJson, audio, phrases } = buildCase(caseSpec);
      const [turn] = caseJson.turns;
      expect(turn!.words.map((w) => w.text).join(' ')).toBe(
        caseSpec.turns[0]!.text.replace(/\s*\[pause[^\]]*\]/, '').replace('.', ''),
      );
      expect(phrases).toHaveLength(2);
      const hold = turn!.holds![0]!;
      const pause = turn!.words[hold.after + 1]!.start - turn!.words[hold.after]!.end;
      expect(pause).toBeCloseTo(caseSpec.synth === 'espeak-ng' ? 0.7 : 0.6, 2);
      turn!.words.forEach((word, i) => {
        expect(word.end).toBeGreaterThan(word.start);
        // Inside a phrase a word ends where the next starts, or before that next word's closure.
        if (i !== hold.after && i + 1 < turn!.words.length)
          expect(turn!.words[i + 1]!.start - word.end).toBeLessThan(0.06);
      });
      const { problems, edges } = checkWordTiming(caseJson.turns, audio);
      expect(problems).toEqual([]);
      for (const edge of edges) {
        expect(Math.abs(edge.startMs)).toBeLessThanOrEqual(20);
        expect(Math.abs(edge.endMs)).toBeLessThanOrEqual(20);
      }
      // The same spec gives the same samples.
      expect(buildCase(caseSpec).audio).toEqual(audio);
    });
  }
});

describe('corpus generator: building the helpers', () => {
  it('names the apt package when a helper header is missing', () => {
    expect(() =>
      helperExecutable({
        file: 'espeak-words.c',
        header: { path: 'no-such-dir/no-such-header.h', aptPackage: 'libno-such-dev' },
        libraries: ['espeak-ng'],
      }),
    ).toThrow(
      'no-such-dir/no-such-header.h not found: espeak-words.c needs libno-such-dev (apt-get install -y libno-such-dev)',
    );
  });
});
