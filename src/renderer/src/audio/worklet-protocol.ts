/**
 * What the engine says to the two audio worklets and to the capture worker over their
 * MessagePorts, and the minimal view of the AudioWorkletGlobalScope the processors use
 * (TypeScript's DOM library does not describe it). Types and constants only: the worklet and
 * worker bundles inline this file.
 */

export const CAPTURE_PROCESSOR = 'cue-capture';
export const PLAYBACK_PROCESSOR = 'cue-playback';

// ---------- capture ----------

export interface CaptureProcessorOptions {
  /** Rate of the frames sent to main, Hz. */
  targetRate?: number;
  /** Frame length, ms. */
  frameMs?: number;
  /** Minimum interval between two level messages, ms (default 100). */
  levelIntervalMs?: number;
  /** Smallest level change worth a level message, dB (default 1). */
  levelStepDb?: number;
}

/** Engine → capture worklet. */
export type CaptureIn =
  /** Drop the pending partial frame and the resampler history (a new stream). */
  | { type: 'reset' }
  /**
   * From now on send each frame to `port` as an AudioUp `mic` message (its age computed here,
   * `inputLatencyMs` added), never through the page's main thread; `port: null` goes back to
   * `frame` messages on the node's own port.
   */
  | { type: 'sink'; port: MessagePort | null; inputLatencyMs: number }
  /** Level messages on or off (off while nobody can see the meter); on sends the next at once. */
  | { type: 'meter'; on: boolean }
  /** Stop for good: `process` returns false so the node can be collected. */
  | { type: 'close' };

/** Capture worklet → engine (on the node's port). */
export type CaptureOut =
  /** A frame, when no sink port was given. */
  | {
      type: 'frame';
      /** `targetRate` mono Int16 samples, `frameMs` long (the buffer is transferred). */
      samples: Int16Array;
      /** AudioContext time at which the first sample was captured (entered the graph), s. */
      time: number;
    }
  /** The meter moved (by `levelStepDb`, at most every `levelIntervalMs`): smoothed RMS and held peak, dBFS. */
  | { type: 'level'; level: number; peak: number };

/** Engine → capture worker (capture-worker.ts): the worklet's messages, and the stream to read. */
export type CaptureWorkerIn =
  | Exclude<CaptureIn, { type: 'reset' }>
  /** Read this track's MediaStreamTrackProcessor stream (transferred) until closed. */
  | { type: 'start'; readable: ReadableStream; options: CaptureProcessorOptions }
  /** Send each frame on a WebSocket of its own to this address (the bridge's mic socket). */
  | { type: 'socket'; url: string };

/** Capture worker → engine. */
export type CaptureWorkerOut =
  /** A frame, when no sink port was given. */
  | {
      type: 'frame';
      samples: Int16Array;
      /** When its first sample was captured: ms since the epoch (performance.timeOrigin + now). */
      capturedAt: number;
    }
  | { type: 'level'; level: number; peak: number }
  /** The stream ended (the track stopped). */
  | { type: 'ended' }
  /** The stream could not be read (the engine falls back on the capture worklet). */
  | { type: 'failed'; message: string };

/** Capture worklet or worker → sink port: what main's audio channel takes (AudioUp `mic`). */
export interface MicFrameMessage {
  type: 'mic';
  samples: Int16Array;
  /** How long before posting the first sample was captured, ms. */
  ageMs: number;
}

// ---------- playback ----------

export interface PlaybackProcessorOptions {
  /** Queued audio an utterance needs before it starts, ms (at most 100). */
  prebufferMs?: number;
  /** Fade on pause, resume and clear, frames (default ~1.5 ms; 0: hard cuts). */
  fadeFrames?: number;
}

/** Engine → playback worklet. Samples are Float32 at the context rate. */
export type PlaybackIn =
  | { type: 'audio'; utterance: number; samples: Float32Array }
  | { type: 'end'; utterance: number }
  | { type: 'pause' }
  | { type: 'resume' }
  /** Drop all queued audio at once (barge-in). */
  | { type: 'clear'; utterance: number }
  | { type: 'close' };

/** Playback worklet → engine. Times are AudioContext times at which the sample is rendered, s. */
export type PlaybackOut =
  /** The first sample of the utterance is rendered at `contextTime`. */
  | { type: 'played'; utterance: number; contextTime: number }
  /** All audio of the ended utterance was rendered by `contextTime`; `playedMs` of it played. */
  | { type: 'finished'; utterance: number; contextTime: number; playedMs: number }
  /** The utterance was dropped by a clear after `playedMs` of it had been rendered. */
  | { type: 'cleared'; utterance: number; playedMs: number };

// ---------- the AudioWorkletGlobalScope ----------

export interface ProcessorPort {
  postMessage(message: unknown, transfer?: Transferable[]): void;
  onmessage: ((event: { data: unknown }) => void) | null;
}

export interface ProcessorConstructionOptions<P> {
  processorOptions?: P;
  numberOfInputs?: number;
  numberOfOutputs?: number;
}

export interface WorkletScope {
  AudioWorkletProcessor: new (options?: ProcessorConstructionOptions<unknown>) => {
    readonly port: ProcessorPort;
  };
  registerProcessor(name: string, processor: unknown): void;
  /** The context's sample rate, Hz. */
  readonly sampleRate: number;
  /** Context time of the quantum being rendered, s. */
  readonly currentTime: number;
}

/** The worklet's global scope (in tests, a fake installed on globalThis before importing). */
export const workletScope = (): WorkletScope => globalThis as unknown as WorkletScope;
