/**
 * The page of `npm run bench:capture` (bundled by the benchmark): one capture path, chosen by
 * `?path=`, listening to Chromium's fake microphone with the settings the app asks for, beside
 * the app's playback worklet in an AudioContext at the TTS rate, as in the window:
 *
 * - `worklet`: the browser build's fallback where the capture worker cannot run: the app's
 *   capture worklet meters and frames the input and sends each frame on a port to the app's mic
 *   worker, which sends it on its socket;
 * - `worker`: the window's path in Chromium: the microphone's MediaStreamTrackProcessor stream
 *   moved to the app's capture worker, which frames, meters and sends on a socket of its own; the
 *   AudioContext runs, as while a reply plays;
 * - `worker-suspended`: the same with the AudioContext suspended, as while no reply plays.
 *
 * Levels reach the page's main thread in every path (counted in `window.captureLab.levels`).
 */
import type {
  CaptureIn,
  CaptureOut,
  CaptureProcessorOptions,
  CaptureWorkerIn,
  CaptureWorkerOut,
} from '../../src/renderer/src/audio/worklet-protocol';
import { CAPTURE_PROCESSOR, PLAYBACK_PROCESSOR } from '../../src/renderer/src/audio/worklet-protocol';
import { DEFAULT_PREBUFFER_MS } from '../../src/renderer/src/audio/ring-buffer';
import { MIC_FRAME_MS, MIC_RATE } from '../../src/renderer/src/audio/audio-engine';
import { CAPTURE_PATHS, type CapturePath } from './paths';

interface CaptureLab {
  ready: Promise<CapturePath>;
  levels: number;
  /**
   * Resumes the suspended AudioContext, as a reply about to play would, and resolves with the ms
   * until its clock moves (rendering has started), then suspends it again.
   */
  resumeMs(): Promise<number>;
}

declare global {
  interface Window {
    captureLab: CaptureLab;
  }
  // Chromium's MediaStreamTrackProcessor (not in TypeScript's DOM library).
  const MediaStreamTrackProcessor: new (init: { track: MediaStreamTrack }) => { readable: ReadableStream };
}

const TTS_RATE = 24_000;
const params = new URLSearchParams(location.search);
const path = params.get('path') as CapturePath;
const socketUrl = `ws://${location.host}/mic?path=${path}`;
let context: AudioContext | null = null;
const lab: CaptureLab = { ready: setUp(), levels: 0, resumeMs };
window.captureLab = lab;

async function resumeMs(): Promise<number> {
  if (!context || context.state !== 'suspended') throw new Error(`no suspended AudioContext on path ${path}`);
  const started = performance.now();
  await context.resume();
  const at = context.currentTime;
  while (context.currentTime === at) await new Promise((resolve) => setTimeout(resolve, 0));
  const ms = performance.now() - started;
  await context.suspend();
  return ms;
}

async function setUp(): Promise<CapturePath> {
  if (!CAPTURE_PATHS.includes(path)) throw new Error(`unknown capture path ${path}`);
  context = new AudioContext({ latencyHint: 'interactive', sampleRate: TTS_RATE });
  await context.audioWorklet.addModule('/capture-worklet.js');
  await context.audioWorklet.addModule('/playback-worklet.js');
  const playback = new AudioWorkletNode(context, PLAYBACK_PROCESSOR, {
    numberOfInputs: 0,
    numberOfOutputs: 1,
    outputChannelCount: [1],
    processorOptions: { prebufferMs: DEFAULT_PREBUFFER_MS },
  });
  playback.connect(context.destination);
  const stream = await navigator.mediaDevices.getUserMedia({
    audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true },
  });
  const track = stream.getAudioTracks()[0]!;
  if (path === 'worklet') {
    const node = new AudioWorkletNode(context, CAPTURE_PROCESSOR, {
      numberOfInputs: 1,
      numberOfOutputs: 1,
      outputChannelCount: [1],
      processorOptions: { targetRate: MIC_RATE, frameMs: MIC_FRAME_MS, levelIntervalMs: 100, levelStepDb: 1 },
    });
    node.port.onmessage = (event: MessageEvent) => {
      if ((event.data as CaptureOut).type === 'level') lab.levels++;
    };
    context.createMediaStreamSource(stream).connect(node);
    node.connect(context.destination);
    const worker = new Worker('/mic-worker.js');
    worker.postMessage({ type: 'connect', url: socketUrl });
    const channel = new MessageChannel();
    worker.postMessage({ type: 'port' }, [channel.port2]);
    const sink: CaptureIn = { type: 'sink', port: channel.port1, inputLatencyMs: 0 };
    node.port.postMessage(sink, [channel.port1]);
  } else {
    const processor = new MediaStreamTrackProcessor({ track });
    const worker = new Worker('/capture-worker.js');
    worker.onmessage = (event: MessageEvent) => {
      if ((event.data as CaptureWorkerOut).type === 'level') lab.levels++;
    };
    const options: CaptureProcessorOptions = {
      targetRate: MIC_RATE,
      frameMs: MIC_FRAME_MS,
      levelIntervalMs: 100,
      levelStepDb: 1,
    };
    const start: CaptureWorkerIn = { type: 'start', readable: processor.readable, options };
    worker.postMessage(start, [processor.readable]);
    worker.postMessage({ type: 'socket', url: socketUrl } satisfies CaptureWorkerIn);
  }
  if (path === 'worker-suspended') await context.suspend();
  else await context.resume();
  return path;
}
