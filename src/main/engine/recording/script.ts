/**
 * A recording read as a corpus case (CORPUS.md): the recorded microphone as the audio, the
 * committed user turns as the turns (their words timed on the audio from Deepgram's final
 * results; with Flux, which sends no word times here, spread over the turn's recorded speech),
 * the replies the LLM gave as the replies, and a profile measured from the recorded provider
 * timing. Used to export a case, to judge cut-ins against the user's words, and to re-simulate
 * the transcripts when a replay changes what the STT itself would have sent.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { encodeWav } from '../audio/wav';
import { SAMPLE_RATE } from '../ports';
import {
  AUDIO_FILE,
  CASE_FILE,
  CASE_VERSION,
  defaultProfile,
  parseCaseJson,
  type CaseJsonInput,
  type CaseProfile,
  type CaseWord,
  type ScriptCase,
} from '../scripted/case';
import type { Recording } from './reader';

export interface RecordingScript {
  case: ScriptCase;
  /** Committed turns left out (no words or no reply), in words. */
  skipped: string[];
}

const median = (values: number[]): number | null => {
  if (!values.length) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)]!;
};

/** The case id for a recording: its folder name made folder-safe. */
export function caseIdFor(recording: Pick<Recording, 'id'>): string {
  const id = recording.id
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^[^a-z0-9]+/, '');
  return id || 'recording';
}

/** Provider timing measured from the recording, over the corpus defaults where it says nothing. */
export function measuredProfile(recording: Recording): CaseProfile {
  const profile = defaultProfile();
  const completed = recording.llm.filter((r) => r.outcome === 'completed' && r.tokens.length > 0);
  const ttft = median(completed.map((r) => r.ttft_ms ?? 0));
  if (ttft !== null) profile.llm_ttft_ms = Math.round(ttft);
  const rates = completed
    .filter((r) => r.tokens.length > 1)
    .map((r) => {
      const span = r.tokens.at(-1)![0] - r.tokens[0]![0];
      return span > 0 ? ((r.tokens.length - 1) * 1000) / span : null;
    })
    .filter((v): v is number => v !== null);
  const rate = median(rates);
  if (rate !== null) profile.llm_tokens_per_s = Math.round(rate * 10) / 10;
  const spoken = recording.tts.filter((r) => r.ttfb_ms !== null && r.audio_ms > 0);
  const ttfb = median(spoken.map((r) => r.ttfb_ms!));
  if (ttfb !== null) profile.tts_ttfb_ms = Math.round(ttfb);
  const done = spoken.filter((r) => r.outcome === 'completed' && r.text.length > 0);
  const chars = done.reduce((n, r) => n + r.text.length, 0);
  if (chars > 0) {
    profile.tts_ms_per_char = Math.round((done.reduce((n, r) => n + r.audio_ms, 0) / chars) * 10) / 10;
  }
  const factor = median(
    done.filter((r) => r.audio_ms > 200).map((r) => r.production_ms / Math.max(1, r.audio_ms - 100)),
  );
  if (factor !== null) profile.tts_realtime_factor = Math.round(factor * 1000) / 1000;
  const interimLags = interimLagsMs(recording);
  const lag = median(interimLags);
  if (lag !== null) profile.stt_interim_lag_ms = Math.max(0, Math.round(lag));
  return profile;
}

/** Arrival of each Nova interim − the end of its last word on the audio axis. */
function interimLagsMs(recording: Recording): number[] {
  const offsets = streamOffsets(recording);
  const lags: number[] = [];
  for (const { a, stream, event } of recording.stt) {
    if (event.type !== 'interim') continue;
    const end = event.words?.at(-1)?.end;
    if (end === undefined) continue;
    lags.push(a - (offsets.get(stream) ?? 0) - end * 1000);
  }
  return lags;
}

function streamOffsets(recording: Recording): Map<number, number> {
  return new Map(recording.sttOpens.map((o) => [o.stream, o.a]));
}

/** The recording as a case script (see the module comment). */
export function recordingScript(recording: Recording, caseId = caseIdFor(recording)): RecordingScript {
  const audioSeconds = recording.audio.length / SAMPLE_RATE;
  const offsets = streamOffsets(recording);
  const finals: { a: number; words: CaseWord[] }[] = [];
  for (const { a, stream, event } of recording.stt) {
    if (event.type !== 'final' || !event.words?.length) continue;
    const offset = (offsets.get(stream) ?? 0) / 1000;
    finals.push({
      a,
      words: event.words
        .filter((w) => w.start !== undefined && w.end !== undefined)
        .flatMap((w) =>
          w.word
            .split(/\s+/)
            .filter(Boolean)
            .map((text) => ({ text, start: offset + w.start!, end: offset + w.end! })),
        ),
    });
  }
  const commits = recording.timeline.filter((e) => e.type === 'turn_committed');
  const replies = new Map<number, string>();
  for (const turn of recording.report?.turns ?? []) if (turn.reply) replies.set(turn.index, turn.reply);
  const spokenByTurn = new Map<number, string>();
  for (const e of recording.timeline) {
    if (e.type === 'llm_done' && e.turn >= 0 && e.text.trim()) spokenByTurn.set(e.turn, e.text);
  }
  const turns: CaseJsonInput['turns'] = [];
  const skipped: string[] = [];
  let previousCommit = Number.NEGATIVE_INFINITY;
  let lastEnd = 0;
  for (const commit of commits) {
    if (commit.type !== 'turn_committed') continue;
    const reply = (replies.get(commit.turn) ?? spokenByTurn.get(commit.turn) ?? '').trim();
    let turnWords = finals
      .filter((f) => f.a > previousCommit && f.a <= commit.t)
      .flatMap((f) => f.words)
      .filter((w) => w.start >= lastEnd - 1e-6 && w.end <= audioSeconds);
    if (!turnWords.length && !recording.header.stt_turn_events) {
      skipped.push(`turn ${commit.turn}: no timed words in the recorded finals`);
    }
    if (!turnWords.length && recording.header.stt_turn_events) {
      turnWords = spreadOverSpeech(recording, commit.transcript, previousCommit, commit.t, lastEnd);
    }
    previousCommit = commit.t;
    if (!turnWords.length) continue;
    if (!reply) {
      skipped.push(`turn ${commit.turn}: no reply was recorded`);
      continue;
    }
    turns.push({ words: turnWords.map(roundWord), reply });
    lastEnd = turnWords.at(-1)!.end;
  }
  const id = caseId;
  const json: CaseJsonInput = {
    version: CASE_VERSION,
    id,
    description:
      `Recorded by Cue ${recording.header.app_version} on ${recording.header.created_at}; ` +
      (recording.header.stt_turn_events
        ? 'words spread evenly over the recorded speech of each turn (Flux sends no word times).'
        : "words timed by Deepgram's final results."),
    profile: measuredProfile(recording),
    turns,
  };
  if (!turns.length) {
    return {
      case: {
        id,
        dir: '',
        description: json.description,
        profile: json.profile as CaseProfile,
        turns: [],
        audio: recording.audio,
        durationMs: recording.durationMs,
      },
      skipped,
    };
  }
  const parsed = parseCaseJson(json, id, audioSeconds);
  return {
    case: {
      id,
      dir: '',
      description: parsed.description,
      profile: parsed.profile,
      turns: parsed.turns,
      audio: recording.audio,
      durationMs: recording.durationMs,
    },
    skipped,
  };
}

/** Flux: the turn's transcript spread evenly over its recorded speech (VAD start to end). */
function spreadOverSpeech(
  recording: Recording,
  transcript: string,
  from: number,
  to: number,
  notBefore: number,
): CaseWord[] {
  const texts = transcript.split(/\s+/).filter(Boolean);
  if (!texts.length) return [];
  const starts = recording.timeline.filter(
    (e) => e.type === 'user_speech_started' && e.t > from && e.t <= to,
  );
  const ends = recording.timeline.filter((e) => e.type === 'user_speech_ended' && e.t > from && e.t <= to);
  const first = starts[0];
  const last = ends.at(-1);
  const begin = Math.max(notBefore, first && 'at' in first ? first.at / 1000 : 0);
  const finish = last && 'at' in last ? last.at / 1000 : to / 1000;
  if (!(finish > begin)) return [];
  const step = (finish - begin) / texts.length;
  return texts.map((text, i) => ({
    text,
    start: begin + i * step,
    end: begin + (i + 1) * step - step * 0.1,
  }));
}

function roundWord(w: CaseWord): CaseWord {
  return { text: w.text, start: Math.round(w.start * 1000) / 1000, end: Math.round(w.end * 1000) / 1000 };
}

/**
 * Writes the recording as a corpus case folder (case.json + audio.wav); the case id is the
 * folder's name, as CORPUS.md requires.
 */
export function exportCase(
  recording: Recording,
  dir: string,
): { id: string; turns: number; skipped: string[] } {
  const id = basename(resolve(dir));
  if (!/^[a-z0-9][a-z0-9._-]*$/.test(id)) {
    throw new Error(
      `--export-case: the folder name "${id}" becomes the case id and must be folder-safe (lower-case letters, digits, ".", "_", "-")`,
    );
  }
  const script = recordingScript(recording, id);
  if (!script.case.turns.length) {
    throw new Error(
      `recording "${recording.id}" has no committed turn with timed words and a reply; nothing to export` +
        (script.skipped.length ? ` (${script.skipped.join('; ')})` : ''),
    );
  }
  mkdirSync(dir, { recursive: true });
  const json = {
    version: CASE_VERSION,
    id: script.case.id,
    description: script.case.description,
    profile: script.case.profile,
    turns: script.case.turns.map((t) => ({ words: t.words, reply: t.reply })),
  };
  writeFileSync(join(dir, CASE_FILE), `${JSON.stringify(json, null, 2)}\n`);
  writeFileSync(
    join(dir, AUDIO_FILE),
    encodeWav({ sampleRate: SAMPLE_RATE, channels: 1, samples: recording.audio }),
  );
  return { id: script.case.id, turns: script.case.turns.length, skipped: script.skipped };
}
