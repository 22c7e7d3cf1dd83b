import type { ReplySettings } from '../../../shared/settings';

/**
 * Cuts a streamed LLM reply into chunks for TTS.
 *
 * Feed tokens with `push()`; it returns the chunks that became ready. `flush()` at
 * the end of the reply returns the rest. Chunks keep the text exactly as it came,
 * spacing and punctuation included: joining every chunk gives back the input.
 *
 * A chunk ends after a boundary and the white space that follows it (so the next
 * chunk starts with a word, and a chunk ends with a space, as streaming TTS APIs
 * like). Boundaries:
 * - sentence ends: `.` `!` `?` `…` (or a run of them, "?!", "..."), optionally
 *   followed by closing quotes or brackets, then white space. Not inside a word or
 *   number ("3.5", "example.com", "wait...what"), not after an abbreviation
 *   ("Dr.", "Mr.", "e.g.", "U.S.", "etc.", initials like "J."), not after "No."/"p."
 *   before a number, and not after a list number at the start of a line ("1. ");
 * - line breaks (a list item or heading ends there even without punctuation);
 * - in `clause` mode also `,` `;` `:` followed by white space (not "1,000" or "10:30"),
 *   an em dash `—` (spaced or not), and a spaced hyphen or en dash (" - ", " – ").
 *
 * A boundary only cuts once the chunk holds at least `min_chunk_chars` characters
 * (white space at its edges not counted); shorter pieces merge into the next chunk.
 * The first chunk of a reply may end early, after `first_chunk_words` whole words, so that
 * speech can start before the first clause is complete (0 turns this off).
 * Because a boundary is confirmed by the first character after its white space,
 * a chunk is released by the token that starts the next one (or by `flush()`).
 */
export type ChunkerOptions = Pick<ReplySettings, 'chunking' | 'min_chunk_chars'> &
  Partial<Pick<ReplySettings, 'first_chunk_words'>>;

/** Abbreviations after which a period never ends a sentence (lower case, without the period). */
export const ABBREVIATIONS: readonly string[] = [
  'mr',
  'mrs',
  'ms',
  'mx',
  'dr',
  'prof',
  'sr',
  'jr',
  'st',
  'mt',
  'ft',
  'vs',
  'etc',
  'approx',
  'inc',
  'ltd',
  'co',
  'corp',
  'dept',
  'est',
  'gen',
  'gov',
  'lt',
  'col',
  'capt',
  'sgt',
  'rev',
  'hon',
  'ave',
  'blvd',
  'cf',
  'al',
];

/** Abbreviations that do not end a sentence when a number follows ("No. 5", "p. 12", "Jan. 3"). */
export const NUMBER_ABBREVIATIONS: readonly string[] = [
  'no',
  'nos',
  'nr',
  'vol',
  'fig',
  'p',
  'pp',
  'ch',
  'sec',
  'art',
  'jan',
  'feb',
  'mar',
  'apr',
  'jun',
  'jul',
  'aug',
  'sep',
  'sept',
  'oct',
  'nov',
  'dec',
];

const ABBREVIATION_SET = new Set(ABBREVIATIONS);
const NUMBER_ABBREVIATION_SET = new Set(NUMBER_ABBREVIATIONS);
const SENTENCE_END = new Set(['.', '!', '?', '…']);
const CLAUSE_END = new Set([',', ';', ':']);
const CLOSERS = new Set(['"', "'", '\u2019', '\u201d', ')', ']', '}', '»']);
const OPENERS = /^["'\u2018\u201c([{«]+/u;

const isSpace = (c: string | undefined): boolean => c !== undefined && /\s/.test(c);
const isLineSpace = (c: string | undefined): boolean => c === ' ' || c === '\t';

/** Result of looking at one candidate boundary. */
type Look =
  /** The text ends before the boundary can be decided. */
  | { kind: 'wait' }
  /** Not a boundary; resume scanning at `next`. */
  | { kind: 'no'; next: number }
  /** A boundary: the chunk may end at `end` (exclusive). */
  | { kind: 'cut'; end: number };

export class TextChunker {
  private buffer = '';
  /** Where scanning resumes in `buffer`. */
  private scan = 0;
  /** Whether `buffer` starts at the beginning of a line (nothing emitted yet, or the last chunk ended with a line break). */
  private lineStart = true;
  private readonly clauses: boolean;
  private readonly minChars: number;
  private readonly firstChunkWords: number;
  /** Nothing has been emitted for this reply yet. */
  private first = true;

  constructor(options: ChunkerOptions) {
    this.clauses = options.chunking === 'clause';
    this.minChars = options.min_chunk_chars;
    this.firstChunkWords = options.first_chunk_words ?? 0;
  }

  /** Adds LLM text; returns the chunks that are now complete (often none). */
  push(token: string): string[] {
    if (token.length === 0) return [];
    this.buffer += token;
    const out: string[] = [];
    while (this.scan < this.buffer.length) {
      const look = this.look(this.scan);
      if (look === undefined) {
        this.scan += 1;
      } else if (look.kind === 'wait') {
        break;
      } else if (look.kind === 'no') {
        this.scan = look.next;
      } else if (this.buffer.slice(0, look.end).trim().length >= this.minChars) {
        out.push(this.take(look.end));
      } else {
        this.scan = look.end;
      }
    }
    if (this.first && out.length === 0 && this.firstChunkWords > 0) {
      const end = this.endOfFirstWords();
      if (end !== null) out.push(this.take(end));
    }
    if (out.length) this.first = false;
    return out;
  }

  /** Where the first `first_chunk_words` words of the buffer and the white space after them end, once known. */
  private endOfFirstWords(): number | null {
    const text = this.buffer;
    let i = 0;
    while (i < text.length && isSpace(text[i])) i++;
    let words = 0;
    while (i < text.length) {
      while (i < text.length && !isSpace(text[i])) i++;
      if (i === text.length) return null; // the word may go on in the next token
      words++;
      while (i < text.length && isSpace(text[i])) i++;
      if (words >= this.firstChunkWords) return i;
    }
    return null;
  }

  /** Ends the reply: returns whatever has not been emitted yet, or null if nothing (or only white space) is left. */
  flush(): string | null {
    const rest = this.buffer;
    this.buffer = '';
    this.scan = 0;
    this.lineStart = true;
    this.first = true;
    return rest.trim().length > 0 ? rest : null;
  }

  private take(end: number): string {
    const chunk = this.buffer.slice(0, end);
    this.buffer = this.buffer.slice(end);
    this.scan = 0;
    this.lineStart = /\n\s*$/.test(chunk);
    return chunk;
  }

  /** Examines position `i`; undefined when it cannot start a boundary. */
  private look(i: number): Look | undefined {
    const text = this.buffer;
    const c = text[i]!;
    if (SENTENCE_END.has(c)) return this.lookSentence(i);
    if (c === '\n') return this.afterSpace(i);
    if (!this.clauses) return undefined;
    if (CLAUSE_END.has(c)) {
      const j = this.skipClosers(i + 1);
      if (j === text.length) return { kind: 'wait' };
      return isSpace(text[j]) ? this.afterSpace(j) : { kind: 'no', next: j };
    }
    if (c === '\u2014') {
      let j = i;
      while (text[j] === '\u2014') j++;
      return this.afterSpace(j);
    }
    if ((c === '-' || c === '\u2013') && isLineSpace(text[i - 1]) && this.hasWordBeforeOnLine(i - 1)) {
      const j = i + 1;
      if (j === text.length) return { kind: 'wait' };
      return isSpace(text[j]) ? this.afterSpace(j) : { kind: 'no', next: j };
    }
    return undefined;
  }

  private lookSentence(i: number): Look {
    const text = this.buffer;
    let j = i;
    while (j < text.length && SENTENCE_END.has(text[j]!)) j++;
    const cluster = text.slice(i, j);
    j = this.skipClosers(j);
    if (j === text.length) return { kind: 'wait' };
    if (!isSpace(text[j])) return { kind: 'no', next: j };
    if (cluster === '.') {
      let k = j;
      while (k < text.length && isSpace(text[k])) k++;
      if (k === text.length) return { kind: 'wait' };
      if (this.periodIsNotAnEnd(i, text[k]!)) return { kind: 'no', next: j };
    }
    return this.afterSpace(j);
  }

  /** A boundary whose white space starts at `j`: the cut goes after the white space, once a non-space follows. */
  private afterSpace(j: number): Look {
    const text = this.buffer;
    let k = j;
    while (k < text.length && isSpace(text[k])) k++;
    if (k === text.length) return { kind: 'wait' };
    return { kind: 'cut', end: k };
  }

  private skipClosers(j: number): number {
    while (j < this.buffer.length && CLOSERS.has(this.buffer[j]!)) j++;
    return j;
  }

  /** Whether the single period at `i` belongs to an abbreviation, initial or list number. */
  private periodIsNotAnEnd(i: number, nextChar: string): boolean {
    const text = this.buffer;
    let start = i;
    while (start > 0 && !isSpace(text[start - 1])) start--;
    const word = text.slice(start, i).replace(OPENERS, '');
    const lower = word.toLowerCase();
    if (lower.length === 0) return false;
    // Dotted abbreviations: "e.g", "i.e", "U.S", "a.m", "Ph.D".
    if (/^(?:\p{L}{1,2}\.)+\p{L}{1,2}$/u.test(word)) return true;
    // Initials: "J. K. Rowling".
    if (/^\p{Lu}$/u.test(word)) return true;
    if (ABBREVIATION_SET.has(lower)) return true;
    if (NUMBER_ABBREVIATION_SET.has(lower) && /\d/.test(nextChar)) return true;
    // A numbered list item: "1. " at the start of a line.
    if (/^\d+$/.test(word) && this.isLineStart(start)) return true;
    return false;
  }

  /** Whether only spaces separate `index` from the start of its line. */
  private isLineStart(index: number): boolean {
    let k = index - 1;
    while (k >= 0 && isLineSpace(this.buffer[k])) k--;
    if (k < 0) return this.lineStart;
    return this.buffer[k] === '\n' || this.buffer[k] === '\r';
  }

  /** Whether a non-space character precedes `index` on the same line (so a " - " is a dash, not a bullet). */
  private hasWordBeforeOnLine(index: number): boolean {
    return !this.isLineStart(index);
  }
}
