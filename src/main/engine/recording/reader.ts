/**
 * Reads a recording (format.ts). Strict about what it cannot trust, lenient about what it can
 * explain: a file that is not a Cue recording, a version this Cue does not read, or a damaged
 * line followed by more records is refused with what was wrong; a recording cut short (its last
 * line incomplete, no `end` record) is read up to its last complete record, with what was lost.
 */
import { readFileSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import type { SessionReport } from '../../../shared/report';
import { parseSettings, type Settings } from '../../../shared/settings';
import type { TimelineEvent } from '../../../shared/timeline';
import { SAMPLE_RATE, type SttEvent } from '../ports';
import {
  bodyRecord,
  decodePcm,
  headerRecord,
  RECORDING_FILE,
  RECORDING_FORMAT,
  RECORDING_VERSION,
  RecordingFormatError,
  type HeaderRecord,
  type LlmRecord,
  type RecordOf,
  type TtsRecord,
} from './format';

export interface Recording {
  /** Folder name (or file name for a bare file). */
  id: string;
  header: HeaderRecord;
  settings: Settings;
  /** The microphone as the engine received it, 16 kHz mono, from audio time 0. */
  audio: Int16Array;
  durationMs: number;
  stt: { a: number; stream: number; event: SttEvent }[];
  sttOpens: RecordOf<'stt_open'>[];
  llm: LlmRecord[];
  tts: TtsRecord[];
  actions: RecordOf<'action'>[];
  timeline: TimelineEvent[];
  report: SessionReport | null;
  end: RecordOf<'end'> | null;
  /** Null for a complete recording; otherwise what was lost, in words. */
  lost: string | null;
}

export function readRecording(path: string): Recording {
  const absolute = resolve(path);
  let file = absolute;
  try {
    if (statSync(absolute).isDirectory()) file = join(absolute, RECORDING_FILE);
  } catch {
    throw new RecordingFormatError(basename(absolute), `no such folder or file (${absolute})`);
  }
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new RecordingFormatError(basename(absolute), `${RECORDING_FILE} is missing (in ${absolute})`);
  }
  return parseRecording(text, basename(absolute));
}

/** Parses the text of a `session.jsonl`; `name` names the recording in errors. */
export function parseRecording(text: string, name: string): Recording {
  const lines = text.split('\n');
  const endsWithNewline = text.endsWith('\n');
  if (endsWithNewline) lines.pop();
  const header = parseHeader(lines[0], name);
  let settings: Settings;
  try {
    settings = parseSettings(header.settings);
  } catch (error) {
    throw new RecordingFormatError(name, `its settings are not valid here: ${(error as Error).message}`);
  }
  const out: Recording = {
    id: name,
    header,
    settings,
    audio: new Int16Array(0),
    durationMs: 0,
    stt: [],
    sttOpens: [],
    llm: [],
    tts: [],
    actions: [],
    timeline: [],
    report: null,
    end: null,
    lost: null,
  };
  const audio: { a: number; samples: Int16Array }[] = [];
  let cutAt: number | null = null;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    const last = i === lines.length - 1;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      if (last && !endsWithNewline) {
        cutAt = i + 1;
        break;
      }
      throw new RecordingFormatError(
        name,
        `line ${i + 1} is damaged (not JSON) and more records follow it; the file was altered, not cut short`,
      );
    }
    const result = bodyRecord.safeParse(parsed);
    if (!result.success) {
      const issue = result.error.issues[0]!;
      const field = issue.path.map(String).join('.') || 'kind';
      throw new RecordingFormatError(name, `line ${i + 1}: ${field}: ${issue.message}`);
    }
    const r = result.data;
    switch (r.kind) {
      case 'audio':
        audio.push({ a: r.a, samples: decodePcm(r.pcm) });
        break;
      case 'stt_open':
        out.sttOpens.push(r);
        break;
      case 'stt':
        out.stt.push({ a: r.a, stream: r.stream, event: r.event as unknown as SttEvent });
        break;
      case 'llm':
        out.llm.push(r);
        break;
      case 'tts':
        out.tts.push(r);
        break;
      case 'action':
        out.actions.push(r);
        break;
      case 'timeline':
        out.timeline.push(r.event as unknown as TimelineEvent);
        break;
      case 'report':
        out.report = r.report as unknown as SessionReport;
        break;
      case 'end':
        out.end = r;
        break;
      case 'stt_finalize':
        break;
    }
  }
  out.audio = joinAudio(audio);
  out.durationMs = (out.audio.length * 1000) / SAMPLE_RATE;
  const byTime = (x: { a: number }, y: { a: number }) => x.a - y.a;
  out.stt.sort(byTime);
  out.llm.sort(byTime);
  out.tts.sort(byTime);
  out.actions.sort(byTime);
  out.timeline.sort((x, y) => x.t - y.t);
  if (!out.end) {
    const kept = `${(out.durationMs / 1000).toFixed(1)} s of audio and the events up to then are kept`;
    const where = cutAt === null ? '' : ` (line ${cutAt} was incomplete)`;
    out.lost =
      `the recording was cut short${where}: it has no end record (the app stopped before the session ` +
      `ended, or the disk was full); ${kept}, the session report${out.report ? ' is kept' : ' is lost'}`;
  } else if (out.end.reason !== 'session stopped') {
    out.lost = `recording stopped early: ${out.end.reason}`;
  }
  return out;
}

function parseHeader(line: string | undefined, name: string): HeaderRecord {
  let json: unknown;
  try {
    json = JSON.parse(line ?? '');
  } catch {
    throw new RecordingFormatError(
      name,
      `not a Cue recording (its first line is not a "${RECORDING_FORMAT}" header)`,
    );
  }
  const object = (typeof json === 'object' && json !== null ? json : {}) as Record<string, unknown>;
  if (object.kind !== 'header' || object.format !== RECORDING_FORMAT) {
    throw new RecordingFormatError(
      name,
      `not a Cue recording (its first line is not a "${RECORDING_FORMAT}" header)`,
    );
  }
  if (object.version !== RECORDING_VERSION) {
    const version = typeof object.version === 'number' ? object.version : JSON.stringify(object.version);
    const newer = typeof object.version === 'number' && object.version > RECORDING_VERSION;
    throw new RecordingFormatError(
      name,
      `recording format version ${version} ${newer ? 'is newer than this Cue reads' : 'is not one this Cue reads'} ` +
        `(it reads version ${RECORDING_VERSION})${newer ? '; update Cue to open it' : ''}`,
    );
  }
  const result = headerRecord.safeParse(json);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    throw new RecordingFormatError(name, `header: ${issue.path.map(String).join('.')}: ${issue.message}`);
  }
  return result.data;
}

/** The audio records laid end to end on the audio axis (a gap, which should not happen, is silence). */
function joinAudio(parts: { a: number; samples: Int16Array }[]): Int16Array {
  parts.sort((x, y) => x.a - y.a);
  const end = parts.reduce(
    (max, p) => Math.max(max, Math.round((p.a * SAMPLE_RATE) / 1000) + p.samples.length),
    0,
  );
  const out = new Int16Array(end);
  for (const p of parts) out.set(p.samples, Math.round((p.a * SAMPLE_RATE) / 1000));
  return out;
}
