import { describe, expect, it } from 'vitest';
import { TextChunker, type ChunkerOptions } from '../../src/main/engine/text/chunker';

const SENTENCE: ChunkerOptions = { chunking: 'sentence', min_chunk_chars: 1 };
const CLAUSE: ChunkerOptions = { chunking: 'clause', min_chunk_chars: 1 };

/** Feeds the tokens, then flushes; returns every chunk. */
function run(options: ChunkerOptions, tokens: readonly string[]): string[] {
  const chunker = new TextChunker(options);
  const out: string[] = [];
  for (const token of tokens) out.push(...chunker.push(token));
  const rest = chunker.flush();
  if (rest !== null) out.push(rest);
  return out;
}

/** Deterministic PRNG (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomSplit(text: string, random: () => number): string[] {
  const tokens: string[] = [];
  let i = 0;
  while (i < text.length) {
    const n = 1 + Math.floor(random() * 6);
    tokens.push(text.slice(i, i + n));
    i += n;
  }
  return tokens;
}

const chars = (text: string) => [...text];

describe('TextChunker: sentence mode', () => {
  it('cuts after sentence ends, keeping the following space in the chunk', () => {
    expect(run(SENTENCE, ['Hello there.', ' How are', ' you?', ' Fine!'])).toEqual([
      'Hello there. ',
      'How are you? ',
      'Fine!',
    ]);
  });

  it('releases a chunk as soon as the next sentence starts', () => {
    const chunker = new TextChunker(SENTENCE);
    expect(chunker.push('Sure')).toEqual([]);
    expect(chunker.push('.')).toEqual([]);
    expect(chunker.push(' ')).toEqual([]);
    expect(chunker.push('It')).toEqual(['Sure. ']);
    expect(chunker.push(' is.')).toEqual([]);
    expect(chunker.flush()).toBe('It is.');
    expect(chunker.flush()).toBeNull();
  });

  it('does not cut inside decimals, addresses or mid-word ellipses', () => {
    expect(
      run(SENTENCE, ['It costs 3', '.', '5 dollars at example', '.com today. Wait', '...', 'what? Ok']),
    ).toEqual(['It costs 3.5 dollars at example.com today. ', 'Wait...what? ', 'Ok']);
  });

  it('does not cut after abbreviations and initials', () => {
    const text =
      'Ask Dr. Smith and Mr. Jones, e.g. by phone. J. K. Rowling lives in the U.K. now. Fruit, etc. Done.';
    expect(run(SENTENCE, chars(text))).toEqual([
      'Ask Dr. Smith and Mr. Jones, e.g. by phone. ',
      'J. K. Rowling lives in the U.K. now. ',
      'Fruit, etc. Done.',
    ]);
  });

  it('treats "No." as an abbreviation only before a number', () => {
    expect(run(SENTENCE, chars('Call No. 5 now. I said no. Then left.'))).toEqual([
      'Call No. 5 now. ',
      'I said no. ',
      'Then left.',
    ]);
  });

  it('cuts after an ellipsis followed by a space, runs of ! and ?, and closing quotes or brackets', () => {
    expect(run(SENTENCE, chars('Hmm… let me see. Really?! Yes. He said "stop." (Then left.) End'))).toEqual([
      'Hmm… ',
      'let me see. ',
      'Really?! ',
      'Yes. ',
      'He said "stop." ',
      '(Then left.) ',
      'End',
    ]);
  });

  it('cuts at line breaks and leaves list numbers alone', () => {
    expect(run(SENTENCE, chars('Options:\n1. Apples\n2. Pears\n\nIn 2024. Next'))).toEqual([
      'Options:\n',
      '1. Apples\n',
      '2. Pears\n\n',
      'In 2024. ',
      'Next',
    ]);
  });

  it('does not cut at commas, colons or dashes', () => {
    expect(run(SENTENCE, chars('Well, first: this — and that - ok. Bye'))).toEqual([
      'Well, first: this — and that - ok. ',
      'Bye',
    ]);
  });
});

describe('TextChunker: clause mode', () => {
  it('also cuts at , ; : and dashes', () => {
    expect(run(CLAUSE, chars('Well, first: this; then — that—and this - ok. Bye'))).toEqual([
      'Well, ',
      'first: ',
      'this; ',
      'then — ',
      'that—',
      'and this - ',
      'ok. ',
      'Bye',
    ]);
  });

  it('does not cut inside numbers and times', () => {
    expect(run(CLAUSE, chars('Pay 1,000 euros at 10:30 sharp, please.'))).toEqual([
      'Pay 1,000 euros at 10:30 sharp, ',
      'please.',
    ]);
  });

  it('does not take a bullet hyphen at the start of a line for a dash', () => {
    // The white space after a cut goes with the cut chunk, so the next chunk starts at the bullet.
    expect(run(CLAUSE, chars('Items:\n- one\n - two'))).toEqual(['Items:\n', '- one\n ', '- two']);
    // Merged short pieces keep an indented bullet inside the pending text: still not a dash.
    expect(run({ chunking: 'clause', min_chunk_chars: 8 }, chars('Items:\n - one - two\n - three'))).toEqual([
      'Items:\n - one - ',
      'two\n - three',
    ]);
  });
});

describe('TextChunker: min_chunk_chars', () => {
  it('merges short pieces into the next chunk', () => {
    const options: ChunkerOptions = { chunking: 'clause', min_chunk_chars: 12 };
    expect(run(options, chars('Sure, well, I can do that. It is done, ok.'))).toEqual([
      'Sure, well, I can do that. ',
      'It is done, ok.',
    ]);
  });

  it('counts characters without the surrounding white space', () => {
    // "Hello, " is 7 characters with its space, 6 without.
    expect(run({ chunking: 'clause', min_chunk_chars: 7 }, chars('Hello, world. Bye'))).toEqual([
      'Hello, world. ',
      'Bye',
    ]);
    expect(run({ chunking: 'clause', min_chunk_chars: 6 }, chars('Hello, world. Bye'))).toEqual([
      'Hello, ',
      'world. ',
      'Bye',
    ]);
  });

  it('emits the last chunk on flush even when it is short', () => {
    expect(run({ chunking: 'sentence', min_chunk_chars: 50 }, ['Yes. ', 'No.'])).toEqual(['Yes. No.']);
  });

  it('flush returns null when nothing or only white space is left', () => {
    const chunker = new TextChunker(SENTENCE);
    expect(chunker.flush()).toBeNull();
    chunker.push('  \n');
    expect(chunker.flush()).toBeNull();
    expect(chunker.push('')).toEqual([]);
  });

  it('can be reused after flush', () => {
    const chunker = new TextChunker(SENTENCE);
    chunker.push('One. Two');
    expect(chunker.flush()).toBe('Two');
    expect(chunker.push('1. Three. F')).toEqual(['1. Three. ']);
    expect(chunker.flush()).toBe('F');
  });
});

describe('TextChunker: first_chunk_words', () => {
  const options: ChunkerOptions = { chunking: 'clause', min_chunk_chars: 12, first_chunk_words: 3 };

  it('cuts the first chunk after that many whole words, then goes back to clauses', () => {
    const tokens = [
      'Cloudy',
      ' and',
      ' twelve',
      ' degrees',
      ' in',
      ' Berlin,',
      ' with',
      ' light',
      ' rain',
      ' later.',
    ];
    expect(run(options, tokens)).toEqual([
      'Cloudy and twelve ',
      'degrees in Berlin, ',
      'with light rain later.',
    ]);
  });

  it('waits for the white space that proves the last word is whole', () => {
    const chunker = new TextChunker(options);
    expect(chunker.push('Sure')).toEqual([]);
    expect(chunker.push(' thing, I')).toEqual([]);
    expect(chunker.push(' ca')).toEqual(['Sure thing, I ']);
    expect(chunker.push('n do it.')).toEqual([]);
    expect(chunker.flush()).toBe('can do it.');
  });

  it('lets an earlier clause or sentence end cut first', () => {
    expect(run(options, chars('Yes, of course. I can.'))).toEqual(['Yes, of course. ', 'I can.']);
  });

  it('applies again after flush (the next reply), and 0 turns it off', () => {
    const chunker = new TextChunker(options);
    expect(chunker.push('One two three four')).toEqual(['One two three ']);
    expect(chunker.flush()).toBe('four');
    expect(chunker.push('Five six seven eight')).toEqual(['Five six seven ']);
    expect(run({ ...options, first_chunk_words: 0 }, chars('One two three four five.'))).toEqual([
      'One two three four five.',
    ]);
  });
});

describe('TextChunker: token streams', () => {
  const texts = [
    'Sure! The flight to Paris leaves at 9:45 a.m., costs $312.50, and lands at 11:05. Want me to book it?',
    'Dr. Lee, e.g., says the U.S. rate is 3.5%; that is high — really high… Right? "Yes." (Okay.) Done',
    'Here are three options:\n1. Walk, it takes 20 min.\n2. Bus - the 42.\n3. Taxi\n\nWhich one?',
    'Hmm... well, I think so. Wait...what?! No. 7 is closed: try No. 8 instead.',
  ];

  it('gives back exactly the input, split however the tokens arrive', () => {
    const random = rng(42);
    for (const text of texts) {
      for (const options of [SENTENCE, CLAUSE, { chunking: 'clause', min_chunk_chars: 12 } as const]) {
        for (let trial = 0; trial < 20; trial++) {
          expect(run(options, randomSplit(text, random)).join('')).toBe(text);
        }
      }
    }
  });

  it('cuts the same chunks whatever the token boundaries', () => {
    const random = rng(7);
    for (const text of texts) {
      for (const options of [SENTENCE, CLAUSE, { chunking: 'clause', min_chunk_chars: 12 } as const]) {
        const whole = run(options, [text]);
        const single = run(options, chars(text));
        expect(single).toEqual(whole);
        for (let trial = 0; trial < 20; trial++)
          expect(run(options, randomSplit(text, random))).toEqual(whole);
      }
    }
  });

  it('chunks a realistic reply', () => {
    expect(run({ chunking: 'clause', min_chunk_chars: 12 }, randomSplit(texts[0]!, rng(1)))).toEqual([
      'Sure! The flight to Paris leaves at 9:45 a.m., ',
      'costs $312.50, ',
      'and lands at 11:05. ',
      'Want me to book it?',
    ]);
    expect(run({ chunking: 'sentence', min_chunk_chars: 12 }, randomSplit(texts[0]!, rng(2)))).toEqual([
      'Sure! The flight to Paris leaves at 9:45 a.m., costs $312.50, and lands at 11:05. ',
      'Want me to book it?',
    ]);
  });

  it('returns several chunks from one large token', () => {
    expect(new TextChunker(SENTENCE).push('One. Two! Three? Four')).toEqual(['One. ', 'Two! ', 'Three? ']);
  });
});
