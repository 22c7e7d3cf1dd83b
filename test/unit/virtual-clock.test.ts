import { describe, expect, it } from 'vitest';
import { MAX_TIMERS_AT_ONE_INSTANT, TimerLoopError, VirtualClock } from '../../src/main/engine/clock';

describe('VirtualClock', () => {
  it('fires due timers in time order, ties in the order they were set, and stops at the target', async () => {
    const clock = new VirtualClock();
    const fired: string[] = [];
    clock.setTimeout(() => fired.push(`b@${clock.now()}`), 20);
    clock.setTimeout(() => fired.push(`a@${clock.now()}`), 10);
    clock.setTimeout(() => fired.push(`c@${clock.now()}`), 20);
    clock.setTimeout(() => fired.push(`late@${clock.now()}`), 31);
    await clock.advanceTo(30);
    expect(fired).toEqual(['a@10', 'b@20', 'c@20']);
    expect(clock.now()).toBe(30);
    expect(clock.pendingTimers).toBe(1);
  });

  it('runs many zero-delay timers that move on, but names a timer that re-arms itself for no time', async () => {
    const clock = new VirtualClock();
    let chained = 0;
    const chain = () => {
      if (++chained < 1000) clock.setTimeout(chain, 0);
    };
    clock.setTimeout(chain, 5);
    await clock.advanceTo(10);
    expect(chained).toBe(1000);

    let looped = 0;
    const loop = () => {
      looped++;
      clock.setTimeout(loop, 0);
    };
    clock.setTimeout(loop, 5);
    const error = await clock.advanceTo(100).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TimerLoopError);
    expect((error as Error).message).toContain('timers kept firing at 15 ms without time moving');
    expect(looped).toBe(MAX_TIMERS_AT_ONE_INSTANT);
  });
});
