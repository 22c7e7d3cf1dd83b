import type { EndpointingSettings } from '../../shared/settings';

const PAUSE_SMOOTHING = 0.3;
/** Headroom over the user's typical mid-turn pause, so a usual pause does not close the turn. */
const PAUSE_HEADROOM = 1.25;

/**
 * How long to wait after the user stops speaking before closing the turn.
 * `fixed` uses min_delay for a likely end and max_delay for an unlikely one.
 * `dynamic` learns the user's own mid-turn pauses and raises the likely-end wait
 * above them, always within [min_delay, max_delay].
 */
export class EndpointingPolicy {
  private typicalPauseMs: number | null = null;
  private samples = 0;

  constructor(private settings: EndpointingSettings) {}

  update(settings: EndpointingSettings): void {
    this.settings = settings;
  }

  /** Wait in ms for a likely (min side) or unlikely (max side) end of turn. */
  delayMs(likelyEnd: boolean): number {
    const min = this.settings.min_delay * 1000;
    const max = this.settings.max_delay * 1000;
    if (!likelyEnd) return max;
    if (this.settings.mode === 'fixed' || this.typicalPauseMs === null) return min;
    return Math.min(max, Math.max(min, this.typicalPauseMs * PAUSE_HEADROOM));
  }

  /** A silence after which the user went on speaking in the same turn. */
  observePause(ms: number): void {
    if (ms <= 0) return;
    this.samples++;
    this.typicalPauseMs =
      this.typicalPauseMs === null ? ms : this.typicalPauseMs + PAUSE_SMOOTHING * (ms - this.typicalPauseMs);
  }

  get learnedPauseMs(): number | null {
    return this.typicalPauseMs;
  }

  get pauseSamples(): number {
    return this.samples;
  }
}
