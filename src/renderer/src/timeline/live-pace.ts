/**
 * The frame grid of what moves in the window while Cue listens (the timeline's live edge, the
 * microphone meter). Each waits for the next slot of one shared grid before asking for an
 * animation frame, so their changes land in the same frame instead of one frame each: every
 * frame costs the page and the compositor a full pass, all day.
 */

/** Live frames a second, at most. */
export const LIVE_FPS = 15;
export const LIVE_FRAME_MS = 1000 / LIVE_FPS;

/** The start of the first slot after the one `time` (performance.now() ms) is in. */
export function nextLiveSlot(time: number): number {
  // A slot's own start, computed as k × LIVE_FRAME_MS, may divide back to a hair under k.
  return (Math.floor(time / LIVE_FRAME_MS + 1e-9) + 1) * LIVE_FRAME_MS;
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
  let timer: ReturnType<typeof setTimeout> | undefined;
  let frame = 0;
  /** The slot of the last write: a timer that fired a little early must not earn a second one. */
  let lastSlot = Number.NEGATIVE_INFINITY;
  return {
    push(value) {
      latest = value;
      if (timer !== undefined || frame) return;
      const now = performance.now();
      const slot = nextLiveSlot(Math.max(now, lastSlot));
      timer = setTimeout(() => {
        timer = undefined;
        lastSlot = slot;
        if (options.direct) {
          write(latest);
          return;
        }
        frame = requestAnimationFrame(() => {
          frame = 0;
          write(latest);
        });
      }, slot - now);
    },
    cancel() {
      if (timer !== undefined) clearTimeout(timer);
      if (frame) cancelAnimationFrame(frame);
      timer = undefined;
      frame = 0;
    },
  };
}
