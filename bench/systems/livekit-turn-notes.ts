/**
 * Report notes for LiveKit's own behaviours that can cost it a turn, each naming the turn it
 * concerns and the cause in LiveKit's source (@livekit/agents 1.9.0), so that a "missed", "wrong"
 * or "cut-in" mark against the peer can be read against its cause:
 *
 * - AEC warm-up. During the first `aecWarmupDuration` (3000 ms by default) of agent speech in a
 *   session, LiveKit sends the STT silence in place of the microphone audio
 *   (voice/agent_activity.ts `AgentActivity.shouldDiscardInputAudio`, applied in
 *   voice/audio_recognition.ts, which substitutes `createSilenceFrameLike(frame)`), and interruptions
 *   are off. Words the user says over the start of the agent's first reply never reach Deepgram.
 * - Input skipped while closing. `AgentActivity.onEndOfTurn` drops a user turn while scheduling is
 *   paused ("skipping user input, speech scheduling is paused"); scheduling is paused only by
 *   `AgentActivity.drain` / `pause` (`_pauseSchedulingTask`), i.e. when the session closes or hands
 *   over to another agent, which the benchmark never does. So a turn skipped this way had its end
 *   detected only after the run was over: its transcript reached LiveKit too late.
 * - Next reply held 4 s after an interrupted reply. When LiveKit interrupts a reply whose TTS is
 *   still writing audio, the audio forwarding cancels its reader; voice/generation.ts
 *   `performTTSInference` then fails ("TTS task failed before resolving timedTextsFut" is that
 *   rejection), and in its `finally` `outputWriter.close()` throws on the cancelled stream before
 *   `timedTextsWriter.close()` runs. The aligned-transcript stream never ends, so the reply's text
 *   forwarding (`forwardText`, awaiting `reader.read()` with no abort) never finishes, and
 *   voice/agent_activity.ts `forwardSegment` waits `REPLY_TASK_CANCEL_TIMEOUT` (2 s) for it twice
 *   before the next reply may play. It happens at hesitations where the VAD ended the turn early
 *   and the user went on.
 * - Flux stream error at close. plugins/deepgram/src/stt_v2.ts `SpeechStreamv2.#sendTask`, once its
 *   input ends, flushes the audio-duration report into the stream's event queue, which `close()`
 *   has already closed ("Queue is closed"); `run()` logs "Deepgram stream error". It happens after
 *   the last turn, as the session closes, and changes no measure.
 */
import type { CaseTurn } from '../../src/main/engine/scripted/case';
import { normalizeTranscript } from '../../src/main/engine/text/normalize';
import type { LiveKitLogLine } from './livekit-log';
import type { TurnNote } from './types';

export const AEC_WARMUP_CAUSE =
  "LiveKit's AEC warm-up sent the STT silence instead of the user's speech (agent_activity.ts " +
  'AgentActivity.shouldDiscardInputAudio: the first aecWarmupDuration = 3000 ms of agent speech); ' +
  'a real Deepgram would not hear those words (the simulator follows its script and still transcribes them)';
export const SKIPPED_INPUT_CAUSE =
  'LiveKit skipped the user input because the session was already closing (agent_activity.ts ' +
  'AgentActivity.onEndOfTurn while schedulingPaused, set by AgentSession.close → AgentActivity.drain): ' +
  'the end of this turn reached LiveKit only after the run was over';
export const HELD_REPLY_CAUSE =
  'LiveKit held the next reply up to 4 s: it interrupted a reply whose TTS was still streaming, the TTS ' +
  'task failed with its audio stream cancelled and never closed the aligned-transcript stream ' +
  '(generation.ts performTTSInference: in its finally, outputWriter.close() throws before timedTextsWriter.close()), ' +
  "so that reply's text forwarding (generation.ts forwardText) never ended and agent_activity.ts forwardSegment " +
  'waited REPLY_TASK_CANCEL_TIMEOUT = 2000 ms for it twice';
/** On the turn after a held reply: where that reply may have become audible. */
export const heldFromEarlierTurn = (turn: number): string =>
  `a reply LiveKit held in turn ${turn} (see that turn's note) can become audible in this turn and counts here`;
export const FLUX_CLOSE_ERROR_CAUSE =
  'Deepgram stream error as the session closed, after the last turn (stt_v2.ts SpeechStreamv2.#sendTask ' +
  'flushes its audio-duration report into the event queue that close() has closed: "Queue is closed"); ' +
  'no effect on the measures';

const SKIPPED_INPUT_MESSAGE = 'skipping user input, speech scheduling is paused';
const STREAM_ERROR_MESSAGE = 'Deepgram stream error';
const TTS_TASK_FAILED_MESSAGE = 'TTS task failed before resolving timedTextsFut';

export class LiveKitTurnNotes {
  /** Per turn, the span (case ms) of its speech that LiveKit did not send to the STT. */
  private readonly withheld = new Map<number, { from: number; to: number }>();
  /** Notes on a turn found from LiveKit's log. */
  private readonly logged: TurnNote[] = [];
  private readonly caseNotes: string[] = [];
  private closing = false;

  /** `caseTimeMs`: ms since the first sample of the case was sent, null before that. */
  constructor(
    private readonly turns: readonly Pick<CaseTurn, 'words'>[],
    private readonly caseTimeMs: () => number | null,
  ) {}

  /**
   * One frame of case audio as it is given to LiveKit: `offsetMs` into the case, `durationMs`
   * long; `discardedForStt` whether LiveKit sends the STT silence in its place right now.
   */
  frame(offsetMs: number, durationMs: number, discardedForStt: boolean): void {
    if (!discardedForStt) return;
    const turn = this.turns.findIndex(
      (t) => offsetMs + durationMs > t.words[0]!.start * 1000 && offsetMs < t.words.at(-1)!.end * 1000,
    );
    if (turn < 0) return;
    const span = this.withheld.get(turn);
    if (span) span.to = offsetMs + durationMs;
    else this.withheld.set(turn, { from: offsetMs, to: offsetMs + durationMs });
  }

  /** The session is being closed by the benchmark: what LiveKit logs from now on is shutdown. */
  sessionClosing(): void {
    this.closing = true;
  }

  /** Keeps a note for a log line whose cause is known; false for any other line. */
  explain(line: LiveKitLogLine): boolean {
    if (line.text.startsWith(SKIPPED_INPUT_MESSAGE)) {
      const input = line.fields['lk.pii.user_input'];
      this.noteOnTurn(this.turnSaying(typeof input === 'string' ? input : ''), SKIPPED_INPUT_CAUSE);
      return true;
    }
    if (line.text.startsWith(TTS_TASK_FAILED_MESSAGE)) {
      const now = this.caseTimeMs();
      if (now !== null && !this.closing) {
        const turn = this.turnAt(now);
        this.noteOnTurn(turn, HELD_REPLY_CAUSE);
        if (turn + 1 < this.turns.length) this.noteOnTurn(turn + 1, heldFromEarlierTurn(turn));
      }
      return true;
    }
    if (this.closing && line.text.startsWith(STREAM_ERROR_MESSAGE)) {
      if (!this.caseNotes.includes(FLUX_CLOSE_ERROR_CAUSE)) this.caseNotes.push(FLUX_CLOSE_ERROR_CAUSE);
      return true;
    }
    return false;
  }

  /** The notes on single turns, in turn order. */
  turnNotes(): TurnNote[] {
    const withheld = [...this.withheld.entries()].map(([turn, { from, to }]) => ({
      turn,
      note: `${AEC_WARMUP_CAUSE}, from ${(from / 1000).toFixed(2)} s to ${(to / 1000).toFixed(2)} s`,
    }));
    return [...withheld, ...this.logged].sort((a, b) => a.turn - b.turn);
  }

  /** The notes on the case as a whole. */
  notes(): string[] {
    return [...this.caseNotes];
  }

  private noteOnTurn(turn: number, note: string): void {
    if (!this.logged.some((n) => n.turn === turn && n.note === note)) this.logged.push({ turn, note });
  }

  /** The turn whose window (from its first word to the next turn's) holds case time `ms`. */
  private turnAt(ms: number): number {
    const next = this.turns.findIndex((t) => t.words[0]!.start * 1000 > ms);
    return next < 0 ? this.turns.length - 1 : Math.max(0, next - 1);
  }

  /** The last turn whose words contain `input` (LiveKit's transcript of it), else the last turn. */
  private turnSaying(input: string): number {
    const heard = normalizeTranscript(input);
    for (let i = this.turns.length - 1; i >= 0; i--) {
      const said = normalizeTranscript(this.turns[i]!.words.map((w) => w.text).join(' '));
      if (heard && said.includes(heard)) return i;
    }
    return this.turns.length - 1;
  }
}
