/**
 * Corpus generator: synthesises conversation cases (bench CORPUS.md, version 1) with espeak-ng
 * and sox. Each word is synthesised on its own (16 kHz mono 16-bit, leading and trailing silence
 * trimmed) and the words are joined with short deterministic gaps, so every word's timing in
 * case.json is exact to the sample count. Pause markers insert holds:
 *
 *   "book a flight to [pause 1.0 conf 0.3] paris"
 *
 * Usage: npx tsx bench/corpus-gen/generate.ts --spec <spec.json> --out <dir> [--only <id>]
 * Writes <out>/<id>/audio.wav and <out>/<id>/case.json (nothing else), then checks each case
 * with the corpus reader.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import * as prettier from 'prettier';
import { z } from 'zod';
import { encodeWav } from '../../src/main/engine/audio/wav';
import { SAMPLE_RATE } from '../../src/main/engine/ports';
import {
  AUDIO_FILE,
  CASE_FILE,
  CASE_VERSION,
  defaultProfile,
  loadCase,
  parseCaseJson,
  profileSchema,
  type CaseJsonInput,
} from '../../src/main/engine/scripted/case';

/** Silence before the first turn when the spec gives none (s). */
const DEFAULT_LEAD_IN = 0.5;
/** Silence after the time the previous reply needs to play, before the next turn (or the end). */
const DEFAULT_AFTER_REPLY = 2.5;
/** The least silence after a reply's playing time the generator accepts. */
const MIN_AFTER_REPLY = 2.0;
/** Gaps between words: MIN_GAP_MS + (0..GAP_SPREAD_MS), chosen by a hash of the case and word. */
const MIN_GAP_MS = 40;
const GAP_SPREAD_MS = 40;
/** sox `silence` threshold for trimming each word (sox runs with -D: no dither, so output is reproducible). */
const TRIM_THRESHOLD = '0.5%';

const specTurnSchema = z.strictObject({
  /** Words separated by spaces, with `[pause SECONDS conf P]` markers between words. */
  text: z.string().min(1),
  reply: z.string().min(1),
  /** Silence before the turn (s); default 0.5 s for the first, else the previous reply's playing time + 2.5 s. */
  silence_before: z.number().min(0).optional(),
  end_eot_confidence: z.number().min(0).max(1).optional(),
  interims: z.array(z.strictObject({ after: z.number().int().min(0), text: z.string().min(1) })).optional(),
});

const specCaseSchema = z.strictObject({
  id: z.string().min(1),
  description: z.string(),
  /** espeak-ng voice, e.g. en-us, en-gb, en-us+f3. */
  voice: z.string().default('en-us'),
  /** Words per minute. */
  rate: z.number().int().min(80).max(450).default(170),
  /** Overrides of the default profile, written to case.json as given (checked by the case reader). */
  profile: z
    .strictObject(
      Object.fromEntries(Object.keys(profileSchema.shape).map((key) => [key, z.number().optional()])),
    )
    .optional(),
  /** Silence after the last turn (s); default its reply's playing time + 2 s. */
  trailing_silence: z.number().min(0).optional(),
  turns: z.array(specTurnSchema).min(1),
});

export const specSchema = z.strictObject({ cases: z.array(specCaseSchema).min(1) });
export type CorpusSpec = z.input<typeof specSchema>;
type SpecCase = z.output<typeof specCaseSchema>;

interface Token {
  word: string;
  /** A pause after this word: its length (s) and end-of-turn confidence. */
  pause?: { seconds: number; confidence: number };
}

/** Splits turn text into words, attaching each pause marker to the word before it. */
export function parseTurnText(text: string, where: string): Token[] {
  const tokens: Token[] = [];
  const pattern = /\[pause\s+([0-9.]+)\s+conf\s+([0-9.]+)\]|\[[^\]]*\]|(\S+)/g;
  for (const match of text.matchAll(pattern)) {
    if (match[3] !== undefined) {
      tokens.push({ word: match[3] });
      continue;
    }
    if (match[1] === undefined)
      throw new Error(`${where}: bad marker ${match[0]} (expected [pause SECONDS conf P])`);
    const previous = tokens[tokens.length - 1];
    if (!previous) throw new Error(`${where}: a pause must follow a word`);
    if (previous.pause) throw new Error(`${where}: two pauses in a row after "${previous.word}"`);
    previous.pause = { seconds: Number(match[1]), confidence: Number(match[2]) };
  }
  if (!tokens.length) throw new Error(`${where}: no words`);
  if (tokens[tokens.length - 1]!.pause) throw new Error(`${where}: a pause must be followed by a word`);
  return tokens;
}

/** One word as 16 kHz mono Int16 speech, trimmed of leading and trailing silence. */
function synthesizeWord(word: string, voice: string, rate: number): Int16Array {
  const espeak = spawnSync('espeak-ng', ['-v', voice, '-s', String(rate), '--stdin', '--stdout'], {
    input: word,
    maxBuffer: 64 << 20,
  });
  if (espeak.status !== 0)
    throw new Error(`espeak-ng failed on "${word}": ${espeak.stderr?.toString().trim()}`);
  const sox = spawnSync(
    'sox',
    [
      ...['-D', '-V1', '-t', 'wav', '-'],
      ...['-t', 'raw', '-r', String(SAMPLE_RATE), '-c', '1', '-b', '16', '-e', 'signed-integer', '-L', '-'],
      ...[
        'silence',
        '1',
        '0.005',
        TRIM_THRESHOLD,
        'reverse',
        'silence',
        '1',
        '0.005',
        TRIM_THRESHOLD,
        'reverse',
      ],
    ],
    { input: espeak.stdout, maxBuffer: 64 << 20 },
  );
  if (sox.status !== 0) throw new Error(`sox failed on "${word}": ${sox.stderr?.toString().trim()}`);
  const bytes = sox.stdout;
  const samples = new Int16Array(bytes.length >> 1);
  for (let i = 0; i < samples.length; i++) samples[i] = bytes.readInt16LE(i * 2);
  if (!samples.length) throw new Error(`"${word}" synthesised to silence (voice ${voice})`);
  return samples;
}

/** A deterministic gap (ms) for word `index` of case `id`. */
function gapMs(id: string, index: number): number {
  let hash = 0x811c9dc5;
  for (const ch of `${id}:${index}`) hash = Math.imul(hash ^ ch.charCodeAt(0), 0x01000193) >>> 0;
  return MIN_GAP_MS + (hash % (GAP_SPREAD_MS + 1));
}

const seconds = (samples: number) => Math.round((samples / SAMPLE_RATE) * 1000) / 1000;
const samplesOf = (s: number) => Math.round(s * SAMPLE_RATE);

export interface GeneratedCase {
  caseJson: CaseJsonInput;
  audio: Int16Array;
}

/** Builds one case in memory: its audio and its case.json content. */
export function buildCase(spec: SpecCase): GeneratedCase {
  const profile = { ...defaultProfile(), ...spec.profile };
  const replyMs = (reply: string) => reply.length * profile.tts_ms_per_char;
  const cache = new Map<string, Int16Array>();
  const chunks: Int16Array[] = [];
  let length = 0;
  const append = (samples: Int16Array) => {
    chunks.push(samples);
    length += samples.length;
  };
  const silence = (s: number) => append(new Int16Array(samplesOf(s)));

  let wordCount = 0;
  const turns: CaseJsonInput['turns'] = spec.turns.map((turn, t) => {
    const where = `case "${spec.id}" turn ${t}`;
    const least = t === 0 ? 0 : replyMs(spec.turns[t - 1]!.reply) / 1000 + MIN_AFTER_REPLY;
    const before =
      turn.silence_before ?? (t === 0 ? DEFAULT_LEAD_IN : least + DEFAULT_AFTER_REPLY - MIN_AFTER_REPLY);
    if (before < least) {
      throw new Error(
        `${where}: silence_before ${before} s leaves no room for the previous reply (at least ${least.toFixed(3)} s)`,
      );
    }
    silence(before);
    const tokens = parseTurnText(turn.text, where);
    const words: { text: string; start: number; end: number }[] = [];
    const holds: { after: number; eot_confidence: number }[] = [];
    tokens.forEach((token, i) => {
      const key = token.word.toLowerCase();
      let speech = cache.get(key);
      if (!speech) cache.set(key, (speech = synthesizeWord(key, spec.voice, spec.rate)));
      const start = length;
      append(speech);
      words.push({ text: token.word, start: seconds(start), end: seconds(length) });
      wordCount++;
      if (i === tokens.length - 1) return;
      if (token.pause) {
        silence(token.pause.seconds);
        holds.push({ after: i, eot_confidence: token.pause.confidence });
      } else {
        silence(gapMs(spec.id, wordCount) / 1000);
      }
    });
    return {
      words,
      ...(holds.length ? { holds } : {}),
      ...(turn.end_eot_confidence !== undefined ? { end_eot_confidence: turn.end_eot_confidence } : {}),
      ...(turn.interims?.length ? { interims: turn.interims } : {}),
      reply: turn.reply,
    };
  });
  const lastReply = spec.turns[spec.turns.length - 1]!.reply;
  silence(spec.trailing_silence ?? replyMs(lastReply) / 1000 + MIN_AFTER_REPLY);

  const audio = new Int16Array(length);
  let offset = 0;
  for (const chunk of chunks) {
    audio.set(chunk, offset);
    offset += chunk.length;
  }
  const caseJson: CaseJsonInput = {
    version: CASE_VERSION,
    id: spec.id,
    description: spec.description,
    ...(spec.profile && Object.keys(spec.profile).length ? { profile: spec.profile } : {}),
    turns,
  };
  parseCaseJson(caseJson, spec.id, audio.length / SAMPLE_RATE);
  return { caseJson, audio };
}

/** case.json text as the project's Prettier formats it (each word, hold and interim on one line). */
export async function formatCaseJson(caseJson: CaseJsonInput, path: string): Promise<string> {
  const options = (await prettier.resolveConfig(path)) ?? {};
  return prettier.format(JSON.stringify(caseJson), { ...options, parser: 'json' });
}

export async function generate(specPath: string, outDir: string, only?: string): Promise<string[]> {
  const raw: unknown = JSON.parse(readFileSync(specPath, 'utf8'));
  const parsed = specSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.map(String).join('.')}: ${i.message}`);
    throw new Error(`${specPath}: ${problems.join('; ')}`);
  }
  const written: string[] = [];
  for (const spec of parsed.data.cases) {
    if (only && spec.id !== only) continue;
    const { caseJson, audio } = buildCase(spec);
    const dir = join(outDir, spec.id);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, AUDIO_FILE), encodeWav({ sampleRate: SAMPLE_RATE, channels: 1, samples: audio }));
    writeFileSync(join(dir, CASE_FILE), await formatCaseJson(caseJson, join(dir, CASE_FILE)));
    const loaded = await loadCase(dir);
    const speech = loaded.turns.reduce(
      (sum, t) => sum + t.words[t.words.length - 1]!.end - t.words[0]!.start,
      0,
    );
    console.log(
      `${spec.id}: ${loaded.turns.length} turn(s), ${(loaded.durationMs / 1000).toFixed(2)} s of audio, ${speech.toFixed(2)} s of speech`,
    );
    written.push(dir);
  }
  if (only && !written.length) throw new Error(`no case "${only}" in ${specPath}`);
  return written;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { spec: { type: 'string' }, out: { type: 'string' }, only: { type: 'string' } },
  });
  if (!values.spec || !values.out) {
    console.error('usage: npx tsx bench/corpus-gen/generate.ts --spec <spec.json> --out <dir> [--only <id>]');
    process.exit(2);
  }
  await generate(resolve(values.spec), resolve(values.out), values.only);
}

if (import.meta.url === `file://${resolve(process.argv[1] ?? '')}`) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
