/**
 * Vitest's fake timers with animation frames for a describe block (or a whole file). Node has no
 * animation frames: stand-ins are put on globalThis for the fake timers to replace, and removed
 * after each test. `performance` fakes performance.now() too.
 */
import { afterEach, beforeEach, vi } from 'vitest';

export function useFakeFrames(options: { performance?: boolean } = {}): void {
  const scope = globalThis as {
    requestAnimationFrame?: (callback: FrameRequestCallback) => number;
    cancelAnimationFrame?: (handle: number) => void;
  };
  const hadFrames = 'requestAnimationFrame' in globalThis;
  beforeEach(() => {
    if (!hadFrames) {
      scope.requestAnimationFrame = () => 0;
      scope.cancelAnimationFrame = () => undefined;
    }
    vi.useFakeTimers({
      toFake: [
        'setTimeout',
        'clearTimeout',
        'requestAnimationFrame',
        'cancelAnimationFrame',
        ...(options.performance ? (['performance'] as const) : []),
      ],
    });
  });
  afterEach(() => {
    vi.useRealTimers();
    if (!hadFrames) {
      delete scope.requestAnimationFrame;
      delete scope.cancelAnimationFrame;
    }
  });
}
