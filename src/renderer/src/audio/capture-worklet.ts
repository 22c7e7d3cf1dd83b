/**
 * The microphone worklet (AudioWorkletGlobalScope, its own bundle: see worklet-urls.ts).
 * Each render quantum: downmix to mono, resample from the context rate to 16 kHz with an
 * anti-aliasing filter, and every 20 ms send one frame of Int16 samples (the buffer is
 * transferred, not copied):
 * - to the sink port when the engine gave one, as main's `mic` message with its age: the frame
 *   then reaches main without a task on the page's main thread (50 a second, all day);
 * - else to the engine on the node's port, with the AudioContext time of its first sample.
 * The level meter runs here too, so the page hears from the microphone only when the meter moved.
 */
import { LevelMeter } from './level-meter';
import { downmix, floatToInt16 } from './pcm';
import { StreamResampler } from './resampler';
import {
  CAPTURE_PROCESSOR,
  workletScope,
  type CaptureIn,
  type CaptureOut,
  type CaptureProcessorOptions,
  type MicFrameMessage,
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
  private sink: Pick<MessagePort, 'postMessage' | 'close'> | null = null;
  private inputLatencyMs = 0;
  private readonly meter = new LevelMeter();
  private readonly levelIntervalS: number;
  private readonly levelStepDb: number;
  private postedLevel = Number.NEGATIVE_INFINITY;
  private postedLevelAt = Number.NEGATIVE_INFINITY;
  private meterOn = true;

  constructor(options?: ProcessorConstructionOptions<CaptureProcessorOptions>) {
    super(options);
    const targetRate = options?.processorOptions?.targetRate ?? 16_000;
    const frameMs = options?.processorOptions?.frameMs ?? 20;
    this.levelIntervalS = (options?.processorOptions?.levelIntervalMs ?? 100) / 1000;
    this.levelStepDb = options?.processorOptions?.levelStepDb ?? 1;
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
    } else if (message.type === 'sink') {
      this.sink?.close();
      this.sink = message.port;
      this.inputLatencyMs = message.inputLatencyMs;
    } else if (message.type === 'meter') {
      this.meterOn = message.on;
      this.postedLevel = Number.NEGATIVE_INFINITY;
      this.postedLevelAt = Number.NEGATIVE_INFINITY;
    } else if (message.type === 'close') {
      this.closed = true;
      this.port.onmessage = null;
      this.sink?.close();
      this.sink = null;
    }
  }

  private send(samples: Int16Array, capturedBy: number): void {
    if (this.sink) {
      const ageMs = Math.max(0, (capturedBy - this.frameTime) * 1000) + this.inputLatencyMs;
      const message: MicFrameMessage = { type: 'mic', samples, ageMs };
      this.sink.postMessage(message, [samples.buffer]);
    } else {
      const message: CaptureOut = { type: 'frame', samples, time: this.frameTime };
      this.port.postMessage(message, [samples.buffer]);
    }
  }

  private meterFrame(samples: Int16Array, rate: number, now: number): void {
    const { level, peak } = this.meter.update(samples, rate);
    if (!this.meterOn) return;
    if (now - this.postedLevelAt < this.levelIntervalS) return;
    if (Math.abs(level - this.postedLevel) < this.levelStepDb) return;
    this.postedLevel = level;
    this.postedLevelAt = now;
    const message: CaptureOut = { type: 'level', level, peak };
    this.port.postMessage(message);
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
    // A quantum is processed once all of it has been captured: its end is "now" for a frame's age.
    const quantumEnd = now + frames / scope.sampleRate;
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
        this.meterFrame(samples, resampler.outRate, now);
        this.send(samples, quantumEnd);
        this.filled = 0;
      }
    }
    return true;
  }
}

scope.registerProcessor(CAPTURE_PROCESSOR, CaptureProcessor);
