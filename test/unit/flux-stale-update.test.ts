/**
 * Flux sends nothing about a turn after its EndOfTurn. A reading of that turn that arrives after
 * it anyway (the simulator's release of two events with different lags could swap them in real
 * time) must neither reach the client nor, if it does, be added to the turn a second time.
 */
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/main/engine/clock';
import { SAMPLE_RATE } from '../../src/main/engine/ports';
import type { CaseEvent, FluxPayload } from '../../src/main/engine/scripted/case-events';
import { CaseEventScheduler, type ReleasedSttEvent } from '../../src/main/engine/scripted/event-scheduler';
import { TurnTranscript } from '../../src/main/engine/turn-transcript';

function turnInfo(
  event: FluxPayload['event'],
  turnIndex: number,
  transcript: string,
  audioAt: number,
): CaseEvent<FluxPayload> {
  return {
    audioAt,
    delayMs: 50,
    caseTurn: 0,
    payload: {
      kind: 'turn_info',
      event,
      turnIndex,
      transcript,
      words: [],
      heard: [],
      misheard: false,
      confidence: 0.8,
      audioWindowStart: 0.5,
      audioWindowEnd: audioAt,
    },
  };
}

describe('a Flux reading after its EndOfTurn', () => {
  it('is not released by the simulators', async () => {
    const clock = new VirtualClock();
    const released: ReleasedSttEvent[] = [];
    const scheduler = new CaseEventScheduler({
      clock,
      events: [
        turnInfo('Update', 0, 'set a timer', 1.0),
        turnInfo('EndOfTurn', 0, 'set a timer', 1.2),
        turnInfo('Update', 0, 'set a timer', 1.35),
        turnInfo('StartOfTurn', 1, '', 1.6),
        turnInfo('Update', 1, 'for the pasta', 2.0),
      ],
      words: [],
      onRelease: (e) => released.push(e),
    });
    scheduler.receive(Math.ceil(3 * SAMPLE_RATE));
    await clock.advanceBy(1000);
    expect(
      released.map((e) => (e.kind === 'turn_info' ? `${e.payload.event} ${e.payload.turnIndex}` : e.kind)),
    ).toEqual(['Update 0', 'EndOfTurn 0', 'StartOfTurn 1', 'Update 1']);
  });

  it('is not added to the turn again by the client', () => {
    const said = new TurnTranscript();
    said.startFluxTurn(0);
    expect(said.newInFlux(0, 'set a timer', 'Update')).toBe('set a timer');
    expect(said.newInFlux(0, 'set a timer', 'EndOfTurn')).toBe('set a timer');
    said.addFinal('set a timer');
    expect(said.newInFlux(0, 'set a timer', 'Update')).toBeNull();
    expect(said.newInFlux(0, 'set a timer', 'EndOfTurn')).toBeNull();
    expect(said.newInFlux(1, 'for the pasta', 'Update')).toBe('for the pasta');
    // A new stream numbers its turns afresh.
    said.reset();
    expect(said.newInFlux(0, 'hello', 'Update')).toBe('hello');
  });
});
