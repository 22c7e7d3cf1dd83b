/**
 * The candidate capture path of `npm run bench:capture` (a dedicated Worker, bundled by the
 * benchmark): the microphone's MediaStreamTrackProcessor stream, moved here from the page, read
 * chunk by chunk (10 ms of 48 kHz in Chromium), downmixed, resampled to 16 kHz by the app's own
 * resampler, cut into the app's 20 ms frames, metered by the app's level meter and sent as AudioUp
 * `mic` messages on this worker's WebSocket. Neither an AudioWorklet nor a port message per frame:
 * the question the benchmark answers is what that saves against the shipped path.
 *
 *   page → worker: { url, readable }   the socket to send on, the track processor's stream
 *   worker → page: { type: 'level', level, peak }   at most every 100 ms, when it moved by 1 dB
 */
import { encodeAudioUp } from '../../src/shared/audio-wire';
import { MIC_FRAME_MS, MIC_RATE } from '../../src/renderer/src/audio/audio-engine';
import { LevelMeter } from '../../src/renderer/src/audio/level-meter';
import { downmix, floatToInt16 } from '../../src/renderer/src/audio/pcm';
import { StreamResampler } from '../../src/renderer/src/audio/resampler';

const TARGET_RATE = MIC_RATE;
const FRAME_SAMPLES = (MIC_RATE * MIC_FRAME_MS) / 1000;
const LEVEL_INTERVAL_MS = 100;
const LEVEL_STEP_DB = 1;

interface AudioDataLike {
  readonly numberOfFrames: number;
  readonly numberOfChannels: number;
  readonly sampleRate: number;
  /** Capture time of the first sample, µs. */
  readonly timestamp: number;
  copyTo(destination: Float32Array, options: { planeIndex: number; format: 'f32-planar' }): void;
  close(): void;
}

interface WorkerScope {
  onmessage: ((event: MessageEvent) => void) | null;
  postMessage(message: unknown): void;
}

const scope = globalThis as unknown as WorkerScope;

async function run(url: string, readable: ReadableStream<AudioDataLike>): Promise<void> {
  const socket = new WebSocket(url);
  socket.binaryType = 'arraybuffer';
  const reader = readable.getReader();
  const meter = new LevelMeter();
  const frame = new Float32Array(FRAME_SAMPLES);
  let filled = 0;
  let resampler: StreamResampler | null = null;
  let planes: Float32Array[] = [];
  let mono = new Float32Array(0);
  let resampled = new Float32Array(0);
  let postedLevel = Number.NEGATIVE_INFINITY;
  let postedAt = Number.NEGATIVE_INFINITY;
  for (;;) {
    const { value: chunk, done } = await reader.read();
    if (done) return;
    const frames = chunk.numberOfFrames;
    if (!resampler || resampler.inRate !== chunk.sampleRate)
      resampler = new StreamResampler(chunk.sampleRate, TARGET_RATE);
    if (mono.length < frames) {
      mono = new Float32Array(frames);
      resampled = new Float32Array(resampler.maxOutput(frames));
    }
    if (planes.length !== chunk.numberOfChannels || planes[0]!.length < frames)
      planes = Array.from({ length: chunk.numberOfChannels }, () => new Float32Array(frames));
    for (let c = 0; c < planes.length; c++) chunk.copyTo(planes[c]!, { planeIndex: c, format: 'f32-planar' });
    const capturedEndMs = chunk.timestamp / 1000 + (frames / chunk.sampleRate) * 1000;
    chunk.close();
    downmix(
      planes.map((p) => p.subarray(0, frames)),
      mono,
    );
    const count = resampler.pushInto(mono.subarray(0, frames), resampled);
    for (let i = 0; i < count; i++) {
      frame[filled++] = resampled[i]!;
      if (filled < FRAME_SAMPLES) continue;
      filled = 0;
      const samples = floatToInt16(frame);
      const now = performance.now();
      const { level, peak } = meter.update(samples, TARGET_RATE);
      if (now - postedAt >= LEVEL_INTERVAL_MS && Math.abs(level - postedLevel) >= LEVEL_STEP_DB) {
        postedLevel = level;
        postedAt = now;
        scope.postMessage({ type: 'level', level, peak });
      }
      // The age of the frame's first sample: the chunk's end, less the samples after this frame, plus 20 ms.
      const ageMs = Math.max(0, now - capturedEndMs) + ((count - 1 - i + FRAME_SAMPLES) / TARGET_RATE) * 1000;
      if (socket.readyState === WebSocket.OPEN) socket.send(encodeAudioUp({ type: 'mic', samples, ageMs }));
    }
  }
}

scope.onmessage = (event: MessageEvent) => {
  const { url, readable } = event.data as { url: string; readable: ReadableStream<AudioDataLike> };
  scope.onmessage = null;
  void run(url, readable);
};
