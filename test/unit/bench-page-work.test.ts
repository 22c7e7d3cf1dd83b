/**
 * The timeline benchmark's work counts (bench/page-work.ts): events are counted per second on the
 * page's renderer only, each on the thread it belongs to.
 */
import { describe, expect, it } from 'vitest';
import { summariseTrace, type TraceEvent } from '../../bench/page-work';

const PAGE = 10;
const OTHER = 20;
const meta = (pid: number, tid: number, name: string): TraceEvent => ({
  name: 'thread_name',
  ph: 'M',
  pid,
  tid,
  args: { name },
});
const proc = (pid: number, name: string): TraceEvent => ({
  name: 'process_name',
  ph: 'M',
  pid,
  tid: 0,
  args: { name },
});
const x = (pid: number, tid: number, name: string, ts: number): TraceEvent => ({
  name,
  ph: 'X',
  pid,
  tid,
  ts,
});
const times = (n: number, make: (i: number) => TraceEvent) => Array.from({ length: n }, (_, i) => make(i));

describe('summariseTrace', () => {
  const threads = [
    proc(PAGE, 'Renderer'),
    proc(OTHER, 'Renderer'),
    proc(30, 'Browser'),
    meta(PAGE, 1, 'CrRendererMain'),
    meta(PAGE, 2, 'DedicatedWorker thread'),
    meta(PAGE, 3, 'Realtime AudioWorklet thread'),
    meta(PAGE, 4, 'Compositor'),
    meta(OTHER, 1, 'CrRendererMain'),
    meta(30, 1, 'CrBrowserMain'),
  ];
  // Two seconds of trace: from ts 0 to 2 000 000 µs.
  const span = [x(PAGE, 4, 'RunTask', 0), x(PAGE, 4, 'RunTask', 2_000_000)];

  it('counts per second, on the renderer whose main thread is busiest, each kind on its thread', () => {
    const work = summariseTrace([
      ...threads,
      ...span,
      ...times(9, (i) => x(PAGE, 1, 'ProxyMain::BeginMainFrame', 1000 * i)),
      ...times(5, (i) => x(PAGE, 1, 'Layout', 1000 * i)),
      ...times(30, (i) => x(PAGE, 1, 'OffscreenCanvasRenderingContext2D::FinalizeFrame', 1000 * i)),
      ...times(31, (i) => x(PAGE, 1, 'TimerFire', 1000 * i)),
      ...times(20, (i) => x(PAGE, 1, 'MessagePort::Accept', 1000 * i)),
      ...times(90, (i) => x(PAGE, 2, 'MessagePort::Accept', 1000 * i)),
      ...times(4, (i) => x(PAGE, 3, 'MessagePort::Accept', 1000 * i)),
      ...times(178, (i) => x(PAGE, 3, 'AudioDestination::RequestRender', 1000 * i)),
      // Not the page's main thread: a compositor's timer, another renderer's frames (outside the
      // page's span, which they do not widen), the browser's.
      x(OTHER, 1, 'RunTask', 9_000_000),
      x(30, 1, 'RunTask', -1_000_000),
      x(PAGE, 4, 'TimerFire', 5),
      ...times(3, (i) => x(OTHER, 1, 'ProxyMain::BeginMainFrame', 1000 * i)),
      // Begin/end pairs and metadata are not complete events.
      { name: 'Layout', ph: 'B', pid: PAGE, tid: 1, ts: 10 },
    ]);
    expect(work).toEqual({
      seconds: 2,
      renderingUpdates: 4.5,
      layouts: 2.5,
      canvasFrames: 15,
      mainTimers: 15.5,
      portMessages: { main: 10, worker: 45, worklet: 2 },
      audioCallbacks: 89,
    });
  });

  it('gives zeros, not NaN, for an empty trace', () => {
    const work = summariseTrace(threads);
    expect(work.seconds).toBe(0);
    expect(work.canvasFrames).toBe(0);
    expect(work.portMessages).toEqual({ main: 0, worker: 0, worklet: 0 });
  });
});
