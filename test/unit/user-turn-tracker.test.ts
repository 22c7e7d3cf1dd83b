/**
 * The turn tracker on its own, fed STT and VAD events by hand on the virtual clock: a
 * push-to-talk release whose Finalize is never answered, and the provider's late results for a
 * turn committed without them.
 */
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/main/engine/clock';
import { EndpointingPolicy } from '../../src/main/engine/endpointing';
import type { SttEvent } from '../../src/main/engine/ports';
import { HeuristicTurnDetector } from '../../src/main/engine/text/heuristic-turn-detector';
import { TimelineBus } from '../../src/main/engine/timeline-bus';
import { UserTurnTracker } from '../../src/main/engine/user-turn-tracker';
import { parseSettings } from '../../src/shared/settings';

function rig() {
  const clock = new VirtualClock();
  const bus = new TimelineBus(clock);
  const settings = parseSettings({ turn_handling: { turn_detection: 'manual' } }).turn_handling;
  let silentSince: number | null = null;
  const ended: { at: number; transcript: string }[] = [];
  const tracker = new UserTurnTracker(settings, {
    clock,
    bus,
    endpointing: new EndpointingPolicy(settings.endpointing),
    detector: new HeuristicTurnDetector(),
    history: () => [],
    turnAudio: () => undefined,
    silentSince: () => silentSince,
    listener: {
      onStartOfTurn: () => {},
      onTranscript: () => {},
      onEagerEndOfTurn: () => {},
      onTurnResumed: () => {},
      onEndUnlikely: () => {},
      onEndOfTurn: (transcript) => ended.push({ at: clock.now(), transcript }),
      onTurnDropped: () => {},
    },
  });
  return {
    clock,
    tracker,
    ended,
    /** The microphone frames went silent at `at` (null: speech). */
    silence: (at: number | null) => {
      silentSince = at;
    },
  };
}

const words = (...timed: [string, number, number][]) =>
  timed.map(([word, start, end]) => ({ word, start, end }));
const interim = (transcript: string, w: ReturnType<typeof words>): SttEvent => ({
  type: 'interim',
  transcript,
  words: w,
});

describe('push-to-talk release with no answer to the Finalize', () => {
  it('commits on what was heard after a wait bounded by the unfinalised speech, not max_delay', async () => {
    const { clock, tracker, ended, silence } = rig();
    tracker.pushToTalk(true);
    await clock.advanceTo(500);
    tracker.onSpeechStarted(500);
    await clock.advanceTo(1300);
    tracker.onStt(interim('book a flight', words(['book', 0.5, 0.8], ['a', 0.86, 0.96], ['flight', 1, 1.3])));
    await clock.advanceTo(1700);
    silence(1300);
    tracker.pushToTalk(false);
    // 800 ms of speech not finalised: 400 ms + a quarter of it.
    await clock.advanceTo(1700 + 599);
    expect(ended).toEqual([]);
    await clock.advanceTo(1700 + 600);
    expect(ended).toEqual([{ at: 2300, transcript: 'book a flight' }]);
  });

  it("sets the provider's late answer aside, and the next turn keeps to its own words", async () => {
    const { clock, tracker, ended, silence } = rig();
    tracker.pushToTalk(true);
    tracker.onSpeechStarted(500);
    await clock.advanceTo(1300);
    tracker.onStt(interim('book a flight', words(['book', 0.5, 0.8], ['a', 0.86, 0.96], ['flight', 1, 1.3])));
    silence(1300);
    await clock.advanceTo(1700);
    tracker.pushToTalk(false);
    await clock.advanceTo(3000);
    expect(ended.map((e) => e.transcript)).toEqual(['book a flight']);

    // The answer to the Finalize arrives late, and the user has pressed the key again meanwhile.
    silence(null);
    tracker.pushToTalk(true);
    tracker.onSpeechStarted(3100);
    tracker.onStt({
      type: 'final',
      transcript: 'Book a flight.',
      speechFinal: false,
      fromFinalize: true,
      words: words(['Book', 0.5, 0.8], ['a', 0.86, 0.96], ['flight.', 1, 1.3]),
    });
    // Nova's next interim still starts with the old words: only the new ones belong to this turn.
    await clock.advanceTo(3600);
    tracker.onStt(
      interim(
        'book a flight to paris',
        words(
          ['book', 0.5, 0.8],
          ['a', 0.86, 0.96],
          ['flight', 1, 1.3],
          ['to', 3.1, 3.2],
          ['paris', 3.25, 3.5],
        ),
      ),
    );
    expect(tracker.transcript).toBe('to paris');
    await clock.advanceTo(3800);
    tracker.onStt({
      type: 'final',
      transcript: 'To Paris.',
      speechFinal: true,
      words: words(['To', 3.1, 3.2], ['Paris.', 3.25, 3.5]),
    });
    silence(3500);
    tracker.pushToTalk(false);
    await clock.advanceTo(3800 + 20);
    expect(ended.map((e) => e.transcript)).toEqual(['book a flight', 'To Paris.']);
  });
});

describe('Flux events about a committed turn', () => {
  it('an EndOfTurn after the commit opens no turn, and a continued Flux turn gives only its new words', async () => {
    const { clock, tracker, ended } = rig();
    const flux = (
      event: 'StartOfTurn' | 'Update' | 'EagerEndOfTurn' | 'TurnResumed' | 'EndOfTurn',
      transcript: string,
      turnIndex = 4,
    ): SttEvent => ({
      type: 'turn',
      event,
      turnIndex,
      transcript,
    });
    tracker.pushToTalk(true);
    tracker.onStt(flux('StartOfTurn', ''));
    tracker.onStt(flux('Update', 'what is the weather'));
    tracker.onStt(flux('EagerEndOfTurn', 'what is the weather'));
    tracker.pushToTalk(false);
    await clock.advanceTo(20);
    expect(ended.map((e) => e.transcript)).toEqual(['what is the weather']);
    // Flux's own EndOfTurn for it comes after the commit: nothing happens.
    tracker.onStt(flux('EndOfTurn', 'what is the weather'));
    expect(tracker.isActive).toBe(false);
    // The same Flux turn, resumed under a new press: only the words after the committed ones.
    tracker.pushToTalk(true);
    tracker.onStt(flux('TurnResumed', 'what is the weather'));
    tracker.onStt(flux('Update', 'what is the weather in tokyo'));
    expect(tracker.transcript).toBe('in tokyo');
    // An older Flux turn is set aside whole; a newer one counts whole.
    tracker.onStt(flux('Update', 'something old', 3));
    expect(tracker.transcript).toBe('in tokyo');
    tracker.onStt(flux('StartOfTurn', '', 5));
    tracker.onStt(flux('Update', 'and tomorrow', 5));
    expect(tracker.transcript).toBe('and tomorrow');
  });
});
