import type { TurnDetector, TurnDetectorInput } from '../ports';
import { words } from './normalize';

/**
 * A turn detector that reads only the transcript: it looks at how the user's words
 * end and says how likely it is that they have finished their turn. No model, no
 * audio, no history; deterministic and instant. Used when no end-of-turn model is
 * available and as the baseline the model detectors are measured against.
 *
 * Case is ignored and punctuation only matters as a last nudge (a transcript whose
 * words end in "to." is still unfinished). The cues, checked in this order on the
 * last words of the transcript:
 *
 * | cue                  | example                                         | probability |
 * |----------------------|-------------------------------------------------|-------------|
 * | empty                | "", "..."                                       | 0.05        |
 * | filler               | "so um", "it was like", "you know", "I mean"    | 0.05        |
 * | determiner           | "book a", "play the", "call my"                 | 0.08        |
 * | dangling contraction | "it's", "what's", "I'm", "let's", "I'll"        | 0.10        |
 * | conjunction          | "salt and", "tea or", "because"                 | 0.10        |
 * | preposition          | "remind me to", "book a flight to"              | 0.15        |
 * | hanging              | "I want", "can you", "is it", "the weather is"  | 0.20        |
 * | trailing pause       | "well,", "let me think...", "wait -"            | 0.60        |
 * | complete             | "what time is it", "turn it on"                 | 0.90        |
 * | complete sentence    | "that's all.", "thanks!"                        | 0.93        |
 * | complete question    | "what time is it?"                              | 0.95        |
 *
 * Exceptions keep common complete endings complete:
 * - fixed phrases: "I think so", "or so", "ever since", "and so on", "if you like", "I'm in" ...
 * - stranded prepositions in questions: "where are you from", "what is it made of",
 *   "who is it for", "what's the weather like", "what are you looking at"
 *   (a wh-word before, and a pronoun, -ing/-ed word or particle right before the preposition);
 * - phrasal particles: "turn it on", "log me in", "hold on", "stop by";
 * - copula questions with a wh-word: "what time is it", "how are you", "who am I";
 * - elliptical answers: "yes I can", "I know who you are", "it is";
 * - tag questions: "it's nice, isn't it", "you like it, don't you";
 * - "do you know", "what I mean" are questions, not fillers;
 * - "what do you want", "what do you think": the wh-word is the object.
 */

export type TurnEndingCue =
  | 'empty'
  | 'filler'
  | 'determiner'
  | 'dangling_contraction'
  | 'conjunction'
  | 'preposition'
  | 'hanging'
  | 'trailing_pause'
  | 'complete'
  | 'complete_sentence'
  | 'complete_question';

/** End-of-turn probability of each cue (the table above). */
export const TURN_ENDING_PROBABILITY: Readonly<Record<TurnEndingCue, number>> = {
  empty: 0.05,
  filler: 0.05,
  determiner: 0.08,
  dangling_contraction: 0.1,
  conjunction: 0.1,
  preposition: 0.15,
  hanging: 0.2,
  trailing_pause: 0.6,
  complete: 0.9,
  complete_sentence: 0.93,
  complete_question: 0.95,
};

/** Single-word hesitations; a transcript ending in one is not done. */
export const FILLERS: readonly string[] = [
  'um',
  'umm',
  'uh',
  'uhh',
  'uhm',
  'er',
  'erm',
  'ah',
  'eh',
  'hm',
  'hmm',
  'mm',
  'mmm',
  'like',
];

/** Multi-word hesitations. */
export const FILLER_PHRASES: readonly string[] = ['you know', 'i mean', 'kind of', 'sort of'];

export const CONJUNCTIONS: readonly string[] = [
  'and',
  'but',
  'or',
  'nor',
  'so',
  'because',
  'cause',
  'cuz',
  'if',
  'unless',
  'until',
  'till',
  'although',
  'whereas',
  'whether',
  'while',
  'since',
  'plus',
];

/**
 * Prepositions that leave a phrase open. Words that usually end phrasal verbs
 * ("up", "off", "out", "down", "over", "back", "away", "around") are left out.
 */
export const PREPOSITIONS: readonly string[] = [
  'to',
  'for',
  'from',
  'with',
  'about',
  'in',
  'on',
  'at',
  'of',
  'into',
  'onto',
  'by',
  'as',
  'than',
  'via',
  'per',
  'under',
  'between',
  'among',
  'against',
  'toward',
  'towards',
  'without',
  'within',
  'upon',
  'during',
  'near',
];

/** Articles and possessive determiners: a noun must follow. */
export const DETERMINERS: readonly string[] = [
  'a',
  'an',
  'the',
  'my',
  'your',
  'our',
  'their',
  'its',
  'every',
];

/** Forms of "be"; a copula question with a wh-word can end on its subject ("how are you"). */
export const COPULAS: readonly string[] = ['is', 'are', 'am', 'was', 'were'];

/** Auxiliaries and modals (positive forms; "can't", "don't" can end a sentence). */
export const AUXILIARIES: readonly string[] = [
  ...COPULAS,
  'be',
  'been',
  'being',
  'do',
  'does',
  'did',
  'have',
  'has',
  'had',
  'can',
  'could',
  'will',
  'would',
  'shall',
  'should',
  'may',
  'might',
  'must',
];

/** Negative auxiliaries, which start tag questions ("isn't it", "don't you"). */
export const NEGATIVE_AUXILIARIES: readonly string[] = [
  "isn't",
  "aren't",
  "wasn't",
  "weren't",
  "don't",
  "doesn't",
  "didn't",
  "haven't",
  "hasn't",
  "hadn't",
  "can't",
  "couldn't",
  "won't",
  "wouldn't",
  "shouldn't",
  "mustn't",
];

/** Pronouns that can be the subject of an inverted question ("is it", "can you", "is there"). */
export const SUBJECT_PRONOUNS: readonly string[] = [
  'i',
  'you',
  'he',
  'she',
  'it',
  'we',
  'they',
  'there',
  'this',
  'that',
];

/** Verbs that need a complement after a subject pronoun ("I want", "we need", "I was wondering"). */
export const HANGING_VERBS: readonly string[] = [
  'want',
  'wanna',
  'need',
  'gonna',
  'gotta',
  'wonder',
  'wondering',
  'think',
  'hope',
  'wish',
  'trying',
  'planning',
];

export const WH_WORDS: readonly string[] = [
  'what',
  'who',
  'whom',
  'whose',
  'which',
  'where',
  'when',
  'why',
  'how',
  'whatever',
  'whoever',
  'whomever',
  'whichever',
  'wherever',
  'whenever',
  'however',
];

/** Endings that look unfinished word by word but are complete. */
export const COMPLETE_ENDINGS: readonly string[] = [
  'think so',
  'hope so',
  'guess so',
  'believe so',
  'suppose so',
  'said so',
  'say so',
  'do so',
  'not so',
  'that so',
  'or so',
  'even so',
  'ever since',
  'just because',
  'so on',
  'later on',
  'right on',
  'what for',
  'where to',
  'if you like',
  'as you like',
  "i'm in",
  "we're in",
  'all in',
  'so do i',
  'so do we',
  'neither do i',
  'neither do we',
  'nor do i',
];

// ---------- internals ----------

const PERSONAL_PRONOUNS = new Set(['i', 'you', 'he', 'she', 'it', 'we', 'they']);
const OBJECT_PRONOUNS = new Set([
  'it',
  'them',
  'me',
  'him',
  'her',
  'us',
  'you',
  'this',
  'that',
  'these',
  'those',
  'everything',
  'something',
]);
/** Wh-words that can be the object of a stranded preposition ("what ... for", "where ... from"). */
const OBJECT_WH = new Set([
  'what',
  'who',
  'whom',
  'which',
  'whose',
  'where',
  'whatever',
  'whoever',
  'whomever',
  'whichever',
  'wherever',
]);
/** Prepositions that also work as verb particles ("turn it on", "log in", "stop by"). */
const PARTICLE_PREPOSITIONS = new Set(['in', 'on', 'by']);
const PARTICLE_VERBS = new Set([
  'come',
  'comes',
  'coming',
  'came',
  'go',
  'goes',
  'going',
  'went',
  'hang',
  'hold',
  'log',
  'logged',
  'sign',
  'signed',
  'check',
  'checked',
  'plug',
  'plugged',
  'tune',
  'tuned',
  'stop',
  'stopped',
  'drop',
  'dropped',
  'swing',
  'stay',
  'carry',
  'move',
  'keep',
  'switched',
  'turned',
]);
/** Words before a stranded preposition besides pronouns and -ing/-ed forms. */
const STRANDING_WORDS = new Set([
  'made',
  'done',
  'built',
  'known',
  'born',
  'seen',
  'written',
  'up',
  'out',
  'off',
  'down',
]);
/** Words that take an infinitive: "going to", "want to" stay open even in a question. */
const INFINITIVE_TAKERS = new Set([
  'going',
  'trying',
  'planning',
  'hoping',
  'wanting',
  'needing',
  'want',
  'wanna',
  'need',
  'have',
  'has',
  'had',
  'got',
  'able',
  'supposed',
  'used',
  'like',
  'love',
  'meant',
  'about',
  'how',
]);
/** Words skipped when looking for the subject of a hanging verb ("I really want", "I was wondering"). */
const VERB_MODIFIERS = new Set([
  'really',
  'just',
  'also',
  'still',
  'actually',
  'only',
  'always',
  'kinda',
  'sorta',
  'not',
  'never',
]);

const FILLER_SET = new Set(FILLERS);
const CONJUNCTION_SET = new Set(CONJUNCTIONS);
const PREPOSITION_SET = new Set(PREPOSITIONS);
const DETERMINER_SET = new Set(DETERMINERS);
const COPULA_SET = new Set([...COPULAS, "isn't", "aren't", "wasn't", "weren't"]);
const AUXILIARY_SET = new Set(AUXILIARIES);
const NEGATIVE_AUXILIARY_SET = new Set(NEGATIVE_AUXILIARIES);
const SUBJECT_PRONOUN_SET = new Set(SUBJECT_PRONOUNS);
const HANGING_VERB_SET = new Set(HANGING_VERBS);
const WH_SET = new Set(WH_WORDS);
const COMPLETE_ENDING_WORDS = COMPLETE_ENDINGS.map((phrase) => phrase.split(' '));
const FILLER_PHRASE_WORDS = FILLER_PHRASES.map((phrase) => phrase.split(' '));
/** Always-hanging verb forms ("I'm gonna", "you gotta"). */
const ALWAYS_HANGING = new Set(['gonna', 'wanna', 'gotta']);

/** "it's", "I'm", "what's", "let's", "you'll": a pronoun or wh-word fused with an auxiliary. */
const DANGLING_CONTRACTION =
  /^(?:i|you|he|she|it|we|they|that|there|here|this|what|who|where|when|why|how|let)'(?:s|m|re|ll|ve|d)$/;
/** A wh-word, bare or contracted ("what's", "who'd"). */
const WH_FORM = /^([a-z]+)(?:'(?:s|re|d|ll|ve))?$/;
/** Subject pronoun contractions ("I'm", "we're", "I'd"), subjects of a hanging verb. */
const PRONOUN_CONTRACTION = /^(?:i|you|he|she|we|they)'(?:m|re|d|ll|ve)$/;

function isWh(word: string | undefined): boolean {
  if (word === undefined) return false;
  const match = WH_FORM.exec(word);
  return match !== null && WH_SET.has(match[1]!);
}

function isObjectWh(word: string | undefined): boolean {
  if (word === undefined) return false;
  const match = WH_FORM.exec(word);
  return match !== null && OBJECT_WH.has(match[1]!);
}

function endsWithPhrase(ws: readonly string[], phrase: readonly string[]): boolean {
  if (phrase.length > ws.length) return false;
  const offset = ws.length - phrase.length;
  return phrase.every((word, i) => ws[offset + i] === word);
}

/** Whether a wh-word occurs among ws[0 .. end). */
function hasWhBefore(ws: readonly string[], end: number, objectOnly = false): boolean {
  for (let i = 0; i < end; i++) if (objectOnly ? isObjectWh(ws[i]) : isWh(ws[i])) return true;
  return false;
}

/** "where are you from", "what is it made of", "what's the weather like": a preposition left at the end of a question. */
function isStrandedPreposition(ws: readonly string[]): boolean {
  const last = ws.length - 1;
  const prep = ws[last]!;
  const before = ws[last - 1];
  if (before === undefined || !hasWhBefore(ws, last - 1, true)) return false;
  if (prep === 'like') return true;
  if (prep === 'to' && INFINITIVE_TAKERS.has(before)) return false;
  return (
    OBJECT_PRONOUNS.has(before) ||
    PERSONAL_PRONOUNS.has(before) ||
    STRANDING_WORDS.has(before) ||
    (before.length >= 4 && /(?:ing|ed)$/.test(before) && !INFINITIVE_TAKERS.has(before))
  );
}

/** "turn it on", "log me in", "hold on", "stop by". */
function isParticle(ws: readonly string[]): boolean {
  const last = ws.length - 1;
  const before = ws[last - 1];
  if (before === undefined || !PARTICLE_PREPOSITIONS.has(ws[last]!)) return false;
  return PARTICLE_VERBS.has(before) || (OBJECT_PRONOUNS.has(before) && before !== 'you');
}

/** "you know" and "I mean" are fillers unless they are a question or clause ("do you know", "what I mean"). */
function isFillerPhrase(ws: readonly string[], phrase: readonly string[]): boolean {
  if (!endsWithPhrase(ws, phrase)) return false;
  const before = ws[ws.length - phrase.length - 1];
  if (before === undefined) return true;
  if (phrase[0] === 'you' || phrase[0] === 'i') {
    return !(
      AUXILIARY_SET.has(before) ||
      NEGATIVE_AUXILIARY_SET.has(before) ||
      isWh(before) ||
      before === 'if'
    );
  }
  return true;
}

/** Auxiliaries that are also main verbs: "do it", "I did that", "have it". */
const MAIN_VERB_AUXILIARIES = new Set(['do', 'does', 'did', 'have', 'has', 'had']);
/** Subjects that are also objects. */
const OBJECT_SUBJECTS = new Set(['it', 'that', 'this']);

/**
 * Aux + subject at the end: "is it", "can you", "what can you" hang; "what time is it",
 * "isn't it", "that is it", "do it", "I did it" do not. Undefined: no aux + subject ending.
 */
function invertedQuestionHangs(ws: readonly string[]): boolean | undefined {
  const last = ws.length - 1;
  const subject = ws[last]!;
  const aux = ws[last - 1];
  if (aux === undefined || !SUBJECT_PRONOUN_SET.has(subject)) return undefined;
  const positive = AUXILIARY_SET.has(aux);
  const negative = NEGATIVE_AUXILIARY_SET.has(aux);
  if (!positive && !negative) return undefined;
  const lead = ws[last - 2];
  // Declarative, not inverted: "that is it", "I did it", "you have that".
  if (lead !== undefined && (SUBJECT_PRONOUN_SET.has(lead) || lead === 'here')) return false;
  if (MAIN_VERB_AUXILIARIES.has(aux) && OBJECT_SUBJECTS.has(subject)) {
    // "do it", "have that": "do"/"have" cannot invert with a singular subject.
    if (aux === 'do' || aux === 'have') return false;
    // "did it", "has it" invert only at the start of a clause: "did it", "what did it", "and has it".
    const clauseStart = lead === undefined || isWh(lead) || CONJUNCTION_SET.has(lead);
    if (!clauseStart) return false;
  }
  // Tag question: "it's nice, isn't it", "you like it, don't you".
  if (negative && last - 1 >= 2 && !hasWhBefore(ws, last - 1)) return false;
  // "so do I", "neither can we".
  if (lead === 'so' || lead === 'neither' || lead === 'nor') return false;
  // "what time is it", "how are you", "who am I".
  if (COPULA_SET.has(aux) && hasWhBefore(ws, last - 1)) return false;
  return true;
}

/** Words before "may" that make it the month: "the 21st of may", "in may", "next may", "may" after a date number. */
const MONTH_MAY_LEADS = new Set([
  'of',
  'in',
  'since',
  'until',
  'till',
  'by',
  'before',
  'after',
  'during',
  'next',
  'last',
  'this',
  'early',
  'late',
  'mid',
]);

function isMonthMay(ws: readonly string[], at: number): boolean {
  const before = ws[at - 1];
  return (
    ws[at] === 'may' &&
    before !== undefined &&
    (MONTH_MAY_LEADS.has(before) || /^\d+(?:st|nd|rd|th)?$/.test(before))
  );
}

/** A trailing run of auxiliaries: "the weather is", "what is", "that would be" hang; "yes I can", "I know who you are" do not. */
function auxiliaryChainHangs(ws: readonly string[]): boolean | undefined {
  if (isMonthMay(ws, ws.length - 1)) return undefined;
  let start = ws.length;
  while (start > 0 && AUXILIARY_SET.has(ws[start - 1]!)) start--;
  if (start === ws.length) return undefined;
  const subject = ws[start - 1];
  if (subject === undefined) return true;
  if (PERSONAL_PRONOUNS.has(subject)) {
    // "yes I can", "I know who you are"; but an inverted question stays open: "can I have", "would it be".
    const inverted =
      start >= 2 && (AUXILIARY_SET.has(ws[start - 2]!) || NEGATIVE_AUXILIARY_SET.has(ws[start - 2]!));
    return inverted && !hasWhBefore(ws, start - 2);
  }
  // Embedded question: "where the station is", "what my schedule is".
  for (let i = 0; i < start - 1; i++) {
    if (!isWh(ws[i])) continue;
    for (let j = i + 1; j < start; j++) {
      if (DETERMINER_SET.has(ws[j]!) || PERSONAL_PRONOUNS.has(ws[j]!)) return false;
    }
  }
  return true;
}

/** "I want", "we need", "I was wondering", "I'm gonna"; not "what do you want". */
function hangingVerb(ws: readonly string[]): boolean {
  const last = ws.length - 1;
  const verb = ws[last]!;
  if (!HANGING_VERB_SET.has(verb)) return false;
  if (ALWAYS_HANGING.has(verb)) return true;
  let i = last - 1;
  while (
    i >= 0 &&
    (AUXILIARY_SET.has(ws[i]!) || NEGATIVE_AUXILIARY_SET.has(ws[i]!) || VERB_MODIFIERS.has(ws[i]!))
  ) {
    i--;
  }
  const subject = ws[i];
  if (subject === undefined) return false;
  if (!PERSONAL_PRONOUNS.has(subject) && !PRONOUN_CONTRACTION.test(subject)) return false;
  return !hasWhBefore(ws, i);
}

/** A lone subject at the end: "yesterday I", "and then we"; not "than I", "as they". */
function loneSubjectHangs(ws: readonly string[]): boolean {
  const last = ws.length - 1;
  const word = ws[last]!;
  if (!['i', 'we', 'they', 'he', 'she'].includes(word)) return false;
  const before = ws[last - 1];
  return before !== 'than' && before !== 'as' && !AUXILIARY_SET.has(before ?? '');
}

function punctuationCue(transcript: string): TurnEndingCue {
  const tail = transcript.trimEnd().replace(/["'\u2019\u201d)\]}»]+$/u, '');
  if (/(?:\.\.\.|…|[,;:\-\u2013\u2014])$/u.test(tail)) return 'trailing_pause';
  if (/\?[!?]*$/.test(tail)) return 'complete_question';
  if (/[.!]$/.test(tail)) return 'complete_sentence';
  return 'complete';
}

/** Which cue the transcript's ending shows (the table above). */
export function classifyTurnEnding(transcript: string): TurnEndingCue {
  const ws = words(transcript);
  if (ws.length === 0) return 'empty';
  const last = ws[ws.length - 1]!;

  if (COMPLETE_ENDING_WORDS.some((phrase) => endsWithPhrase(ws, phrase))) return punctuationCue(transcript);
  if (FILLER_PHRASE_WORDS.some((phrase) => isFillerPhrase(ws, phrase))) return 'filler';
  if (FILLER_SET.has(last) && !(last === 'like' && isStrandedPreposition(ws))) return 'filler';
  if (DETERMINER_SET.has(last)) return 'determiner';
  if (DANGLING_CONTRACTION.test(last)) return 'dangling_contraction';
  if (CONJUNCTION_SET.has(last)) return 'conjunction';
  if (PREPOSITION_SET.has(last) && !isStrandedPreposition(ws) && !isParticle(ws)) return 'preposition';

  const inverted = invertedQuestionHangs(ws);
  if (inverted === true) return 'hanging';
  if (inverted === undefined) {
    if (auxiliaryChainHangs(ws) === true || hangingVerb(ws) || loneSubjectHangs(ws)) return 'hanging';
  }
  return punctuationCue(transcript);
}

/** Probability that a user who said `transcript` has finished their turn. */
export function endOfTurnProbability(transcript: string): number {
  return TURN_ENDING_PROBABILITY[classifyTurnEnding(transcript)];
}

export class HeuristicTurnDetector implements TurnDetector {
  readonly name = 'heuristic';

  predictEndOfTurn(input: TurnDetectorInput): Promise<number> {
    return Promise.resolve(endOfTurnProbability(input.transcript));
  }
}
