/**
 * One phrase, synthesised whole by espeak-ng or flite through the C helpers, as 16 kHz audio with
 * each word's start (and, from flite, its end) as the synthesiser itself timed it.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SAMPLE_RATE } from '../../src/main/engine/ports';
import { ESPEAK_HELPER, FLITE_HELPER, helperExecutable } from './native-helper';
import type { PhraseEnding, SpecVoice } from './spec';

export interface SynthesisedPhrase {
  /** 16 kHz mono. */
  samples: Int16Array;
  /** Per word of the phrase, in seconds: its start, and its end when the synthesiser gives it. */
  words: { start: number; end?: number }[];
  /** Where the synthesiser says the phrase's speech ends (s). */
  end: number;
  /** Pauses the synthesiser put between words (s): before "and" in a long clause, say. */
  pauses: { start: number; end: number }[];
}

/**
 * The text a synthesiser is given: the words, and punctuation that sets the phrase's intonation.
 * espeak-ng speaks some word pairs from one dictionary entry ("of the", "in the", "to be") and
 * then reports one word event for both; joined by no-break spaces they stay two words, with the
 * same reduced pronunciation and no pause between them, and each gets its own event.
 */
export function phraseText(synth: SpecVoice['synth'], words: string[], ending: PhraseEnding): string {
  return `${words.join(synth === 'espeak-ng' ? '\u00a0' : ' ')}${ending}`;
}

export function synthesisePhrase(voice: SpecVoice, words: string[], ending: PhraseEnding): SynthesisedPhrase {
  const text = phraseText(voice.synth, words, ending);
  const work = mkdtempSync(join(tmpdir(), 'cue-phrase-'));
  try {
    const samplesFile = join(work, 'samples.raw');
    const helper = voice.synth === 'espeak-ng' ? ESPEAK_HELPER : FLITE_HELPER;
    const speed = voice.synth === 'espeak-ng' ? String(voice.rate) : String(voice.duration_stretch);
    const run = spawnSync(helperExecutable(helper), [voice.voice, speed, samplesFile], {
      input: text,
      encoding: 'utf8',
    });
    if (run.status !== 0)
      throw new Error(`${voice.synth} (${voice.voice}) failed on "${text}": ${run.stderr.trim()}`);
    const report = parseHelperReport(run.stdout);
    const where = `${voice.synth} (${voice.voice}) on "${text}"`;
    const timing =
      voice.synth === 'espeak-ng'
        ? espeakWordTimes(report, words, where)
        : fliteWordTimes(report, words, where);
    const native = readSamples(samplesFile);
    if (native.length !== report.samples)
      throw new Error(`${where}: ${native.length} samples written, ${report.samples} reported`);
    return { samples: resample(native, report.sampleRate, where), ...timing, pauses: pausesOf(report) };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

export interface HelperReport {
  sampleRate: number;
  samples: number;
  /** The helper's other lines, split on spaces: ["word", "8", "0.406"], ["token", "0.2", "0.5", "call"]. */
  facts: string[][];
}

export function parseHelperReport(stdout: string): HelperReport {
  const facts = stdout
    .split('\n')
    .filter((line) => line.trim())
    .map((line) => line.trim().split(/\s+/));
  const single = (name: string) => {
    const found = facts.filter((f) => f[0] === name);
    const value = Number(found[0]?.[1]);
    if (found.length !== 1 || !Number.isFinite(value))
      throw new Error(`synthesiser helper: expected one "${name}" line, got: ${stdout}`);
    return value;
  };
  return {
    sampleRate: single('sample_rate'),
    samples: single('samples'),
    facts: facts.filter((f) => f[0] !== 'sample_rate' && f[0] !== 'samples'),
  };
}

/**
 * espeak-ng reports a word event at the 1-based character position where a word starts. Each of
 * our words gets the first event inside its characters (espeak-ng may split a word); the phrase
 * ends at the last clause end.
 */
export function espeakWordTimes(report: HelperReport, words: string[], where: string) {
  const firstChar: number[] = [];
  let position = 1;
  for (const word of words) {
    firstChar.push(position);
    position += word.length + 1;
  }
  const starts: (number | undefined)[] = words.map(() => undefined);
  let end: number | undefined;
  for (const [kind, a, b] of report.facts) {
    if (kind === 'end') end = Number(a);
    if (kind !== 'word') continue;
    const char = Number(a);
    if (!Number.isFinite(char) || !Number.isFinite(Number(b)))
      throw new Error(`${where}: bad word event ${a} ${b}`);
    let index = firstChar.length - 1;
    while (index > 0 && firstChar[index]! > char) index--;
    starts[index] ??= Number(b);
  }
  const missing = words.filter((_, i) => starts[i] === undefined);
  if (missing.length)
    throw new Error(`${where}: espeak-ng gave no word event for ${missing.map((w) => `"${w}"`).join(', ')}`);
  if (end === undefined) throw new Error(`${where}: no end event`);
  return { words: starts.map((start) => ({ start: start! })), end };
}

/** flite reports one span per input token; our words are its tokens (split on white space). */
export function fliteWordTimes(report: HelperReport, words: string[], where: string) {
  const tokens = report.facts.filter((f) => f[0] === 'token');
  if (tokens.length !== words.length)
    throw new Error(`${where}: flite read ${tokens.length} tokens, the phrase has ${words.length} words`);
  const spans = tokens.map(([, start, end, name], i) => {
    if (start === '-') throw new Error(`${where}: flite spoke no word for "${name ?? words[i]}"`);
    return { start: Number(start), end: Number(end) };
  });
  return { words: spans, end: spans[spans.length - 1]!.end };
}

function pausesOf(report: HelperReport): { start: number; end: number }[] {
  return report.facts
    .filter((fact) => fact[0] === 'pause')
    .map(([, start, end]) => ({ start: Number(start), end: Number(end) }));
}

function readSamples(file: string): Int16Array {
  const bytes = readFileSync(file);
  // Copy into a fresh buffer: an Int16Array needs an even byte offset.
  return new Int16Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
}

/** To 16 kHz with sox (-D: no dither, so the output is the same bytes on every run). */
function resample(samples: Int16Array, rate: number, where: string): Int16Array {
  if (rate === SAMPLE_RATE) return samples;
  const raw = ['-t', 'raw', '-e', 'signed-integer', '-b', '16', '-c', '1'];
  const sox = spawnSync(
    'sox',
    ['-D', '-V1', ...raw, '-r', String(rate), '-', ...raw, '-r', String(SAMPLE_RATE), '-', 'rate', '-h'],
    { input: new Uint8Array(samples.buffer, samples.byteOffset, samples.byteLength), maxBuffer: 64 << 20 },
  );
  if (sox.error) throw new Error(`sox is needed to resample ${where} (apt-get install -y sox)`);
  if (sox.status !== 0) throw new Error(`sox failed on ${where}: ${sox.stderr.toString().trim()}`);
  const bytes = sox.stdout;
  return new Int16Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
}
