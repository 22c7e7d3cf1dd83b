import type { TimelineEvent } from '../../shared/timeline';
import type { Clock } from './clock';

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
export type TimelineEventInput = DistributiveOmit<TimelineEvent, 't' | 'turn'> & { turn?: number };

export type TimelineListener = (event: TimelineEvent) => void;

/** Stamps engine events with the clock time and current turn, and fans them out to listeners. */
export class TimelineBus {
  private readonly listeners = new Set<TimelineListener>();
  currentTurn = -1;

  constructor(private readonly clock: Clock) {}

  subscribe(listener: TimelineListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(event: TimelineEventInput): void {
    const stamped = { turn: this.currentTurn, ...event, t: this.clock.now() } as TimelineEvent;
    for (const listener of this.listeners) listener(stamped);
  }
}
