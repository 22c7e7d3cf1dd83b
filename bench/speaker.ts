/**
 * The benchmark's speaker: one virtual real-time speaker that every system under test plays
 * into (Cue through the engine's AudioOutput port, LiveKit through an adapter of its
 * `voice.AudioOutput`), so every system is timed at the same place by the same code.
 *
 * It plays utterances one after another on a clock (the real clock in the benchmark, a virtual
 * one in tests): audio written while the speaker is idle is audible at once, other audio after
 * what is queued; it can pause, resume and drop an utterance, and tells its listener when an
 * utterance became audible and when it finished, as a sound card's callback would. It also keeps
 * every sample it played, with the time each stretch became audible: the benchmark's measures
 * read that (and the simulators' records), never what a system says about itself.
 */
import type { Clock, TimerHandle } from '../src/main/engine/clock';
import type { AudioOutput, PlaybackListener, TtsAudio } from '../src/main/engine/ports';

/** Below this many ms left, an utterance counts as drained (sums of chunk durations leave crumbs). */
const DRAINED_MS = 1e-6;

/** Samples the speaker played without a break, and when the first of them became audible. */
export interface HeardStretch {
  /** The utterance they belong to (the id the system wrote them under). */
  utterance: number;
  /** Clock time (ms) the first sample became audible. */
  at: number;
  sampleRate: number;
  samples: Int16Array;
}

interface Chunk {
  samples: Int16Array;
  sampleRate: number;
  /** Ms into the utterance where the chunk starts. */
  startMs: number;
  durationMs: number;
}

interface Utterance {
  id: number;
  chunks: Chunk[];
  queuedMs: number;
  playedMs: number;
  ended: boolean;
  started: boolean;
}

/** A stretch of playback: [fromMs, toMs) of an utterance, audible from `at`. */
interface Played {
  utterance: Utterance;
  at: number;
  fromMs: number;
  toMs: number;
}

export class BenchSpeaker implements AudioOutput {
  private readonly queue: Utterance[] = [];
  private readonly played: Played[] = [];
  private listener: PlaybackListener | undefined;
  private paused = false;
  private lastSync: number;
  private timer: TimerHandle | undefined;

  constructor(private readonly clock: Clock) {
    this.lastSync = clock.now();
  }

  setListener(listener: PlaybackListener): void {
    this.listener = listener;
  }

  /**
   * The latest stretch of playback: when it became audible and when it stopped (or now, while
   * it plays); null before anything played. Cheap: for deciding when a run may end.
   */
  lastPlayed(): { at: number; until: number } | null {
    this.sync();
    const last = this.played.at(-1);
    return last ? { at: last.at, until: last.at + (last.toMs - last.fromMs) } : null;
  }

  /** Nothing queued or playing. */
  get idle(): boolean {
    this.sync();
    return this.queue.length === 0;
  }

  get isPaused(): boolean {
    return this.paused;
  }

  write(utteranceId: number, audio: TtsAudio): void {
    if (!audio.samples.length) return;
    this.sync();
    let utterance = this.queue.find((u) => u.id === utteranceId);
    if (!utterance) {
      utterance = { id: utteranceId, chunks: [], queuedMs: 0, playedMs: 0, ended: false, started: false };
      this.queue.push(utterance);
    }
    const durationMs = (audio.samples.length / audio.sampleRate) * 1000;
    utterance.chunks.push({
      samples: Int16Array.from(audio.samples),
      sampleRate: audio.sampleRate,
      startMs: utterance.queuedMs,
      durationMs,
    });
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
    this.timer = undefined;
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
    return removed!.playedMs;
  }

  /** Drops everything queued (the run is over): what played so far stays heard. */
  stop(): void {
    this.sync();
    this.queue.splice(0);
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  playedMs(utteranceId: number): number {
    this.sync();
    return this.queue.find((u) => u.id === utteranceId)?.playedMs ?? 0;
  }

  /** Everything played so far, as stretches of samples played without a break, in time order. */
  heard(): HeardStretch[] {
    this.sync();
    const out: HeardStretch[] = [];
    for (const p of this.played) {
      for (const chunk of p.utterance.chunks) {
        const from = Math.max(p.fromMs, chunk.startMs);
        const to = Math.min(p.toMs, chunk.startMs + chunk.durationMs);
        if (to - from <= DRAINED_MS) continue;
        const rate = chunk.sampleRate / 1000;
        const first = Math.round((from - chunk.startMs) * rate);
        const last = Math.min(chunk.samples.length, Math.round((to - chunk.startMs) * rate));
        if (last <= first) continue;
        const at = p.at + (from - p.fromMs);
        const previous = out.at(-1);
        const samples = chunk.samples.subarray(first, last);
        // Chunks that follow each other at the same rate in one stretch are one stretch.
        if (
          previous &&
          previous.utterance === p.utterance.id &&
          previous.sampleRate === chunk.sampleRate &&
          Math.abs(previous.at + (previous.samples.length / previous.sampleRate) * 1000 - at) < 0.5
        ) {
          const joined = new Int16Array(previous.samples.length + samples.length);
          joined.set(previous.samples);
          joined.set(samples, previous.samples.length);
          previous.samples = joined;
        } else {
          out.push({
            utterance: p.utterance.id,
            at,
            sampleRate: chunk.sampleRate,
            samples: Int16Array.from(samples),
          });
        }
      }
    }
    return out;
  }

  /** Advances the playhead to now, recording what played and firing started/finished at their times. */
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
      if (!head.started) {
        head.started = true;
        this.listener?.onStarted(head.id, cursor);
      }
      this.record(head, cursor, take);
      head.playedMs += take;
      cursor += take;
      elapsed -= take;
    }
  }

  private record(utterance: Utterance, at: number, ms: number): void {
    const last = this.played.at(-1);
    if (
      last &&
      last.utterance === utterance &&
      last.toMs === utterance.playedMs &&
      Math.abs(last.at + (last.toMs - last.fromMs) - at) < 1e-6
    ) {
      last.toMs += ms;
      return;
    }
    this.played.push({ utterance, at, fromMs: utterance.playedMs, toMs: utterance.playedMs + ms });
  }

  private schedule(): void {
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    if (this.paused || !this.queue.length) return;
    const head = this.queue[0]!;
    const remaining = head.queuedMs - head.playedMs;
    if (!head.started && remaining > DRAINED_MS) {
      head.started = true;
      this.listener?.onStarted(head.id, this.clock.now());
    }
    if (remaining <= DRAINED_MS && !head.ended) return;
    this.timer = this.clock.setTimeout(
      () => {
        this.timer = undefined;
        this.sync();
        this.schedule();
      },
      Math.max(0, remaining),
    );
  }
}
