/**
 * The microphone's capture worker (a dedicated Worker, its own bundle: see use-audio-engine.ts).
 * It reads the track's MediaStreamTrackProcessor stream, which the page moved here, and puts each
 * chunk through the mic framer (mono, 16 kHz, 20 ms Int16 frames, metered), as the capture
 * worklet does with render quanta. Capture thus needs no AudioContext, so the engine can suspend
 * the context (and its audio thread) while no reply plays; and no other thread of the page wakes
 * for a frame: given a sink port, frames go straight to main (Electron); given the bridge's mic
 * socket address (browser build), it sends them on a socket of its own.
 *
 * A chunk's timestamp is the capture time of its first sample, the device's input latency
 * already counted (Chromium estimates it when the audio is captured), on this worker's clock
 * (checked in Chromium 156: the stream moved here keeps its timestamps on the clock of the
 * context reading it), so a frame's age is `performance.now()` less its first sample's time. A
 * timestamp that does not fit is not used, and the chunk is taken as captured just before it
 * arrived: one by which the chunk would end in the future (Chromium's fake microphone stamps the
 * time it delivers a chunk, not its first sample's) or more than `MAX_PLAUSIBLE_LAG_MS` ago
 * (another clock: older Chromium stamped the time since boot).
 *
 *   engine → worker: CaptureWorkerIn ('start' with the stream, 'sink' or 'socket', 'meter', 'close')
 *   worker → engine: CaptureWorkerOut ('frame' until a sink is given, 'level', 'ended', 'failed')
 */
import { createBrowserMicSender } from '../platform/browser-mic-sender';
import type { MicSender } from '../platform/mic-sender';
import { MicFramer } from './mic-framer';
import type {
  CaptureProcessorOptions,
  CaptureWorkerIn,
  CaptureWorkerOut,
  MicFrameMessage,
} from './worklet-protocol';

interface WorkerScope {
  onmessage: ((event: MessageEvent) => void) | null;
  postMessage(message: unknown, transfer?: Transferable[]): void;
  close(): void;
}

const scope = globalThis as unknown as WorkerScope;

/** How far a chunk's timestamp may lie from this worker's clock and still be believed, ms. */
const MAX_PLAUSIBLE_LAG_MS = 2_000;

let sink: MessagePort | null = null;
let socket: MicSender | null = null;
let reader: ReadableStreamDefaultReader<AudioData> | null = null;
let meterOn = true;
let framer: MicFramer | null = null;
let closed = false;

function post(message: CaptureWorkerOut, transfer: Transferable[] = []): void {
  scope.postMessage(message, transfer);
}

function send(samples: Int16Array, capturedAtS: number): void {
  const capturedAtMs = capturedAtS * 1000;
  if (sink || socket) {
    const message: MicFrameMessage = {
      type: 'mic',
      samples,
      ageMs: Math.max(0, performance.now() - capturedAtMs),
    };
    if (socket) socket.send(message);
    else sink!.postMessage(message, [samples.buffer]);
  } else {
    post({ type: 'frame', samples, capturedAt: performance.timeOrigin + capturedAtMs }, [samples.buffer]);
  }
}

function framerFor(rate: number, options: CaptureProcessorOptions): MicFramer {
  if (framer?.inRate === rate) return framer;
  framer = new MicFramer(
    {
      inRate: rate,
      targetRate: options.targetRate,
      frameMs: options.frameMs,
      levelIntervalS: (options.levelIntervalMs ?? 100) / 1000,
      levelStepDb: options.levelStepDb,
    },
    { frame: send, level: (level, peak) => post({ type: 'level', level, peak }) },
  );
  framer.setMeter(meterOn);
  return framer;
}

async function read(readable: ReadableStream<AudioData>, options: CaptureProcessorOptions): Promise<void> {
  reader = readable.getReader();
  let planes: Float32Array[] = [];
  for (;;) {
    const { value: chunk, done } = await reader.read();
    if (done || closed) {
      chunk?.close();
      if (!closed) post({ type: 'ended' });
      return;
    }
    try {
      const frames = chunk.numberOfFrames;
      const channels = chunk.numberOfChannels;
      if (planes.length !== channels || planes[0]!.length < frames)
        planes = Array.from({ length: channels }, () => new Float32Array(frames));
      for (let c = 0; c < channels; c++)
        chunk.copyTo(planes[c]!, { planeIndex: c, frameCount: frames, format: 'f32-planar' });
      const nowMs = performance.now();
      const durationMs = (frames / chunk.sampleRate) * 1000;
      const lagMs = nowMs - (chunk.timestamp / 1000 + durationMs);
      const startMs =
        lagMs >= -1 && lagMs <= MAX_PLAUSIBLE_LAG_MS ? chunk.timestamp / 1000 : nowMs - durationMs;
      framerFor(chunk.sampleRate, options).push(planes, frames, startMs / 1000, nowMs / 1000);
    } finally {
      chunk.close();
    }
  }
}

function close(): void {
  closed = true;
  scope.onmessage = null;
  void reader?.cancel().catch(() => undefined);
  sink?.close();
  sink = null;
  socket?.close();
  socket = null;
  scope.close();
}

scope.onmessage = (event: MessageEvent) => {
  const message = event.data as CaptureWorkerIn;
  switch (message?.type) {
    case 'start':
      if (reader) return;
      read(message.readable as ReadableStream<AudioData>, message.options).catch((error: unknown) => {
        if (!closed)
          post({ type: 'failed', message: error instanceof Error ? error.message : String(error) });
      });
      break;
    case 'sink':
      sink?.close();
      sink = message.port;
      break;
    case 'socket':
      socket?.close();
      // The bridge's mic socket, reopened with backoff while this capture lasts.
      socket = createBrowserMicSender();
      socket.connect(message.url);
      break;
    case 'meter':
      meterOn = message.on;
      framer?.setMeter(meterOn);
      break;
    case 'close':
      close();
      break;
  }
};
