/**
 * All engine timing goes through a Clock, so tests and replays run on a virtual
 * clock and never sleep. Times are milliseconds.
 */
export interface TimerHandle {
  readonly id: number;
}

export interface Clock {
  now(): number;
  setTimeout(callback: () => void, delayMs: number): TimerHandle;
  clearTimeout(handle: TimerHandle | undefined): void;
}

/** Wall-clock time for live sessions, counted from the clock's creation. */
export class RealClock implements Clock {
  private readonly origin = performance.now();
  private readonly timers = new Map<number, ReturnType<typeof setTimeout>>();
  private nextId = 1;

  now(): number {
    return performance.now() - this.origin;
  }

  setTimeout(callback: () => void, delayMs: number): TimerHandle {
    const id = this.nextId++;
    this.timers.set(
      id,
      setTimeout(
        () => {
          this.timers.delete(id);
          callback();
        },
        Math.max(0, delayMs),
      ),
    );
    return { id };
  }

  clearTimeout(handle: TimerHandle | undefined): void {
    if (!handle) return;
    clearTimeout(this.timers.get(handle.id));
    this.timers.delete(handle.id);
  }
}

/**
 * Timers a VirtualClock fires at one instant before it calls it a loop: a timer that sets itself
 * again for no time at all would otherwise spin a replay forever without time moving.
 */
export const MAX_TIMERS_AT_ONE_INSTANT = 100_000;

/** A VirtualClock's timers kept firing without time moving (a timer that re-arms itself for no time). */
export class TimerLoopError extends Error {
  override name = 'TimerLoopError';
}

interface PendingTimer {
  id: number;
  due: number;
  seq: number;
  callback: () => void;
}

/** Lets pending promise continuations run without any wall-clock wait. */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * Deterministic clock for tests and replay. Time moves only through `advanceTo`/`advanceBy`,
 * which fire due timers in order (ties in scheduling order) and let async work that the
 * timers start settle before moving on, so a ten-minute conversation replays in well under a second.
 */
export class VirtualClock implements Clock {
  private current = 0;
  private seq = 0;
  private nextId = 1;
  private readonly pending = new Map<number, PendingTimer>();

  now(): number {
    return this.current;
  }

  setTimeout(callback: () => void, delayMs: number): TimerHandle {
    const id = this.nextId++;
    this.pending.set(id, { id, due: this.current + Math.max(0, delayMs), seq: this.seq++, callback });
    return { id };
  }

  clearTimeout(handle: TimerHandle | undefined): void {
    if (handle) this.pending.delete(handle.id);
  }

  get pendingTimers(): number {
    return this.pending.size;
  }

  /**
   * Runs every timer due up to `target` (inclusive), then sets the time to `target`. Rejects with a
   * TimerLoopError when more than MAX_TIMERS_AT_ONE_INSTANT fire without time moving.
   */
  async advanceTo(target: number): Promise<void> {
    await settle();
    let firedAtThisInstant = 0;
    for (;;) {
      const next = this.earliest();
      if (!next || next.due > target) break;
      this.pending.delete(next.id);
      firedAtThisInstant = next.due > this.current ? 1 : firedAtThisInstant + 1;
      if (firedAtThisInstant > MAX_TIMERS_AT_ONE_INSTANT) {
        throw new TimerLoopError(
          `timers kept firing at ${this.current} ms without time moving (${MAX_TIMERS_AT_ONE_INSTANT} in a row): a timer re-arms itself for no time`,
        );
      }
      this.current = Math.max(this.current, next.due);
      next.callback();
      await settle();
    }
    this.current = Math.max(this.current, target);
    await settle();
  }

  advanceBy(ms: number): Promise<void> {
    return this.advanceTo(this.current + ms);
  }

  /** Runs timers until none is left or `limit` is reached. */
  async runAll(limit = Number.POSITIVE_INFINITY): Promise<void> {
    for (;;) {
      await settle();
      const next = this.earliest();
      if (!next || next.due > limit) return;
      await this.advanceTo(next.due);
    }
  }

  private earliest(): PendingTimer | undefined {
    let best: PendingTimer | undefined;
    for (const timer of this.pending.values()) {
      if (!best || timer.due < best.due || (timer.due === best.due && timer.seq < best.seq)) best = timer;
    }
    return best;
  }
}

/** Resolves after `ms` on the given clock. */
export function delay(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason ?? new Error('aborted'));
      return;
    }
    const handle = clock.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clock.clearTimeout(handle);
      reject(signal?.reason ?? new Error('aborted'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
