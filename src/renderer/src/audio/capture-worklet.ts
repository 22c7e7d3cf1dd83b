/**
 * The microphone worklet (AudioWorkletGlobalScope, its own bundle: see worklet-urls.ts).
 * Each render quantum: downmix to mono, resample from the context rate to 16 kHz with an
 * anti-aliasing filter, and every 20 ms post one frame of Int16 samples with the AudioContext
 * time its first sample was captured (the buffer is transferred, not copied).
 */
import { downmix, floatToInt16 } from './pcm';
import { StreamResampler } from './resampler';
import {
  CAPTURE_PROCESSOR,
  workletScope,
  type CaptureIn,
  type CaptureOut,
  type CaptureProcessorOptions,
  type ProcessorConstructionOptions,
} from './worklet-protocol';

const scope = workletScope();

class CaptureProcessor extends scope.AudioWorkletProcessor {
  private readonly resampler: StreamResampler;
  private readonly frameSamples: number;
  private mono = new Float32Array(128);
  private resampled: Float32Array;
  private frame: Float32Array;
  private filled = 0;
  private frameTime = 0;
  private closed = false;

  constructor(options?: ProcessorConstructionOptions<CaptureProcessorOptions>) {
    super(options);
    const targetRate = options?.processorOptions?.targetRate ?? 16_000;
    const frameMs = options?.processorOptions?.frameMs ?? 20;
    this.resampler = new StreamResampler(scope.sampleRate, targetRate);
    this.frameSamples = Math.max(1, Math.round((targetRate * frameMs) / 1000));
    this.frame = new Float32Array(this.frameSamples);
    this.resampled = new Float32Array(this.resampler.maxOutput(128));
    this.port.onmessage = (event) => this.onMessage(event.data as CaptureIn);
  }

  private onMessage(message: CaptureIn): void {
    if (message.type === 'reset') {
      this.resampler.reset();
      this.filled = 0;
    } else if (message.type === 'close') {
      this.closed = true;
      this.port.onmessage = null;
    }
  }

  process(inputs: Float32Array[][]): boolean {
    if (this.closed) return false;
    const channels = inputs[0];
    // No channels: the source is not connected or its track ended; nothing was captured.
    if (!channels || channels.length === 0 || channels[0]!.length === 0) return true;
    const frames = channels[0]!.length;
    if (this.mono.length < frames) {
      this.mono = new Float32Array(frames);
      this.resampled = new Float32Array(this.resampler.maxOutput(frames));
    }
    downmix(channels, this.mono);
    const resampler = this.resampler;
    const inputsBefore = resampler.inputCount;
    const outputsBefore = resampler.outputCount;
    const count = resampler.pushInto(
      frames === this.mono.length ? this.mono : this.mono.subarray(0, frames),
      this.resampled,
    );
    const now = scope.currentTime;
    const inRate = resampler.inRate;
    for (let i = 0; i < count; i++) {
      if (this.filled === 0) {
        // Output n is the input signal at input sample n × inRate / outRate.
        const position = ((outputsBefore + i) * inRate) / resampler.outRate;
        this.frameTime = now + (position - inputsBefore) / inRate;
      }
      this.frame[this.filled++] = this.resampled[i]!;
      if (this.filled === this.frameSamples) {
        const samples = floatToInt16(this.frame);
        const message: CaptureOut = { type: 'frame', samples, time: this.frameTime };
        this.port.postMessage(message, [samples.buffer]);
        this.filled = 0;
      }
    }
    return true;
  }
}

scope.registerProcessor(CAPTURE_PROCESSOR, CaptureProcessor);
