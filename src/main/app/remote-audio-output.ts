import type { AudioDown, AudioUp } from '../../shared/contract';
import type { Clock, TimerHandle } from '../engine/clock';
import type { AudioOutput, PlaybackListener, TtsAudio } from '../engine/ports';

interface Utterance {
  queuedMs: number;
  startedAt: number | null;
  pausedMs: number;
  ended: boolean;
  watchdog: TimerHandle | undefined;
}

/** How long past its expected end an utterance may go unreported before it is taken as finished. */
const FINISH_GRACE_MS = 5000;

/**
 * The engine's audio output when the speaker is in the renderer: audio goes down the audio
 * channel, and the renderer's playback worklet reports when each utterance became audible and
 * finished, so latency is measured at the speaker. If those reports stop coming (the window
 * closed), a watchdog finishes the utterance so the session never hangs.
 */
export class RemoteAudioOutput implements AudioOutput {
  private listener: PlaybackListener | undefined;
  private readonly utterances = new Map<number, Utterance>();
  private pausedAt: number | null = null;

  constructor(
    private readonly clock: Clock,
    private readonly send: (message: AudioDown) => void,
  ) {}

  setListener(listener: PlaybackListener): void {
    this.listener = listener;
  }

  write(utteranceId: number, audio: TtsAudio): void {
    const u = this.utterance(utteranceId);
    u.queuedMs += (audio.samples.length / audio.sampleRate) * 1000;
    this.send({
      type: 'audio',
      utterance: utteranceId,
      samples: audio.samples,
      sampleRate: audio.sampleRate,
    });
  }

  end(utteranceId: number): void {
    const u = this.utterance(utteranceId);
    u.ended = true;
    this.send({ type: 'end', utterance: utteranceId });
    if (u.queuedMs === 0) {
      this.finish(utteranceId, this.clock.now());
      return;
    }
    this.armWatchdog(utteranceId, u);
  }

  pause(): void {
    if (this.pausedAt !== null) return;
    this.pausedAt = this.clock.now();
    this.send({ type: 'pause' });
  }

  resume(): void {
    if (this.pausedAt === null) return;
    const paused = this.clock.now() - this.pausedAt;
    this.pausedAt = null;
    for (const [id, u] of this.utterances) {
      if (u.startedAt !== null) u.pausedMs += paused;
      if (u.ended) this.armWatchdog(id, u);
    }
    this.send({ type: 'resume' });
  }

  clear(utteranceId: number): number {
    const heard = this.playedMs(utteranceId);
    const u = this.utterances.get(utteranceId);
    this.clock.clearTimeout(u?.watchdog);
    this.utterances.delete(utteranceId);
    this.send({ type: 'clear', utterance: utteranceId });
    return heard;
  }

  playedMs(utteranceId: number): number {
    const u = this.utterances.get(utteranceId);
    if (!u || u.startedAt === null) return 0;
    const until = this.pausedAt ?? this.clock.now();
    return Math.max(0, Math.min(u.queuedMs, until - u.startedAt - u.pausedMs));
  }

  /** A playback report from the renderer. */
  report(message: Extract<AudioUp, { type: 'played' | 'finished' }>): void {
    const at = this.clock.now() - Math.max(0, message.ageMs);
    const u = this.utterances.get(message.utterance);
    if (!u) return;
    if (message.type === 'played') {
      if (u.startedAt !== null) return;
      u.startedAt = at;
      this.listener?.onStarted(message.utterance, at);
    } else {
      this.finish(message.utterance, at);
    }
  }

  private utterance(id: number): Utterance {
    let u = this.utterances.get(id);
    if (!u) {
      u = { queuedMs: 0, startedAt: null, pausedMs: 0, ended: false, watchdog: undefined };
      this.utterances.set(id, u);
    }
    return u;
  }

  private armWatchdog(id: number, u: Utterance): void {
    this.clock.clearTimeout(u.watchdog);
    const remaining = u.queuedMs - this.playedMs(id);
    u.watchdog = this.clock.setTimeout(() => {
      if (this.pausedAt !== null) return; // resume() re-arms it
      if (u.startedAt === null) {
        u.startedAt = this.clock.now() - u.queuedMs;
        this.listener?.onStarted(id, u.startedAt);
      }
      this.finish(id, this.clock.now());
    }, remaining + FINISH_GRACE_MS);
  }

  private finish(id: number, at: number): void {
    const u = this.utterances.get(id);
    if (!u) return;
    this.clock.clearTimeout(u.watchdog);
    this.utterances.delete(id);
    this.listener?.onFinished(id, at);
  }
}
