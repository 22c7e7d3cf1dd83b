/**
 * Audio I/O for running LiveKit Agents headless: the case microphone as a `voice.AudioInput`,
 * and the benchmark's speaker (bench/speaker.ts) as a `voice.AudioOutput`.
 *
 * LiveKit plays a reply as a segment: frames up to a `flush()` (or until `clearBuffer()`). The
 * adapter writes each segment's frames into the benchmark's speaker as one utterance, starts a
 * segment only once the previous one has played out (as LiveKit's room output does), and tells
 * LiveKit when the segment became audible and how much of it was heard when it finished or was
 * cut off, so LiveKit's interruption handling sees the position a real speaker would have
 * reached. The speaker keeps what it played; the benchmark measures that, as for every system.
 */
import { stream, voice } from '@livekit/agents';
import { AudioFrame } from '@livekit/rtc-node';
import type { BenchSpeaker } from '../speaker';
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

interface Segment {
  id: number;
  flushed: boolean;
  done: Promise<void>;
  resolveDone: () => void;
}

/** LiveKit's audio output, played into the benchmark's speaker. */
export class SpeakerOutput extends voice.AudioOutput {
  private segment: Segment | null = null;
  private nextId = 0;
  /** Bumped by clearBuffer: a capture that was waiting when it happened is dropped. */
  private generation = 0;

  constructor(private readonly speaker: BenchSpeaker) {
    // No sample rate: frames are played at their own rate, so LiveKit never resamples for us.
    // (LiveKit's AudioOutput takes its logger on construction: it must be initialised first.)
    super(undefined, undefined, (installLiveKitLogging(), { pause: true }));
    speaker.setListener({
      onStarted: (id) => {
        if (this.segment?.id === id) this.onPlaybackStarted(Date.now());
      },
      onFinished: (id) => {
        const seg = this.segment;
        if (seg?.id === id) this.finish(seg, false, this.speaker.playedMs(id) || this.playedOut);
      },
    });
  }

  /** Ms of the segment that finished playing out (the speaker forgets it once finished). */
  private playedOut = 0;

  /** True when nothing is queued or playing. */
  get idle(): boolean {
    return this.segment === null && this.speaker.idle;
  }

  override async captureFrame(frame: AudioFrame): Promise<void> {
    const generation = this.generation;
    while (this.segment?.flushed) await this.segment.done;
    if (generation !== this.generation) return;
    await super.captureFrame(frame);
    let seg = this.segment;
    if (!seg) {
      let resolveDone!: () => void;
      const done = new Promise<void>((resolve) => (resolveDone = resolve));
      seg = { id: this.nextId++, flushed: false, done, resolveDone };
      this.segment = seg;
      this.playedOut = 0;
    }
    // Mono frames (the TTS plugins give mono); the first channel of anything else.
    const samples =
      frame.channels === 1
        ? frame.data
        : Int16Array.from({ length: frame.samplesPerChannel }, (_, i) => frame.data[i * frame.channels]!);
    this.playedOut += (frame.samplesPerChannel / frame.sampleRate) * 1000;
    this.speaker.write(seg.id, { samples, sampleRate: frame.sampleRate });
  }

  override flush(): void {
    super.flush();
    const seg = this.segment;
    if (!seg || seg.flushed) return;
    seg.flushed = true;
    this.speaker.end(seg.id);
  }

  clearBuffer(): void {
    this.generation++;
    const seg = this.segment;
    if (!seg) return;
    if (!seg.flushed) {
      super.flush();
      seg.flushed = true;
    }
    this.finish(seg, true, this.speaker.clear(seg.id));
  }

  override pause(): void {
    this.speaker.pause();
    super.pause();
  }

  override resume(): void {
    this.speaker.resume();
    super.resume();
  }

  /** The session is gone: what is still queued counts as cut off. */
  stop(): void {
    if (this.segment) this.clearBuffer();
  }

  private finish(seg: Segment, interrupted: boolean, heardMs: number): void {
    if (this.segment !== seg) return;
    this.segment = null;
    seg.resolveDone();
    this.onPlaybackFinished({ playbackPosition: heardMs / 1000, interrupted });
  }
}
