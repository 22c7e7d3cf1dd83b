/**
 * The live frame grid (live-pace.ts): what moves while Cue listens is written at most once a
 * slot, on the slot's animation frame or, for what reaches the screen without the page's
 * rendering update, from the slot's timer. Vitest's fake timers and animation frames.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { useFakeFrames } from '../helpers/fake-frames';
import {
  atLiveSlot,
  LIVE_FRAME_MS,
  nextLiveSlot,
  pacedWriter,
} from '../../src/renderer/src/timeline/live-pace';

useFakeFrames({ performance: true });

afterEach(() => {
  vi.restoreAllMocks();
});

describe('nextLiveSlot', () => {
  it('is the start of the next slot, also from a slot start computed in floating point', () => {
    expect(nextLiveSlot(0)).toBeCloseTo(LIVE_FRAME_MS, 9);
    expect(nextLiveSlot(LIVE_FRAME_MS / 2)).toBeCloseTo(LIVE_FRAME_MS, 9);
    for (let k = 1; k < 2000; k++) {
      const start = k * LIVE_FRAME_MS;
      expect(nextLiveSlot(start)).toBeGreaterThan(start + LIVE_FRAME_MS / 2);
    }
  });
});

describe('atLiveSlot', () => {
  it('what waits for the same slot waits on one timer, and each runs once when it comes', () => {
    const timers = vi.spyOn(globalThis, 'setTimeout');
    const ran: string[] = [];
    const slot = nextLiveSlot(performance.now());
    atLiveSlot(slot, () => ran.push('timeline'));
    const meter = pacedWriter((value: string) => ran.push(value), { direct: true });
    meter.push('meter');
    expect(timers).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(slot - performance.now() - 1);
    expect(ran).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(ran).toEqual(['timeline', 'meter']);
    // The next slot has a timer of its own.
    atLiveSlot(nextLiveSlot(performance.now()), () => ran.push('next'));
    expect(timers).toHaveBeenCalledTimes(2);
    vi.advanceTimersByTime(LIVE_FRAME_MS);
    expect(ran).toEqual(['timeline', 'meter', 'next']);
  });

  it('a wait taken back does not run; the last one taken back clears the timer', () => {
    const clears = vi.spyOn(globalThis, 'clearTimeout');
    const ran: string[] = [];
    const slot = nextLiveSlot(performance.now());
    const first = atLiveSlot(slot, () => ran.push('first'));
    const second = atLiveSlot(slot, () => ran.push('second'));
    first();
    expect(clears).not.toHaveBeenCalled();
    second();
    expect(clears).toHaveBeenCalledTimes(1);
    // Taking it back twice changes nothing, even once another waits for that slot again.
    const third = atLiveSlot(slot, () => ran.push('third'));
    second();
    vi.advanceTimersByTime(LIVE_FRAME_MS * 2);
    expect(ran).toEqual(['third']);
    third();
    expect(clears).toHaveBeenCalledTimes(1);
  });
});

describe.each([{ direct: false }, { direct: true }])('pacedWriter (direct: $direct)', ({ direct }) => {
  const pushEvery = (writer: { push(value: number): void }, everyMs: number, forMs: number) => {
    for (let t = 0; t < forMs; t += everyMs) {
      writer.push(t);
      vi.advanceTimersByTime(everyMs);
    }
  };

  it('writes the latest value at most once a slot, however often values come', () => {
    const written: number[] = [];
    const writer = pacedWriter((value: number) => written.push(value), { direct });
    pushEvery(writer, 4, 2_000);
    vi.advanceTimersByTime(100);
    const slots = 2_000 / LIVE_FRAME_MS;
    expect(written.length).toBeGreaterThanOrEqual(slots - 2);
    expect(written.length).toBeLessThanOrEqual(slots + 1);
    // The last value pushed is the last written: nothing that came is lost at the end.
    expect(written.at(-1)).toBe(1_996);
  });

  it('writes from the slot timer itself when direct, else on the animation frame after it', () => {
    const frames = vi.spyOn(globalThis, 'requestAnimationFrame');
    const written: number[] = [];
    const writer = pacedWriter((value: number) => written.push(value), { direct });
    writer.push(1);
    vi.advanceTimersByTime(LIVE_FRAME_MS + 20);
    expect(written).toEqual([1]);
    expect(frames).toHaveBeenCalledTimes(direct ? 0 : 1);
  });

  it('cancel drops a pending write', () => {
    const written: number[] = [];
    const writer = pacedWriter((value: number) => written.push(value), { direct });
    writer.push(1);
    writer.cancel();
    vi.advanceTimersByTime(LIVE_FRAME_MS * 3);
    expect(written).toEqual([]);
  });
});
