/**
 * The public benchmark corpus: bench/corpus/tune (for tuning) and bench/corpus/test (for reporting
 * only), generated from bench/corpus-gen/tune.json and test.json by
 * bench/corpus-gen/generate-corpus.sh. Every case loads and matches its spec, its word times agree
 * with its audio, each split covers on its own what the latency benchmark needs, and the two
 * splits share no sentence.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseTurnText, specSchema, type SpecCase } from '../../bench/corpus-gen/spec';
import { casePhrases, checkWordTiming } from '../../bench/corpus-gen/speech-energy';
import {
  defaultProfile,
  finalTranscript,
  loadCorpus,
  type CaseProfile,
  type CaseTurn,
  type ScriptCase,
} from '../../src/main/engine/scripted/case';

const ROOT = join(import.meta.dirname, '..', '..');
const SPLITS = { tune: { cases: 24 }, test: { cases: 30 } } as const;
type Split = keyof typeof SPLITS;

const normalise = (text: string) =>
  text
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s']/gu, '')
    .replace(/\s+/g, ' ')
    .trim();

const UNITS = 'one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve';
const NUMBER_WORDS = new RegExp(
  `\\b(${UNITS}|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|` +
    'sixty|seventy|eighty|ninety|hundred|thousand|half|first|second|third|fourth|fifth|twelfth)\\b',
);
const TIME = new RegExp(
  `\\b(${UNITS}) (o'clock|fifteen|thirty|forty five|in the morning|in the evening)\\b|\\bat (${UNITS})\\b`,
);
const PERCENTAGE = /\b\w+ percent\b/;
const MONTHS = 'january|february|march|april|may|june|july|august|september|october|november|december';
const DATE = new RegExp(`\\b(\\w+ )?(first|second|third|\\w+th) of (${MONTHS})\\b`);

/** Seconds of speech in a turn: its phrases' lengths, without the pauses between them. */
function speechSeconds(turn: CaseTurn): number {
  return casePhrases([turn]).reduce((sum, phrase) => sum + phrase.at(-1)!.end - phrase[0]!.start, 0);
}

/** The holds of a split with their silence (ms) and confidence. */
function holdsOf(cases: ScriptCase[]) {
  return cases.flatMap((c) =>
    c.turns.flatMap((turn) =>
      turn.holds.map((hold) => ({
        ms: (turn.words[hold.after + 1]!.start - turn.words[hold.after]!.end) * 1000,
        confidence: hold.eot_confidence,
      })),
    ),
  );
}

type ProfileKind = 'default' | 'fast' | 'slow LLM' | 'slow TTS' | 'other';

/** Which provider profile of CORPUS.md a case uses ("Profiles that matter"). */
function profileKind(profile: CaseProfile): ProfileKind {
  const defaults = defaultProfile();
  if (JSON.stringify(profile) === JSON.stringify(defaults)) return 'default';
  const within = (value: number, low: number, high: number) => value >= low && value <= high;
  if (
    within(profile.llm_ttft_ms, 100, 150) &&
    within(profile.tts_ttfb_ms, 80, 100) &&
    within(profile.llm_tokens_per_s, 80, 120)
  )
    return 'fast';
  if (profile.llm_ttft_ms >= 800) return 'slow LLM';
  if (profile.tts_ttfb_ms >= 500) return 'slow TTS';
  return 'other';
}

const loaded: Partial<Record<Split, { cases: ScriptCase[]; spec: SpecCase[] }>> = {};
async function load(split: Split) {
  const spec = specSchema.parse(
    JSON.parse(readFileSync(join(ROOT, 'bench', 'corpus-gen', `${split}.json`), 'utf8')),
  ).cases;
  return (loaded[split] ??= { cases: await loadCorpus(join(ROOT, 'bench', 'corpus', split)), spec });
}

describe.each(Object.keys(SPLITS) as Split[])('bench/corpus/%s', (split) => {
  let cases: ScriptCase[];
  let spec: SpecCase[];
  beforeAll(async () => {
    ({ cases, spec } = await load(split));
  });
  const turns = () => cases.flatMap((c) => c.turns);
  const transcripts = () => turns().map((turn) => normalise(finalTranscript(turn)));

  it(`holds the spec's cases (about ${SPLITS[split].cases}), each turn with its spec's words and a reply`, () => {
    expect(cases.length).toBeGreaterThanOrEqual(SPLITS[split].cases - 2);
    expect(cases.map((c) => c.id)).toEqual(spec.map((c) => c.id).sort());
    for (const c of cases) {
      const written = spec.find((s) => s.id === c.id)!;
      expect(c.turns.map((turn) => finalTranscript(turn))).toEqual(
        written.turns.map((turn) =>
          parseTurnText(turn.text, c.id)
            .map((token) => token.word)
            .join(' '),
        ),
      );
      for (const turn of c.turns) expect(turn.reply.trim()).not.toBe('');
    }
  });

  it("has word times that agree with the audio: speech in every word, phrase edges within 60 ms of the audio's", () => {
    for (const c of cases) expect(checkWordTiming(c.turns, c.audio).problems, c.id).toEqual([]);
  });

  it('has questions and commands asked in one go', () => {
    const inOneGo = cases.filter((c) => c.turns.length === 1 && c.turns[0]!.holds.length === 0);
    expect(inOneGo.filter((c) => c.id.startsWith('question-')).length).toBeGreaterThanOrEqual(2);
    expect(inOneGo.filter((c) => c.id.startsWith('command-')).length).toBeGreaterThanOrEqual(2);
  });

  it('has holds of 300 to 1200 ms: low confidence (0.1 to 0.3) and high confidence (0.6 to 0.8)', () => {
    const holds = holdsOf(cases);
    expect(holds.every((h) => h.ms >= 300 - 1 && h.ms <= 1200 + 1)).toBe(true);
    expect(holds.filter((h) => h.confidence >= 0.1 && h.confidence <= 0.3).length).toBeGreaterThanOrEqual(5);
    expect(holds.filter((h) => h.confidence >= 0.6 && h.confidence <= 0.8).length).toBeGreaterThanOrEqual(5);
  });

  it('has a turn with two pauses', () => {
    expect(turns().filter((turn) => turn.holds.length >= 2).length).toBeGreaterThanOrEqual(1);
  });

  it('has at least 3 interim mis-hearings', () => {
    const misheard = turns().flatMap((turn) =>
      turn.interims.filter(
        (interim) =>
          normalise(interim.text) !==
          normalise(finalTranscript({ words: turn.words.slice(0, interim.after + 1) })),
      ),
    );
    expect(misheard.length).toBeGreaterThanOrEqual(3);
  });

  it('has at least 2 turns of more than 10 s of speech', () => {
    expect(turns().filter((turn) => speechSeconds(turn) > 10).length).toBeGreaterThanOrEqual(2);
  });

  it('has conversations of 2 to 4 turns, with one-word and two-word answers', () => {
    const multiTurn = cases.filter((c) => c.turns.length >= 2);
    expect(multiTurn.length).toBeGreaterThanOrEqual(4);
    expect(cases.every((c) => c.turns.length <= 4)).toBe(true);
    expect(multiTurn.some((c) => c.turns.length >= 3)).toBe(true);
    const answers = multiTurn.flatMap((c) => c.turns.slice(1).map((turn) => turn.words.length));
    expect(answers.filter((words) => words === 1).length).toBeGreaterThanOrEqual(2);
    expect(answers.filter((words) => words === 2).length).toBeGreaterThanOrEqual(2);
  });

  it('says numbers, times, percentages and dates (the STT simulator smart-formats them)', () => {
    expect(transcripts().filter((t) => NUMBER_WORDS.test(t)).length).toBeGreaterThanOrEqual(8);
    expect(transcripts().filter((t) => TIME.test(t)).length).toBeGreaterThanOrEqual(3);
    expect(transcripts().filter((t) => PERCENTAGE.test(t)).length).toBeGreaterThanOrEqual(1);
    expect(transcripts().filter((t) => DATE.test(t)).length).toBeGreaterThanOrEqual(2);
  });

  it('uses fast providers for about a third of the cases, besides default, slow-LLM and slow-TTS ones', () => {
    const kinds = cases.map((c) => profileKind(c.profile));
    const count = (kind: ProfileKind) => kinds.filter((k) => k === kind).length;
    expect(count('fast') / cases.length).toBeGreaterThanOrEqual(0.28);
    expect(count('fast') / cases.length).toBeLessThanOrEqual(0.42);
    for (const kind of ['default', 'slow LLM', 'slow TTS'] as const)
      expect(count(kind)).toBeGreaterThanOrEqual(4);
    expect(count('other')).toBe(0);
  });

  it('is spoken by espeak-ng and flite, each in several voices and speeds', () => {
    const espeak = spec.filter((c) => c.synth === 'espeak-ng');
    const flite = spec.filter((c) => c.synth === 'flite');
    expect(espeak.length / spec.length).toBeGreaterThanOrEqual(0.4);
    expect(flite.length / spec.length).toBeGreaterThanOrEqual(0.4);
    expect(new Set(espeak.map((c) => c.voice)).size).toBeGreaterThanOrEqual(6);
    expect(new Set(flite.map((c) => c.voice)).size).toBe(4);
    const rates = espeak.flatMap((c) => (c.synth === 'espeak-ng' ? [c.rate] : []));
    const stretches = flite.flatMap((c) => (c.synth === 'flite' ? [c.duration_stretch] : []));
    expect(Math.max(...rates) - Math.min(...rates)).toBeGreaterThanOrEqual(50);
    expect(Math.max(...stretches) - Math.min(...stretches)).toBeGreaterThanOrEqual(0.2);
  });

  it('is listed in bench/corpus/README.md under its split', () => {
    const readme = readFileSync(join(ROOT, 'bench', 'corpus', 'README.md'), 'utf8');
    const section = readme.split(/^## /m).find((s) => s.startsWith(`The ${split} split`));
    expect(section, `a "## The ${split} split" section`).toBeDefined();
    for (const c of cases) expect(section).toContain(`| \`${c.id}\` |`);
  });
});

describe('bench/corpus splits', () => {
  it('share no sentence: the test split is for reporting only', async () => {
    const sentences = async (split: Split) =>
      new Set(
        (await load(split)).cases.flatMap((c) => c.turns.map((turn) => normalise(finalTranscript(turn)))),
      );
    const tune = await sentences('tune');
    const shared = [...(await sentences('test'))].filter((sentence) => tune.has(sentence));
    expect(shared).toEqual([]);
  });
});
