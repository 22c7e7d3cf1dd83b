/**
 * How often the page does each kind of work, counted in a Chromium trace (not reported by the
 * page itself): rendering updates and their layouts, canvas frames, timers, messages arriving on
 * each thread's ports, and the audio thread's render callbacks. Counts are steadier than CPU
 * shares on a shared machine, so a change that saves work shows even where CPU noise hides it.
 *
 *   const events = await tracePage(browser, page, 5_000);
 *   const work = summariseTrace(events);  // per second
 */
import type { Browser, Page } from 'playwright-core';

/** Trace categories the counted events are in. */
export const WORK_CATEGORIES = ['cc', 'blink', 'devtools.timeline', 'webaudio'];

export interface TraceEvent {
  name: string;
  ph: string;
  pid: number;
  tid: number;
  ts?: number;
  args?: { name?: string };
}

/** Per second over the traced span, in the renderer process with the busiest main thread. */
export interface PageWork {
  seconds: number;
  /** The page's rendering updates (style, layout, paint, commit): main frames. */
  renderingUpdates: number;
  layouts: number;
  /** OffscreenCanvas frames handed to the compositor (the timeline and the meter). */
  canvasFrames: number;
  /** Timers fired on the page's main thread. */
  mainTimers: number;
  /** Messages delivered to MessagePorts, by thread: the page, its workers, its audio worklet. */
  portMessages: { main: number; worker: number; worklet: number };
  /** Render requests from the audio device to the AudioContext (each renders one or more quanta). */
  audioCallbacks: number;
}

/** Traces the page's browser for `ms` and returns the events. */
export async function tracePage(browser: Browser, page: Page, ms: number): Promise<TraceEvent[]> {
  await browser.startTracing(page, { categories: WORK_CATEGORIES });
  await new Promise((resolve) => setTimeout(resolve, ms));
  const buffer = await browser.stopTracing();
  const parsed = JSON.parse(buffer.toString('utf8')) as { traceEvents?: TraceEvent[] } | TraceEvent[];
  return Array.isArray(parsed) ? parsed : (parsed.traceEvents ?? []);
}

type ThreadKind = 'main' | 'worker' | 'worklet' | 'other';

function threadKind(name: string): ThreadKind {
  if (name === 'CrRendererMain') return 'main';
  if (name.startsWith('DedicatedWorker')) return 'worker';
  if (name.includes('AudioWorklet')) return 'worklet';
  return 'other';
}

/** Counts per second of what PageWork names, from a trace's events (complete events only). */
export function summariseTrace(events: readonly TraceEvent[]): PageWork {
  const threads = new Map<string, ThreadKind>();
  const rendererPids = new Set<number>();
  for (const event of events) {
    if (event.ph === 'M' && event.name === 'thread_name')
      threads.set(`${event.pid}:${event.tid}`, threadKind(event.args?.name ?? ''));
    else if (event.ph === 'M' && event.name === 'process_name' && event.args?.name === 'Renderer')
      rendererPids.add(event.pid);
  }
  // The page's renderer: the one whose main thread did the most (others are idle or absent).
  const mainEvents = new Map<number, number>();
  for (const event of events)
    if (event.ph === 'X' && threads.get(`${event.pid}:${event.tid}`) === 'main')
      mainEvents.set(event.pid, (mainEvents.get(event.pid) ?? 0) + 1);
  const pagePid = [...mainEvents]
    .filter(([pid]) => rendererPids.size === 0 || rendererPids.has(pid))
    .sort((a, b) => b[1] - a[1])[0]?.[0];
  // The span of the page's own events: the browser's start and stop of tracing lie outside it.
  let first = Number.POSITIVE_INFINITY;
  let last = Number.NEGATIVE_INFINITY;
  for (const event of events)
    if (event.ph === 'X' && event.pid === pagePid && event.ts !== undefined) {
      first = Math.min(first, event.ts);
      last = Math.max(last, event.ts);
    }
  const seconds = last > first ? (last - first) / 1e6 : 0;
  const counts = {
    renderingUpdates: 0,
    layouts: 0,
    canvasFrames: 0,
    mainTimers: 0,
    audioCallbacks: 0,
    portMessages: { main: 0, worker: 0, worklet: 0 },
  };
  for (const event of events) {
    if (event.ph !== 'X' || event.pid !== pagePid) continue;
    const kind = threads.get(`${event.pid}:${event.tid}`) ?? 'other';
    switch (event.name) {
      case 'ProxyMain::BeginMainFrame':
        if (kind === 'main') counts.renderingUpdates++;
        break;
      case 'Layout':
        if (kind === 'main') counts.layouts++;
        break;
      case 'OffscreenCanvasRenderingContext2D::FinalizeFrame':
        counts.canvasFrames++;
        break;
      case 'TimerFire':
        if (kind === 'main') counts.mainTimers++;
        break;
      case 'AudioDestination::RequestRender':
        counts.audioCallbacks++;
        break;
      case 'MessagePort::Accept':
        if (kind !== 'other') counts.portMessages[kind]++;
        break;
    }
  }
  const rate = (n: number) => (seconds > 0 ? n / seconds : 0);
  return {
    seconds,
    renderingUpdates: rate(counts.renderingUpdates),
    layouts: rate(counts.layouts),
    canvasFrames: rate(counts.canvasFrames),
    mainTimers: rate(counts.mainTimers),
    portMessages: {
      main: rate(counts.portMessages.main),
      worker: rate(counts.portMessages.worker),
      worklet: rate(counts.portMessages.worklet),
    },
    audioCallbacks: rate(counts.audioCallbacks),
  };
}
