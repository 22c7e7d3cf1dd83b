/**
 * The corpus spec (bench/corpus-gen/tune.json, test.json, test/fixtures/spec.json): cases as
 * text with pause markers, each spoken by one synthesiser voice. Turn text is words separated by
 * spaces, with `[pause SECONDS conf P]` markers between phrases:
 *
 *   "remind me to [pause 0.9 conf 0.2] call mom at six"
 *
 * A phrase (the words between markers) is synthesised whole. Its last word may end with "?" (a
 * question's intonation) or "." (a statement's); a phrase before a pause is otherwise spoken as
 * unfinished (as before a comma), and the turn's last phrase as a statement.
 */
import { z } from 'zod';
import { profileSchema } from '../../src/main/engine/scripted/case';

export const FLITE_VOICES = ['slt', 'rms', 'awb', 'kal16'] as const;
export type FliteVoice = (typeof FLITE_VOICES)[number];

const specTurnSchema = z.strictObject({
  /** Words separated by spaces, with `[pause SECONDS conf P]` markers between phrases. */
  text: z.string().min(1),
  reply: z.string().min(1),
  /** Silence before the turn (s); default 0.5 s for the first, else the previous reply's playing time + 2.5 s. */
  silence_before: z.number().min(0).optional(),
  end_eot_confidence: z.number().min(0).max(1).optional(),
  interims: z.array(z.strictObject({ after: z.number().int().min(0), text: z.string().min(1) })).optional(),
});

const caseFields = {
  id: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, { error: 'must be lowercase letters, digits and dashes' }),
  description: z.string(),
  /** Overrides of the default profile, written to case.json as given (checked by the case reader). */
  profile: z
    .strictObject(
      Object.fromEntries(Object.keys(profileSchema.shape).map((key) => [key, z.number().optional()])),
    )
    .optional(),
  /** Silence after the last turn (s); default its reply's playing time + 2 s. */
  trailing_silence: z.number().min(0).optional(),
  turns: z.array(specTurnSchema).min(1),
};

const espeakCaseSchema = z.strictObject({
  ...caseFields,
  synth: z.literal('espeak-ng'),
  /** An espeak-ng voice or language, optionally with a variant: en-us, en-gb, en-gb-scotland, en-us+f3. */
  voice: z.string().regex(/^[a-z]{2,3}(-[a-z0-9]+)*(\+[a-z0-9]+)?$/i, {
    error: 'must be an espeak-ng voice such as en-us, en-gb-scotland or en-us+f3',
  }),
  /** Words per minute. */
  rate: z.number().int().min(80).max(450),
});

const fliteCaseSchema = z.strictObject({
  ...caseFields,
  synth: z.literal('flite'),
  voice: z.enum(FLITE_VOICES),
  /** Scales every sound's duration: 1 is the voice's own speed, 1.2 is 20 % slower. */
  duration_stretch: z.number().min(0.5).max(2),
});

const specCaseSchema = z.discriminatedUnion('synth', [espeakCaseSchema, fliteCaseSchema], {
  error: (issue) => (issue.code === 'invalid_union' ? 'must be "espeak-ng" or "flite"' : undefined),
});

export const specSchema = z.strictObject({ cases: z.array(specCaseSchema).min(1) });
export type CorpusSpec = z.input<typeof specSchema>;
export type SpecCase = z.output<typeof specCaseSchema>;
/** Who speaks a case: the synthesiser and its voice and speed. */
export type SpecVoice =
  | Pick<z.output<typeof espeakCaseSchema>, 'synth' | 'voice' | 'rate'>
  | Pick<z.output<typeof fliteCaseSchema>, 'synth' | 'voice' | 'duration_stretch'>;

/** How a phrase ends: a question, a statement, or unfinished (the speaker goes on after a pause). */
export type PhraseEnding = '?' | '.' | ',';

export interface Token {
  word: string;
  /** A pause after this word: its length (s) and end-of-turn confidence. */
  pause?: { seconds: number; confidence: number };
  /** "?" or "." written after the word, which must end a phrase. */
  ending?: '?' | '.';
}

/** A word: letters and digits, with apostrophes inside ("what's", "o'clock"). */
const WORD = /^[\p{L}\p{N}]+(?:'[\p{L}\p{N}]+)*$/u;

/** Splits turn text into words, attaching each pause marker to the word before it. */
export function parseTurnText(text: string, where: string): Token[] {
  const tokens: Token[] = [];
  const pattern = /\[pause\s+([0-9.]+)\s+conf\s+([0-9.]+)\]|\[[^\]]*\]|(\S+)/g;
  for (const match of text.matchAll(pattern)) {
    const written = match[3];
    if (written !== undefined) {
      const previous = tokens[tokens.length - 1];
      if (previous?.ending && !previous.pause)
        throw new Error(`${where}: "${previous.ending}" after "${previous.word}" must end a phrase`);
      const ending = written.endsWith('?') ? '?' : written.endsWith('.') ? '.' : undefined;
      const word = ending ? written.slice(0, -1) : written;
      if (!WORD.test(word))
        throw new Error(`${where}: "${written}" is not a word (letters, digits, inner apostrophes)`);
      tokens.push(ending ? { word, ending } : { word });
      continue;
    }
    if (match[1] === undefined)
      throw new Error(`${where}: bad marker ${match[0]} (expected [pause SECONDS conf P])`);
    const previous = tokens[tokens.length - 1];
    if (!previous) throw new Error(`${where}: a pause must follow a word`);
    if (previous.pause) throw new Error(`${where}: two pauses in a row after "${previous.word}"`);
    const pause = { seconds: Number(match[1]), confidence: Number(match[2]) };
    if (!Number.isFinite(pause.seconds) || !(pause.confidence >= 0 && pause.confidence <= 1))
      throw new Error(`${where}: bad marker ${match[0]} (SECONDS a number, P between 0 and 1)`);
    previous.pause = pause;
  }
  if (!tokens.length) throw new Error(`${where}: no words`);
  if (tokens[tokens.length - 1]!.pause) throw new Error(`${where}: a pause must be followed by a word`);
  return tokens;
}

export interface Phrase {
  words: string[];
  /** Index in the turn of the phrase's first word. */
  first: number;
  ending: PhraseEnding;
  /** The pause after the phrase, if another phrase follows in the same turn. */
  pause?: { seconds: number; confidence: number };
}

/** Groups a turn's tokens into the phrases between its pauses. */
export function phrasesOf(tokens: Token[]): Phrase[] {
  const phrases: Phrase[] = [];
  let words: string[] = [];
  tokens.forEach((token, i) => {
    words.push(token.word);
    const last = i === tokens.length - 1;
    if (!token.pause && !last) return;
    const ending = token.ending ?? (last ? '.' : ',');
    phrases.push({
      words,
      first: i + 1 - words.length,
      ending,
      ...(token.pause ? { pause: token.pause } : {}),
    });
    words = [];
  });
  return phrases;
}
