/**
 * The speaker worklet (AudioWorkletGlobalScope, its own bundle: see worklet-urls.ts). Plays the
 * PlaybackRing: queued utterance audio (Float32 at the context rate), with a prebuffer of at
 * most 100 ms per utterance, pause/resume in place and `clear` effective from the very next
 * render quantum. Reports the AudioContext time at which the first sample of each utterance is
 * rendered and at which an ended utterance has been rendered to its end; the engine turns those
 * into "audible at the speaker" with the context's output timestamp.
 */
import { PlaybackRing, type RingEvent } from './ring-buffer';
import {
  PLAYBACK_PROCESSOR,
  workletScope,
  type PlaybackIn,
  type PlaybackOut,
  type PlaybackProcessorOptions,
  type ProcessorConstructionOptions,
} from './worklet-protocol';

const scope = workletScope();

class PlaybackProcessor extends scope.AudioWorkletProcessor {
  private readonly ring: PlaybackRing;
  private readonly events: RingEvent[] = [];
  private closed = false;

  constructor(options?: ProcessorConstructionOptions<PlaybackProcessorOptions>) {
    super(options);
    const settings = options?.processorOptions ?? {};
    this.ring = new PlaybackRing({
      sampleRate: scope.sampleRate,
      prebufferMs: settings.prebufferMs,
      fadeFrames: settings.fadeFrames,
    });
    this.port.onmessage = (event) => this.onMessage(event.data as PlaybackIn);
  }

  private post(message: PlaybackOut): void {
    this.port.postMessage(message);
  }

  private onMessage(message: PlaybackIn): void {
    switch (message.type) {
      case 'audio':
        this.ring.write(message.utterance, message.samples);
        break;
      case 'end':
        this.ring.end(message.utterance);
        break;
      case 'pause':
        this.ring.pause();
        break;
      case 'resume':
        this.ring.resume();
        break;
      case 'clear':
        for (const { utterance, playedMs } of this.ring.clear(message.utterance))
          this.post({ type: 'cleared', utterance, playedMs });
        break;
      case 'close':
        this.closed = true;
        this.port.onmessage = null;
        break;
    }
  }

  process(_inputs: Float32Array[][], outputs: Float32Array[][]): boolean {
    if (this.closed) return false;
    const channels = outputs[0];
    if (!channels || channels.length === 0) return true;
    const first = channels[0]!;
    const startFrame = this.ring.frame;
    const start = scope.currentTime;
    const rate = scope.sampleRate;
    this.ring.render(first, this.events);
    for (let c = 1; c < channels.length; c++) channels[c]!.set(first);
    if (this.events.length > 0) {
      for (const event of this.events) {
        const contextTime = start + (event.frame - startFrame) / rate;
        if (event.type === 'played') this.post({ type: 'played', utterance: event.utterance, contextTime });
        else
          this.post({ type: 'finished', utterance: event.utterance, contextTime, playedMs: event.playedMs });
      }
      this.events.length = 0;
    }
    return true;
  }
}

scope.registerProcessor(PLAYBACK_PROCESSOR, PlaybackProcessor);
