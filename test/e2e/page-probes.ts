/**
 * Probes installed in the page before the app loads (`page.addInitScript(fn)`): they observe the
 * browser APIs the renderer uses, without changing what the app does. Each function runs in the
 * page, so it must be self-contained (no imports, no closures over this module).
 *
 * - installAudioProbe: records the messages between the audio engine and its playback worklet
 *   (both directions, with the AudioContext time at which the main thread saw them), taps the
 *   playback worklet's output with a ScriptProcessorNode (peak level per 256-frame buffer, with
 *   its context time), and counts, for each capture path (the capture worker, or a capture
 *   worklet node where the worker cannot run), the frames and level readings it posts to the
 *   page and the ways to main past the page (sinks) it is given.
 * - installDeviceEmulation: lets a test unplug the microphone and plug it back in, as the browser
 *   reports it: the live track ends ('ended'), `devicechange` fires, enumerateDevices() lists no
 *   audio input and getUserMedia() fails with NotFoundError until it is plugged back in.
 */

export interface PlaybackMessage {
  /** 'in': engine → worklet; 'out': worklet → engine. */
  dir: 'in' | 'out';
  type: string;
  utterance?: number;
  /** 'audio': samples at the context rate. */
  frames?: number;
  /** 'cleared' and 'finished': ms of the utterance rendered. */
  playedMs?: number;
  /** 'played' and 'finished': context time of the sample (worklet clock). */
  contextTime?: number;
  /** AudioContext.currentTime when the main thread saw the message. */
  at: number;
}

export interface AudioProbe {
  sampleRate: number;
  playback: PlaybackMessage[];
  /** Playback output: [context time of the buffer's first frame, peak |sample|] per tap buffer. */
  tap: [number, number][];
  /**
   * Each capture path, in creation order: frames and level readings it posted to the page, and
   * the ways to main past the page it was given (`sinks`: a microphone port, or the bridge's mic
   * socket for the capture worker to open).
   */
  capture: CaptureNodeCounts[];
  /** The context the nodes were made in. */
  context: BaseAudioContext | null;
  /** The context's states as they changed, with the page's performance.now() of each. */
  contextStates: [number, AudioContextState][];
}

export interface CaptureNodeCounts {
  kind: 'worker' | 'worklet';
  frames: number;
  levels: number;
  sinks: number;
}

export interface DeviceEmulation {
  unplug(): void;
  plugIn(): void;
  getUserMediaCalls: number;
}

declare global {
  interface Window {
    __cueAudioProbe?: AudioProbe;
    __cueDevices?: DeviceEmulation;
  }
}

export function installAudioProbe(): void {
  const probe: AudioProbe = {
    sampleRate: 0,
    playback: [],
    tap: [],
    capture: [],
    context: null,
    contextStates: [],
  };
  window.__cueAudioProbe = probe;
  // The port messages of one capture path, counted; `post` is its postMessage.
  const countCapture = (
    kind: CaptureNodeCounts['kind'],
    target: Pick<MessagePort, 'addEventListener'>,
    post: (message: unknown, transfer?: Transferable[]) => void,
  ) => {
    const counts: CaptureNodeCounts = { kind, frames: 0, levels: 0, sinks: 0 };
    probe.capture.push(counts);
    target.addEventListener('message', (event: MessageEvent) => {
      const type = (event.data as { type?: unknown } | null)?.type;
      if (type === 'frame') counts.frames++;
      else if (type === 'level') counts.levels++;
    });
    return (message: unknown, transfer?: Transferable[]) => {
      const m = message as { type?: unknown; port?: unknown } | null;
      if ((m?.type === 'sink' && m.port) || m?.type === 'socket') counts.sinks++;
      post(message, transfer);
    };
  };
  const NativeWorker = window.Worker;
  class ProbedWorker extends NativeWorker {
    constructor(url: string | URL, options?: WorkerOptions) {
      super(url, options);
      if (options?.name !== 'cue-capture') return;
      const post = this.postMessage.bind(this) as (message: unknown, transfer?: Transferable[]) => void;
      this.postMessage = countCapture('worker', this, post) as Worker['postMessage'];
    }
  }
  window.Worker = ProbedWorker;
  const Native = window.AudioWorkletNode;
  if (typeof Native !== 'function') return;
  const TAP_FRAMES = 256;
  class ProbedNode extends Native {
    constructor(context: BaseAudioContext, name: string, options?: AudioWorkletNodeOptions) {
      super(context, name, options);
      if (probe.context !== context)
        context.addEventListener('statechange', () =>
          probe.contextStates.push([performance.now(), context.state]),
        );
      probe.context = context;
      probe.sampleRate = context.sampleRate;
      const port = this.port;
      if (name === 'cue-capture') {
        const post = port.postMessage.bind(port) as (message: unknown, transfer?: Transferable[]) => void;
        port.postMessage = countCapture('worklet', port, post) as MessagePort['postMessage'];
        return;
      }
      if (name !== 'cue-playback') return;
      const record = (dir: 'in' | 'out', data: unknown) => {
        if (!data || typeof data !== 'object') return;
        const m = data as {
          type?: unknown;
          utterance?: unknown;
          samples?: { length: number };
          playedMs?: unknown;
          contextTime?: unknown;
        };
        const entry: PlaybackMessage = { dir, type: String(m.type), at: context.currentTime };
        if (typeof m.utterance === 'number') entry.utterance = m.utterance;
        if (m.samples) entry.frames = m.samples.length;
        if (typeof m.playedMs === 'number') entry.playedMs = m.playedMs;
        if (typeof m.contextTime === 'number') entry.contextTime = m.contextTime;
        probe.playback.push(entry);
      };
      const post = port.postMessage.bind(port) as (message: unknown, transfer?: Transferable[]) => void;
      // Recorded before posting: the samples' buffer is transferred (emptied) by the post.
      port.postMessage = ((message: unknown, transfer?: Transferable[]) => {
        record('in', message);
        post(message, transfer);
      }) as MessagePort['postMessage'];
      port.addEventListener('message', (event) => record('out', event.data));
      if (!(context instanceof AudioContext)) return;
      const tap = context.createScriptProcessor(TAP_FRAMES, 1, 1);
      tap.onaudioprocess = (event) => {
        const data = event.inputBuffer.getChannelData(0);
        let peak = 0;
        for (let i = 0; i < data.length; i++) {
          const v = Math.abs(data[i]!);
          if (v > peak) peak = v;
        }
        // The input of a ScriptProcessor lags its output (playbackTime) by one buffer.
        probe.tap.push([event.playbackTime - TAP_FRAMES / context.sampleRate, peak]);
      };
      this.connect(tap);
      tap.connect(context.destination);
    }
  }
  window.AudioWorkletNode = ProbedNode;
}

export function installDeviceEmulation(): void {
  const media = navigator.mediaDevices;
  if (!media) return;
  let unplugged = false;
  const tracks: MediaStreamTrack[] = [];
  const enumerate = media.enumerateDevices.bind(media);
  const getUserMedia = media.getUserMedia.bind(media);
  const devices: DeviceEmulation = {
    getUserMediaCalls: 0,
    unplug() {
      unplugged = true;
      for (const track of tracks.splice(0)) {
        if (track.readyState !== 'live') continue;
        // What the browser does when the device goes away: the track ends and says so.
        track.stop();
        track.dispatchEvent(new Event('ended'));
      }
      media.dispatchEvent(new Event('devicechange'));
    },
    plugIn() {
      unplugged = false;
      media.dispatchEvent(new Event('devicechange'));
    },
  };
  window.__cueDevices = devices;
  media.enumerateDevices = async () => {
    const all = await enumerate();
    return unplugged ? all.filter((d) => d.kind !== 'audioinput') : all;
  };
  media.getUserMedia = async (constraints?: MediaStreamConstraints) => {
    devices.getUserMediaCalls++;
    if (unplugged && constraints?.audio)
      throw new DOMException('Requested device not found', 'NotFoundError');
    const stream = await getUserMedia(constraints);
    tracks.push(...stream.getAudioTracks());
    return stream;
  };
}
