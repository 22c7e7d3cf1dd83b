/**
 * The frame grid of what moves in the window while Cue listens (the timeline's live edge, the
 * microphone meter). Each waits for the next slot of one shared grid before asking for an
 * animation frame, so their changes land in the same frame instead of one frame each: every
 * frame costs the page and the compositor a full pass, all day. What waits for the same slot
 * waits on one timer (`atLiveSlot`): one task on the page's thread per slot, not one each.
 */

/** Live frames a second, at most. */
export const LIVE_FPS = 15;
export const LIVE_FRAME_MS = 1000 / LIVE_FPS;

/** The start of the first slot after the one `time` (performance.now() ms) is in. */
export function nextLiveSlot(time: number): number {
  // A slot's own start, computed as k × LIVE_FRAME_MS, may divide back to a hair under k.
  return (Math.floor(time / LIVE_FRAME_MS + 1e-9) + 1) * LIVE_FRAME_MS;
}

interface SlotWaiters {
  timer: ReturnType<typeof setTimeout>;
  runs: Set<() => void>;
}

const slots = new Map<number, SlotWaiters>();

/**
 * Runs `run` when the slot starting at `slot` (a `nextLiveSlot` time) comes, on the one timer of
 * everything waiting for that slot. Returns a function that takes the wait back.
 */
export function atLiveSlot(slot: number, run: () => void): () => void {
  let waiters = slots.get(slot);
  if (!waiters) {
    const created: SlotWaiters = {
      runs: new Set(),
      timer: setTimeout(
        () => {
          slots.delete(slot);
          for (const waiting of created.runs) waiting();
        },
        Math.max(0, slot - performance.now()),
      ),
    };
    slots.set(slot, created);
    waiters = created;
  }
  const entry = () => run();
  const waiting = waiters;
  waiting.runs.add(entry);
  return () => {
    if (!waiting.runs.delete(entry) || waiting.runs.size > 0 || slots.get(slot) !== waiting) return;
    clearTimeout(waiting.timer);
    slots.delete(slot);
  };
}

/**
 * Runs `write` with the latest value given to the returned function, in the next slot: at most
 * once a slot, the values between dropped; on the animation frame of that slot, or from the
 * slot's timer itself when `direct` (what it draws reaches the screen without the page's
 * rendering update: canvas-surface.ts). `cancel` drops a pending one.
 */
export function pacedWriter<T>(
  write: (value: T) => void,
  options: { direct?: boolean } = {},
): { push(value: T): void; cancel(): void } {
  let latest: T;
  let cancelSlot: (() => void) | undefined;
  let frame = 0;
  /** The slot of the last write: a timer that fired a little early must not earn a second one. */
  let lastSlot = Number.NEGATIVE_INFINITY;
  return {
    push(value) {
      latest = value;
      if (cancelSlot !== undefined || frame) return;
      const slot = nextLiveSlot(Math.max(performance.now(), lastSlot));
      cancelSlot = atLiveSlot(slot, () => {
        cancelSlot = undefined;
        lastSlot = slot;
        if (options.direct) {
          write(latest);
          return;
        }
        frame = requestAnimationFrame(() => {
          frame = 0;
          write(latest);
        });
      });
    },
    cancel() {
      cancelSlot?.();
      if (frame) cancelAnimationFrame(frame);
      cancelSlot = undefined;
      frame = 0;
    },
  };
}
