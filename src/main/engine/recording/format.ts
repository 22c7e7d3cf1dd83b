/**
 * The recording format (version 1): one folder per session holding `session.jsonl`, one JSON
 * record per line, appended as the session runs. The first line is the header (format name,
 * version, settings in force); then the microphone audio (base64 Int16 LE, 16 kHz mono) and
 * every provider event the engine consumed, each stamped `a`: ms on the audio axis (0 = the
 * first microphone sample the engine received). The last lines are the session report and an
 * `end` record. A line is complete or it is not there, so a recording cut short by a crash or
 * a full disk reads up to its last complete line. Keys are never written: the recorder sees only
 * provider events and the settings, which hold no keys.
 */
import { z } from 'zod';

export const RECORDING_FORMAT = 'cue-recording';
/** Raise when a record changes shape; the reader then names the version it cannot read. */
export const RECORDING_VERSION = 1;
export const RECORDING_FILE = 'session.jsonl';

const ms = z.number({ error: 'must be a number (ms)' }).refine(Number.isFinite, 'must be finite');

export const headerRecord = z.object({
  kind: z.literal('header'),
  format: z.literal(RECORDING_FORMAT),
  version: z.number().int(),
  created_at: z.string(),
  app_version: z.string(),
  sample_rate: z.literal(16_000),
  stt_turn_events: z.boolean(),
  settings: z.record(z.string(), z.unknown()),
});

const record = {
  audio: z.object({ kind: z.literal('audio'), a: ms, pcm: z.string() }),
  /** An STT stream began receiving audio at `a` (its word times count from there). */
  stt_open: z.object({ kind: z.literal('stt_open'), a: ms, stream: z.number().int() }),
  stt: z.object({
    kind: z.literal('stt'),
    a: ms,
    stream: z.number().int(),
    event: z.looseObject({ type: z.string() }),
  }),
  stt_finalize: z.object({ kind: z.literal('stt_finalize'), a: ms, stream: z.number().int() }),
  llm: z.object({
    kind: z.literal('llm'),
    a: ms,
    /** The user's words since the agent last spoke (what the reply answers). */
    user_words: z.string(),
    /** Each token with its time (ms after the request). */
    tokens: z.array(z.tuple([ms, z.string()])),
    reply: z.string(),
    ttft_ms: ms.nullable(),
    outcome: z.enum(['completed', 'aborted', 'failed']),
    duration_ms: ms,
  }),
  tts: z.object({
    kind: z.literal('tts'),
    a: ms,
    text: z.string(),
    /** Ms after the request that the first text reached the TTS. */
    first_text_ms: ms.nullable(),
    /** Ms after the first text that the first audio came. */
    ttfb_ms: ms.nullable(),
    /** Ms of audio produced. */
    audio_ms: ms,
    /** Ms after the first audio that the last audio came. */
    production_ms: ms,
    outcome: z.enum(['completed', 'aborted', 'failed']),
  }),
  action: z.object({
    kind: z.literal('action'),
    a: ms,
    action: z.enum(['push_to_talk', 'mute']),
    value: z.boolean(),
  }),
  timeline: z.object({ kind: z.literal('timeline'), a: ms, event: z.looseObject({ type: z.string() }) }),
  report: z.object({ kind: z.literal('report'), a: ms, report: z.looseObject({ version: z.literal(1) }) }),
  end: z.object({ kind: z.literal('end'), a: ms, reason: z.string() }),
};

export const bodyRecord = z.discriminatedUnion('kind', [
  record.audio,
  record.stt_open,
  record.stt,
  record.stt_finalize,
  record.llm,
  record.tts,
  record.action,
  record.timeline,
  record.report,
  record.end,
]);

export type HeaderRecord = z.output<typeof headerRecord>;
export type BodyRecord = z.output<typeof bodyRecord>;
export type RecordOf<K extends BodyRecord['kind']> = Extract<BodyRecord, { kind: K }>;
export type LlmRecord = RecordOf<'llm'>;
export type TtsRecord = RecordOf<'tts'>;
export type SttRecord = RecordOf<'stt'>;

export class RecordingFormatError extends Error {
  override name = 'RecordingFormatError';
  constructor(
    /** The recording (its folder or file). */
    readonly recording: string,
    readonly problem: string,
  ) {
    super(`recording "${recording}": ${problem}`);
  }
}

/** Int16 samples as base64 of their little-endian bytes. */
export function encodePcm(samples: Int16Array): string {
  const bytes = new Uint8Array(samples.length * 2);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < samples.length; i++) view.setInt16(i * 2, samples[i]!, true);
  return Buffer.from(bytes).toString('base64');
}

export function decodePcm(base64: string): Int16Array {
  const bytes = Buffer.from(base64, 'base64');
  const out = new Int16Array(bytes.length >> 1);
  for (let i = 0; i < out.length; i++) out[i] = bytes.readInt16LE(i * 2);
  return out;
}
