/**
 * Spoken English numbers ("twenty one", "one hundred and five", "twenty first") read from a
 * list of words. Speech-to-text services write the same number either way (Deepgram's
 * smart formatting turns "fifteen percent" into "15%"), so comparisons of transcripts and the
 * simulated formatting both need one reading of them.
 */

const UNITS: Record<string, number> = {
  zero: 0,
  one: 1,
  two: 2,
  three: 3,
  four: 4,
  five: 5,
  six: 6,
  seven: 7,
  eight: 8,
  nine: 9,
};
const TEENS: Record<string, number> = {
  ten: 10,
  eleven: 11,
  twelve: 12,
  thirteen: 13,
  fourteen: 14,
  fifteen: 15,
  sixteen: 16,
  seventeen: 17,
  eighteen: 18,
  nineteen: 19,
};
const TENS: Record<string, number> = {
  twenty: 20,
  thirty: 30,
  forty: 40,
  fifty: 50,
  sixty: 60,
  seventy: 70,
  eighty: 80,
  ninety: 90,
};
const ORDINAL_UNITS: Record<string, number> = {
  first: 1,
  second: 2,
  third: 3,
  fourth: 4,
  fifth: 5,
  sixth: 6,
  seventh: 7,
  eighth: 8,
  ninth: 9,
};
const ORDINAL_TEENS: Record<string, number> = {
  tenth: 10,
  eleventh: 11,
  twelfth: 12,
  thirteenth: 13,
  fourteenth: 14,
  fifteenth: 15,
  sixteenth: 16,
  seventeenth: 17,
  eighteenth: 18,
  nineteenth: 19,
};
const ORDINAL_TENS: Record<string, number> = {
  twentieth: 20,
  thirtieth: 30,
  fortieth: 40,
  fiftieth: 50,
  sixtieth: 60,
  seventieth: 70,
  eightieth: 80,
  ninetieth: 90,
};

/** A number read from words[start .. start + length). */
export interface SpokenNumber {
  value: number;
  ordinal: boolean;
  start: number;
  length: number;
}

/**
 * The longest spoken number starting at words[start] (lower-case words without punctuation),
 * or null. "one two" is two numbers (a unit cannot follow a unit), "twenty one" one, "one
 * hundred and five" one; "and" belongs to a number only between "hundred" and what follows.
 * "second" alone is not read as an ordinal (it is a unit of time as often as not).
 */
export function readNumber(words: readonly string[], start: number): SpokenNumber | null {
  let total = 0;
  let group = 0; // the part below a thousand being read
  let length = 0;
  let lastKind: 'unit' | 'teen' | 'tens' | 'hundred' | 'thousand' | null = null;
  let ordinal = false;
  for (let i = start; i < words.length && !ordinal; i++) {
    const word = words[i]!;
    const next = words[i + 1];
    const ordinalUnit = ORDINAL_UNITS[word];
    const ordinalTeen = ORDINAL_TEENS[word];
    const ordinalTens = ORDINAL_TENS[word];
    if (word in UNITS || ordinalUnit !== undefined) {
      const value = UNITS[word] ?? ordinalUnit!;
      if (lastKind === 'unit' || lastKind === 'teen') break;
      if (value === 0 && lastKind !== null) break;
      if (ordinalUnit !== undefined && word === 'second' && lastKind === null) break;
      group += value;
      lastKind = 'unit';
      ordinal = ordinalUnit !== undefined;
    } else if (word in TEENS || ordinalTeen !== undefined) {
      if (lastKind === 'unit' || lastKind === 'teen' || lastKind === 'tens') break;
      group += TEENS[word] ?? ordinalTeen!;
      lastKind = 'teen';
      ordinal = ordinalTeen !== undefined;
    } else if (word in TENS || ordinalTens !== undefined) {
      if (lastKind === 'unit' || lastKind === 'teen' || lastKind === 'tens') break;
      group += TENS[word] ?? ordinalTens!;
      lastKind = 'tens';
      ordinal = ordinalTens !== undefined;
    } else if (word === 'hundred' || word === 'hundredth') {
      if (lastKind !== 'unit' && lastKind !== 'teen') break;
      if (group % 100 === 0 || group >= 100) break;
      group *= 100;
      lastKind = 'hundred';
      ordinal = word === 'hundredth';
    } else if (word === 'thousand' || word === 'thousandth') {
      if (lastKind === null || lastKind === 'thousand' || total > 0 || group === 0) break;
      total = group * 1000;
      group = 0;
      lastKind = 'thousand';
      ordinal = word === 'thousandth';
    } else if (word === 'and') {
      const continues =
        next !== undefined && (next in UNITS || next in TEENS || next in TENS || isOrdinalBelowHundred(next));
      if ((lastKind !== 'hundred' && lastKind !== 'thousand') || !continues) break;
    } else {
      break;
    }
    length = i - start + 1;
  }
  if (length === 0) return null;
  return { value: total + group, ordinal, start, length };
}

function isOrdinalBelowHundred(word: string): boolean {
  return word in ORDINAL_UNITS || word in ORDINAL_TEENS || word in ORDINAL_TENS;
}

/** "1st", "2nd", "3rd", "4th", "11th", "21st", … */
export function ordinalSuffix(value: number): string {
  const lastTwo = value % 100;
  if (lastTwo >= 11 && lastTwo <= 13) return 'th';
  return ['th', 'st', 'nd', 'rd'][value % 10] ?? 'th';
}

/** The number as digits, with its ordinal suffix when it is one. */
export function numberText(n: Pick<SpokenNumber, 'value' | 'ordinal'>): string {
  return n.ordinal ? `${n.value}${ordinalSuffix(n.value)}` : String(n.value);
}

/**
 * The words with every spoken number written in digits ("twenty first" → "21st"), and "a m" /
 * "p m" after a number joined to "am" / "pm". Input: lower-case words without punctuation.
 */
export function canonicalNumbers(words: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < words.length;) {
    const number = readNumber(words, i);
    if (number) {
      out.push(numberText(number));
      i += number.length;
      continue;
    }
    out.push(words[i]!);
    i++;
  }
  for (let i = 1; i + 1 < out.length; i++) {
    if (/^\d/.test(out[i - 1]!) && (out[i] === 'a' || out[i] === 'p') && out[i + 1] === 'm') {
      out.splice(i, 2, `${out[i]}m`);
    }
  }
  return out;
}
