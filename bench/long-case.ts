/**
 * A long synthetic case for the benchmarks: corpus cases laid end to end (and repeated) into
 * one case of a given length (bench:engine's replay speed and memory, bench:recording).
 */
import { SAMPLE_RATE } from '../src/main/engine/ports';
import {
  parseCaseJson,
  turnEnd,
  type CaseJsonInput,
  type CaseProfile,
  type ScriptCase,
} from '../src/main/engine/scripted/case';

/** Generous time from a turn's end to its reply's first audio, for the headroom estimate. */
const REPLY_LATENCY_ALLOWANCE_MS = 1_500;
const round = (v: number, digits = 3) => Number(v.toFixed(digits));

export interface SyntheticCase {
  data: ScriptCase;
  /** Source cases in the order they were laid end to end. */
  sources: string[];
  repetitions: number;
  /** Smallest gap between a turn's t_end and the next turn's first word (ms). */
  min_gap_ms: number;
  /** Smallest (next turn start − estimated end of the previous reply) (ms); negative: overlap risk. */
  min_reply_headroom_ms: number;
}

/**
 * The cases end to end, repeated until at least `minutes` of audio: word timings shifted by
 * the running offset, turns and replies kept, one profile for all. Validated by the corpus
 * reader's own checks (time order, words within the audio).
 */
export function buildLongCase(
  cases: readonly ScriptCase[],
  minutes: number,
  profile: CaseProfile,
): SyntheticCase {
  const targetSamples = Math.round(minutes * 60 * SAMPLE_RATE);
  const caseSamples = cases.reduce((sum, c) => sum + c.audio.length, 0);
  if (caseSamples === 0) throw new Error('corpus has no audio');
  const pieces: ScriptCase[] = [];
  let total = 0;
  while (total < targetSamples) {
    const c = cases[pieces.length % cases.length]!;
    pieces.push(c);
    total += c.audio.length;
  }
  const audio = new Int16Array(total);
  const turns: CaseJsonInput['turns'] = [];
  let offsetSamples = 0;
  for (const c of pieces) {
    audio.set(c.audio, offsetSamples);
    const offset = offsetSamples / SAMPLE_RATE;
    for (const turn of c.turns) {
      turns.push({
        words: turn.words.map((w) => ({
          text: w.text,
          start: round(w.start + offset, 6),
          end: round(w.end + offset, 6),
        })),
        holds: turn.holds.map((h) => ({ ...h })),
        end_eot_confidence: turn.end_eot_confidence,
        interims: turn.interims.map((i) => ({ ...i })),
        reply: turn.reply,
      });
    }
    offsetSamples += c.audio.length;
  }
  const id = `synthetic-${round(minutes, 2)}min`.replace(/[^a-z0-9._-]/g, '-');
  const json: CaseJsonInput = {
    version: 1,
    id,
    description: `${pieces.length} fixture cases end to end (${cases.map((c) => c.id).join(', ')}, repeated)`,
    profile,
    turns,
  };
  const durationMs = (audio.length / SAMPLE_RATE) * 1000;
  const parsed = parseCaseJson(json, id, durationMs / 1000);

  let minGap = Number.POSITIVE_INFINITY;
  let minHeadroom = Number.POSITIVE_INFINITY;
  parsed.turns.forEach((turn, k) => {
    const next = parsed.turns[k + 1];
    if (!next) return;
    const end = turnEnd(turn) * 1000;
    const nextStart = next.words[0]!.start * 1000;
    minGap = Math.min(minGap, nextStart - end);
    const replyEnd = end + REPLY_LATENCY_ALLOWANCE_MS + turn.reply.length * parsed.profile.tts_ms_per_char;
    minHeadroom = Math.min(minHeadroom, nextStart - replyEnd);
  });
  return {
    data: {
      id,
      dir: '',
      description: parsed.description,
      profile: parsed.profile,
      turns: parsed.turns,
      audio,
      durationMs,
    },
    sources: pieces.map((c) => c.id),
    repetitions: pieces.length / cases.length,
    min_gap_ms: minGap,
    min_reply_headroom_ms: minHeadroom,
  };
}
