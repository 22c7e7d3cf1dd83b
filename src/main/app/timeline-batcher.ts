/**
 * Carries the VAD trace to the window in batches. The engine emits a `vad_probability` timeline
 * event per Silero frame (32 ms, about 31 a second); sent one by one, each is a message and a
 * task on the page's main thread. Both carriers (ipc-carrier.ts, bridge/ws-bridge.ts) put this
 * between the handler's events and the window:
 *
 * - a `vad_probability` event is held; the held ones go out together as one `timeline:batch`
 *   event (a batch of one included) at the latest `maxDelayMs` after the first was held;
 * - any other event first sends the held batch, then goes out at once as it came, so the window
 *   sees every event in main's order and transcripts or decisions are never delayed;
 * - disposing sends what is held.
 */
import type { EventName, Events } from '../../shared/contract';
import type { TimelineEvent } from '../../shared/timeline';
import { RealClock, type Clock, type TimerHandle } from '../engine/clock';
import type { ContractHandler } from './types';

/** The longest a VAD frame's event waits in main before it goes to the window. */
export const TIMELINE_BATCH_MAX_DELAY_MS = 100;

/** Where a carrier sends an event to the window. */
export type EventSink = <E extends EventName>(name: E, payload: Events[E]) => void;

export interface TimelineBatchOptions {
  /** The flush deadline's timers (tests give a VirtualClock). */
  clock?: Pick<Clock, 'setTimeout' | 'clearTimeout'>;
  maxDelayMs?: number;
}

export interface TimelineBatcher {
  /** Takes an event on its way to the window. */
  readonly push: EventSink;
  /** Sends what is held; later events pass straight through. */
  dispose(): void;
}

export function createTimelineBatcher(send: EventSink, options: TimelineBatchOptions = {}): TimelineBatcher {
  const clock = options.clock ?? new RealClock();
  const maxDelayMs = options.maxDelayMs ?? TIMELINE_BATCH_MAX_DELAY_MS;
  let held: TimelineEvent[] = [];
  let deadline: TimerHandle | undefined;
  let disposed = false;

  const flush = (): void => {
    clock.clearTimeout(deadline);
    deadline = undefined;
    if (held.length === 0) return;
    const batch = held;
    held = [];
    send('timeline:batch', batch);
  };

  const push: EventSink = (name, payload) => {
    if (!disposed && name === 'timeline' && (payload as TimelineEvent).type === 'vad_probability') {
      held.push(payload as TimelineEvent);
      deadline ??= clock.setTimeout(flush, maxDelayMs);
      return;
    }
    flush();
    send(name, payload);
  };

  return {
    push,
    dispose: () => {
      disposed = true;
      flush();
    },
  };
}

/**
 * `handler.subscribe(send)` with the VAD trace batched. The returned unsubscribe sends what is
 * held before it returns.
 */
export function subscribeBatched(
  handler: Pick<ContractHandler, 'subscribe'>,
  send: EventSink,
  options?: TimelineBatchOptions,
): () => void {
  const batcher = createTimelineBatcher(send, options);
  const unsubscribe = handler.subscribe(batcher.push);
  return () => {
    unsubscribe();
    batcher.dispose();
  };
}
