/**
 * The VAD trace's batching on its way to the window (src/main/app/timeline-batcher.ts), on a
 * virtual clock.
 */
import { describe, expect, it } from 'vitest';
import {
  TIMELINE_BATCH_MAX_DELAY_MS,
  createTimelineBatcher,
  subscribeBatched,
  type EventSink,
} from '../../src/main/app/timeline-batcher';
import type { ContractHandler } from '../../src/main/app/types';
import { VirtualClock } from '../../src/main/engine/clock';
import type { EventName, Events } from '../../src/shared/contract';
import type { TimelineEvent } from '../../src/shared/timeline';

const vad = (t: number): TimelineEvent => ({
  type: 'vad_probability',
  t,
  turn: 0,
  probability: t / 1000,
  speaking: false,
});
const started: TimelineEvent = { type: 'user_speech_started', t: 100, turn: 0, at: 80 };

type Sent = { name: EventName; payload: unknown };

function recording(clock = new VirtualClock()) {
  const sent: Sent[] = [];
  const send: EventSink = (name, payload) => sent.push({ name, payload });
  return { sent, clock, batcher: createTimelineBatcher(send, { clock }) };
}

describe('timeline batcher', () => {
  it('sends anything but a VAD frame at once, as it came', () => {
    const { sent, batcher } = recording();
    batcher.push('timeline', started);
    batcher.push('notice', { level: 'info', message: 'hello' });
    expect(sent).toEqual([
      { name: 'timeline', payload: started },
      { name: 'notice', payload: { level: 'info', message: 'hello' } },
    ]);
  });

  it('holds VAD frames and sends them as one batch before the next other event', () => {
    const { sent, batcher } = recording();
    batcher.push('timeline', vad(32));
    batcher.push('timeline', vad(64));
    expect(sent).toEqual([]);
    batcher.push('timeline', started);
    batcher.push('timeline', vad(128));
    batcher.push('state', { status: 'listening' } as Events['state']);
    expect(sent).toEqual([
      { name: 'timeline:batch', payload: [vad(32), vad(64)] },
      { name: 'timeline', payload: started },
      { name: 'timeline:batch', payload: [vad(128)] },
      { name: 'state', payload: { status: 'listening' } },
    ]);
  });

  it('sends the batch at the latest the time limit after its first frame', async () => {
    const { sent, clock, batcher } = recording();
    batcher.push('timeline', vad(32));
    await clock.advanceBy(60);
    batcher.push('timeline', vad(64));
    await clock.advanceBy(TIMELINE_BATCH_MAX_DELAY_MS - 61);
    expect(sent).toEqual([]);
    await clock.advanceBy(1);
    expect(sent).toEqual([{ name: 'timeline:batch', payload: [vad(32), vad(64)] }]);
    // The next frame starts a new deadline.
    batcher.push('timeline', vad(160));
    await clock.advanceBy(TIMELINE_BATCH_MAX_DELAY_MS - 1);
    expect(sent).toHaveLength(1);
    await clock.advanceBy(1);
    expect(sent.at(-1)).toEqual({ name: 'timeline:batch', payload: [vad(160)] });
    expect(clock.pendingTimers).toBe(0);
  });

  it('cancels the deadline when another event sends the batch first', async () => {
    const { sent, clock, batcher } = recording();
    batcher.push('timeline', vad(32));
    batcher.push('timeline', started);
    expect(clock.pendingTimers).toBe(0);
    await clock.advanceBy(TIMELINE_BATCH_MAX_DELAY_MS * 2);
    expect(sent.map((s) => s.name)).toEqual(['timeline:batch', 'timeline']);
  });

  it('sends what is held on dispose, and holds nothing after', async () => {
    const { sent, clock, batcher } = recording();
    batcher.push('timeline', vad(32));
    batcher.dispose();
    expect(sent).toEqual([{ name: 'timeline:batch', payload: [vad(32)] }]);
    expect(clock.pendingTimers).toBe(0);
    batcher.push('timeline', vad(64));
    expect(sent.at(-1)).toEqual({ name: 'timeline', payload: vad(64) });
    expect(clock.pendingTimers).toBe(0);
  });

  it('subscribeBatched batches a handler’s events and sends what is held on unsubscribe', () => {
    type Listener = <E extends EventName>(name: E, payload: Events[E]) => void;
    const listeners = new Set<Listener>();
    const handler: Pick<ContractHandler, 'subscribe'> = {
      subscribe: (listener) => {
        listeners.add(listener);
        return () => listeners.delete(listener);
      },
    };
    const sent: Sent[] = [];
    const unsubscribe = subscribeBatched(handler, (name, payload) => sent.push({ name, payload }), {
      clock: new VirtualClock(),
    });
    for (const listener of listeners) listener('timeline', vad(32));
    expect(sent).toEqual([]);
    unsubscribe();
    expect(listeners.size).toBe(0);
    expect(sent).toEqual([{ name: 'timeline:batch', payload: [vad(32)] }]);
  });
});
