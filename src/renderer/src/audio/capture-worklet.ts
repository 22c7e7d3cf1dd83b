/**
 * The microphone worklet (AudioWorkletGlobalScope, its own bundle: see worklet-urls.ts), the
 * capture path where the capture worker cannot run (capture-worker.ts). Each render quantum goes
 * through the mic framer (mono, 16 kHz, 20 ms Int16 frames, metered), and each frame is sent (its
 * buffer transferred, not copied):
 * - to the sink port when the engine gave one, as main's `mic` message with its age: the frame
 *   then reaches main without a task on the page's main thread (50 a second, all day);
 * - else to the engine on the node's port, with the AudioContext time of its first sample.
 * The level meter runs here too, so the page hears from the microphone only when the meter moved.
 */
import { MicFramer } from './mic-framer';
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
  private readonly framer: MicFramer;
  private closed = false;
  private sink: Pick<MessagePort, 'postMessage' | 'close'> | null = null;
  private inputLatencyMs = 0;
  /** End of the quantum being processed (context time, s): when all of it had been captured. */
  private quantumEnd = 0;

  constructor(options?: ProcessorConstructionOptions<CaptureProcessorOptions>) {
    super(options);
    const processorOptions = options?.processorOptions;
    this.framer = new MicFramer(
      {
        inRate: scope.sampleRate,
        targetRate: processorOptions?.targetRate,
        frameMs: processorOptions?.frameMs,
        levelIntervalS: (processorOptions?.levelIntervalMs ?? 100) / 1000,
        levelStepDb: processorOptions?.levelStepDb,
      },
      {
        frame: (samples, capturedAt) => this.send(samples, capturedAt),
        level: (level, peak) => {
          const message: CaptureOut = { type: 'level', level, peak };
          this.port.postMessage(message);
        },
      },
    );
    this.port.onmessage = (event) => this.onMessage(event.data as CaptureIn);
  }

  private onMessage(message: CaptureIn): void {
    if (message.type === 'reset') {
      this.framer.reset();
    } else if (message.type === 'sink') {
      this.sink?.close();
      this.sink = message.port;
      this.inputLatencyMs = message.inputLatencyMs;
    } else if (message.type === 'meter') {
      this.framer.setMeter(message.on);
    } else if (message.type === 'close') {
      this.closed = true;
      this.port.onmessage = null;
      this.sink?.close();
      this.sink = null;
    }
  }

  private send(samples: Int16Array, capturedAt: number): void {
    if (this.sink) {
      const ageMs = Math.max(0, (this.quantumEnd - capturedAt) * 1000) + this.inputLatencyMs;
      const message: MicFrameMessage = { type: 'mic', samples, ageMs };
      this.sink.postMessage(message, [samples.buffer]);
    } else {
      const message: CaptureOut = { type: 'frame', samples, time: capturedAt };
      this.port.postMessage(message, [samples.buffer]);
    }
  }

  process(inputs: Float32Array[][]): boolean {
    if (this.closed) return false;
    const channels = inputs[0];
    // No channels: the source is not connected or its track ended; nothing was captured.
    if (!channels || channels.length === 0 || channels[0]!.length === 0) return true;
    const frames = channels[0]!.length;
    const now = scope.currentTime;
    // A quantum is processed once all of it has been captured: its end is "now" for a frame's age.
    this.quantumEnd = now + frames / scope.sampleRate;
    this.framer.push(channels, frames, now, now);
    return true;
  }
}

scope.registerProcessor(CAPTURE_PROCESSOR, CaptureProcessor);
