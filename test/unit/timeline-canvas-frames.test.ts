/**
 * When the timeline's canvas draws, and how much of it: a stand-in canvas, document and window in
 * Node, the animation frames and clocks of Vitest's fake timers, and a spy on the renderer's
 * draw(region?) (no region: the whole canvas).
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LIVE_FPS, LIVE_FRAME_MS } from '../../src/renderer/src/timeline/live-pace';
import { TimelineCanvas } from '../../src/renderer/src/timeline/timeline-canvas';
import { TimelineModel } from '../../src/renderer/src/timeline/timeline-model';
import type { TimelineEvent } from '../../src/shared/timeline';
import { useFakeFrames } from '../helpers/fake-frames';

const WIDTH = 1116;

/** Text drawn on the stand-in contexts: what and where (CSS px). */
const texts: { text: string; x: number }[] = [];

/** A 2D context that accepts every call (measureText measures 6 px a character) and records text. */
function recordingContext(): CanvasRenderingContext2D {
  const target: Record<string, unknown> = {
    measureText: (text: string) => ({ width: text.length * 6 }),
    fillText: (text: string, x: number) => texts.push({ text, x }),
  };
  return new Proxy(target, {
    get: (t, key) => (key in t ? t[key as string] : () => undefined),
    set: (t, key, value) => {
      t[key as string] = value;
      return true;
    },
  }) as unknown as CanvasRenderingContext2D;
}

/** An OffscreenCanvas stand-in: what the canvas hands its pixels to, where the browser can. */
function offscreenStandIn() {
  return { width: 0, height: 0, getContext: () => recordingContext() };
}

function standIns(offscreen?: ReturnType<typeof offscreenStandIn>) {
  const win = Object.assign(new EventTarget(), {
    devicePixelRatio: 1,
    innerWidth: WIDTH,
    innerHeight: 800,
    matchMedia: () => ({ matches: false, addEventListener() {}, removeEventListener() {} }),
  });
  let visibility: DocumentVisibilityState = 'visible';
  const doc = Object.defineProperty(
    Object.assign(new EventTarget(), { defaultView: win }),
    'visibilityState',
    {
      get: () => visibility,
    },
  );
  const canvas = Object.assign(new EventTarget(), {
    ownerDocument: doc,
    style: {} as Record<string, string>,
    width: 0,
    height: 0,
    clientWidth: WIDTH,
    getContext: () => recordingContext(),
    getBoundingClientRect: () => ({ left: 0, top: 0, width: WIDTH, height: 300 }),
    closest: () => null,
    parentElement: null,
    ...(offscreen && { transferControlToOffscreen: vi.fn(() => offscreen) }),
  }) as unknown as HTMLCanvasElement;
  const setVisibility = (state: DocumentVisibilityState) => {
    visibility = state;
    doc.dispatchEvent(new Event('visibilitychange'));
  };
  return { canvas, setVisibility };
}

type Region = { x0: number; x1: number } | undefined;

describe.each([
  { surface: 'its own 2D context', offscreen: false },
  { surface: 'an OffscreenCanvas', offscreen: true },
])(
  'the timeline canvas, drawing on $surface, draws only what changed, at most LIVE_FPS times a second while following',
  ({ offscreen: transfers }) => {
    let draws: Region[];
    let offscreen: ReturnType<typeof offscreenStandIn>;
    let model: TimelineModel;
    let renderer: TimelineCanvas;
    let stage: ReturnType<typeof standIns>;
    let t: number;

    const vadFrames = (ms: number) => {
      // One VAD frame every 32 ms of session time, as main sends them, while time passes.
      for (let elapsed = 0; elapsed < ms; elapsed += 32) {
        t += 32;
        model.ingest({ type: 'vad_probability', t, turn: 0, probability: 0.02, speaking: false });
        vi.advanceTimersByTime(32);
      }
    };

    useFakeFrames({ performance: true });

    beforeEach(() => {
      draws = [];
      const draw = Object.getOwnPropertyDescriptor(TimelineCanvas.prototype, 'draw')!.value as (
        this: TimelineCanvas,
        region?: Region,
      ) => void;
      vi.spyOn(TimelineCanvas.prototype as unknown as { draw: typeof draw }, 'draw').mockImplementation(
        function (this: TimelineCanvas, region?: Region) {
          draws.push(region);
          draw.call(this, region);
        },
      );
      model = new TimelineModel({ now: () => performance.now() });
      offscreen = offscreenStandIn();
      stage = standIns(transfers ? offscreen : undefined);
      renderer = new TimelineCanvas(stage.canvas, model, { windowMs: 20_000 });
      t = 0;
      const start: TimelineEvent = { type: 'session_started', t, turn: -1 };
      model.ingest(start);
      vi.advanceTimersByTime(50);
      draws.length = 0;
    });

    afterEach(() => {
      renderer.dispose();
      vi.restoreAllMocks();
    });

    it('stays at LIVE_FPS when frames carry a timestamp from before the live slot began', () => {
      // A frame's timestamp is when its vsync came, which may be before the timer that asked for it
      // fired (the slot boundary): pacing from it would ask for the next frame at once.
      const realFrame = globalThis.requestAnimationFrame;
      const early = vi
        .spyOn(globalThis, 'requestAnimationFrame')
        .mockImplementation((callback) => realFrame(() => callback(performance.now() - 8)));
      vadFrames(5_000);
      early.mockRestore();
      expect(draws.length).toBeGreaterThan(5 * LIVE_FPS - 5);
      expect(draws.length).toBeLessThanOrEqual(5 * LIVE_FPS + 1);
    });

    it('sizes the backing store where the pixels go, in device pixels', () => {
      const element = stage.canvas as unknown as { width: number; height: number };
      expect(transfers ? offscreen.width : element.width).toBe(WIDTH);
      expect(transfers ? offscreen.height : element.height).toBeGreaterThan(100);
      // A canvas that handed its pixels over cannot be resized itself (the browser would throw).
      if (transfers) expect([element.width, element.height]).toEqual([0, 0]);
    });

    it('draws live frames from the live grid timer when its pixels go straight to the compositor, else on animation frames', () => {
      const frames = vi.spyOn(globalThis, 'requestAnimationFrame');
      vadFrames(2_000);
      expect(draws.length).toBeGreaterThan(2 * LIVE_FPS - 3);
      // An animation frame would bring back the page's rendering update for every live frame.
      if (transfers) expect(frames).not.toHaveBeenCalled();
      else expect(frames.mock.calls.length).toBeGreaterThanOrEqual(draws.length);
    });

    it('listening with no turn open, VAD frames redraw only the strip at the live edge', () => {
      vadFrames(5_000);
      const full = draws.filter((r) => r === undefined);
      const strips = draws.filter((r): r is { x0: number; x1: number } => r !== undefined);
      // No turn is open: nothing but the live edge changes, and the view stays still (it sweeps).
      expect(full).toHaveLength(0);
      expect(strips.length).toBeGreaterThan(0);
      expect(strips.length).toBeLessThanOrEqual(5 * LIVE_FPS + 1);
      for (const strip of strips) expect(strip.x1 - strip.x0).toBeLessThan(40);
    });

    it('a strip draws the labels of the time grid only where they reach into it', () => {
      vadFrames(1_000);
      texts.length = 0;
      draws.length = 0;
      vadFrames(200);
      const strips = draws.filter((r): r is { x0: number; x1: number } => r !== undefined);
      expect(strips.length).toBeGreaterThan(0);
      // Ticks are at least 84 px apart, and a label fits before the next tick.
      const reach = 84 * 3;
      const plotText = texts.filter(({ x }) => x >= 116);
      for (const { x } of plotText) {
        expect(strips.some((strip) => x < strip.x1 && x + reach > strip.x0)).toBe(true);
      }
      // A whole redraw labels every tick across the plot.
      texts.length = 0;
      renderer.invalidate();
      vi.advanceTimersByTime(20);
      const labels = texts.filter(({ x }) => x >= 116);
      expect(labels.length).toBeGreaterThanOrEqual(WIDTH / (84 * 3));
      expect(Math.max(...labels.map((l) => l.x)) - Math.min(...labels.map((l) => l.x))).toBeGreaterThan(
        WIDTH / 2,
      );
    });

    it('following a session, an event other than a VAD frame redraws the whole canvas on the next live frame, not a frame of its own', () => {
      vadFrames(500);
      draws.length = 0;
      t += 10;
      model.ingest({ type: 'user_speech_started', t, turn: 0, at: t - 100 });
      vi.advanceTimersByTime(LIVE_FRAME_MS + 17);
      expect(draws).toEqual([undefined]);
    });

    it('paused, an event other than a VAD frame redraws the whole canvas on the next frame', () => {
      vadFrames(500);
      renderer.toggleFollow();
      vi.advanceTimersByTime(200);
      draws.length = 0;
      t += 10;
      model.ingest({ type: 'user_speech_started', t, turn: 0, at: t - 100 });
      vi.advanceTimersByTime(17);
      expect(draws).toContain(undefined);
    });

    it('when the live edge reaches the right, the view jumps once instead of scrolling every frame', () => {
      // 20 s in a plot of 1000 px: the edge starts near the right and sweeps from 60 % after a jump.
      vadFrames(30_000);
      const full = draws.filter((r) => r === undefined).length;
      // 30 s at 20 ms a pixel, jumping 37 % of the width (7.5 s) each time: about four jumps.
      expect(full).toBeGreaterThanOrEqual(1);
      expect(full).toBeLessThanOrEqual(6);
      expect(draws.length).toBeLessThanOrEqual(30 * LIVE_FPS + full);
    });

    it('draws nothing while the document is hidden, and the whole view once it shows again', () => {
      stage.setVisibility('hidden');
      vadFrames(3_000);
      t += 10;
      model.ingest({ type: 'user_speech_started', t, turn: 0, at: t - 100 });
      vi.advanceTimersByTime(200);
      expect(draws).toEqual([]);
      stage.setVisibility('visible');
      vi.advanceTimersByTime(17);
      // The whole view first; a live frame may follow in the next slot (only the live edge).
      expect(draws.length).toBeGreaterThan(0);
      expect(draws[0]).toBeUndefined();
      expect(draws.slice(1).every((region) => region !== undefined)).toBe(true);
    });
  },
);
