/**
 * Reader of the conversation corpus (version 1, see bench CORPUS.md): a folder per case
 * holding `audio.wav` (16 kHz mono 16-bit PCM) and `case.json` (what was said, when, and
 * how the simulated providers behave). Strict: any unknown version, missing file, field
 * of the wrong type or inconsistent timing is a CaseFormatError naming the case and field.
 */
import { existsSync, type Dirent } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { z } from 'zod';
import { decodeWav, WavFormatError } from '../audio/wav';
import { SAMPLE_RATE } from '../ports';

export const CASE_VERSION = 1;
export const CASE_FILE = 'case.json';
export const AUDIO_FILE = 'audio.wav';
/** `end_eot_confidence` when a turn does not give one. */
export const DEFAULT_END_EOT_CONFIDENCE = 0.9;

export class CaseFormatError extends Error {
  override name = 'CaseFormatError';
  constructor(
    /** The case (folder name, or the id when there is no folder). */
    readonly caseName: string,
    /** Each problem as `field: what is wrong`. */
    readonly problems: readonly string[],
  ) {
    super(`case "${caseName}": ${problems.join('; ')}`);
  }
}

const num = (min: number, what: string) => z.number().min(min, { error: `must be ${what}` });
const ms = (def: number) => num(0, 'at least 0 (ms)').default(def);

/** How the simulated providers behave; every field optional in a case, with these defaults. */
export const profileSchema = z.strictObject({
  stt_interim_lag_ms: ms(150),
  stt_final_lag_ms: ms(250),
  flux_eager_lag_ms: ms(150),
  flux_eot_lag_ms: ms(300),
  llm_ttft_ms: ms(350),
  llm_tokens_per_s: z.number().positive({ error: 'must be more than 0 (tokens per second)' }).default(50),
  tts_ttfb_ms: ms(200),
  tts_ms_per_char: ms(60),
  tts_realtime_factor: num(0, 'at least 0').default(0.25),
});

const seconds = num(0, 'at least 0 (seconds)');
const probability = z
  .number()
  .min(0, { error: 'must be between 0 and 1' })
  .max(1, { error: 'must be between 0 and 1' });
const wordIndex = z.number().int({ error: 'must be a whole number (a word index)' }).min(0, {
  error: 'must be at least 0 (a word index)',
});

export const wordSchema = z.strictObject({
  text: z.string().regex(/^\S+$/, { error: 'must be one word (no spaces, not empty)' }),
  start: seconds,
  end: seconds,
});

export const holdSchema = z.strictObject({ after: wordIndex, eot_confidence: probability });

export const interimSchema = z.strictObject({
  after: wordIndex,
  text: z.string().trim().min(1, { error: 'must not be empty' }),
});

export const turnSchema = z.strictObject({
  words: z.array(wordSchema).min(1, { error: 'must hold at least one word' }),
  holds: z.array(holdSchema).default([]),
  end_eot_confidence: probability.default(DEFAULT_END_EOT_CONFIDENCE),
  interims: z.array(interimSchema).default([]),
  reply: z.string().trim().min(1, { error: 'must not be empty' }),
});

export const caseSchema = z.strictObject({
  version: z.literal(CASE_VERSION),
  id: z.string().regex(/^[a-z0-9][a-z0-9._-]*$/, {
    error: 'must be a folder-safe name (lower-case letters, digits, ".", "_", "-")',
  }),
  description: z.string(),
  profile: profileSchema.prefault({}),
  turns: z.array(turnSchema).min(1, { error: 'must hold at least one turn' }),
});

export type CaseProfile = z.output<typeof profileSchema>;
export type CaseProfileInput = z.input<typeof profileSchema>;
export type CaseWord = z.output<typeof wordSchema>;
export type CaseHold = z.output<typeof holdSchema>;
export type CaseInterim = z.output<typeof interimSchema>;
/** A turn with `holds`, `interims` and `end_eot_confidence` filled in. */
export type CaseTurn = z.output<typeof turnSchema>;
export type CaseJson = z.output<typeof caseSchema>;
export type CaseJsonInput = z.input<typeof caseSchema>;

export interface ScriptCase {
  id: string;
  /** Absolute path of the case folder. */
  dir: string;
  description: string;
  /** The complete profile: the case's overrides over the defaults. */
  profile: CaseProfile;
  turns: CaseTurn[];
  /** The microphone, 16 kHz mono. */
  audio: Int16Array;
  durationMs: number;
}

/** The default profile (every field at its default). */
export function defaultProfile(): CaseProfile {
  return profileSchema.parse({});
}

/** The final transcript of a turn: its words joined by single spaces. */
export function finalTranscript(turn: Pick<CaseTurn, 'words'>): string {
  return turn.words.map((w) => w.text).join(' ');
}

/** `t_end`, the true end of a turn: the end of its last word, in seconds. */
export function turnEnd(turn: Pick<CaseTurn, 'words'>): number {
  return turn.words[turn.words.length - 1]!.end;
}

/**
 * Validates parsed case.json content (schema, then timing and index consistency) and fills
 * the defaults. `name` is the case's name in error messages (its folder); `audioSeconds`,
 * when given, is the length of audio.wav, which every word must lie within.
 */
export function parseCaseJson(json: unknown, name: string, audioSeconds?: number): CaseJson {
  if (!isRecord(json)) throw new CaseFormatError(name, [`${CASE_FILE}: expected a JSON object`]);
  const version = json.version;
  if (version !== CASE_VERSION) {
    const got = version === undefined ? 'missing' : `got ${JSON.stringify(version)}`;
    throw new CaseFormatError(name, [
      `version: unsupported version (${got}); this reader knows version ${CASE_VERSION}`,
    ]);
  }
  const result = caseSchema.safeParse(json);
  if (!result.success) {
    throw new CaseFormatError(
      name,
      result.error.issues.map((issue) => describeIssue(issue, json)),
    );
  }
  const problems = consistencyProblems(result.data, audioSeconds);
  if (problems.length) throw new CaseFormatError(name, problems);
  return result.data;
}

function consistencyProblems(data: CaseJson, audioSeconds: number | undefined): string[] {
  const problems: string[] = [];
  let previousEnd = 0;
  let previousWhere = '';
  data.turns.forEach((turn, t) => {
    turn.words.forEach((word, w) => {
      const where = `turns.${t}.words.${w}`;
      if (word.end < word.start) {
        problems.push(`${where}.end: ${word.end} s is before its start (${word.start} s)`);
      }
      if (previousWhere && word.start < previousEnd) {
        problems.push(
          `${where}.start: words not in time order (starts at ${word.start} s, before ${previousWhere} ends at ${previousEnd} s)`,
        );
      }
      if (audioSeconds !== undefined && word.end > audioSeconds + 1e-9) {
        problems.push(`${where}.end: ${word.end} s is past the end of ${AUDIO_FILE} (${audioSeconds} s)`);
      }
      previousEnd = Math.max(previousEnd, word.end);
      previousWhere = where;
    });
    const last = turn.words.length - 1;
    const seen = new Set<number>();
    turn.holds.forEach((hold, h) => {
      const where = `turns.${t}.holds.${h}.after`;
      if (hold.after >= last) {
        problems.push(
          `${where}: ${hold.after} is out of range (a hold follows a word that has another after it: 0 to ${last - 1})`,
        );
      } else if (seen.has(hold.after)) {
        problems.push(`${where}: a second hold after word ${hold.after}`);
      }
      seen.add(hold.after);
    });
    const seenInterims = new Set<number>();
    turn.interims.forEach((interim, i) => {
      const where = `turns.${t}.interims.${i}.after`;
      if (interim.after > last) {
        problems.push(`${where}: ${interim.after} is out of range (the turn's words are 0 to ${last})`);
      } else if (seenInterims.has(interim.after)) {
        problems.push(`${where}: a second interim after word ${interim.after}`);
      }
      seenInterims.add(interim.after);
    });
  });
  return problems;
}

/** Reads and validates one case folder. */
export async function loadCase(dir: string): Promise<ScriptCase> {
  const absolute = resolve(dir);
  const name = basename(absolute);
  const casePath = join(absolute, CASE_FILE);
  const audioPath = join(absolute, AUDIO_FILE);
  const missing = [casePath, audioPath].filter((p) => !existsSync(p)).map((p) => basename(p));
  if (missing.length) {
    throw new CaseFormatError(
      name,
      missing.map((file) => `${file}: missing file (in ${absolute})`),
    );
  }

  let json: unknown;
  try {
    json = JSON.parse(await readFile(casePath, 'utf8'));
  } catch (error) {
    throw new CaseFormatError(name, [`${CASE_FILE}: not valid JSON (${(error as Error).message})`]);
  }

  const audio = readAudio(await readFile(audioPath), name);
  const durationMs = (audio.length / SAMPLE_RATE) * 1000;
  const data = parseCaseJson(json, name, durationMs / 1000);
  if (data.id !== name) {
    throw new CaseFormatError(name, [`id: "${data.id}" must equal the case's folder name "${name}"`]);
  }
  return {
    id: data.id,
    dir: absolute,
    description: data.description,
    profile: data.profile,
    turns: data.turns,
    audio,
    durationMs,
  };
}

function readAudio(bytes: Uint8Array, name: string): Int16Array {
  const required = `must be a ${SAMPLE_RATE / 1000} kHz, mono, 16-bit signed PCM WAV`;
  let pcm;
  try {
    pcm = decodeWav(bytes, AUDIO_FILE);
  } catch (error) {
    if (error instanceof WavFormatError) {
      throw new CaseFormatError(name, [`${AUDIO_FILE}: ${required} (${error.message})`]);
    }
    throw error;
  }
  if (pcm.sampleRate !== SAMPLE_RATE || pcm.channels !== 1) {
    throw new CaseFormatError(name, [
      `${AUDIO_FILE}: ${required} (got ${pcm.sampleRate} Hz, ${pcm.channels} channel${pcm.channels === 1 ? '' : 's'})`,
    ]);
  }
  return pcm.samples;
}

/** Every case of a corpus (each sub-folder holding a case.json), sorted by folder name. */
export async function loadCorpus(dir: string): Promise<ScriptCase[]> {
  const absolute = resolve(dir);
  const isDir = await stat(absolute).then(
    (s) => s.isDirectory(),
    () => false,
  );
  if (!isDir) throw new CaseFormatError(basename(absolute), [`corpus folder not found: ${absolute}`]);
  const entries = await readdir(absolute, { withFileTypes: true });
  const folders = entries
    .filter((e) => e.isDirectory() && existsSync(join(absolute, e.name, CASE_FILE)))
    .map((e) => e.name)
    .sort();
  if (!folders.length)
    throw new CaseFormatError(basename(absolute), [await noCasesMessage(absolute, entries)]);
  const cases: ScriptCase[] = [];
  for (const folder of folders) cases.push(await loadCase(join(absolute, folder)));
  return cases;
}

/** Says there are no cases, and names the sub-folders that are corpora themselves (bench/corpus/tune, say). */
async function noCasesMessage(dir: string, entries: Dirent[]): Promise<string> {
  const corpora: string[] = [];
  for (const entry of entries.filter((e) => e.isDirectory())) {
    const inner = await readdir(join(dir, entry.name), { withFileTypes: true });
    if (inner.some((e) => e.isDirectory() && existsSync(join(dir, entry.name, e.name, CASE_FILE))))
      corpora.push(entry.name);
  }
  corpora.sort();
  const hint = corpora.length
    ? `; its sub-folders ${corpora.join(', ')} are corpora: give one of them (${join(dir, corpora[0]!)})`
    : '';
  return `no case folders (each holding ${CASE_FILE}) in ${dir}${hint}`;
}

// ---------- error messages ----------

function describeIssue(issue: z.core.$ZodIssue, input: unknown): string {
  const field = issue.path.map(String).join('.');
  const prefix = field ? `${field}: ` : '';
  switch (issue.code) {
    case 'unrecognized_keys':
      return issue.keys.map((key) => `${field ? `${field}.` : ''}${key}: unknown field`).join('; ');
    case 'invalid_type': {
      const given = valueAt(input, issue.path);
      const got = given === undefined ? 'missing' : `got ${JSON.stringify(given)}`;
      return `${prefix}expected ${article(issue.expected)} (${got})`;
    }
    default:
      return `${prefix}${issue.message}`;
  }
}

function article(type: string): string {
  const noun = type === 'nan' ? 'number' : type;
  return /^[aeiou]/.test(noun) ? `an ${noun}` : `a ${noun}`;
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let node = input;
  for (const key of path) {
    if (Array.isArray(node)) node = node[Number(key)];
    else if (isRecord(node)) node = node[String(key)];
    else return undefined;
  }
  return node;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
