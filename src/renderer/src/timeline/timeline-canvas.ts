/**
 * The timeline's canvas renderer (DOM, no framework). It draws the visible window of a
 * TimelineModel and owns the view: following live or paused, panning (wheel, drag, keys) and
 * zooming (ctrl/⌘ + wheel, or the methods), hover hit-testing and a selected item.
 *
 * Frames are drawn only when what is shown changes, and only the part that changed (live frames
 * from the live grid's timer when the canvas sends its pixels straight to the compositor,
 * canvas-surface.ts, else on an animation frame like every other change):
 * - a change of the view (pan, zoom, size, theme, hover, selection) redraws the whole canvas on
 *   the next frame; a change of the items too, but while following a running session it waits
 *   for the next live frame (so at most LIVE_FPS frames a second in all, live-pace.ts) and while paused it
 *   comes at most ten times a second;
 * - following a running session, the view stays still while the live edge moves across it and
 *   jumps when the edge nears the right (sweepView); between jumps only the strip at the live edge
 *   is redrawn, at most LIVE_FPS times a second (the VAD trace, growing spans, the edge itself);
 *   while a turn is open, a full redraw every FULL_REFRESH_MS keeps what grows with it elsewhere
 *   (the latency row's "waiting" label) current;
 * - nothing while the document is hidden (a minimised or covered window).
 * Drawing is O(items in the drawn range) and devicePixelRatio aware.
 */
import {
  axisTicks,
  clampMsPerPx,
  followView,
  hitTest,
  sweepView,
  itemBox,
  latencyExtent,
  layoutLanes,
  timeToX,
  viewEnd,
  xToTime,
  zoomView,
  type Box,
  type Hit,
  type HitTarget,
  type LaneBox,
  type TimeView,
  type TimelineLayout,
} from './timeline-geometry';
import {
  detectorLabel,
  formatDuration,
  formatTick,
  formatTime,
  spanLabel,
  turnLabel,
} from './timeline-format';
import {
  LANES,
  type LaneId,
  type ProbabilityRing,
  type TimelineItem,
  type TimelineModel,
  type TurnTrack,
} from './timeline-model';
import { canvasSurface, type CanvasSurface, type Context2D } from './canvas-surface';
import { atLiveSlot, nextLiveSlot } from './live-pace';
import { fallbackTheme, readableOn, readTheme, type TimelineTheme } from './timeline-theme';

export interface HoverInfo {
  hit: Hit;
  /** Pointer position in CSS px relative to the canvas. */
  x: number;
  y: number;
  /** Canvas size in CSS px. */
  width: number;
  height: number;
  /** Pointer in client (window) coordinates, and the window size: for a fixed-position tooltip. */
  clientX: number;
  clientY: number;
  windowWidth: number;
  windowHeight: number;
}

/** Where the selected target is drawn: canvas-relative and in client (window) coordinates. */
export interface SelectionPlacement {
  box: Box;
  client: Box;
  windowWidth: number;
  windowHeight: number;
}

export interface ViewState {
  following: boolean;
  msPerPx: number;
  /** Visible time window (ms). */
  windowMs: number;
  startT: number;
  endT: number;
  /** Keys of the turns in view, oldest first. */
  visibleTurns: number[];
  /** Canvas size in CSS px. */
  canvasWidth: number;
  canvasHeight: number;
}

export interface TimelineCanvasOptions {
  /** Initial visible window in ms (default 20 s). */
  windowMs?: number;
  /** Width of the lane labels column (CSS px). */
  gutter?: number;
  onHover?: (hover: HoverInfo | null) => void;
  /** A click on an item or a latency bracket (null on empty space). */
  onSelect?: (target: HitTarget | null) => void;
  onViewChange?: (view: ViewState) => void;
  /** Where the selected target is drawn (CSS px, canvas-relative), whenever it moves; null out of view. */
  onSelectionBox?: (placement: SelectionPlacement | null) => void;
  /**
   * An element (e.g. the scrolling viewport around the canvas) whose height the lanes stretch or
   * shrink to fill, between 0.62× and 1.5× their natural height; beyond that the element scrolls.
   */
  fitTo?: HTMLElement;
  /** Element whose CSS custom properties define the colours (default: the canvas's `.cue-timeline` ancestor). */
  themeRoot?: Element;
  /**
   * A finished timeline over a fixed span (a recording's audio, ms): the view is kept within it
   * instead of within the model's events, so two timelines given the same range line up.
   */
  range?: { start: number; end: number };
}

const FOLLOW_MARGIN_PX = 28;
const PAUSED_REDRAW_MS = 100;
/** A whole redraw at least this often while only the live edge changes. */
const FULL_REFRESH_MS = 1000;
/** Pixels either side of the live edge that a live-edge redraw covers (marker, chevrons, trace). */
const LIVE_EDGE_PAD_PX = 8;

export class TimelineCanvas {
  private readonly surface: CanvasSurface;
  private readonly ctx: Context2D | null;
  private readonly gutter: number;
  private layout: TimelineLayout;
  private scale = 1;
  private view: TimeView;
  private following = true;
  private theme: TimelineTheme = fallbackTheme();
  private cssWidth = 0;
  private dpr = 1;
  private frame = 0;
  /** Takes back the wait for a live slot (atLiveSlot), while one is pending. */
  private timer: (() => void) | null = null;
  private viewDirty = true;
  private modelDirty = false;
  /** Only the live edge changed (VAD frames) since the last draw. */
  private liveDirty = false;
  private lastDraw = 0;
  private lastFull = 0;
  private lastItemsVersion = -1;
  /** What the canvas holds: the view and live time of the last draw (null: nothing reusable). */
  private drawn: { view: TimeView; liveT: number } | null = null;
  private hidden = false;
  private liveT = 0;
  private pointer: { x: number; y: number } | null = null;
  private hovered: Hit | null = null;
  private selected: HitTarget | null = null;
  private drag: { id: number; x: number; startT: number; moved: boolean } | null = null;
  private lastViewSignature = '';
  private lastSelectionBox = '';
  /** Last x drawn per lane for marks this frame: marks in the same pixel are drawn once. */
  private readonly markColumns = new Map<LaneId, number>();
  private laneIndex: { layout: TimelineLayout | null; lanes: Map<LaneId, LaneBox> } = {
    layout: null,
    lanes: new Map(),
  };
  private charWidth = 6.5;
  /** The VAD's activation threshold, drawn across the probability trace (null: not drawn). */
  private threshold: number | null = null;
  private readonly disposers: (() => void)[] = [];
  private disposed = false;

  constructor(
    private readonly canvas: HTMLCanvasElement,
    private readonly model: TimelineModel,
    private readonly options: TimelineCanvasOptions = {},
  ) {
    this.surface = canvasSurface(canvas);
    this.ctx = this.surface.context;
    this.gutter = options.gutter ?? 116;
    this.layout = layoutLanes();
    this.view = {
      startT: 0,
      msPerPx: clampMsPerPx((options.windowMs ?? 20_000) / 800),
      x0: this.gutter,
      width: 800,
    };
    canvas.style.height = `${this.layout.totalHeight}px`;
    this.refreshTheme();
    this.measure();
    this.listen();
    this.schedule();
  }

  // ------------------------------------------------------------ public controls

  get isFollowing(): boolean {
    return this.following;
  }

  get height(): number {
    return this.layout.totalHeight;
  }

  /** Follow the live edge (true) or freeze the view where it is (false). */
  setFollow(follow: boolean): void {
    if (this.following === follow) return;
    this.following = follow;
    this.invalidate();
  }

  toggleFollow(): void {
    this.setFollow(!this.following);
  }

  /** Scrolls by `ms` (negative: back in time); stops following. */
  panBy(ms: number): void {
    this.following = false;
    this.view = this.clampView({ ...this.view, startT: this.view.startT + ms });
    this.snapToLive(ms);
    this.invalidate();
  }

  /** Scrolls by a fraction of the visible window (e.g. -0.25). */
  panByWindow(fraction: number): void {
    this.panBy(fraction * this.view.width * this.view.msPerPx);
  }

  /** Zooms by `factor` (>1 zooms out) around `anchorT` (default: the live edge when following, else the centre). */
  zoomBy(factor: number, anchorT?: number): void {
    const anchor =
      anchorT ?? (this.following ? this.liveT : this.view.startT + (this.view.width * this.view.msPerPx) / 2);
    this.view = this.clampView(zoomView(this.view, factor, anchor));
    this.invalidate();
  }

  /** Shows `ms` of time across the plot. */
  setWindow(ms: number): void {
    const factor = ms / (this.view.width * this.view.msPerPx);
    this.zoomBy(factor);
  }

  get windowMs(): number {
    return this.view.width * this.view.msPerPx;
  }

  /** Scrolls (and stops following) so [start, end] is in view, zooming out if it does not fit. */
  reveal(start: number, end: number): void {
    const span = Math.max(1, end - start);
    const window = this.windowMs;
    if (span > window * 0.9)
      this.view = { ...this.view, msPerPx: clampMsPerPx((span * 1.25) / this.view.width) };
    const visibleStart = this.view.startT;
    const visibleEnd = viewEnd(this.view);
    const inView = start >= visibleStart && end <= visibleEnd;
    if (!inView) {
      const centre = (start + end) / 2;
      this.view = { ...this.view, startT: centre - (this.view.width * this.view.msPerPx) / 2 };
    }
    if (!inView || span > window * 0.9) this.following = false;
    this.view = this.clampView(this.view);
    this.invalidate();
  }

  /** Draws the VAD activation threshold across the speech probability trace (null: none). */
  setProbabilityThreshold(threshold: number | null): void {
    if (threshold === this.threshold) return;
    this.threshold = threshold;
    this.invalidate();
  }

  /** Highlights an item or a turn's latency bracket (null clears). */
  setSelection(target: HitTarget | null): void {
    this.selected = target;
    this.invalidate();
  }

  /** Where a target is drawn now (CSS px, relative to the canvas), or null when out of view. */
  boxOf(target: HitTarget): Box | null {
    const view = this.currentView();
    const box = this.boxOfIn(target, view);
    if (!box || box.x + box.w < view.x0 || box.x > view.x0 + view.width) return null;
    return box;
  }

  getViewState(): ViewState {
    const view = this.currentView();
    return {
      following: this.following,
      msPerPx: view.msPerPx,
      windowMs: view.width * view.msPerPx,
      startT: view.startT,
      endT: viewEnd(view),
      visibleTurns: this.model.turnsInRange(view.startT, viewEnd(view), this.liveT).map((t) => t.key),
      canvasWidth: this.cssWidth,
      canvasHeight: this.layout.totalHeight,
    };
  }

  /** Re-reads the colours from CSS (theme switches are also picked up on their own). */
  refreshTheme(): void {
    const root = this.options.themeRoot ?? this.canvas.closest('.cue-timeline') ?? this.canvas.parentElement;
    this.theme = root ? readTheme(root) : fallbackTheme();
    if (this.ctx) {
      this.ctx.font = this.font(11);
      this.charWidth = this.ctx.measureText('abcdefghijklmnopqrstuvwxyz 0123456789').width / 37 || 6.5;
    }
    this.invalidate();
  }

  /** Draws on the next frame. */
  invalidate(): void {
    this.viewDirty = true;
    this.schedule();
  }

  dispose(): void {
    this.disposed = true;
    if (this.frame) cancelAnimationFrame(this.frame);
    this.timer?.();
    this.frame = 0;
    this.timer = null;
    for (const dispose of this.disposers.splice(0)) dispose();
  }

  // ------------------------------------------------------------ events

  private listen(): void {
    const canvas = this.canvas;
    const win = canvas.ownerDocument.defaultView ?? window;
    const on = <K extends keyof HTMLElementEventMap>(
      type: K,
      handler: (event: HTMLElementEventMap[K]) => void,
      options?: AddEventListenerOptions,
    ) => {
      canvas.addEventListener(type, handler, options);
      this.disposers.push(() => canvas.removeEventListener(type, handler, options));
    };
    this.disposers.push(
      this.model.subscribe(() => {
        if (this.model.itemsVersion !== this.lastItemsVersion) {
          this.lastItemsVersion = this.model.itemsVersion;
          this.modelDirty = true;
          // Following a session, item changes wait for the next live frame (one frame, not two).
          if (this.following && this.model.isRunning) this.scheduleLive();
          else this.schedule();
        } else {
          this.liveDirty = true;
          this.scheduleLive();
        }
      }),
    );
    // Nothing is drawn while the window is hidden; everything once it shows again.
    const doc = canvas.ownerDocument;
    const onVisibility = () => {
      this.hidden = doc.visibilityState === 'hidden';
      if (!this.hidden) this.invalidate();
    };
    onVisibility();
    doc.addEventListener('visibilitychange', onVisibility);
    this.disposers.push(() => doc.removeEventListener('visibilitychange', onVisibility));
    on('pointermove', (e) => this.onPointerMove(e));
    on('pointerdown', (e) => this.onPointerDown(e));
    on('pointerup', (e) => this.onPointerUp(e));
    on('pointercancel', () => {
      this.drag = null;
    });
    on('pointerleave', () => {
      if (this.drag) return;
      this.pointer = null;
      this.setHover(null);
    });
    on('wheel', (e) => this.onWheel(e), { passive: false });

    if (typeof ResizeObserver !== 'undefined') {
      const observer = new ResizeObserver(() => this.measure());
      observer.observe(canvas);
      if (this.options.fitTo) observer.observe(this.options.fitTo);
      this.disposers.push(() => observer.disconnect());
    } else {
      const onResize = () => this.measure();
      win.addEventListener('resize', onResize);
      this.disposers.push(() => win.removeEventListener('resize', onResize));
    }
    this.watchPixelRatio(win);

    // Theme switches: the OS scheme, or the app toggling classes/attributes on <html>/<body>.
    const scheme = win.matchMedia?.('(prefers-color-scheme: dark)');
    if (scheme) {
      const onScheme = () => this.refreshTheme();
      scheme.addEventListener('change', onScheme);
      this.disposers.push(() => scheme.removeEventListener('change', onScheme));
    }
    if (typeof MutationObserver !== 'undefined') {
      const doc = canvas.ownerDocument;
      const observer = new MutationObserver(() => this.refreshTheme());
      const attributeFilter = ['class', 'style', 'data-theme', 'data-color-scheme'];
      observer.observe(doc.documentElement, { attributes: true, attributeFilter });
      if (doc.body) observer.observe(doc.body, { attributes: true, attributeFilter });
      this.disposers.push(() => observer.disconnect());
    }
  }

  private watchPixelRatio(win: Window): void {
    let query: MediaQueryList | undefined;
    const onChange = () => {
      this.measure();
      arm();
    };
    const arm = () => {
      query?.removeEventListener('change', onChange);
      query = win.matchMedia?.(`(resolution: ${win.devicePixelRatio || 1}dppx)`);
      query?.addEventListener('change', onChange);
    };
    arm();
    this.disposers.push(() => query?.removeEventListener('change', onChange));
  }

  private measure(): void {
    const rect = this.canvas.getBoundingClientRect();
    const win = this.canvas.ownerDocument.defaultView;
    const dpr = Math.max(1, Math.min(4, win?.devicePixelRatio || 1));
    const width = Math.max(this.gutter + 50, Math.round(rect.width || this.canvas.clientWidth || 800));
    const scaled = this.fitScale();
    if (width === this.cssWidth && dpr === this.dpr && !scaled) return;
    const height = this.layout.totalHeight;
    const endT = viewEnd(this.view);
    this.cssWidth = width;
    this.dpr = dpr;
    this.surface.resize(Math.round(width * dpr), Math.round(height * dpr));
    // Keep the right edge where it was (following re-anchors anyway).
    const plot = width - this.gutter;
    this.view = { ...this.view, x0: this.gutter, width: plot, startT: endT - plot * this.view.msPerPx };
    this.invalidate();
  }

  /** Re-lays the lanes out to fit `fitTo`; true when the layout changed. */
  private fitScale(): boolean {
    const fit = this.options.fitTo;
    if (!fit) return false;
    const natural = layoutLanes();
    const available = fit.clientHeight;
    if (!available) return false;
    const scale =
      Math.round(
        Math.min(
          1.5,
          Math.max(0.62, (available - natural.axisHeight) / (natural.totalHeight - natural.axisHeight)),
        ) * 100,
      ) / 100;
    if (Math.abs(scale - this.scale) < 0.015) return false;
    this.scale = scale;
    this.layout = layoutLanes(undefined, { scale });
    this.canvas.style.height = `${this.layout.totalHeight}px`;
    return true;
  }

  private local(e: { clientX: number; clientY: number }): { x: number; y: number } {
    const rect = this.canvas.getBoundingClientRect();
    return { x: e.clientX - rect.left, y: e.clientY - rect.top };
  }

  private onPointerMove(e: PointerEvent): void {
    const p = this.local(e);
    this.pointer = p;
    if (this.drag && this.drag.id === e.pointerId) {
      const dx = p.x - this.drag.x;
      if (Math.abs(dx) > 3) this.drag.moved = true;
      if (this.drag.moved) {
        this.following = false;
        const before = this.view.startT;
        this.view = this.clampView({ ...this.view, startT: this.drag.startT - dx * this.view.msPerPx });
        this.snapToLive(this.view.startT - before);
        this.setHover(null);
        this.invalidate();
        return;
      }
    }
    this.updateHover();
  }

  private onPointerDown(e: PointerEvent): void {
    if (e.button !== 0) return;
    const p = this.local(e);
    if (this.following) this.view = this.currentView();
    this.drag = { id: e.pointerId, x: p.x, startT: this.view.startT, moved: false };
    this.canvas.setPointerCapture?.(e.pointerId);
  }

  private onPointerUp(e: PointerEvent): void {
    const drag = this.drag;
    this.drag = null;
    this.canvas.releasePointerCapture?.(e.pointerId);
    if (drag && !drag.moved) {
      this.updateHover();
      this.options.onSelect?.(this.hovered?.target ?? null);
    }
  }

  private onWheel(e: WheelEvent): void {
    const fit = this.options.fitTo;
    const vertical = Math.abs(e.deltaY) > Math.abs(e.deltaX);
    // Lanes taller than the viewport: a vertical wheel scrolls them (pan with a horizontal wheel, drag or keys).
    if (!e.ctrlKey && !e.metaKey && !e.shiftKey && vertical && fit && fit.scrollHeight > fit.clientHeight + 1)
      return;
    e.preventDefault();
    const unit = e.deltaMode === 1 ? 16 : e.deltaMode === 2 ? this.view.width : 1;
    const p = this.local(e);
    if (e.ctrlKey || e.metaKey) {
      const factor = Math.exp((e.deltaY * unit) / 300);
      const view = this.currentView();
      const anchor = this.following ? this.liveT : xToTime(view, Math.max(view.x0, p.x));
      this.view = this.clampView(zoomView(view, factor, anchor));
    } else {
      const delta = (Math.abs(e.deltaX) > Math.abs(e.deltaY) ? e.deltaX : e.deltaY) * unit;
      if (delta === 0) return;
      if (this.following) this.view = this.currentView();
      this.panBy(delta * this.view.msPerPx);
      return;
    }
    this.updateHover();
    this.invalidate();
  }

  private updateHover(): void {
    const p = this.pointer;
    if (!p) return this.setHover(null);
    const hit = hitTest(this.model, this.layout, this.currentView(), p.x, p.y, this.liveT);
    const rect = this.canvas.getBoundingClientRect();
    const win = this.canvas.ownerDocument.defaultView;
    this.setHover(
      hit
        ? {
            hit,
            x: p.x,
            y: p.y,
            width: this.cssWidth,
            height: this.layout.totalHeight,
            clientX: rect.left + p.x,
            clientY: rect.top + p.y,
            windowWidth: win?.innerWidth ?? this.cssWidth,
            windowHeight: win?.innerHeight ?? this.layout.totalHeight,
          }
        : null,
      p,
    );
  }

  private setHover(hover: HoverInfo | null, pointer?: { x: number; y: number }): void {
    const previous = this.hovered;
    this.hovered = hover?.hit ?? null;
    if (!sameTarget(previous?.target ?? null, this.hovered?.target ?? null) || pointer) {
      this.options.onHover?.(hover);
    }
    this.invalidate();
  }

  /** Panning forward onto the live edge resumes following. */
  private snapToLive(deltaMs: number): void {
    if (deltaMs <= 0 || !this.model.isRunning) return;
    const live = followView(this.view, this.liveT, FOLLOW_MARGIN_PX);
    if (this.view.startT >= live.startT - this.view.msPerPx) this.following = true;
  }

  private clampView(view: TimeView): TimeView {
    const window = view.width * view.msPerPx;
    const range = this.options.range;
    const latest = (range ? range.end : this.liveT) + FOLLOW_MARGIN_PX * view.msPerPx - window;
    const earliest = Math.min((range ? range.start : this.model.earliestTime) - window * 0.1, latest);
    return { ...view, startT: Math.min(latest, Math.max(earliest, view.startT)) };
  }

  // ------------------------------------------------------------ frames

  /** Draws on the next animation frame. */
  private schedule(): void {
    if (this.timer) {
      this.timer();
      this.timer = null;
    }
    if (this.frame || this.disposed || this.hidden) return;
    this.frame = requestAnimationFrame(this.tick);
  }

  /**
   * Draws once a live-paced frame is due (at most LIVE_FPS a second): from the timer itself when
   * the canvas draws straight to the compositor, else on the animation frame after it.
   */
  private scheduleLive(): void {
    if (this.frame || this.timer || this.disposed || this.hidden) return;
    // The first slot of the shared live grid after the last draw's (see live-pace.ts).
    const slot = nextLiveSlot(this.lastDraw);
    const wait = slot - performance.now();
    if (wait <= 0 && !this.surface.direct) {
      this.frame = requestAnimationFrame(this.tick);
      return;
    }
    // Straight to the frame when it fires: timers may fire a little early, and checking the
    // wait again would set a second timer for each live frame.
    this.timer = atLiveSlot(slot, () => {
      this.timer = null;
      if (this.frame || this.disposed || this.hidden) return;
      // The slot's time at the least: a timer may fire a little early, and a draw stamped
      // before its slot would let the next live frame come in the same slot.
      if (this.surface.direct) this.tick(Math.max(slot, performance.now()));
      else this.frame = requestAnimationFrame(this.tick);
    });
  }

  private readonly tick = (now: number): void => {
    this.frame = 0;
    if (this.disposed || this.hidden) return;
    const live = this.following && this.model.isRunning;
    const modelReady = this.modelDirty && (this.following || now - this.lastDraw >= PAUSED_REDRAW_MS);
    this.updateLive();
    const target = this.following ? this.followTarget() : this.view;
    const drawn = this.drawn;
    const reusable =
      drawn !== null &&
      !this.viewDirty &&
      !modelReady &&
      drawn.view.msPerPx === target.msPerPx &&
      drawn.view.width === target.width &&
      drawn.view.x0 === target.x0 &&
      (now - this.lastFull < FULL_REFRESH_MS || !this.turnOpen());
    const moved = drawn !== null && drawn.view.startT !== target.startT;
    this.view = target;
    if (!reusable || moved) {
      this.draw();
      this.lastFull = now;
    } else if (this.liveDirty || drawn.liveT !== this.liveT) {
      // Only the live edge moved: redraw from where it was to where it is now.
      const pad = this.liveEdgePad(target);
      const before = timeToX(target, Math.min(drawn.liveT, this.liveT));
      const after = timeToX(target, this.liveT);
      this.draw({ x0: before - pad, x1: after + pad });
    }
    // The clock, not the frame's timestamp: that is the frame's start, which may fall before the
    // slot boundary the timer waited for, and the next live frame would then come at once.
    this.lastDraw = Math.max(now, performance.now());
    this.viewDirty = false;
    this.liveDirty = false;
    if (modelReady) this.modelDirty = false;
    if (this.modelDirty && !live) this.schedule();
    else if (live || this.liveDirty || this.modelDirty) this.scheduleLive();
  };

  /** A turn whose spans or latency still grow with the live edge. */
  private turnOpen(): boolean {
    const last = this.model.turns.at(-1);
    return !!last && (last.open > 0 || (last.index >= 0 && last.committedAt === null));
  }

  /** The following view: still while the live edge crosses it, then a jump (sweepView). */
  private followTarget(): TimeView {
    return sweepView(this.view, this.liveT, FOLLOW_MARGIN_PX);
  }

  /** How far either side of the live edge a live redraw reaches: its marker, and the trace's bucket. */
  private liveEdgePad(view: TimeView): number {
    return LIVE_EDGE_PAD_PX + this.model.sparkline.bucketMs / view.msPerPx;
  }

  private currentView(): TimeView {
    return this.following ? this.followTarget() : this.view;
  }

  private updateLive(): void {
    const live = this.model.liveTime();
    // Monotonic while running; a cleared or replayed model may move it back.
    this.liveT = live < this.liveT - 2000 || !this.model.isRunning ? live : Math.max(this.liveT, live);
  }

  /**
   * Draws the view: all of it, or only the columns [region.x0, region.x1) of the plot (CSS px),
   * which come out exactly as a whole redraw would draw them (then the lane labels are left as
   * they are, but for the live clock).
   */
  private draw(region?: { x0: number; x1: number }): void {
    const ctx = this.ctx;
    if (!ctx || !this.cssWidth) return;
    const view = this.view;
    const theme = this.theme;
    const { totalHeight } = this.layout;
    const clipX0 = region ? Math.max(view.x0, Math.floor(region.x0)) : 0;
    const clipX1 = region ? Math.min(view.x0 + view.width, Math.ceil(region.x1)) : this.cssWidth;
    if (clipX1 <= clipX0) {
      if (region) this.drawLiveClock(ctx);
      return;
    }
    const from = region ? xToTime(view, clipX0) : view.startT;
    const to = region ? xToTime(view, clipX1) : viewEnd(view);

    ctx.setTransform(this.dpr, 0, 0, this.dpr, 0, 0);
    ctx.save();
    ctx.beginPath();
    ctx.rect(clipX0, 0, clipX1 - clipX0, totalHeight);
    ctx.clip();
    ctx.fillStyle = theme.background;
    ctx.fillRect(clipX0, 0, clipX1 - clipX0, totalHeight);

    this.drawLaneBackgrounds(ctx);
    ctx.save();
    ctx.beginPath();
    ctx.rect(view.x0, 0, view.width, totalHeight);
    ctx.clip();

    const turns = this.model.turnsInRange(from, to, this.liveT);
    this.drawSessions(ctx, view);
    this.drawGrid(ctx, view, clipX0, clipX1);
    this.drawTurnBands(ctx, view, turns);
    const labelled: TimelineItem[] = [];
    this.markColumns.clear();
    this.model.forEachItemInRange(
      from - 50 * view.msPerPx,
      to,
      (item) => {
        this.drawItem(ctx, item, view);
        if (item.kind === 'transcript' && item.final) labelled.push(item);
      },
      this.liveT,
    );
    this.drawSparkline(ctx, view);
    this.drawTranscriptLabels(ctx, view, labelled);
    this.drawLatencyRow(ctx, view, turns);
    this.drawHighlights(ctx, view);
    this.drawLiveEdge(ctx, view);
    this.drawCursor(ctx, view);
    ctx.restore();
    ctx.restore();
    this.drawn = { view, liveT: this.liveT };

    if (region) {
      this.drawLiveClock(ctx);
      return;
    }
    this.drawGutter(ctx);
    this.emitView(turns);
    this.emitSelectionBox(view);
  }

  private emitSelectionBox(view: TimeView): void {
    if (!this.options.onSelectionBox) return;
    let box = this.selected ? this.boxOfIn(this.selected, view) : null;
    if (box && (box.x + box.w < view.x0 || box.x > view.x0 + view.width)) box = null;
    const signature = box
      ? `${Math.round(box.x)},${Math.round(box.y)},${Math.round(box.w)},${Math.round(box.h)}`
      : '';
    if (signature === this.lastSelectionBox) return;
    this.lastSelectionBox = signature;
    if (!box) return this.options.onSelectionBox(null);
    const rect = this.canvas.getBoundingClientRect();
    const win = this.canvas.ownerDocument.defaultView;
    this.options.onSelectionBox({
      box,
      client: { x: rect.left + box.x, y: rect.top + box.y, w: box.w, h: box.h },
      windowWidth: win?.innerWidth ?? rect.width,
      windowHeight: win?.innerHeight ?? rect.height,
    });
  }

  private emitView(turns: TurnTrack[]): void {
    if (!this.options.onViewChange) return;
    const keys = turns.map((t) => t.key);
    const signature = `${this.following}|${this.view.msPerPx.toFixed(4)}|${keys[0]}|${keys.at(-1)}|${keys.length}|${this.cssWidth}|${this.layout.totalHeight}`;
    if (signature === this.lastViewSignature) return;
    this.lastViewSignature = signature;
    this.options.onViewChange({
      following: this.following,
      msPerPx: this.view.msPerPx,
      windowMs: this.view.width * this.view.msPerPx,
      startT: this.view.startT,
      endT: viewEnd(this.view),
      visibleTurns: keys,
      canvasWidth: this.cssWidth,
      canvasHeight: this.layout.totalHeight,
    });
  }

  // ------------------------------------------------------------ drawing helpers

  private font(size: number, weight = 400): string {
    return `${weight} ${size}px ${this.theme.font}`;
  }

  private laneOf(id: LaneId): LaneBox | undefined {
    if (this.laneIndex.layout !== this.layout) {
      this.laneIndex = {
        layout: this.layout,
        lanes: new Map(this.layout.lanes.map((lane) => [lane.id, lane])),
      };
    }
    return this.laneIndex.lanes.get(id);
  }

  private fit(text: string, width: number): string {
    if (width < this.charWidth * 2) return '';
    const max = Math.floor(width / this.charWidth);
    return text.length <= max ? text : `${text.slice(0, Math.max(1, max - 1))}…`;
  }

  private drawLaneBackgrounds(ctx: Context2D): void {
    const { theme, layout } = this;
    layout.lanes.forEach((lane, i) => {
      if (i % 2 === 1) {
        ctx.fillStyle = theme.laneAlt;
        ctx.fillRect(0, lane.top, this.cssWidth, lane.height);
      }
    });
    ctx.fillStyle = theme.laneAlt;
    ctx.fillRect(0, layout.latency.top, this.cssWidth, layout.latency.height);
    ctx.strokeStyle = theme.grid;
    ctx.lineWidth = 1;
    ctx.beginPath();
    ctx.moveTo(0, layout.axisHeight - 0.5);
    ctx.lineTo(this.cssWidth, layout.axisHeight - 0.5);
    ctx.moveTo(0, layout.latency.top + 0.5);
    ctx.lineTo(this.cssWidth, layout.latency.top + 0.5);
    ctx.stroke();
  }

  private drawGutter(ctx: Context2D): void {
    const { theme, layout } = this;
    ctx.fillStyle = theme.background;
    ctx.fillRect(0, 0, this.gutter, layout.totalHeight);
    layout.lanes.forEach((lane, i) => {
      if (i % 2 === 1) {
        ctx.fillStyle = theme.laneAlt;
        ctx.fillRect(0, lane.top, this.gutter, lane.height);
      }
    });
    ctx.fillStyle = theme.laneAlt;
    ctx.fillRect(0, layout.latency.top, this.gutter, layout.latency.height);
    ctx.strokeStyle = theme.grid;
    ctx.beginPath();
    ctx.moveTo(this.gutter - 0.5, 0);
    ctx.lineTo(this.gutter - 0.5, layout.totalHeight);
    ctx.stroke();
    ctx.font = this.font(Math.min(11, Math.max(9, Math.round(this.scale * 11))), 500);
    ctx.textBaseline = 'middle';
    ctx.textAlign = 'left';
    for (const lane of layout.lanes) {
      ctx.fillStyle = this.laneColour(lane.id);
      ctx.fillRect(8, lane.top + lane.height / 2 - 4, 3, 8);
      ctx.fillStyle = theme.foreground;
      const label = LANES.find((l) => l.id === lane.id)?.label ?? lane.id;
      ctx.fillText(this.fit(label, this.gutter - 22), 16, lane.top + lane.height / 2);
    }
    ctx.fillStyle = theme.accent;
    ctx.fillRect(8, layout.latency.top + layout.latency.height / 2 - 4, 3, 8);
    ctx.fillStyle = theme.foreground;
    ctx.fillText('Latency', 16, layout.latency.top + layout.latency.height / 2);
    this.drawLiveClock(ctx);
    ctx.font = this.font(9);
    ctx.fillStyle = theme.muted;
    ctx.textAlign = 'right';
    ctx.fillText(this.following ? 'live' : 'paused', this.gutter - 8, layout.axisHeight / 2);
    ctx.textAlign = 'left';
  }

  /** The session time at the live edge, in the gutter above the lane labels. */
  private drawLiveClock(ctx: Context2D): void {
    const { theme, layout } = this;
    const width = this.gutter * 0.55;
    ctx.setTransform(this.dpr, 0, 0, this.dpr, 0, 0);
    ctx.fillStyle = theme.background;
    ctx.fillRect(12, 1, width, layout.axisHeight - 2);
    ctx.font = this.font(10, 600);
    ctx.textBaseline = 'middle';
    ctx.textAlign = 'left';
    ctx.fillStyle = this.model.isRunning ? theme.live : theme.muted;
    ctx.fillText(formatTick(this.liveT, 100), 16, layout.axisHeight / 2);
  }

  private laneColour(id: LaneId): string {
    const t = this.theme;
    switch (id) {
      case 'speech':
        return t.user;
      case 'transcript':
        return t.transcript;
      case 'turn':
        return t.turn;
      case 'endpointing':
        return t.endpointing;
      case 'preemptive':
        return t.preemptive;
      case 'llm':
        return t.llm;
      case 'tts':
        return t.tts;
      case 'agent':
        return t.agent;
      case 'interruption':
        return t.interruption;
      case 'error':
        return t.error;
    }
  }

  /** The time grid and its labels, for the ticks that reach into the columns [x0, x1). */
  private drawGrid(ctx: Context2D, view: TimeView, x0: number, x1: number): void {
    const { theme, layout } = this;
    const { step, ticks: all } = axisTicks(view);
    // A tick's label fits before the next tick, so a tick reaches at most one step to its right.
    const reach = step / view.msPerPx;
    const ticks = all.filter((t) => {
      const x = timeToX(view, t);
      return x + reach > x0 && x - 1 < x1;
    });
    if (!ticks.length) return;
    ctx.strokeStyle = theme.grid;
    ctx.lineWidth = 1;
    ctx.beginPath();
    for (const t of ticks) {
      const x = Math.round(timeToX(view, t)) + 0.5;
      ctx.moveTo(x, layout.axisHeight - 5);
      ctx.lineTo(x, layout.totalHeight);
    }
    ctx.stroke();
    ctx.fillStyle = theme.muted;
    ctx.font = this.font(10);
    ctx.textBaseline = 'middle';
    ctx.textAlign = 'left';
    for (const t of ticks) ctx.fillText(formatTick(t, step), timeToX(view, t) + 3, 8);
  }

  /** Shades the time outside sessions (before the first start, between a stop and the next start). */
  private drawSessions(ctx: Context2D, view: TimeView): void {
    const { theme, layout } = this;
    const sessions = this.model.sessions;
    if (!sessions.length) return;
    const to = viewEnd(view);
    const top = layout.axisHeight;
    const height = layout.totalHeight - top;
    const shade = (from: number, until: number) => {
      if (until <= view.startT || from >= to || until <= from) return;
      const x0 = Math.max(view.x0, timeToX(view, from));
      const x1 = Math.min(view.x0 + view.width, timeToX(view, until));
      ctx.save();
      ctx.globalAlpha = 0.5;
      ctx.fillStyle = theme.laneAlt;
      ctx.fillRect(x0, top, x1 - x0, height);
      ctx.beginPath();
      ctx.rect(x0, top, x1 - x0, height);
      ctx.clip();
      ctx.globalAlpha = 0.6;
      ctx.strokeStyle = theme.grid;
      ctx.lineWidth = 1;
      ctx.beginPath();
      // Diagonal hatching, aligned to the time axis so it scrolls with it.
      const stepPx = 8;
      const offset = timeToX(view, 0) % stepPx;
      const first = Math.floor((x0 - height - offset) / stepPx) * stepPx + offset;
      for (let x = first; x < x1; x += stepPx) {
        ctx.moveTo(x, top + height);
        ctx.lineTo(x + height, top);
      }
      ctx.stroke();
      ctx.restore();
    };
    shade(view.startT - 1, sessions[0]!.start);
    for (let i = 0; i < sessions.length; i++) {
      const end = sessions[i]!.end;
      if (end === null) continue;
      const next = sessions[i + 1]?.start ?? Math.max(end, this.liveT, to);
      shade(end, next);
    }
    ctx.setLineDash([3, 3]);
    ctx.strokeStyle = theme.muted;
    ctx.lineWidth = 1;
    ctx.beginPath();
    for (const session of sessions) {
      for (const t of [session.start, session.end]) {
        if (t === null || t < view.startT || t > to) continue;
        const x = Math.round(timeToX(view, t)) + 0.5;
        ctx.moveTo(x, top);
        ctx.lineTo(x, layout.totalHeight);
      }
    }
    ctx.stroke();
    ctx.setLineDash([]);
  }

  private drawTurnBands(ctx: Context2D, view: TimeView, turns: TurnTrack[]): void {
    const { theme, layout } = this;
    const multi = this.model.sessions.length > 1;
    const selectedTurn = this.selected?.kind === 'latency' ? this.selected.turn.key : null;
    ctx.font = this.font(10, 600);
    ctx.textBaseline = 'middle';
    ctx.textAlign = 'left';
    const ordered = [...turns].sort((a, b) => a.start - b.start);
    const starts = ordered.map((turn) => timeToX(view, turn.start));
    if (selectedTurn !== null) {
      const turn = turns.find((t) => t.key === selectedTurn);
      if (turn) {
        const x = timeToX(view, turn.start);
        const end = turn.open > 0 ? Math.max(turn.end, this.liveT) : turn.end;
        ctx.save();
        ctx.globalAlpha = 0.08;
        ctx.fillStyle = theme.selection;
        ctx.fillRect(x, layout.axisHeight, timeToX(view, end) - x, layout.totalHeight - layout.axisHeight);
        ctx.restore();
      }
    }
    // Turn starts: one path for all the lines.
    ctx.strokeStyle = theme.grid;
    ctx.lineWidth = 1;
    ctx.beginPath();
    let lastLine = Number.NEGATIVE_INFINITY;
    for (const x of starts) {
      const px = Math.round(x) + 0.5;
      if (px - lastLine < 2) continue;
      lastLine = px;
      ctx.moveTo(px, layout.axisHeight - 10);
      ctx.lineTo(px, layout.totalHeight);
    }
    ctx.stroke();
    ctx.fillStyle = theme.foreground;
    for (let i = 0; i < ordered.length; i++) {
      const turn = ordered[i]!;
      const x = starts[i]!;
      // The longest label that fits before the next turn starts.
      const left = Math.max(view.x0 + 2, x + 3);
      const next = starts[i + 1] ?? Number.POSITIVE_INFINITY;
      const room = Math.min(next, view.x0 + view.width) - left - 4;
      if (room < 14) continue;
      const full = turnLabel(turn, multi);
      const short = turn.index < 0 ? 'G' : `T${turn.index}`;
      const label = [full, turnLabel(turn, false), short].find((l) => ctx.measureText(l).width <= room);
      if (label) ctx.fillText(label, left, layout.axisHeight - 7);
    }
  }

  private drawSparkline(ctx: Context2D, view: TimeView): void {
    const lane = this.laneOf('speech');
    if (!lane) return;
    const fine = this.model.sparkline;
    const coarse = this.model.sparklineCoarse;
    const to = viewEnd(view);
    const fineStart = fine.oldest;
    ctx.save();
    ctx.fillStyle = this.theme.user;
    ctx.strokeStyle = this.theme.user;
    const bottom = lane.top + lane.height - 4;
    const scale = lane.height - 7;
    if (fineStart === null || fineStart > view.startT) {
      this.sparkPath(ctx, view, coarse, view.startT, Math.min(to, fineStart ?? to), bottom, scale);
    }
    if (fineStart !== null && fineStart <= to) {
      this.sparkPath(ctx, view, fine, Math.max(view.startT, fineStart), to, bottom, scale);
    }
    if (this.threshold !== null) {
      const y = Math.round(bottom - this.threshold * scale) + 0.5;
      ctx.globalAlpha = 0.8;
      ctx.setLineDash([3, 3]);
      ctx.lineWidth = 1;
      ctx.beginPath();
      ctx.moveTo(view.x0, y);
      ctx.lineTo(view.x0 + view.width, y);
      ctx.stroke();
      ctx.setLineDash([]);
      ctx.globalAlpha = 1;
    }
    ctx.restore();
  }

  private sparkPath(
    ctx: Context2D,
    view: TimeView,
    ring: ProbabilityRing,
    from: number,
    to: number,
    bottom: number,
    scale: number,
  ): void {
    if (to <= from) return;
    // Max per pixel column: never more points than the view has pixels.
    const xs: number[] = [];
    const ps: number[] = [];
    let column = Number.NaN;
    let peak = 0;
    ring.forEachInRange(from, to, (t, p) => {
      const x = Math.floor(timeToX(view, t));
      if (x !== column) {
        if (!Number.isNaN(column)) {
          xs.push(column);
          ps.push(peak);
        }
        column = x;
        peak = p;
      } else if (p > peak) peak = p;
    });
    if (!Number.isNaN(column)) {
      xs.push(column);
      ps.push(peak);
    }
    if (!xs.length) return;
    const bucketPx = Math.max(1, ring.bucketMs / view.msPerPx);
    const trace = () => {
      for (let i = 0; i < xs.length; i++) {
        const x = xs[i]!;
        const y = bottom - ps[i]! * scale;
        const next = Math.min(xs[i + 1] ?? x + bucketPx, x + bucketPx);
        ctx.lineTo(x, y);
        ctx.lineTo(next, y);
      }
    };
    const end = Math.min(xs.at(-1)! + bucketPx, xs.at(-1)! + bucketPx);
    ctx.beginPath();
    ctx.moveTo(xs[0]!, bottom);
    trace();
    ctx.lineTo(end, bottom);
    ctx.closePath();
    ctx.globalAlpha = 0.22;
    ctx.fill();
    ctx.beginPath();
    ctx.moveTo(xs[0]!, bottom - ps[0]! * scale);
    trace();
    ctx.globalAlpha = 0.9;
    ctx.lineWidth = 1;
    ctx.stroke();
    ctx.globalAlpha = 1;
  }

  private drawItem(ctx: Context2D, item: TimelineItem, view: TimeView): void {
    const lane = this.laneOf(item.lane);
    if (!lane) return;
    const box = itemBox(item, lane, view, this.liveT);
    const theme = this.theme;
    // Zoomed far out: interims vanish, marks sharing a pixel are drawn once, thin spans are plain bars.
    if (item.start === item.end) {
      if (item.kind === 'transcript' && !item.final && view.msPerPx > 40) return;
      const x = Math.round(box.x);
      const last = this.markColumns.get(item.lane);
      if (last !== undefined && Math.abs(last - x) < 2 && view.msPerPx > 5) return;
      this.markColumns.set(item.lane, x);
    } else if (box.w < 3) {
      ctx.fillStyle = this.laneColour(item.lane);
      ctx.globalAlpha = 0.8;
      ctx.fillRect(box.x, box.y, Math.max(1, box.w), box.h);
      ctx.globalAlpha = 1;
      return;
    }
    switch (item.kind) {
      case 'speech': {
        // A light band with a solid base: the VAD probability is drawn over it.
        this.bar(ctx, box, theme.user, 0.16);
        ctx.fillStyle = theme.user;
        ctx.fillRect(box.x, box.y + box.h - 3, box.w, 3);
        // When the VAD decided (start after min speech, end after min silence).
        const decided = timeToX(view, item.detectedAt);
        ctx.fillRect(Math.round(decided) - 0.5, box.y + box.h - 7, 1.5, 7);
        if (item.endDetectedAt !== null) {
          const confirmed = timeToX(view, item.endDetectedAt);
          ctx.globalAlpha = 0.5;
          ctx.fillRect(box.x + box.w, box.y + box.h - 2, Math.max(0, confirmed - box.x - box.w), 2);
          ctx.globalAlpha = 1;
          ctx.fillRect(Math.round(confirmed) - 0.5, box.y + box.h - 7, 1.5, 7);
        }
        if (item.end === null) this.openEdge(ctx, box, theme.user);
        break;
      }
      case 'wait': {
        const colour = theme.endpointing;
        this.bar(ctx, box, colour, item.cancelledAt === null ? 0.28 : 0.12);
        this.outline(ctx, box, colour, item.cancelledAt === null ? [] : [3, 2]);
        const decided = timeToX(view, item.decidedAt);
        ctx.fillStyle = colour;
        ctx.fillRect(Math.round(decided) - 0.5, box.y, 1.5, box.h);
        this.label(ctx, box, spanLabel(item), readableOn(colour, 0.28, theme.background));
        break;
      }
      case 'speculation': {
        const colour =
          item.outcome === 'reused'
            ? theme.reused
            : item.outcome === 'discarded'
              ? theme.discarded
              : item.outcome === 'pending'
                ? theme.preemptive
                : theme.cancelled;
        this.bar(ctx, box, colour, item.outcome === 'pending' || item.outcome === 'reused' ? 0.75 : 0.35);
        if (item.outcome === 'cancelled' || item.outcome === 'discarded') this.strike(ctx, box, colour);
        if (item.end === null) this.openEdge(ctx, box, colour);
        const strong = item.outcome === 'pending' || item.outcome === 'reused';
        this.label(ctx, box, spanLabel(item), readableOn(colour, strong ? 0.75 : 0.35, theme.background));
        break;
      }
      case 'llm':
      case 'tts': {
        const colour = item.kind === 'llm' ? theme.llm : theme.tts;
        const first = item.kind === 'llm' ? item.firstTokenAt : item.firstAudioAt;
        const firstX = first === null ? box.x + box.w : Math.min(box.x + box.w, timeToX(view, first));
        const aborted = item.outcome === 'aborted' || item.outcome === 'stopped';
        // Waiting for the first token / audio: light; streaming: solid.
        this.bar(ctx, { ...box, w: Math.max(1, firstX - box.x) }, colour, aborted ? 0.18 : 0.3);
        if (first !== null && firstX < box.x + box.w)
          this.bar(ctx, { ...box, x: firstX, w: box.x + box.w - firstX }, colour, aborted ? 0.4 : 0.85);
        if (first !== null) {
          ctx.fillStyle = theme.foreground;
          ctx.fillRect(Math.round(firstX) - 1, box.y - 1, 2, box.h + 2);
        }
        if (item.kind === 'llm' && item.preemptive) this.outline(ctx, box, colour, [2, 2]);
        if (aborted) this.endCap(ctx, box, theme.discarded);
        if (item.end === null) this.openEdge(ctx, box, colour);
        // The label starts on the light part (waiting for the first token or audio).
        this.label(ctx, box, spanLabel(item), readableOn(colour, aborted ? 0.18 : 0.3, theme.background));
        break;
      }
      case 'agent': {
        this.bar(ctx, box, theme.agent, 0.85);
        for (const pause of item.pauses) {
          const px0 = timeToX(view, pause.start);
          const px1 = timeToX(view, pause.end ?? Math.max(pause.start, this.liveT));
          ctx.fillStyle = theme.background;
          ctx.fillRect(px0, box.y + 1, Math.max(1, px1 - px0), box.h - 2);
          this.outline(ctx, { x: px0, y: box.y, w: Math.max(1, px1 - px0), h: box.h }, theme.agent, [2, 2]);
        }
        if (item.outcome === 'interrupted') this.endCap(ctx, box, theme.interruption);
        if (item.end === null) this.openEdge(ctx, box, theme.agent);
        this.label(ctx, box, spanLabel(item), readableOn(theme.agent, 0.85, theme.background));
        break;
      }
      case 'transcript': {
        const x = Math.round(box.x + box.w / 2);
        if (item.final) {
          ctx.fillStyle = theme.transcript;
          ctx.fillRect(x - 1, box.y, 2, box.h);
          this.diamond(ctx, x, box.y + 3, item.speechFinal ? 4 : 3, theme.transcript, true);
        } else {
          ctx.fillStyle = theme.transcript;
          ctx.globalAlpha = 0.55;
          ctx.fillRect(x - 0.5, box.y + box.h * 0.35, 1, box.h * 0.65);
          ctx.globalAlpha = 1;
        }
        break;
      }
      case 'turn_event': {
        const x = box.x + box.w / 2;
        const y = box.y + box.h / 2;
        if (item.event === 'StartOfTurn') this.triangle(ctx, x, y, 4.5, theme.turn);
        else if (item.event === 'EagerEndOfTurn') this.diamond(ctx, x, y, 4.5, theme.eager, true);
        else if (item.event === 'TurnResumed') this.circle(ctx, x, y, 3.5, theme.eager, false);
        else this.square(ctx, x, y, 3.5, theme.turn);
        if (view.msPerPx < 6) this.markLabel(ctx, x, y, shortTurnEvent(item.event));
        break;
      }
      case 'commit': {
        const x = Math.round(box.x + box.w / 2);
        ctx.fillStyle = theme.accent;
        ctx.fillRect(x - 1, lane.top + 1, 2, lane.height - 2);
        if (view.msPerPx < 6) this.markLabel(ctx, x + 2, box.y + box.h / 2, 'commit');
        break;
      }
      case 'detector': {
        const x = box.x + box.w / 2;
        const y = box.y + box.h / 2;
        // The silence judged: a bracket from where it began to the verdict (solid: a short pause).
        if (item.silenceStart !== null) {
          const x0 = timeToX(view, item.silenceStart);
          ctx.save();
          ctx.strokeStyle = theme.endpointing;
          ctx.lineWidth = 1;
          if (!item.early) ctx.setLineDash([2, 2]);
          ctx.beginPath();
          ctx.moveTo(x0 + 0.5, y - 4);
          ctx.lineTo(x0 + 0.5, y);
          ctx.lineTo(x, y);
          ctx.stroke();
          ctx.restore();
        }
        this.circle(ctx, x, y, 3, theme.endpointing, item.likelyEnd);
        if (view.msPerPx < 6) this.markLabel(ctx, x, y, detectorLabel(item));
        break;
      }
      case 'settings': {
        // Across every lane: the turns after it run under the new settings.
        const x = Math.round(box.x) + 0.5;
        const { layout } = this;
        ctx.save();
        ctx.strokeStyle = theme.accent;
        ctx.lineWidth = 1.5;
        ctx.setLineDash([4, 3]);
        ctx.beginPath();
        ctx.moveTo(x, layout.axisHeight);
        ctx.lineTo(x, layout.totalHeight);
        ctx.stroke();
        ctx.restore();
        this.diamond(ctx, x, box.y + box.h / 2, 5, theme.accent, true);
        this.markLabel(ctx, x, box.y + box.h / 2, `settings ${item.number}`);
        break;
      }
      case 'skipped':
        this.cross(ctx, box.x + box.w / 2, box.y + box.h / 2, 3, theme.cancelled);
        break;
      case 'interruption': {
        const x = box.x + box.w / 2;
        const y = box.y + box.h / 2;
        switch (item.interruption) {
          case 'detected':
            this.circle(ctx, x, y, 4, theme.eager, true);
            break;
          case 'true':
            this.triangle(ctx, x, y, 5, theme.interruption, 'down');
            break;
          case 'false':
            this.circle(ctx, x, y, 4, theme.falseInterruption, false);
            break;
          case 'resumed':
            this.triangle(ctx, x, y, 4.5, theme.resumed);
            break;
          case 'ignored':
            this.circle(ctx, x, y, 2, theme.falseInterruption, true);
            break;
        }
        if (view.msPerPx < 6) this.markLabel(ctx, x, y, item.interruption);
        break;
      }
      case 'error':
        this.triangle(ctx, box.x + box.w / 2, box.y + box.h / 2, 5, theme.error, 'up');
        break;
    }
  }

  private drawTranscriptLabels(ctx: Context2D, view: TimeView, finals: TimelineItem[]): void {
    const lane = this.laneOf('transcript');
    if (!lane || !finals.length) return;
    finals.sort((a, b) => a.start - b.start);
    ctx.font = this.font(10);
    ctx.textBaseline = 'middle';
    ctx.textAlign = 'left';
    ctx.fillStyle = this.theme.foreground;
    for (let i = 0; i < finals.length; i++) {
      const item = finals[i]!;
      const x = timeToX(view, item.start) + 6;
      const next = finals[i + 1];
      const limit = Math.min(next ? timeToX(view, next.start) - 4 : x + 260, x + 260) - x;
      const text = this.fit(spanLabel(item), limit);
      if (text) ctx.fillText(text, x, lane.top + lane.height / 2 + 3);
    }
  }

  private drawLatencyRow(ctx: Context2D, view: TimeView, turns: TurnTrack[]): void {
    const { theme } = this;
    const row = this.layout.latency;
    const y = row.top + 5;
    const h = row.height - 10;
    ctx.font = this.font(10, 600);
    ctx.textBaseline = 'middle';
    ctx.textAlign = 'left';
    const brackets = turns
      .map((turn) => {
        const latency = this.model.latency(turn);
        const extent = latencyExtent(latency, this.liveT);
        return extent
          ? { latency, extent, x0: timeToX(view, extent.start), x1: timeToX(view, extent.end) }
          : null;
      })
      .filter((b): b is NonNullable<typeof b> => b !== null)
      .sort((a, b) => a.x0 - b.x0);
    brackets.forEach(({ latency, extent, x0, x1 }, i) => {
      if (x1 - x0 < 3) {
        ctx.globalAlpha = 0.6;
        ctx.fillStyle = theme.accent;
        ctx.fillRect(x0, y, Math.max(1, x1 - x0), h);
        ctx.globalAlpha = 1;
        return;
      }
      const commit =
        latency.committedAt === null ? x1 : Math.min(x1, Math.max(x0, timeToX(view, latency.committedAt)));
      // End of speech → commit (end-of-turn delay), commit → first audio (the response).
      this.bar(ctx, { x: x0, y, w: Math.max(1, commit - x0), h }, theme.endpointing, 0.55);
      if (x1 > commit)
        this.bar(ctx, { x: commit, y, w: x1 - commit, h }, theme.accent, extent.open ? 0.3 : 0.6);
      // What it would have been without preemption (dashed ghost after the first audio).
      const ghost = latency.saved && !extent.open ? latency.saved / view.msPerPx : 0;
      if (ghost) this.outline(ctx, { x: x1, y, w: ghost, h }, theme.reused, [3, 2]);
      const e2e =
        latency.e2e !== null
          ? `e2e ${formatDuration(latency.e2e)}`
          : extent.open
            ? `waiting ${formatDuration(extent.end - extent.start)}`
            : '';
      if (!e2e) return;
      const full = latency.saved ? `${e2e}  ·  saved ≈ ${formatDuration(latency.saved)}` : e2e;
      const nextX = brackets[i + 1]?.x0 ?? view.x0 + view.width;
      ctx.fillStyle = theme.foreground;
      // Inside the bracket when it fits, else after it, up to the next bracket.
      const insideRoom = x1 + ghost - x0 - 8;
      const inside =
        insideRoom > 30 ? [full, e2e].find((t) => ctx.measureText(t).width <= insideRoom) : undefined;
      if (inside) {
        ctx.fillText(inside, Math.max(x0, view.x0) + 4, row.top + row.height / 2);
        return;
      }
      const after = x1 + ghost + 6;
      const room = Math.min(nextX - 6, view.x0 + view.width) - after;
      if (room < 30) return;
      const text = [full, e2e, e2e.replace('e2e ', '')].find((t) => ctx.measureText(t).width <= room);
      if (text) ctx.fillText(text, after, row.top + row.height / 2);
    });
  }

  private drawHighlights(ctx: Context2D, view: TimeView): void {
    const stroke = (target: HitTarget, colour: string, width: number) => {
      const box = this.boxOfIn(target, view);
      if (!box) return;
      ctx.save();
      ctx.strokeStyle = colour;
      ctx.lineWidth = width;
      ctx.strokeRect(box.x - 1.5, box.y - 1.5, box.w + 3, box.h + 3);
      ctx.restore();
    };
    if (this.hovered) stroke(this.hovered.target, this.theme.foreground, 1.5);
    if (this.selected) stroke(this.selected, this.theme.selection, 2);
  }

  private boxOfIn(target: HitTarget, view: TimeView): Box | null {
    if (target.kind === 'item') {
      const lane = this.laneOf(target.item.lane);
      return lane ? itemBox(target.item, lane, view, this.liveT) : null;
    }
    const extent = latencyExtent(this.model.latency(target.turn), this.liveT);
    if (!extent) return null;
    const x0 = timeToX(view, extent.start);
    return {
      x: x0,
      y: this.layout.latency.top + 5,
      w: Math.max(2, timeToX(view, extent.end) - x0),
      h: this.layout.latency.height - 10,
    };
  }

  private drawLiveEdge(ctx: Context2D, view: TimeView): void {
    if (!this.model.isRunning && !this.model.turns.length) return;
    const x = timeToX(view, this.liveT);
    if (x < view.x0 || x > view.x0 + view.width) return;
    const { theme, layout } = this;
    ctx.fillStyle = this.model.isRunning ? theme.live : theme.muted;
    ctx.fillRect(Math.round(x), layout.axisHeight, 1.5, layout.totalHeight - layout.axisHeight);
    ctx.beginPath();
    ctx.moveTo(x - 4, layout.axisHeight - 5);
    ctx.lineTo(x + 5.5, layout.axisHeight - 5);
    ctx.lineTo(x + 0.75, layout.axisHeight);
    ctx.closePath();
    ctx.fill();
  }

  private drawCursor(ctx: Context2D, view: TimeView): void {
    const p = this.pointer;
    if (!p || this.drag?.moved || p.x < view.x0) return;
    const { theme, layout } = this;
    const t = xToTime(view, p.x);
    ctx.save();
    ctx.globalAlpha = 0.5;
    ctx.fillStyle = theme.foreground;
    ctx.fillRect(Math.round(p.x), layout.axisHeight, 1, layout.totalHeight - layout.axisHeight);
    ctx.restore();
    const label = formatTime(t);
    ctx.font = this.font(10, 600);
    const w = ctx.measureText(label).width + 8;
    const x = Math.min(view.x0 + view.width - w, Math.max(view.x0, p.x - w / 2));
    ctx.fillStyle = theme.foreground;
    ctx.fillRect(x, 2, w, 14);
    ctx.fillStyle = theme.background;
    ctx.textAlign = 'left';
    ctx.textBaseline = 'middle';
    ctx.fillText(label, x + 4, 9);
  }

  // ------------------------------------------------------------ primitives

  private bar(ctx: Context2D, box: Box, colour: string, alpha: number): void {
    ctx.globalAlpha = alpha;
    ctx.fillStyle = colour;
    const r = Math.min(3, box.w / 2, box.h / 2);
    ctx.beginPath();
    ctx.roundRect(box.x, box.y, box.w, box.h, r);
    ctx.fill();
    ctx.globalAlpha = 1;
  }

  private outline(ctx: Context2D, box: Box, colour: string, dash: number[]): void {
    ctx.save();
    ctx.setLineDash(dash);
    ctx.strokeStyle = colour;
    ctx.lineWidth = 1;
    ctx.strokeRect(box.x + 0.5, box.y + 0.5, Math.max(0, box.w - 1), Math.max(0, box.h - 1));
    ctx.restore();
  }

  private strike(ctx: Context2D, box: Box, colour: string): void {
    ctx.strokeStyle = colour;
    ctx.lineWidth = 1;
    ctx.beginPath();
    ctx.moveTo(box.x, box.y + box.h / 2);
    ctx.lineTo(box.x + box.w, box.y + box.h / 2);
    ctx.stroke();
  }

  private endCap(ctx: Context2D, box: Box, colour: string): void {
    ctx.fillStyle = colour;
    ctx.fillRect(box.x + box.w - 2.5, box.y - 1, 2.5, box.h + 2);
  }

  private openEdge(ctx: Context2D, box: Box, colour: string): void {
    // A growing span: a soft chevron at its live end.
    const x = box.x + box.w;
    ctx.fillStyle = colour;
    ctx.beginPath();
    ctx.moveTo(x, box.y);
    ctx.lineTo(x + 4, box.y + box.h / 2);
    ctx.lineTo(x, box.y + box.h);
    ctx.closePath();
    ctx.fill();
  }

  private label(ctx: Context2D, box: Box, text: string, colour: string): void {
    if (box.w < 28 || !text) return;
    const left = Math.max(box.x, this.view.x0) + 4;
    const width = box.x + box.w - left - 4;
    const fitted = this.fit(text, width);
    if (!fitted) return;
    ctx.font = this.font(10, 500);
    ctx.textAlign = 'left';
    ctx.textBaseline = 'middle';
    ctx.fillStyle = colour;
    ctx.fillText(fitted, left, box.y + box.h / 2 + 0.5);
  }

  private markLabel(ctx: Context2D, x: number, y: number, text: string): void {
    ctx.font = this.font(9);
    ctx.textAlign = 'left';
    ctx.textBaseline = 'middle';
    ctx.fillStyle = this.theme.muted;
    ctx.fillText(text, x + 7, y);
  }

  private circle(ctx: Context2D, x: number, y: number, r: number, colour: string, fill: boolean): void {
    ctx.beginPath();
    ctx.arc(x, y, r, 0, Math.PI * 2);
    if (fill) {
      ctx.fillStyle = colour;
      ctx.fill();
    } else {
      ctx.strokeStyle = colour;
      ctx.lineWidth = 1.5;
      ctx.stroke();
    }
  }

  private diamond(ctx: Context2D, x: number, y: number, r: number, colour: string, fill: boolean): void {
    ctx.beginPath();
    ctx.moveTo(x, y - r);
    ctx.lineTo(x + r, y);
    ctx.lineTo(x, y + r);
    ctx.lineTo(x - r, y);
    ctx.closePath();
    if (fill) {
      ctx.fillStyle = colour;
      ctx.fill();
    } else {
      ctx.strokeStyle = colour;
      ctx.stroke();
    }
  }

  private square(ctx: Context2D, x: number, y: number, r: number, colour: string): void {
    ctx.fillStyle = colour;
    ctx.fillRect(x - r, y - r, r * 2, r * 2);
  }

  private triangle(
    ctx: Context2D,
    x: number,
    y: number,
    r: number,
    colour: string,
    direction: 'right' | 'down' | 'up' = 'right',
  ): void {
    ctx.beginPath();
    if (direction === 'right') {
      ctx.moveTo(x - r * 0.7, y - r);
      ctx.lineTo(x + r, y);
      ctx.lineTo(x - r * 0.7, y + r);
    } else if (direction === 'down') {
      ctx.moveTo(x - r, y - r * 0.7);
      ctx.lineTo(x + r, y - r * 0.7);
      ctx.lineTo(x, y + r);
    } else {
      ctx.moveTo(x - r, y + r * 0.7);
      ctx.lineTo(x + r, y + r * 0.7);
      ctx.lineTo(x, y - r);
    }
    ctx.closePath();
    ctx.fillStyle = colour;
    ctx.fill();
  }

  private cross(ctx: Context2D, x: number, y: number, r: number, colour: string): void {
    ctx.strokeStyle = colour;
    ctx.lineWidth = 1.5;
    ctx.beginPath();
    ctx.moveTo(x - r, y - r);
    ctx.lineTo(x + r, y + r);
    ctx.moveTo(x + r, y - r);
    ctx.lineTo(x - r, y + r);
    ctx.stroke();
  }
}

function shortTurnEvent(event: string): string {
  switch (event) {
    case 'StartOfTurn':
      return 'start';
    case 'EagerEndOfTurn':
      return 'eager';
    case 'TurnResumed':
      return 'resumed';
    case 'EndOfTurn':
      return 'end';
    default:
      return event;
  }
}

export function sameTarget(a: HitTarget | null, b: HitTarget | null): boolean {
  if (a === null || b === null) return a === b;
  if (a.kind === 'item' && b.kind === 'item') return a.item.id === b.item.id;
  if (a.kind === 'latency' && b.kind === 'latency') return a.turn.key === b.turn.key;
  return false;
}
