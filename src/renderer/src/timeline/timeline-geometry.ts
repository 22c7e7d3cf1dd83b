/**
 * Pure geometry of the timeline (no DOM): the time ↔ x mapping, the lane layout, item boxes,
 * hit testing, axis ticks and zoom limits. The canvas renderer draws with exactly these, and the
 * tests check them without a canvas.
 */
import {
  LANE_IDS,
  isSpan,
  type LaneId,
  type TimelineItem,
  type TimelineModel,
  type TurnTrack,
} from './timeline-model';

/** The visible time window: `startT` is at x = `x0`, `msPerPx` ms per CSS pixel, `width` px wide. */
export interface TimeView {
  startT: number;
  msPerPx: number;
  /** Left edge of the plot (after the lane labels), CSS px. */
  x0: number;
  /** Plot width, CSS px. */
  width: number;
}

export const MIN_MS_PER_PX = 0.5;
export const MAX_MS_PER_PX = 4000;

export function timeToX(view: TimeView, t: number): number {
  return view.x0 + (t - view.startT) / view.msPerPx;
}

export function xToTime(view: TimeView, x: number): number {
  return view.startT + (x - view.x0) * view.msPerPx;
}

export function viewEnd(view: TimeView): number {
  return view.startT + view.width * view.msPerPx;
}

export function clampMsPerPx(msPerPx: number): number {
  if (!Number.isFinite(msPerPx)) return MIN_MS_PER_PX;
  return Math.min(MAX_MS_PER_PX, Math.max(MIN_MS_PER_PX, msPerPx));
}

/** Zooms by `factor` (>1: zoom out) keeping time `anchorT` under the same x. */
export function zoomView(view: TimeView, factor: number, anchorT: number): TimeView {
  const msPerPx = clampMsPerPx(view.msPerPx * factor);
  const anchorX = timeToX(view, anchorT);
  return { ...view, msPerPx, startT: anchorT - (anchorX - view.x0) * msPerPx };
}

/** A view whose right edge sits `rightMarginPx` to the right of `liveT` (following live). */
export function followView(view: TimeView, liveT: number, rightMarginPx = 24): TimeView {
  return { ...view, startT: liveT - (view.width - rightMarginPx) * view.msPerPx };
}

/**
 * Following live without scrolling every frame: the view stays put while the live edge moves
 * across it, and jumps (by whole pixels) when the edge reaches `rightMarginPx` from the right,
 * so the edge lands at `restartAt` of the width. Between jumps only the pixels at the live edge
 * change.
 */
export function sweepView(view: TimeView, liveT: number, rightMarginPx = 24, restartAt = 0.6): TimeView {
  const x = (liveT - view.startT) / view.msPerPx;
  if (x >= 0 && x <= view.width - rightMarginPx) return view;
  const startT = liveT - restartAt * view.width * view.msPerPx;
  return { ...view, startT: Math.floor(startT / view.msPerPx) * view.msPerPx };
}

// ---------------------------------------------------------------- lanes

export interface LaneBox {
  id: LaneId;
  top: number;
  height: number;
}

export interface TimelineLayout {
  /** Height of the time axis at the top. */
  axisHeight: number;
  lanes: LaneBox[];
  /** The latency row under the lanes (e2e brackets per turn). */
  latency: { top: number; height: number };
  totalHeight: number;
}

export const LANE_HEIGHTS: Record<LaneId, number> = {
  speech: 30,
  transcript: 22,
  turn: 20,
  endpointing: 20,
  preemptive: 22,
  llm: 22,
  tts: 22,
  agent: 22,
  interruption: 20,
  error: 18,
};

export function layoutLanes(
  lanes: readonly LaneId[] = LANE_IDS,
  options: { axisHeight?: number; latencyHeight?: number; scale?: number } = {},
): TimelineLayout {
  const scale = options.scale ?? 1;
  const axisHeight = options.axisHeight ?? 24;
  let top = axisHeight;
  const boxes: LaneBox[] = [];
  for (const id of lanes) {
    const height = Math.round(LANE_HEIGHTS[id] * scale);
    boxes.push({ id, top, height });
    top += height;
  }
  const latencyHeight = options.latencyHeight ?? Math.round(24 * scale);
  const latency = { top, height: latencyHeight };
  return { axisHeight, lanes: boxes, latency, totalHeight: top + latencyHeight };
}

export function laneAt(layout: TimelineLayout, y: number): LaneBox | null {
  for (const lane of layout.lanes) if (y >= lane.top && y < lane.top + lane.height) return lane;
  return null;
}

export function laneBox(layout: TimelineLayout, id: LaneId): LaneBox | undefined {
  return layout.lanes.find((lane) => lane.id === id);
}

// ---------------------------------------------------------------- items

export interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** Pixels either side of a mark that still hit it. */
export const MARK_HALF_WIDTH = 4;

/** Where an item is drawn (CSS px). Open spans reach `liveT`. Marks are MARK_HALF_WIDTH either side. */
export function itemBox(item: TimelineItem, lane: LaneBox, view: TimeView, liveT: number): Box {
  const pad = 3;
  if (!isSpan(item)) {
    const x = timeToX(view, item.start);
    return { x: x - MARK_HALF_WIDTH, y: lane.top + pad, w: MARK_HALF_WIDTH * 2, h: lane.height - pad * 2 };
  }
  const end = item.end ?? Math.max(item.start, liveT);
  const x0 = timeToX(view, item.start);
  const x1 = timeToX(view, end);
  const w = Math.max(2, x1 - x0);
  if (item.row === 1) {
    const half = Math.floor(lane.height / 2);
    return { x: x0, y: lane.top + half, w, h: lane.height - half - 2 };
  }
  return { x: x0, y: lane.top + pad, w, h: lane.height - pad * 2 };
}

export type HitTarget = { kind: 'item'; item: TimelineItem } | { kind: 'latency'; turn: TurnTrack };

export interface Hit {
  target: HitTarget;
  /** Distance in px from the pointer to the target (0 inside). */
  distance: number;
  /** Time under the pointer. */
  t: number;
}

/**
 * The item under the pointer at (x, y), CSS px, among `items` (e.g. those in the view): the one
 * whose box contains the point, marks before spans (they sit on top), else the nearest within
 * `tolerance` px horizontally in the same lane. Null when nothing is near.
 */
export function hitTestItems(
  items: Iterable<TimelineItem>,
  layout: TimelineLayout,
  view: TimeView,
  x: number,
  y: number,
  liveT: number,
  tolerance = 3,
): Hit | null {
  if (x < view.x0) return null;
  const lane = laneAt(layout, y);
  if (!lane) return null;
  let best: { item: TimelineItem; distance: number; rank: number } | null = null;
  for (const item of items) {
    if (item.lane !== lane.id) continue;
    const box = itemBox(item, lane, view, liveT);
    const dx = x < box.x ? box.x - x : x > box.x + box.w ? x - (box.x + box.w) : 0;
    if (dx > tolerance) continue;
    // A span in the lower half only hits from the lower half; row-0 spans hit the whole lane.
    if (isSpan(item) && item.row === 1 && (y < box.y || y > box.y + box.h)) continue;
    // Rank: marks over spans, row-1 spans over row-0 spans, then the nearest, then the latest.
    const rank = (isSpan(item) ? (item.row === 1 ? 1 : 2) : 0) * 1000 + dx;
    if (
      !best ||
      rank < best.rank ||
      (rank === best.rank && Math.abs(x - centre(box)) < Math.abs(x - centreOf(best.item, lane, view, liveT)))
    ) {
      best = { item, distance: dx, rank };
    }
  }
  return best
    ? { target: { kind: 'item', item: best.item }, distance: best.distance, t: xToTime(view, x) }
    : null;
}

function centre(box: Box): number {
  return box.x + box.w / 2;
}

function centreOf(item: TimelineItem, lane: LaneBox, view: TimeView, liveT: number): number {
  return centre(itemBox(item, lane, view, liveT));
}

/** The span of a turn's e2e bracket in the latency row: end of speech → first audio (or the live edge). */
export function latencyExtent(
  latency: { speechEnd: number | null; firstAudioAt: number | null; committedAt: number | null },
  liveT: number,
): { start: number; end: number; open: boolean } | null {
  if (latency.speechEnd === null) return null;
  if (latency.firstAudioAt !== null)
    return { start: latency.speechEnd, end: latency.firstAudioAt, open: false };
  if (latency.committedAt === null) return null;
  return { start: latency.speechEnd, end: Math.max(latency.speechEnd, liveT), open: true };
}

/** Hit test over everything in the view: lane items, and the turns' e2e brackets in the latency row. */
export function hitTest(
  model: TimelineModel,
  layout: TimelineLayout,
  view: TimeView,
  x: number,
  y: number,
  liveT: number,
): Hit | null {
  const from = xToTime(view, x - 8);
  const to = xToTime(view, x + 8);
  if (y >= layout.latency.top && y < layout.latency.top + layout.latency.height) {
    const t = xToTime(view, x);
    for (const turn of model.turnsInRange(from, to, liveT)) {
      const extent = latencyExtent(model.latency(turn), liveT);
      if (!extent) continue;
      const x0 = timeToX(view, extent.start);
      const x1 = timeToX(view, extent.end);
      if (x >= x0 - 3 && x <= x1 + 3) return { target: { kind: 'latency', turn }, distance: 0, t };
    }
    return null;
  }
  const candidates: TimelineItem[] = [];
  model.forEachItemInRange(from, to, (item) => candidates.push(item), liveT);
  return hitTestItems(candidates, layout, view, x, y, liveT);
}

// ---------------------------------------------------------------- axis

const STEPS = [
  1, 2, 5, 10, 20, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10_000, 15_000, 30_000, 60_000, 120_000, 300_000,
  600_000, 900_000, 1_800_000, 3_600_000,
];

/** Tick step (ms) giving at least `minPx` between labelled ticks, and the ticks in the view. */
export function axisTicks(view: TimeView, minPx = 84): { step: number; ticks: number[] } {
  const minMs = minPx * view.msPerPx;
  const step = STEPS.find((s) => s >= minMs) ?? STEPS[STEPS.length - 1]!;
  const first = Math.ceil(view.startT / step) * step;
  const end = viewEnd(view);
  const ticks: number[] = [];
  for (let t = first; t <= end && ticks.length < 200; t += step) ticks.push(t);
  return { step, ticks };
}
