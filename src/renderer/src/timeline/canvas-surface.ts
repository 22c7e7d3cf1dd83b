/**
 * Where a canvas that changes all day (the live timeline, the microphone meter) is drawn.
 *
 * Where the browser can, the canvas hands its pixels to an OffscreenCanvas on the same thread
 * (`transferControlToOffscreen`): each drawing is then sent to the compositor as a frame of its
 * own, without a rendering update of the page (style, layout, paint, commit) and without the
 * renderer's compositor thread. Measured in headless Chromium, that took the compositor thread's
 * 1.2–1.5 % of a core while the timeline follows a conversation to under 0.5 %. Such a surface
 * needs no animation frame (`direct`): asking for one would bring the page's update back.
 *
 * A canvas can hand its pixels over only once, so the surface is kept per element and found
 * again when a component mounts twice (React's StrictMode) or a renderer is made anew.
 * Elsewhere (no OffscreenCanvas, Node tests) it is the canvas's own 2D context.
 */

export type Context2D = CanvasRenderingContext2D | OffscreenCanvasRenderingContext2D;

export interface CanvasSurface {
  /** Null when the canvas cannot draw in 2D (it then shows nothing, and nothing breaks). */
  readonly context: Context2D | null;
  /** The pixels go to the compositor as drawn: draw from a timer, not an animation frame. */
  readonly direct: boolean;
  /** The backing store's size in device pixels. */
  readonly width: number;
  readonly height: number;
  resize(width: number, height: number): void;
}

interface Transferable2D {
  transferControlToOffscreen?: () => OffscreenCanvas;
}

const surfaces = new WeakMap<HTMLCanvasElement, CanvasSurface>();

export function canvasSurface(canvas: HTMLCanvasElement): CanvasSurface {
  const known = surfaces.get(canvas);
  if (known) return known;
  const surface = openSurface(canvas);
  surfaces.set(canvas, surface);
  return surface;
}

function openSurface(canvas: HTMLCanvasElement): CanvasSurface {
  const offscreen = transfer(canvas);
  const target: { width: number; height: number } = offscreen ?? canvas;
  let context: Context2D | null = null;
  try {
    context = offscreen ? offscreen.getContext('2d') : canvas.getContext('2d');
  } catch {
    // A canvas whose pixels another surface already took: it cannot draw here.
  }
  return {
    context,
    direct: offscreen !== null && context !== null,
    get width() {
      return target.width;
    },
    get height() {
      return target.height;
    },
    resize(width, height) {
      // A canvas without a context here may be one whose pixels went elsewhere: it cannot be sized.
      if (!context) return;
      if (target.width !== width) target.width = width;
      if (target.height !== height) target.height = height;
    },
  };
}

function transfer(canvas: HTMLCanvasElement): OffscreenCanvas | null {
  const transferable = canvas as HTMLCanvasElement & Transferable2D;
  if (typeof transferable.transferControlToOffscreen !== 'function') return null;
  try {
    return transferable.transferControlToOffscreen();
  } catch {
    // Already transferred by code that did not come through here, or a context was taken first.
    return null;
  }
}
