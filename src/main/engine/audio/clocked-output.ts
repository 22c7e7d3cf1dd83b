import type { Clock, TimerHandle } from '../clock';
import type { AudioOutput, PlaybackListener, TtsAudio } from '../ports';

/**
 * Below this many ms left, an utterance counts as drained, and a lead of silence as passed: float
 * sums leave crumbs (87.3 ms of lead taken from t=1000 leaves 4e-14 ms), and a timer for a crumb
 * falls on the same clock time, so it would be set again and again without time moving.
 */
const DRAINED_MS = 1e-6;

interface Utterance {
  id: number;
  queuedMs: number;
  playedMs: number;
  ended: boolean;
  started: boolean;
}

export interface ClockedAudioOutputOptions {
  /** Fixed delay between a write and its first sample being audible (the output path's own latency). */
  outputLatencyMs?: number;
  /** Receives every chunk with the clock time it starts playing (e.g. to write a WAV). */
  onPlay?: (audio: TtsAudio, at: number) => void;
}

/**
 * A virtual speaker on the engine clock: plays queued audio in real time, can pause,
 * resume and clear, and reports when each utterance became audible and finished.
 * Used by replay, tests and the benchmark; the app's renderer worklet reports the same facts.
 */
export class ClockedAudioOutput implements AudioOutput {
  private readonly queue: Utterance[] = [];
  private listener: PlaybackListener | undefined;
  private paused = false;
  private lastSync: number;
  private timer: TimerHandle | undefined;
  private readonly latency: number;

  constructor(
    private readonly clock: Clock,
    private readonly options: ClockedAudioOutputOptions = {},
  ) {
    this.lastSync = clock.now();
    this.latency = options.outputLatencyMs ?? 0;
  }

  setListener(listener: PlaybackListener): void {
    this.listener = listener;
  }

  write(utteranceId: number, audio: TtsAudio): void {
    this.sync();
    let utterance = this.queue.find((u) => u.id === utteranceId);
    if (!utterance) {
      // From idle, the output path's latency is modelled as silence ahead of the first sample.
      const lead = this.queue.length === 0 ? this.latency : 0;
      utterance = { id: utteranceId, queuedMs: 0, playedMs: -lead, ended: false, started: false };
      this.queue.push(utterance);
    }
    const durationMs = (audio.samples.length / audio.sampleRate) * 1000;
    if (this.options.onPlay) {
      const ahead = this.queue.reduce((sum, u) => sum + (u.queuedMs - Math.min(u.playedMs, u.queuedMs)), 0);
      this.options.onPlay(audio, this.clock.now() + ahead);
    }
    utterance.queuedMs += durationMs;
    this.schedule();
  }

  end(utteranceId: number): void {
    this.sync();
    const utterance = this.queue.find((u) => u.id === utteranceId);
    if (!utterance) {
      this.listener?.onFinished(utteranceId, this.clock.now());
      return;
    }
    utterance.ended = true;
    this.sync();
    this.schedule();
  }

  pause(): void {
    this.sync();
    this.paused = true;
    this.clock.clearTimeout(this.timer);
  }

  resume(): void {
    this.sync();
    this.paused = false;
    this.schedule();
  }

  clear(utteranceId: number): number {
    this.sync();
    const index = this.queue.findIndex((u) => u.id === utteranceId);
    if (index < 0) return 0;
    const [removed] = this.queue.splice(index, 1);
    this.schedule();
    return Math.max(0, removed!.playedMs);
  }

  /** Ms heard of a queued (not yet finished) utterance. */
  playedMs(utteranceId: number): number {
    this.sync();
    const utterance = this.queue.find((u) => u.id === utteranceId);
    if (utterance) return Math.max(0, utterance.playedMs);
    return 0;
  }

  get isPaused(): boolean {
    return this.paused;
  }

  /** Ms of audio queued and not yet played (the output latency not included). */
  get bufferedMs(): number {
    this.sync();
    return this.queue.reduce((sum, u) => sum + (u.queuedMs - Math.max(0, u.playedMs)), 0);
  }

  /** Advances the playhead to now, firing started/finished at their exact times. */
  private sync(): void {
    const now = this.clock.now();
    let elapsed = now - this.lastSync;
    this.lastSync = now;
    if (this.paused) return;
    let cursor = now - elapsed;
    while (this.queue.length) {
      const head = this.queue[0]!;
      const remaining = head.queuedMs - head.playedMs;
      if (remaining <= DRAINED_MS) {
        if (!head.ended) break; // underrun: the next write plays as soon as it arrives
        this.queue.shift();
        this.listener?.onFinished(head.id, cursor);
        continue;
      }
      if (elapsed <= 0) break;
      const take = Math.min(elapsed, remaining);
      if (!head.started && head.playedMs + take > -DRAINED_MS) {
        head.started = true;
        this.listener?.onStarted(head.id, cursor + Math.max(0, -head.playedMs));
      }
      head.playedMs += take;
      cursor += take;
      elapsed -= take;
    }
  }

  private schedule(): void {
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    if (this.paused || !this.queue.length) return;
    const head = this.queue[0]!;
    const remaining = head.queuedMs - head.playedMs;
    if (!head.started && head.playedMs >= -DRAINED_MS && remaining > 0) {
      head.started = true;
      this.listener?.onStarted(head.id, this.clock.now());
    }
    if (remaining <= DRAINED_MS && !head.ended) return;
    const wait = !head.started && head.playedMs < 0 ? -head.playedMs : Math.max(0, remaining);
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      this.sync();
      this.schedule();
    }, wait);
  }
}
