/**
 * Streams a case's microphone audio in real time: one frame every `frameMs` of wall-clock time,
 * scheduled against the start time so timer jitter never accumulates into drift.
 */
import { SAMPLE_RATE } from '../../src/main/engine/ports';
import type { BenchSpeaker } from '../speaker';

export interface RealtimeStreamOptions {
  audio: Int16Array;
  /** Silence streamed after the audio. */
  tailMs: number;
  frameMs?: number;
  /** Called with each frame and its offset (ms since the first sample). */
  onFrame(samples: Int16Array, offsetMs: number): void | Promise<void>;
  /** Checked once per frame after the audio: true ends the tail early. */
  stopWhen?: (offsetMs: number, startedAt: number) => boolean;
  /** Wall clock in ms (performance.now by default). */
  now?: () => number;
}

export interface RealtimeStreamResult {
  /** Wall-clock time (per `now`) at which the first frame was sent. */
  startedAt: number;
  /** Largest lateness of a frame against its schedule, in ms. */
  maxLagMs: number;
}

/** The tail may end early after this long with nothing playing or pending (see SystemRunInput.lastTurnEndMs). */
export const QUIET_BEFORE_STOP_MS = 1000;
/** Streaming later than this behind the schedule is worth a line in the report (a loaded machine). */
const LATE_NOTE_MS = 100;

/** The report line for a run whose audio was streamed noticeably late, if it was. */
export function lateStreamingNote(result: RealtimeStreamResult): string | undefined {
  return result.maxLagMs > LATE_NOTE_MS
    ? `audio streamed up to ${Math.round(result.maxLagMs)} ms late`
    : undefined;
}

/**
 * Whether a run may stop streaming its tail: the speaker played something that started after
 * the last turn's end, it is idle, the system has nothing in the works, and all has been quiet
 * for QUIET_BEFORE_STOP_MS.
 */
export function settledAfterLastTurn(
  speaker: BenchSpeaker,
  state: { startedAt: number; now: number; lastTurnEndMs: number; busy: boolean; lastActivity: number },
): boolean {
  const last = speaker.lastPlayed();
  if (!last || state.busy || !speaker.idle) return false;
  if (last.at - state.startedAt < state.lastTurnEndMs) return false;
  return state.now - Math.max(last.until, state.lastActivity) >= QUIET_BEFORE_STOP_MS;
}

export async function streamRealtime(options: RealtimeStreamOptions): Promise<RealtimeStreamResult> {
  const now = options.now ?? (() => performance.now());
  const frameMs = options.frameMs ?? 20;
  const frame = Math.round((frameMs * SAMPLE_RATE) / 1000);
  const total = options.audio.length + Math.round((options.tailMs * SAMPLE_RATE) / 1000);
  const silence = new Int16Array(frame);
  const startedAt = now();
  let maxLagMs = 0;
  for (let offset = 0; offset < total; offset += frame) {
    const offsetMs = (offset * 1000) / SAMPLE_RATE;
    const due = startedAt + offsetMs;
    const wait = due - now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    maxLagMs = Math.max(maxLagMs, now() - due);
    if (offset >= options.audio.length && options.stopWhen?.(offsetMs, startedAt)) break;
    const end = Math.min(offset + frame, total);
    const samples =
      offset >= options.audio.length
        ? silence.subarray(0, end - offset)
        : options.audio.subarray(offset, Math.min(end, options.audio.length));
    await options.onFrame(samples, offsetMs);
  }
  return { startedAt, maxLagMs };
}
