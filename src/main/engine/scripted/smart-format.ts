/**
 * How the simulated Deepgram writes a final transcript, following what Deepgram documents for
 * `punctuate` and `smart_format` (smart formatting implies punctuation): sentences start with a
 * capital and end with a full stop or a question mark; with smart formatting, numbers of ten and
 * more are written in digits ("twenty one" → "21"), as are times ("six thirty" → "6:30",
 * "seven p m" → "7 PM"), percentages ("fifteen percent" → "15%"), dollar amounts ("five
 * dollars" → "$5") and ordinals of ten and more ("twenty first" → "21st"); months, weekdays and
 * "I" are capitalised. Interims are not formatted. One token may stand for several spoken
 * words (a number), as in Deepgram's `words` list.
 */
import { numberText, readNumber } from '../text/numbers';

export type FinalFormat = 'none' | 'punctuate' | 'smart';

/** A written token and the spoken words [from, to) it stands for. */
export interface FormattedToken {
  /** The token without punctuation, lower-case (Deepgram's `word`). */
  word: string;
  /** As written in the transcript (Deepgram's `punctuated_word`). */
  punctuated: string;
  from: number;
  to: number;
}

/** The format a client asked for with its query (`smart_format` and `punctuate`). */
export function finalFormat(options: { smartFormat: boolean; punctuate: boolean }): FinalFormat {
  if (options.smartFormat) return 'smart';
  return options.punctuate ? 'punctuate' : 'none';
}

const PROPER = new Set([
  'i',
  'monday',
  'tuesday',
  'wednesday',
  'thursday',
  'friday',
  'saturday',
  'sunday',
  'january',
  'february',
  'march',
  'april',
  'june',
  'july',
  'august',
  'september',
  'october',
  'november',
  'december',
]);
const QUESTION_STARTS = new Set(
  'what when where who whom whose why how which is are am was were do does did can could will would should shall have has had'.split(
    ' ',
  ),
);

/**
 * The tokens of a final over `words` (the spoken words, lower-case, no punctuation). `sentenceEnd`:
 * the result closes an utterance (speech_final), so it ends with a full stop or question mark.
 */
export function formatFinal(
  words: readonly string[],
  format: FinalFormat,
  sentenceEnd: boolean,
): FormattedToken[] {
  const spoken = words.map((w) => w.toLowerCase());
  const tokens = format === 'smart' ? numeralTokens(spoken) : spoken.map((w, i) => plain(w, i));
  if (format === 'none' || !tokens.length) return tokens;
  for (const token of tokens) if (PROPER.has(token.word)) token.punctuated = capitalise(token.punctuated);
  tokens[0]!.punctuated = capitalise(tokens[0]!.punctuated);
  if (sentenceEnd) {
    const last = tokens.at(-1)!;
    if (!/[.?!]$/.test(last.punctuated))
      last.punctuated += QUESTION_STARTS.has(spoken[0]!.replace(/'.*$/, '')) ? '?' : '.';
  }
  return tokens;
}

export function tokensText(tokens: readonly FormattedToken[]): string {
  return tokens.map((t) => t.punctuated).join(' ');
}

function plain(word: string, i: number): FormattedToken {
  return { word, punctuated: word, from: i, to: i + 1 };
}

function numeralTokens(words: readonly string[]): FormattedToken[] {
  const tokens: FormattedToken[] = [];
  for (let i = 0; i < words.length;) {
    const number = readNumber(words, i);
    if (!number) {
      tokens.push(plain(words[i]!, i));
      i++;
      continue;
    }
    let end = i + number.length;
    let text: string | null = null;
    const minutes =
      !number.ordinal && number.value >= 1 && number.value <= 12 ? readNumber(words, end) : null;
    if (minutes && !minutes.ordinal && minutes.value >= 10 && minutes.value <= 59) {
      text = `${number.value}:${minutes.value}`;
      end += minutes.length;
    }
    const meridiem = readMeridiem(words, end);
    if (meridiem && !number.ordinal && number.value >= 1 && number.value <= 12) {
      text = `${text ?? number.value} ${meridiem.text}`;
      end += meridiem.length;
    } else if (!text && !number.ordinal && words[end] === 'percent') {
      text = `${number.value}%`;
      end += 1;
    } else if (!text && !number.ordinal && words[end] === 'dollars') {
      text = `$${number.value}`;
      end += 1;
    } else if (!text && number.value >= 10) {
      text = numberText(number);
    }
    if (text === null) {
      for (let k = i; k < end; k++) tokens.push(plain(words[k]!, k));
    } else {
      tokens.push({
        word: text.toLowerCase().replace(/[^a-z0-9:%$ ]/g, ''),
        punctuated: text,
        from: i,
        to: end,
      });
    }
    i = end;
  }
  return tokens;
}

function readMeridiem(words: readonly string[], at: number): { text: string; length: number } | null {
  const word = words[at];
  if (word === 'am' || word === 'pm') return { text: word.toUpperCase(), length: 1 };
  if ((word === 'a' || word === 'p') && words[at + 1] === 'm')
    return { text: `${word.toUpperCase()}M`, length: 2 };
  return null;
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
