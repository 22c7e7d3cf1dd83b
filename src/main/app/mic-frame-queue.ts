import { SAMPLE_RATE, type AudioFrame } from '../engine/ports';

/** Most microphone audio (ms) waiting to be processed; older frames are dropped beyond it. */
export const MAX_PENDING_MIC_MS = 2000;

export interface MicFrameQueueOptions {
  /** Processes one frame (the session's pushAudio); frames are processed one at a time, in order. */
  process(frame: AudioFrame): Promise<void>;
  /** A frame failed: it is skipped and the frames after it are processed. */
  onError(error: unknown): void;
  /** Processing fell behind by more than maxPendingMs: the oldest waiting frames were dropped. */
  onDropped(droppedMs: number): void;
  maxPendingMs?: number;
}

/**
 * The microphone's frames on their way into the voice session: processed one at a time in
 * capture order, a failed frame reported and skipped (the stream goes on), and at most
 * `maxPendingMs` of audio waiting. When processing falls further behind than that, the oldest
 * waiting frames are dropped, so what the engine hears stays close to real time.
 */
export class MicFrameQueue {
  private readonly waiting: AudioFrame[] = [];
  private waitingSamples = 0;
  private running = false;
  private idleWaiters: (() => void)[] = [];
  private readonly maxPendingSamples: number;

  constructor(private readonly options: MicFrameQueueOptions) {
    this.maxPendingSamples = Math.round(((options.maxPendingMs ?? MAX_PENDING_MIC_MS) * SAMPLE_RATE) / 1000);
  }

  /** Audio (ms) waiting to be processed. */
  get pendingMs(): number {
    return (this.waitingSamples * 1000) / SAMPLE_RATE;
  }

  push(frame: AudioFrame): void {
    this.waiting.push(frame);
    this.waitingSamples += frame.samples.length;
    let dropped = 0;
    while (this.waitingSamples > this.maxPendingSamples && this.waiting.length > 1) {
      const oldest = this.waiting.shift()!;
      this.waitingSamples -= oldest.samples.length;
      dropped += oldest.samples.length;
    }
    if (dropped > 0) this.options.onDropped((dropped * 1000) / SAMPLE_RATE);
    if (!this.running) void this.drain();
  }

  /** Resolves once every frame pushed so far has been processed (or dropped). */
  idle(): Promise<void> {
    if (!this.running && this.waiting.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private async drain(): Promise<void> {
    this.running = true;
    while (this.waiting.length) {
      const frame = this.waiting.shift()!;
      this.waitingSamples -= frame.samples.length;
      try {
        await this.options.process(frame);
      } catch (error) {
        this.options.onError(error);
      }
    }
    this.running = false;
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }
}
