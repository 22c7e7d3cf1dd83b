/**
 * canvas-surface.ts: a canvas that changes all day hands its pixels to an OffscreenCanvas where
 * the browser can, once per element, and falls back to its own 2D context elsewhere.
 */
import { describe, expect, it, vi } from 'vitest';
import { canvasSurface } from '../../src/renderer/src/timeline/canvas-surface';

const context = { marker: 'context' };

function element(options: { transfer?: () => unknown; getContext?: () => unknown } = {}) {
  const canvas = {
    width: 300,
    height: 150,
    getContext: vi.fn(options.getContext ?? (() => context)),
    ...(options.transfer && { transferControlToOffscreen: vi.fn(options.transfer) }),
  };
  return canvas;
}

describe('canvasSurface', () => {
  it('hands the pixels to an OffscreenCanvas, sizes that and draws on its context', () => {
    const offscreenContext = { marker: 'offscreen' };
    const offscreen = { width: 300, height: 150, getContext: vi.fn(() => offscreenContext) };
    const canvas = element({ transfer: () => offscreen });
    const surface = canvasSurface(canvas as unknown as HTMLCanvasElement);
    expect(surface.direct).toBe(true);
    expect(surface.context).toBe(offscreenContext);
    expect(canvas.getContext).not.toHaveBeenCalled();
    surface.resize(192, 16);
    expect([offscreen.width, offscreen.height]).toEqual([192, 16]);
    expect([surface.width, surface.height]).toEqual([192, 16]);
    expect([canvas.width, canvas.height]).toEqual([300, 150]);
  });

  it('is found again for the same element: a canvas hands its pixels over only once', () => {
    const offscreen = { width: 0, height: 0, getContext: () => ({}) };
    const canvas = element({ transfer: () => offscreen });
    const first = canvasSurface(canvas as unknown as HTMLCanvasElement);
    const second = canvasSurface(canvas as unknown as HTMLCanvasElement);
    expect(second).toBe(first);
    expect(canvas.transferControlToOffscreen).toHaveBeenCalledTimes(1);
  });

  it("without OffscreenCanvas, is the canvas's own context, drawn on animation frames", () => {
    const canvas = element();
    const surface = canvasSurface(canvas as unknown as HTMLCanvasElement);
    expect(surface.direct).toBe(false);
    expect(surface.context).toBe(context);
    surface.resize(96, 8);
    expect([canvas.width, canvas.height]).toEqual([96, 8]);
  });

  it('falls back to its own context when the transfer is refused, and to no context at all when that throws too', () => {
    const refused = element({
      transfer: () => {
        throw new DOMException('a rendering context exists', 'InvalidStateError');
      },
    });
    const surface = canvasSurface(refused as unknown as HTMLCanvasElement);
    expect(surface.direct).toBe(false);
    expect(surface.context).toBe(context);

    const taken = element({
      transfer: () => {
        throw new DOMException('already transferred', 'InvalidStateError');
      },
      getContext: () => {
        throw new DOMException('the canvas was transferred', 'InvalidStateError');
      },
    });
    Object.defineProperty(taken, 'width', {
      set: () => {
        throw new DOMException('cannot resize a transferred canvas', 'InvalidStateError');
      },
    });
    const none = canvasSurface(taken as unknown as HTMLCanvasElement);
    expect(none.context).toBeNull();
    expect(none.direct).toBe(false);
    expect(() => none.resize(10, 10)).not.toThrow();
  });
});
