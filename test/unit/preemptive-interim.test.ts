import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/main/engine/clock';
import { PreemptiveController } from '../../src/main/engine/preemptive-controller';
import type { Reply } from '../../src/main/engine/reply';
import { TimelineBus } from '../../src/main/engine/timeline-bus';
import { defaultSettings, type PreemptiveSettings } from '../../src/shared/settings';

/** A controller with a fake reply factory; `silentSince` is set by the test like the session's VAD frames. */
function setup(overrides: Partial<PreemptiveSettings> = {}) {
  const clock = new VirtualClock();
  const bus = new TimelineBus(clock);
  const started: { transcript: string; trigger: string; at: number }[] = [];
  let silentSince: number | null = null;
  let nextId = 1;
  const controller = new PreemptiveController(
    { ...defaultSettings().turn_handling.preemptive_generation, ...overrides },
    {
      clock,
      bus,
      speculate: (transcript, trigger) => {
        started.push({ transcript, trigger, at: clock.now() });
        const reply = { id: nextId++, transcript, startedAt: clock.now(), start() {}, cancel() {} };
        return reply as unknown as Reply;
      },
      speechStartedAt: () => 0,
      silentSince: () => silentSince,
    },
  );
  return {
    clock,
    controller,
    started,
    /** The user's frames went quiet at `at` (null: speaking again). */
    quiet(at: number | null) {
      silentSince = at;
      if (at !== null) controller.onUserPaused();
    },
  };
}

describe('PreemptiveController: speculating on interims', () => {
  it('speculates on an interim heard during the silence once the silence lasts interim_stability', async () => {
    const { clock, controller, started, quiet } = setup({ interim_stability: 0.05 });
    await clock.advanceTo(1000);
    quiet(1000);
    await clock.advanceTo(1100);
    controller.onTranscript('what time is it', 'interim');
    expect(started).toEqual([{ transcript: 'what time is it', trigger: 'interim', at: 1100 }]);
  });

  it('waits out the rest of interim_stability when the interim comes early in the silence', async () => {
    const { clock, controller, started, quiet } = setup({ interim_stability: 0.2 });
    await clock.advanceTo(1000);
    quiet(1000);
    await clock.advanceTo(1050);
    controller.onTranscript('what time is it', 'interim');
    await clock.advanceTo(1199);
    expect(started).toEqual([]);
    await clock.advanceTo(1200);
    expect(started.map((s) => s.at)).toEqual([1200]);
  });

  it('never speculates on an interim heard before the silence began (the STT had not caught up)', async () => {
    const { clock, controller, started, quiet } = setup({ interim_stability: 0.05 });
    await clock.advanceTo(900);
    controller.onTranscript('what time', 'interim');
    await clock.advanceTo(1000);
    quiet(1000);
    await clock.advanceTo(2000);
    expect(started).toEqual([]);
    controller.onTranscript('what time is it', 'interim');
    expect(started.map((s) => s.transcript)).toEqual(['what time is it']);
  });

  it('does not speculate while the user speaks, nor on Flux updates', async () => {
    const { clock, controller, started, quiet } = setup({ interim_stability: 0 });
    await clock.advanceTo(1000);
    controller.onTranscript('what time', 'interim');
    quiet(null);
    await clock.advanceTo(1500);
    expect(started).toEqual([]);
    quiet(1500);
    controller.onTranscript('what time is it', 'flux_update');
    await clock.advanceTo(2000);
    expect(started).toEqual([]);
    controller.onEagerEndOfTurn('what time is it');
    expect(started.map((s) => s.trigger)).toEqual(['eager_end_of_turn']);
  });
});
