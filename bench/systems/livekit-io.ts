/**
 * Audio I/O for running LiveKit Agents headless: the case microphone as a `voice.AudioInput`,
 * and a virtual real-time speaker as a `voice.AudioOutput`.
 *
 * The speaker owns a playback cursor on the wall clock (its `now`, performance.now by default,
 * with real timers): a frame captured while the speaker is idle is audible at once, any other
 * frame after what is already queued. A segment (frames up to a `flush()` or `clearBuffer()`)
 * finishes when the cursor reaches its end, or at once when it is cleared, and reports to LiveKit
 * how much of it was actually heard, so that LiveKit's interruption truncation sees the position
 * a real speaker would have reached. `pause()` stops the cursor (the rest of the segment stays
 * queued) and `resume()` restarts it.
 */
import { stream, voice } from '@livekit/agents';
import { AudioFrame } from '@livekit/rtc-node';
import { installLiveKitLogging } from './livekit-log';

/** The case audio, pushed as it is streamed in real time. */
export class CaseAudioInput extends voice.AudioInput {
  private readonly channel = stream.createStreamChannel<AudioFrame>();
  private closed = false;

  constructor(private readonly sampleRate: number) {
    super();
    this.multiStream.addInputStream(this.channel.stream());
  }

  /** One frame of mono 16-bit samples (copied: LiveKit may keep the frame after this returns). */
  push(samples: Int16Array): void {
    if (this.closed || samples.length === 0) return;
    const data = Int16Array.from(samples);
    this.channel.write(new AudioFrame(data, this.sampleRate, 1, data.length)).catch(() => {
      // The session closed the stream meanwhile: the frame is not needed any more.
    });
  }

  override async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.channel.close().catch(() => {});
    await super.close();
  }
}

/** A segment the speaker has finished with (played out, or cut off by clearBuffer). */
export interface PlayedSegment<T> {
  /** What was current when its first frame was captured (see VirtualSpeaker's `tagOf`). */
  tag: T | undefined;
  /** When its first sample became audible (the speaker's `now`); null when nothing of it was heard. */
  audibleAt: number | null;
  /** Ms of it that played. */
  heardMs: number;
  /** Ms of audio captured for it. */
  capturedMs: number;
  interrupted: boolean;
  /** When it ended (played out or cut off), on the speaker's clock. */
  endedAt: number;
}

interface Segment<T> {
  tag: T | undefined;
  /** Ms of audio captured so far. */
  capturedMs: number;
  /** The cursor (ms into the segment) at `anchorAt`; while playing it runs on from there. */
  anchorPos: number;
  /** When (the speaker's `now`) the cursor was at `anchorPos`. */
  anchorAt: number;
  firstAudibleAt: number | null;
  flushed: boolean;
  timer: NodeJS.Timeout | undefined;
  done: Promise<void>;
  resolveDone: () => void;
}

export class VirtualSpeaker<T = unknown> extends voice.AudioOutput {
  /** Finished segments, in order. */
  readonly played: PlayedSegment<T>[] = [];
  private segment: Segment<T> | null = null;
  private paused = false;
  /** Bumped by clearBuffer: a capture that was waiting when it happened is dropped. */
  private generation = 0;

  /** `tagOf` is asked, when a segment starts, what the segment belongs to. */
  constructor(
    private readonly tagOf: () => T | undefined = () => undefined,
    private readonly now: () => number = () => performance.now(),
  ) {
    // No sample rate: frames are played at their own rate, so LiveKit never resamples for us.
    // (LiveKit's AudioOutput takes its logger on construction: it must be initialised first.)
    super(undefined, undefined, (installLiveKitLogging(), { pause: true }));
  }

  /** True when nothing is queued or playing. */
  get idle(): boolean {
    return this.segment === null;
  }

  override async captureFrame(frame: AudioFrame): Promise<void> {
    const generation = this.generation;
    // A new segment starts only once the previous one has played out (as LiveKit's room output).
    while (this.segment?.flushed) await this.segment.done;
    if (generation !== this.generation) return;
    await super.captureFrame(frame);
    const now = this.now();
    let seg = this.segment;
    if (!seg) {
      let resolveDone!: () => void;
      const done = new Promise<void>((resolve) => (resolveDone = resolve));
      seg = {
        tag: this.tagOf(),
        capturedMs: 0,
        anchorPos: 0,
        anchorAt: now,
        firstAudibleAt: null,
        flushed: false,
        timer: undefined,
        done,
        resolveDone,
      };
      this.segment = seg;
    }
    if (!this.paused) {
      const position = this.position(seg, now);
      if (position >= seg.capturedMs) {
        // Everything queued has played (or nothing was): this frame is audible from now on.
        this.progressed(seg, position, now);
        seg.anchorPos = seg.capturedMs;
        seg.anchorAt = now;
      }
    }
    seg.capturedMs += (frame.samplesPerChannel / frame.sampleRate) * 1000;
    if (!this.paused && seg.firstAudibleAt === null) {
      seg.firstAudibleAt = now;
      this.onPlaybackStarted(Date.now());
    }
  }

  override flush(): void {
    super.flush();
    const seg = this.segment;
    if (!seg || seg.flushed) return;
    seg.flushed = true;
    this.armFinish(seg);
  }

  clearBuffer(): void {
    this.generation++;
    const seg = this.segment;
    if (!seg) return;
    if (!seg.flushed) {
      super.flush();
      seg.flushed = true;
    }
    this.finish(seg, true);
  }

  override pause(): void {
    if (!this.paused) {
      const seg = this.segment;
      if (seg) {
        const now = this.now();
        const position = this.position(seg, now);
        this.progressed(seg, position, now);
        seg.anchorPos = position;
        seg.anchorAt = now;
        clearTimeout(seg.timer);
        seg.timer = undefined;
      }
      this.paused = true;
    }
    super.pause();
  }

  override resume(): void {
    if (this.paused) {
      this.paused = false;
      const seg = this.segment;
      if (seg) {
        const now = this.now();
        seg.anchorAt = now;
        if (seg.firstAudibleAt === null && seg.capturedMs > seg.anchorPos) {
          seg.firstAudibleAt = now;
          this.onPlaybackStarted(Date.now());
        }
        if (seg.flushed) this.armFinish(seg);
      }
    }
    super.resume();
  }

  /** Stops the pending timer (the session is gone): what is still queued counts as cut off. */
  stop(): void {
    if (this.segment) this.clearBuffer();
  }

  /** Where the cursor is in the segment, in ms. */
  private position(seg: Segment<T>, now: number): number {
    if (this.paused) return seg.anchorPos;
    return Math.min(seg.capturedMs, seg.anchorPos + Math.max(0, now - seg.anchorAt));
  }

  private armFinish(seg: Segment<T>): void {
    clearTimeout(seg.timer);
    seg.timer = undefined;
    if (this.paused) return;
    const remaining = Math.max(0, seg.capturedMs - this.position(seg, this.now()));
    seg.timer = setTimeout(() => this.finish(seg, false), remaining);
  }

  private finish(seg: Segment<T>, interrupted: boolean): void {
    if (this.segment !== seg) return;
    clearTimeout(seg.timer);
    seg.timer = undefined;
    const now = this.now();
    const heardMs = interrupted ? this.position(seg, now) : seg.capturedMs;
    this.progressed(seg, heardMs, now);
    this.segment = null;
    this.played.push({
      tag: seg.tag,
      audibleAt: heardMs > 0 ? seg.firstAudibleAt : null,
      heardMs,
      capturedMs: seg.capturedMs,
      interrupted,
      endedAt: now,
    });
    seg.resolveDone();
    this.onPlaybackFinished({ playbackPosition: heardMs / 1000, interrupted });
  }

  /** Reports the stretch played since the last anchor (LiveKit's playback-progressed event). */
  private progressed(seg: Segment<T>, position: number, now: number): void {
    if (this.paused) return;
    const duration = position - seg.anchorPos;
    if (duration <= 0) return;
    const startedAt = Date.now() - (now - seg.anchorAt);
    this.onPlaybackProgressed({ startedAt, offset: seg.anchorPos, duration });
  }
}
