/**
 * Keyboard navigation over the model (pure): the next item in a lane, the nearest item in the
 * lane above or below, the previous/next turn. Called on key presses, not per frame.
 */
import type { HitTarget } from './timeline-geometry';
import {
  LANE_IDS,
  type LaneId,
  type TimelineItem,
  type TimelineModel,
  type TurnTrack,
} from './timeline-model';

/** Rows the keyboard moves through: the lanes, then the latency row. */
export type NavRow = LaneId | 'latency';
export const NAV_ROWS: readonly NavRow[] = [...LANE_IDS, 'latency'];

export function rowOf(target: HitTarget): NavRow {
  return target.kind === 'item' ? target.item.lane : 'latency';
}

export function timeOf(target: HitTarget, model: TimelineModel): number {
  if (target.kind === 'item') return target.item.start;
  const latency = model.latency(target.turn);
  return latency.speechEnd ?? latency.committedAt ?? target.turn.start;
}

function nearest<T>(list: readonly T[], t: number, timeOfEntry: (entry: T) => number): T | null {
  let best: T | null = null;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const entry of list) {
    const d = Math.abs(timeOfEntry(entry) - t);
    if (d < bestDistance) {
      best = entry;
      bestDistance = d;
    }
  }
  return best;
}

function turnsWithLatency(model: TimelineModel): TurnTrack[] {
  return model.turns.filter((turn) => turn.index >= 0 || model.latency(turn).speechEnd !== null);
}

/** The target nearest to time `t` in a row, or null when the row is empty. */
export function nearestInRow(model: TimelineModel, row: NavRow, t: number): HitTarget | null {
  if (row === 'latency') {
    const turn = nearest(turnsWithLatency(model), t, (turn) => timeOf({ kind: 'latency', turn }, model));
    return turn ? { kind: 'latency', turn } : null;
  }
  const item = nearest(model.itemsInLane(row), t, (item: TimelineItem) => item.start);
  return item ? { kind: 'item', item } : null;
}

/** The previous (-1) or next (+1) target in the same row; the same target at either end. */
export function stepInRow(model: TimelineModel, current: HitTarget, direction: -1 | 1): HitTarget {
  if (current.kind === 'latency') {
    const turns = turnsWithLatency(model);
    const index = turns.findIndex((turn) => turn.key === current.turn.key);
    const next = turns[index + direction];
    return next && index >= 0 ? { kind: 'latency', turn: next } : current;
  }
  const items = model.itemsInLane(current.item.lane);
  const index = items.findIndex((item) => item.id === current.item.id);
  const next = items[index + direction];
  return next && index >= 0 ? { kind: 'item', item: next } : current;
}

/** The nearest target (in time) in the next non-empty row above (-1) or below (+1). */
export function stepRow(model: TimelineModel, current: HitTarget, direction: -1 | 1): HitTarget {
  const t = timeOf(current, model);
  let index = NAV_ROWS.indexOf(rowOf(current));
  for (;;) {
    index += direction;
    const row = NAV_ROWS[index];
    if (!row) return current;
    const found = nearestInRow(model, row, t);
    if (found) return found;
  }
}

/** The previous (-1) or next (+1) turn's latency target from a target (or from the end). */
export function stepTurn(
  model: TimelineModel,
  current: HitTarget | null,
  direction: -1 | 1,
): HitTarget | null {
  const turns = model.turns;
  if (!turns.length) return null;
  if (!current) return { kind: 'latency', turn: direction < 0 ? turns[turns.length - 1]! : turns[0]! };
  const key = current.kind === 'latency' ? current.turn.key : current.item.turn;
  const index = turns.findIndex((turn) => turn.key === key);
  const next = index < 0 ? turns[turns.length - 1] : turns[index + direction];
  return next ? { kind: 'latency', turn: next } : current;
}

/** Where keyboard navigation starts: the latest item near `t` in the first non-empty row. */
export function initialTarget(model: TimelineModel, t: number): HitTarget | null {
  for (const row of NAV_ROWS) {
    const found = nearestInRow(model, row, t);
    if (found) return found;
  }
  return null;
}

/** The time range to reveal for a target. */
export function extentOf(target: HitTarget, model: TimelineModel): [number, number] {
  if (target.kind === 'item') {
    const end = target.item.end ?? model.liveTime();
    return [target.item.start, Math.max(target.item.start, end)];
  }
  const turn = target.turn;
  const end = turn.open > 0 ? Math.max(turn.end, model.liveTime()) : turn.end;
  return [turn.start, end];
}
