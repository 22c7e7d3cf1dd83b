import { describe, expect, it } from 'vitest';
import {
  MARK_HALF_WIDTH,
  MAX_MS_PER_PX,
  MIN_MS_PER_PX,
  axisTicks,
  clampMsPerPx,
  followView,
  sweepView,
  hitTest,
  hitTestItems,
  itemBox,
  laneAt,
  laneBox,
  latencyExtent,
  layoutLanes,
  timeToX,
  viewEnd,
  xToTime,
  zoomView,
  type TimeView,
} from '../../src/renderer/src/timeline/timeline-geometry';
import {
  describeItem,
  describeLatency,
  formatDuration,
  formatTick,
  formatTime,
} from '../../src/renderer/src/timeline/timeline-format';
import { TimelineModel, type TimelineItem } from '../../src/renderer/src/timeline/timeline-model';
import { initialTarget, stepInRow, stepRow, stepTurn } from '../../src/renderer/src/timeline/timeline-nav';
import type { TimelineEvent } from '../../src/shared/timeline';
import { buildCase, firstOf, runCase } from '../helpers/session-harness';

const view: TimeView = { startT: 10_000, msPerPx: 10, x0: 100, width: 1000 };
const layout = layoutLanes();

describe('time ↔ x', () => {
  it('maps times to x and back', () => {
    expect(timeToX(view, 10_000)).toBe(100);
    expect(timeToX(view, 12_500)).toBe(350);
    expect(xToTime(view, 350)).toBe(12_500);
    expect(viewEnd(view)).toBe(20_000);
    for (const t of [9_000, 10_001.5, 15_432.25, 25_000])
      expect(xToTime(view, timeToX(view, t))).toBeCloseTo(t, 9);
  });

  it('zooms around an anchor that stays under the same x, within limits', () => {
    const zoomed = zoomView(view, 0.5, 15_000);
    expect(zoomed.msPerPx).toBe(5);
    expect(timeToX(zoomed, 15_000)).toBeCloseTo(timeToX(view, 15_000), 9);
    expect(zoomView(view, 1e-9, 15_000).msPerPx).toBe(MIN_MS_PER_PX);
    expect(zoomView(view, 1e9, 15_000).msPerPx).toBe(MAX_MS_PER_PX);
    expect(clampMsPerPx(Number.NaN)).toBe(MIN_MS_PER_PX);
  });

  it('follows live with the live edge just inside the right edge', () => {
    const live = followView(view, 60_000, 24);
    expect(timeToX(live, 60_000)).toBe(view.x0 + view.width - 24);
    expect(live.msPerPx).toBe(view.msPerPx);
  });
});

describe('lane layout', () => {
  it('stacks the lanes under the axis without gaps, then the latency row', () => {
    expect(layout.lanes[0]!.top).toBe(layout.axisHeight);
    for (let i = 1; i < layout.lanes.length; i++) {
      expect(layout.lanes[i]!.top).toBe(layout.lanes[i - 1]!.top + layout.lanes[i - 1]!.height);
    }
    const last = layout.lanes.at(-1)!;
    expect(layout.latency.top).toBe(last.top + last.height);
    expect(layout.totalHeight).toBe(layout.latency.top + layout.latency.height);
    expect(layout.lanes.map((l) => l.id)).toEqual([
      'speech',
      'transcript',
      'turn',
      'endpointing',
      'preemptive',
      'llm',
      'tts',
      'agent',
      'interruption',
      'error',
    ]);
  });

  it('finds the lane under a y', () => {
    const llm = laneBox(layout, 'llm')!;
    expect(laneAt(layout, llm.top)!.id).toBe('llm');
    expect(laneAt(layout, llm.top + llm.height - 0.1)!.id).toBe('llm');
    expect(laneAt(layout, llm.top + llm.height)!.id).toBe('tts');
    expect(laneAt(layout, 2)).toBeNull();
    expect(laneAt(layout, layout.latency.top + 1)).toBeNull();
  });
});

function span(
  id: number,
  lane: TimelineItem['lane'],
  start: number,
  end: number | null,
  row: 0 | 1 = 0,
): TimelineItem {
  return {
    id,
    lane,
    turn: 0,
    start,
    end,
    row,
    kind: 'llm',
    request: id,
    preemptive: false,
    transcript: '',
    firstTokenAt: null,
    ttft: null,
    outcome: end === null ? 'streaming' : 'done',
    reason: null,
    promptTokens: null,
    completionTokens: null,
    text: '',
  } as TimelineItem;
}

function mark(id: number, lane: TimelineItem['lane'], t: number): TimelineItem {
  return {
    id,
    lane,
    turn: 0,
    start: t,
    end: t,
    row: 0,
    kind: 'interruption',
    interruption: 'true',
    reason: 'x',
  };
}

describe('hit testing', () => {
  const llm = laneBox(layout, 'llm')!;
  const midY = llm.top + llm.height / 2;

  it('hits a span inside its box and nothing outside the lane or the plot', () => {
    const items = [span(1, 'llm', 12_000, 13_000)];
    const hit = hitTestItems(items, layout, view, timeToX(view, 12_500), midY, 20_000);
    expect(hit?.target).toEqual({ kind: 'item', item: items[0] });
    expect(hit?.distance).toBe(0);
    expect(hit?.t).toBe(12_500);
    expect(
      hitTestItems(items, layout, view, timeToX(view, 12_500), laneBox(layout, 'tts')!.top + 5, 20_000),
    ).toBeNull();
    expect(hitTestItems(items, layout, view, timeToX(view, 13_500), midY, 20_000)).toBeNull();
    expect(hitTestItems(items, layout, view, 50, midY, 20_000)).toBeNull();
  });

  it('extends an open span to the live edge', () => {
    const items = [span(1, 'llm', 12_000, null)];
    expect(hitTestItems(items, layout, view, timeToX(view, 14_000), midY, 15_000)).not.toBeNull();
    expect(hitTestItems(items, layout, view, timeToX(view, 16_000), midY, 15_000)).toBeNull();
    const box = itemBox(items[0]!, llm, view, 15_000);
    expect(box.x).toBe(timeToX(view, 12_000));
    expect(box.w).toBe(300);
  });

  it('hits a mark within its half width plus tolerance, and prefers it over a span beneath', () => {
    const lane = laneBox(layout, 'interruption')!;
    const y = lane.top + lane.height / 2;
    const m = mark(2, 'interruption', 12_000);
    const x = timeToX(view, 12_000);
    expect(hitTestItems([m], layout, view, x + MARK_HALF_WIDTH + 2, y, 20_000)?.target).toEqual({
      kind: 'item',
      item: m,
    });
    expect(hitTestItems([m], layout, view, x + MARK_HALF_WIDTH + 4, y, 20_000)).toBeNull();
    const under = { ...span(3, 'interruption', 11_000, 13_000) } as TimelineItem;
    expect(hitTestItems([under, m], layout, view, x + 1, y, 20_000)?.target).toEqual({
      kind: 'item',
      item: m,
    });
  });

  it('picks the nearest of two marks', () => {
    const lane = laneBox(layout, 'interruption')!;
    const a = mark(1, 'interruption', 12_000);
    const b = mark(2, 'interruption', 12_060);
    const hit = hitTestItems([a, b], layout, view, timeToX(view, 12_045), lane.top + 8, 20_000);
    expect(hit?.target).toEqual({ kind: 'item', item: b });
  });

  it('draws an overlapping span in the lower half and hits it only there', () => {
    const a = span(1, 'llm', 12_000, 14_000);
    const b = span(2, 'llm', 13_000, 15_000, 1);
    const x = timeToX(view, 13_500);
    const lower = itemBox(b, llm, view, 20_000);
    expect(lower.y).toBeGreaterThan(llm.top + llm.height / 2 - 1);
    expect(hitTestItems([a, b], layout, view, x, lower.y + 2, 20_000)?.target).toEqual({
      kind: 'item',
      item: b,
    });
    expect(hitTestItems([a, b], layout, view, x, llm.top + 4, 20_000)?.target).toEqual({
      kind: 'item',
      item: a,
    });
  });

  it('finds items and latency brackets of a real session through the model', async () => {
    const result = await runCase(
      buildCase([{ at: 0.5, text: "what's the weather like in paris today", reply: "It's sunny in Paris." }]),
    );
    const model = new TimelineModel({ now: () => 0 });
    model.ingestAll(result.events);
    for (const report of result.report.turns) model.ingestReport(report);
    const firstToken = firstOf(result.events, 'llm_first_token');
    const request = firstOf(result.events, 'llm_request');
    const v: TimeView = { startT: 0, msPerPx: 5, x0: 100, width: 1200 };
    const liveT = model.liveTime();
    const x = timeToX(v, (request.t + firstToken.t) / 2);
    const hit = hitTest(model, layout, v, x, llm.top + llm.height / 2, liveT);
    expect(hit?.target.kind).toBe('item');
    expect(hit?.target.kind === 'item' && hit.target.item).toMatchObject({
      kind: 'llm',
      request: request.request,
    });

    const turn = model.turns.find((t) => t.index === 0)!;
    const latency = model.latency(turn);
    const extent = latencyExtent(latency, liveT)!;
    expect(extent).toEqual({ start: latency.speechEnd, end: latency.firstAudioAt, open: false });
    const inLatency = hitTest(
      model,
      layout,
      v,
      timeToX(v, (extent.start + extent.end) / 2),
      layout.latency.top + 10,
      liveT,
    );
    expect(inLatency?.target).toEqual({ kind: 'latency', turn });
    expect(
      hitTest(model, layout, v, timeToX(v, extent.end + 500), layout.latency.top + 10, liveT),
    ).toBeNull();
  });
});

describe('axis', () => {
  it('chooses a tick step at least minPx apart, on multiples of the step', () => {
    for (const msPerPx of [0.5, 3, 10, 75, 900, 4000]) {
      const v = { ...view, msPerPx, startT: 123_457 };
      const { step, ticks } = axisTicks(v, 84);
      expect(step / msPerPx).toBeGreaterThanOrEqual(84);
      expect(ticks.length).toBeGreaterThan(0);
      for (const t of ticks) {
        expect(t % step).toBe(0);
        expect(t).toBeGreaterThanOrEqual(v.startT);
        expect(t).toBeLessThanOrEqual(viewEnd(v));
      }
    }
  });

  it('labels ticks and times', () => {
    expect(formatTick(65_000, 5000)).toBe('1:05');
    expect(formatTick(65_500, 500)).toBe('1:05.5');
    expect(formatTick(999.6, 1)).toBe('0:01.000');
    expect(formatTime(3460)).toBe('3.460 s');
    expect(formatTime(31_939.875)).toBe('31.940 s');
    expect(formatTime(62_003.4)).toBe('1:02.003');
    expect(formatTime(3_723_004)).toBe('1:02:03.004');
    expect(formatTick(3_604_500, 100)).toBe('1:00:04.5');
    expect(formatDuration(330)).toBe('330 ms');
    expect(formatDuration(12_340)).toBe('12.3 s');
  });
});

describe('tooltips and keyboard navigation', () => {
  const ev = (event: Record<string, unknown>) => event as unknown as TimelineEvent;
  const model = new TimelineModel({ now: () => 0 });
  model.ingestAll([
    ev({ type: 'session_started', t: 0, turn: -1 }),
    ev({ type: 'user_speech_started', t: 560, turn: 0, at: 500 }),
    ev({
      type: 'llm_request',
      t: 2230,
      turn: 0,
      request: 1,
      transcript: 'tell me a story',
      preemptive: true,
    }),
    ev({ type: 'user_speech_ended', t: 2440, turn: 0, at: 1880, duration: 1380 }),
    ev({ type: 'llm_first_token', t: 2580, turn: 0, request: 1, ttft: 350 }),
    ev({
      type: 'turn_committed',
      t: 2440,
      turn: 0,
      transcript: 'tell me a story',
      speculation_reused: false,
    }),
    ev({ type: 'user_speech_started', t: 4920, turn: 1, at: 4860 }),
    ev({ type: 'interruption', t: 5380, turn: 1, kind: 'detected', reason: 'user spoke over the agent' }),
    ev({ type: 'interruption', t: 5910, turn: 1, kind: 'true', reason: 'user said "wait"' }),
  ]);

  it('describes items with exact times and durations', () => {
    const speech = model.turns[0]!.items.find((i) => i.kind === 'speech')!;
    const d = describeItem(speech);
    expect(d.title).toBe('User speech (VAD)');
    expect(d.rows).toContainEqual(['speech began', '0.500 s']);
    expect(d.rows).toContainEqual(['VAD decided', '0.560 s (+60 ms)']);
    expect(d.rows).toContainEqual(['end confirmed', '2.440 s (+560 ms)']);
    expect(d.rows).toContainEqual(['duration', '1380 ms']);
    const llm = describeItem(model.turns[0]!.items.find((i) => i.kind === 'llm')!);
    expect(llm.title).toBe('LLM request #1 (speculative)');
    expect(llm.rows).toContainEqual(['first token', '2.580 s (TTFT 350 ms)']);
    expect(llm.rows).toContainEqual(['status', 'streaming…']);
    const latency = describeLatency(model.turns[0]!, model.latency(model.turns[0]!));
    expect(latency.title).toBe('Turn 0 latency (live)');
    expect(latency.rows).toContainEqual(['end-of-turn delay', '560 ms']);
  });

  it('moves along a lane, across lanes and between turns', () => {
    const start = initialTarget(model, 5000)!;
    expect(start.kind === 'item' && start.item.kind).toBe('speech');
    expect(start.kind === 'item' && start.item.start).toBe(4860);
    const back = stepInRow(model, start, -1);
    expect(back.kind === 'item' && back.item.start).toBe(500);
    expect(stepInRow(model, back, -1)).toBe(back);
    const down = stepRow(model, start, 1);
    // The nearest item in time in the next non-empty lane below (skipping empty lanes).
    expect(down.kind === 'item' && down.item.kind).toBe('commit');
    const interruption = stepRow(model, down, 1);
    expect(interruption.kind === 'item' && interruption.item.lane).toBe('llm');
    const turn = stepTurn(model, start, -1);
    expect(turn).toEqual({ kind: 'latency', turn: model.turns[0] });
    expect(stepTurn(model, turn, 1)).toEqual({ kind: 'latency', turn: model.turns[1] });
    expect(stepTurn(model, null, -1)).toEqual({ kind: 'latency', turn: model.turns[1] });
  });
});

describe('wiring', () => {
  it('connectTimeline feeds a model from the contract events (batches too) and unsubscribes', async () => {
    const { connectTimeline } = await import('../../src/renderer/src/timeline/Timeline');
    const listeners = new Map<string, (payload: unknown) => void>();
    const api = {
      on: (name: string, listener: (payload: unknown) => void) => {
        listeners.set(name, listener);
        return () => listeners.delete(name);
      },
    };
    const model = new TimelineModel({ now: () => 0 });
    const off = connectTimeline(api as never, model);
    expect([...listeners.keys()].sort()).toEqual(['timeline', 'timeline:batch', 'turn']);
    listeners.get('timeline')!({ type: 'user_speech_started', t: 100, turn: 0, at: 80 });
    expect(model.turns).toHaveLength(1);
    listeners.get('timeline:batch')!([
      { type: 'user_speech_ended', t: 900, turn: 0, at: 850, duration: 770 },
      { type: 'user_speech_started', t: 2000, turn: 1, at: 1980 },
    ]);
    expect(model.turns).toHaveLength(2);
    off();
    expect(listeners.size).toBe(0);
  });
});

describe('sweepView: following live without scrolling every frame', () => {
  const view = { startT: 0, msPerPx: 20, x0: 116, width: 1000 };

  it('keeps the view while the live edge crosses it', () => {
    expect(sweepView(view, 0, 28)).toBe(view);
    expect(sweepView(view, 15_000, 28)).toBe(view);
    // 972 px: the last position before the right margin.
    expect(sweepView(view, 972 * 20, 28)).toBe(view);
  });

  it('jumps on whole pixels when the edge reaches the right margin, landing it at 60 %', () => {
    const next = sweepView(view, 973 * 20 + 7, 28);
    expect(next.startT).toBe(Math.floor((973 * 20 + 7 - 600 * 20) / 20) * 20);
    expect(Number.isInteger(next.startT / next.msPerPx)).toBe(true);
    const x = (973 * 20 + 7 - next.startT) / next.msPerPx;
    expect(x).toBeGreaterThanOrEqual(600);
    expect(x).toBeLessThan(601);
    // Then still again until the next time the edge reaches the margin.
    expect(sweepView(next, 973 * 20 + 7 + 5000, 28)).toBe(next);
  });

  it('brings back a live edge left of the view (after zooming in)', () => {
    expect(sweepView({ ...view, startT: 10_000 }, 5_000, 28).startT).toBe(5_000 - 12_000);
  });
});
