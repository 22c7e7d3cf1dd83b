/**
 * A finished timeline kept to a fixed range (the Sessions dialog's recorded and replayed
 * timelines): two canvases with the same range and width show the same span, however far each
 * model's events run. Stand-in canvas and window in Node, as in timeline-canvas-frames.test.ts.
 */
import { describe, expect, it, vi } from 'vitest';
import { useFakeFrames } from '../helpers/fake-frames';
import { TimelineCanvas } from '../../src/renderer/src/timeline/timeline-canvas';
import { TimelineModel } from '../../src/renderer/src/timeline/timeline-model';
import type { TimelineEvent } from '../../src/shared/timeline';

const WIDTH = 1000;

function canvas(): HTMLCanvasElement {
  const context = new Proxy(
    { measureText: (text: string) => ({ width: text.length * 6 }) } as Record<string, unknown>,
    {
      get: (t, key) => (key in t ? t[key as string] : () => undefined),
      set: (t, key, value) => {
        t[key as string] = value;
        return true;
      },
    },
  );
  const win = Object.assign(new EventTarget(), {
    devicePixelRatio: 1,
    matchMedia: () => ({ matches: false, addEventListener() {}, removeEventListener() {} }),
  });
  const doc = Object.assign(new EventTarget(), { defaultView: win, visibilityState: 'visible' });
  return Object.assign(new EventTarget(), {
    ownerDocument: doc,
    style: {} as Record<string, string>,
    width: 0,
    height: 0,
    clientWidth: WIDTH,
    getContext: () => context,
    getBoundingClientRect: () => ({ left: 0, top: 0, width: WIDTH, height: 300 }),
    closest: () => null,
    parentElement: null,
  }) as unknown as HTMLCanvasElement;
}

function finished(lastMs: number): TimelineModel {
  const model = new TimelineModel({ now: () => 0 });
  const events: TimelineEvent[] = [
    { type: 'session_started', t: 0, turn: -1 },
    { type: 'user_speech_started', t: 1200, turn: 0, at: 1000 },
    { type: 'turn_committed', t: 3000, turn: 0, transcript: 'hello', speculation_reused: false },
    { type: 'session_stopped', t: lastMs, turn: 0 },
  ];
  model.ingestAll(events, 0);
  return model;
}

describe('a finished timeline over a fixed range', () => {
  useFakeFrames();

  function view(model: TimelineModel, range?: { start: number; end: number }) {
    const renderer = new TimelineCanvas(canvas(), model, { windowMs: 20_000, ...(range ? { range } : {}) });
    vi.advanceTimersByTime(100); // a frame: the canvas reads the model's live edge
    renderer.setFollow(false);
    renderer.reveal(0, 20_000);
    vi.advanceTimersByTime(100);
    const state = renderer.getViewState();
    renderer.dispose();
    return state;
  }

  it('shows the same span for two models whose events end at different times', () => {
    const range = { start: 0, end: 20_000 };
    const recorded = view(finished(20_000), range);
    const replayed = view(finished(23_000), range);
    expect(replayed.startT).toBe(recorded.startT);
    expect(replayed.endT).toBe(recorded.endT);
    expect(recorded.startT).toBeLessThanOrEqual(0);
    expect(recorded.endT).toBeGreaterThanOrEqual(20_000);
  });

  it('without a range each keeps to its own events, and they do not line up', () => {
    const recorded = view(finished(20_000));
    const replayed = view(finished(23_000));
    expect(replayed.startT).not.toBe(recorded.startT);
  });
});
