/**
 * Corpus generator: synthesises conversation cases (bench CORPUS.md, version 1) from a spec
 * (bench/corpus-gen/spec.ts). Each phrase, the words between two pause markers, is synthesised
 * whole by espeak-ng or CMU flite (through the C helpers espeak-words.c and flite-words.c, which
 * report where the synthesiser put each word), with no silence between its words; the script's
 * pauses are the only silences inside a turn:
 *
 *   "book a flight to [pause 1.0 conf 0.3] paris"
 *
 * Usage: npx tsx bench/corpus-gen/generate.ts --spec <spec.json> --out <dir> [--only <id>]
 * Writes <out>/<id>/audio.wav and <out>/<id>/case.json (nothing else), checks each case's word
 * times against its audio's energy, then reads it back with the corpus reader.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import * as prettier from 'prettier';
import { encodeWav } from '../../src/main/engine/audio/wav';
import { SAMPLE_RATE } from '../../src/main/engine/ports';
import {
  AUDIO_FILE,
  CASE_FILE,
  CASE_VERSION,
  defaultProfile,
  loadCase,
  parseCaseJson,
  type CaseJsonInput,
} from '../../src/main/engine/scripted/case';
import { timePhrase } from './phrase-timing';
import { parseTurnText, phrasesOf, specSchema, type SpecCase, type SpecVoice } from './spec';
import { checkWordTiming, type EdgeOffsets } from './speech-energy';
import { synthesisePhrase } from './synthesisers';

/** Silence before the first turn when the spec gives none (s). */
const DEFAULT_LEAD_IN = 0.5;
/** Silence after the time the previous reply needs to play, before the next turn (or the end). */
const DEFAULT_AFTER_REPLY = 2.5;
/** The least silence after a reply's playing time the generator accepts. */
const MIN_AFTER_REPLY = 2.0;

const seconds = (samples: number) => Math.round((samples / SAMPLE_RATE) * 1000) / 1000;
const samplesOf = (s: number) => Math.round(s * SAMPLE_RATE);

/** Per phrase: the synthesiser's own first word start and phrase end against the speech energy, and the pauses cut (ms). */
export interface PhraseRecord {
  synth: SpecVoice['synth'];
  startMs: number;
  endMs: number;
  removedPauseMs: number;
}

export interface GeneratedCase {
  caseJson: CaseJsonInput;
  audio: Int16Array;
  phrases: PhraseRecord[];
}

function voiceOf(spec: SpecCase): SpecVoice {
  return spec.synth === 'espeak-ng'
    ? { synth: spec.synth, voice: spec.voice, rate: spec.rate }
    : { synth: spec.synth, voice: spec.voice, duration_stretch: spec.duration_stretch };
}

/** Builds one case in memory: its audio and its case.json content. */
export function buildCase(spec: SpecCase): GeneratedCase {
  const profile = { ...defaultProfile(), ...spec.profile };
  const replyMs = (reply: string) => reply.length * profile.tts_ms_per_char;
  const voice = voiceOf(spec);
  const chunks: Int16Array[] = [];
  const phrases: PhraseRecord[] = [];
  let length = 0;
  const append = (samples: Int16Array) => {
    chunks.push(samples);
    length += samples.length;
  };
  const silence = (s: number) => append(new Int16Array(samplesOf(s)));

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
    const words: { text: string; start: number; end: number }[] = [];
    const holds: { after: number; eot_confidence: number }[] = [];
    for (const phrase of phrasesOf(parseTurnText(turn.text, where))) {
      const timed = timePhrase(
        synthesisePhrase(voice, phrase.words, phrase.ending),
        `${where}, "${phrase.words.join(' ')}"`,
      );
      phrases.push({ synth: voice.synth, ...timed.record });
      const offset = length;
      append(timed.samples);
      timed.words.forEach((word, i) =>
        words.push({
          text: phrase.words[i]!,
          start: seconds(offset + samplesOf(word.start)),
          end: seconds(offset + samplesOf(word.end)),
        }),
      );
      if (phrase.pause) {
        silence(phrase.pause.seconds);
        holds.push({ after: words.length - 1, eot_confidence: phrase.pause.confidence });
      }
    }
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
  let at = 0;
  for (const chunk of chunks) {
    audio.set(chunk, at);
    at += chunk.length;
  }
  const caseJson: CaseJsonInput = {
    version: CASE_VERSION,
    id: spec.id,
    description: spec.description,
    ...(spec.profile && Object.keys(spec.profile).length ? { profile: spec.profile } : {}),
    turns,
  };
  parseCaseJson(caseJson, spec.id, audio.length / SAMPLE_RATE);
  const { problems } = checkWordTiming(turns, audio);
  if (problems.length) throw new Error(`case "${spec.id}": word times off the audio: ${problems.join('; ')}`);
  return { caseJson, audio, phrases };
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
  const ids = parsed.data.cases.map((c) => c.id);
  const repeated = ids.filter((id, i) => ids.indexOf(id) !== i);
  if (repeated.length) throw new Error(`${specPath}: case ids used twice: ${repeated.join(', ')}`);
  if (!only) removeCasesNotIn(outDir, ids);
  const written: string[] = [];
  const records: { synth: string; phrase: PhraseRecord; written: EdgeOffsets }[] = [];
  for (const spec of parsed.data.cases) {
    if (only && spec.id !== only) continue;
    const built = buildCase(spec);
    const { caseJson, audio } = built;
    const dir = join(outDir, spec.id);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, AUDIO_FILE), encodeWav({ sampleRate: SAMPLE_RATE, channels: 1, samples: audio }));
    writeFileSync(join(dir, CASE_FILE), await formatCaseJson(caseJson, join(dir, CASE_FILE)));
    const loaded = await loadCase(dir);
    const { edges } = checkWordTiming(loaded.turns, loaded.audio);
    built.phrases.forEach((phrase, i) => records.push({ synth: phrase.synth, phrase, written: edges[i]! }));
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
  for (const synth of [...new Set(records.map((r) => r.synth))]) {
    const mine = records.filter((r) => r.synth === synth);
    const cut = mine.filter((r) => r.phrase.removedPauseMs > 0);
    console.log(
      `${synth}, ${mine.length} phrases: synthesiser vs speech energy: ${describeOffsets(mine.map((r) => r.phrase))}; ` +
        `case.json vs speech energy: ${describeOffsets(mine.map((r) => r.written))}; ` +
        `pauses inside phrases cut from ${cut.length} phrases (${cut.reduce((sum, r) => sum + r.phrase.removedPauseMs, 0)} ms)`,
    );
  }
  return written;
}

/** Median and worst absolute offsets of phrase starts and ends, e.g. "start 0/10 ms, end 3/20 ms". */
function describeOffsets(offsets: EdgeOffsets[]): string {
  const stats = (values: number[]) => {
    const sorted = values.map(Math.abs).sort((a, b) => a - b);
    return `${sorted[Math.floor((sorted.length - 1) / 2)]}/${sorted[sorted.length - 1]} ms`;
  };
  return `start ${stats(offsets.map((o) => o.startMs))}, end ${stats(offsets.map((o) => o.endMs))} (median/worst)`;
}

/** Deletes case folders in `outDir` that the spec no longer holds, so the output is the spec's cases only. */
function removeCasesNotIn(outDir: string, ids: string[]): void {
  if (!existsSync(outDir)) return;
  for (const entry of readdirSync(outDir, { withFileTypes: true })) {
    if (!entry.isDirectory() || ids.includes(entry.name)) continue;
    if (!existsSync(join(outDir, entry.name, CASE_FILE))) continue;
    rmSync(join(outDir, entry.name), { recursive: true });
    console.log(`${entry.name}: removed (not in the spec)`);
  }
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
