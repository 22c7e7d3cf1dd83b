/**
 * The notes the LiveKit system attaches to turns (bench/systems/livekit-turn-notes.ts): LiveKit's
 * own causes, placed on the turn they concern.
 */
import { describe, expect, it } from 'vitest';
import type { LiveKitLogLine } from '../../bench/systems/livekit-log';
import {
  AEC_WARMUP_CAUSE,
  FLUX_CLOSE_ERROR_CAUSE,
  HELD_REPLY_CAUSE,
  heldFromEarlierTurn,
  LiveKitTurnNotes,
  SKIPPED_INPUT_CAUSE,
} from '../../bench/systems/livekit-turn-notes';

const turns = [
  {
    words: [
      { text: 'what', start: 0.5, end: 0.8 },
      { text: 'time', start: 0.85, end: 1.2 },
    ],
  },
  {
    words: [
      { text: 'move', start: 5.4, end: 5.7 },
      { text: 'it', start: 5.75, end: 6.0 },
    ],
  },
  { words: [{ text: 'thanks', start: 9.0, end: 9.5 }] },
];

/** Case time the notes read, in ms (null: the case audio has not started). */
let caseTime: number | null = null;

const line = (text: string, fields: Record<string, unknown> = {}): LiveKitLogLine => ({
  level: 40,
  text,
  fields,
});

describe('notes on the turns LiveKit itself lost', () => {
  it("spans the part of a turn's speech that LiveKit's AEC warm-up kept from the STT", () => {
    const notes = new LiveKitTurnNotes(turns, () => caseTime);
    // Agent speaking in warm-up from 4.0 s to 5.6 s; the user's second turn starts at 5.4 s.
    for (let t = 3000; t < 7000; t += 20) notes.frame(t, 20, t >= 4000 && t < 5600);
    expect(notes.turnNotes()).toEqual([{ turn: 1, note: `${AEC_WARMUP_CAUSE}, from 5.40 s to 5.60 s` }]);
    expect(notes.notes()).toEqual([]);
  });

  it('puts a skipped input on the turn whose words it is, or on the last turn', () => {
    const notes = new LiveKitTurnNotes(turns, () => caseTime);
    expect(
      notes.explain(
        line('skipping user input, speech scheduling is paused', { 'lk.pii.user_input': 'Move it.' }),
      ),
    ).toBe(true);
    expect(notes.explain(line('skipping user input, speech scheduling is paused'))).toBe(true);
    expect(notes.turnNotes()).toEqual([
      { turn: 1, note: SKIPPED_INPUT_CAUSE },
      { turn: 2, note: SKIPPED_INPUT_CAUSE },
    ]);
  });

  it("puts the held reply on the turn in whose window LiveKit's TTS task failed, and a pointer to it on the next turn", () => {
    const notes = new LiveKitTurnNotes(turns, () => caseTime);
    caseTime = 7000; // after the second turn's first word (5.4 s), before the third's (9.0 s)
    expect(notes.explain(line('TTS task failed before resolving timedTextsFut'))).toBe(true);
    caseTime = 9500;
    expect(notes.explain(line('TTS task failed before resolving timedTextsFut'))).toBe(true);
    expect(notes.turnNotes()).toEqual([
      { turn: 1, note: HELD_REPLY_CAUSE },
      { turn: 2, note: heldFromEarlierTurn(1) },
      { turn: 2, note: HELD_REPLY_CAUSE },
    ]);
    caseTime = null;
  });

  it("explains Flux's stream error only once the session is closing; other lines are not explained", () => {
    const notes = new LiveKitTurnNotes(turns, () => caseTime);
    expect(notes.explain(line('Deepgram stream error'))).toBe(false);
    expect(notes.explain(line('VAD inference is slower than realtime'))).toBe(false);
    notes.sessionClosing();
    expect(notes.explain(line('Deepgram stream error'))).toBe(true);
    expect(notes.explain(line('Deepgram stream error'))).toBe(true);
    expect(notes.notes()).toEqual([FLUX_CLOSE_ERROR_CAUSE]);
    expect(notes.turnNotes()).toEqual([]);
  });
});
