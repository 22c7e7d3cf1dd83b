/**
 * The renderer's AudioEngine against fakes of getUserMedia, the AudioContext, the worklet nodes
 * and the CueApi: what goes to main, what goes to the worklets, and the device problems with
 * their recovery.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  AUDIO_MESSAGES,
  AudioEngine,
  toAudioDeviceError,
  type AudioEngineDeps,
  type AudioEngineStatus,
  type CaptureOptions,
  type CaptureWorkerLike,
  type InputLevel,
} from '../../src/renderer/src/audio/audio-engine';
import { LEVEL_FLOOR_DB } from '../../src/renderer/src/audio/level-meter';
import type {
  CaptureOut,
  CaptureWorkerIn,
  CaptureWorkerOut,
  PlaybackIn,
  PlaybackOut,
} from '../../src/renderer/src/audio/worklet-protocol';
import { CAPTURE_PROCESSOR, PLAYBACK_PROCESSOR } from '../../src/renderer/src/audio/worklet-protocol';
import type { AudioDown, AudioUp, CueApi } from '../../src/shared/contract';

class FakePort {
  readonly sent: unknown[] = [];
  /** What each message transferred, by index in `sent`. */
  readonly transfers: unknown[][] = [];
  onmessage: ((event: { data: unknown }) => void) | null = null;
  postMessage(message: unknown, transfer: unknown[] = []): void {
    this.sent.push(message);
    this.transfers.push(transfer);
  }
  /** A message from the processor. */
  fromProcessor(data: unknown): void {
    this.onmessage?.({ data });
  }
}

class FakeNode {
  readonly port = new FakePort();
  readonly connections: unknown[] = [];
  disconnected = false;
  constructor(
    readonly name: string,
    readonly options: AudioWorkletNodeOptions,
  ) {}
  connect(target: unknown): void {
    this.connections.push(target);
  }
  disconnect(): void {
    this.disconnected = true;
  }
}

class FakeContext {
  sampleRate = 48_000;
  currentTime = 10;
  baseLatency = 0.005;
  outputLatency = 0.02;
  state: AudioContextState = 'running';
  closed = false;
  onstatechange: (() => void) | null = null;
  readonly destination = { kind: 'destination' };
  readonly modules: string[] = [];
  readonly nodes: FakeNode[] = [];
  readonly sources: { stream: unknown; connect: (n: unknown) => void; disconnect: () => void }[] = [];
  stamp: AudioTimestamp = { contextTime: 0, performanceTime: 0 };
  readonly audioWorklet = {
    addModule: async (url: string) => {
      this.modules.push(url);
    },
  };
  constructor(readonly options: AudioContextOptions) {}
  createMediaStreamSource(stream: unknown) {
    const source = { stream, connect: vi.fn(), disconnect: vi.fn() };
    this.sources.push(source);
    return source;
  }
  getOutputTimestamp(): AudioTimestamp {
    return this.stamp;
  }
  /** suspend() and resume() calls, in order. */
  readonly transitions: ('suspend' | 'resume')[] = [];
  async resume() {
    this.transitions.push('resume');
    this.state = 'running';
  }
  async suspend() {
    this.transitions.push('suspend');
    this.state = 'suspended';
  }
  async close() {
    this.closed = true;
    this.state = 'closed';
  }
  node(name: string): FakeNode {
    const found = this.nodes.filter((n) => n.name === name).at(-1);
    if (!found) throw new Error(`no ${name} node`);
    return found;
  }
}

class FakeTrack extends EventTarget {
  readyState: MediaStreamTrackState = 'live';
  stopped = false;
  constructor(
    readonly label: string,
    private readonly settings: MediaTrackSettings & { latency?: number },
  ) {
    super();
  }
  getSettings() {
    return this.settings;
  }
  stop() {
    this.stopped = true;
    this.readyState = 'ended';
  }
  /** The device went away. */
  unplug() {
    this.readyState = 'ended';
    this.dispatchEvent(new Event('ended'));
  }
}

interface FakeDevice {
  deviceId: string;
  label: string;
  groupId: string;
}

class FakeMediaDevices extends EventTarget {
  devices: FakeDevice[] = [
    { deviceId: 'default', label: 'Default - Built-in', groupId: 'g1' },
    { deviceId: 'built-in', label: 'Built-in Microphone', groupId: 'g1' },
  ];
  /** Set to make the next getUserMedia calls fail with this DOMException name. */
  failWith: string | null = null;
  readonly calls: MediaTrackConstraints[] = [];
  readonly tracks: FakeTrack[] = [];

  async getUserMedia(constraints: MediaStreamConstraints): Promise<MediaStream> {
    const audio = constraints.audio as MediaTrackConstraints;
    this.calls.push(audio);
    if (this.failWith) throw Object.assign(new Error(`fake ${this.failWith}`), { name: this.failWith });
    const real = this.devices.filter((d) => d.deviceId !== 'default');
    if (real.length === 0)
      throw Object.assign(new Error('Requested device not found'), { name: 'NotFoundError' });
    const wanted = (audio.deviceId as ConstrainDOMStringParameters | undefined)?.exact;
    const device = wanted ? real.find((d) => d.deviceId === wanted) : real[0];
    if (!device) throw Object.assign(new Error('deviceId'), { name: 'OverconstrainedError' });
    const track = new FakeTrack(device.label, {
      deviceId: device.deviceId,
      groupId: device.groupId,
      latency: 0.01,
    });
    this.tracks.push(track);
    return { getAudioTracks: () => [track], getTracks: () => [track] } as unknown as MediaStream;
  }

  async enumerateDevices(): Promise<MediaDeviceInfo[]> {
    return [
      ...this.devices.map((d) => ({ ...d, kind: 'audioinput' })),
      { deviceId: 'speaker', label: 'Speakers', groupId: 'g9', kind: 'audiooutput' },
    ] as unknown as MediaDeviceInfo[];
  }

  /** Devices plugged or unplugged. */
  change(devices: FakeDevice[]): void {
    this.devices = devices;
    this.dispatchEvent(new Event('devicechange'));
  }
}

class FakeApi implements CueApi {
  readonly up: AudioUp[] = [];
  /** Set by tests that give the API a direct microphone channel. */
  openMicPort?: () => Promise<MessagePort>;
  private listener: ((message: AudioDown) => void) | null = null;
  request = vi.fn() as unknown as CueApi['request'];
  on = vi.fn(() => () => undefined) as unknown as CueApi['on'];
  sendAudio(message: AudioUp): void {
    this.up.push(message);
  }
  onAudio(listener: (message: AudioDown) => void): () => void {
    this.listener = listener;
    return () => {
      this.listener = null;
    };
  }
  down(message: AudioDown): void {
    this.listener?.(message);
  }
  get listening(): boolean {
    return this.listener !== null;
  }
}

/** The page's document, as far as the meter cares. */
class FakeVisibility extends EventTarget {
  visibilityState: DocumentVisibilityState = 'visible';
  set(state: DocumentVisibilityState): void {
    this.visibilityState = state;
    this.dispatchEvent(new Event('visibilitychange'));
  }
}

/** A MessagePort to main, as openMicPort gives it. */
class FakeMicPort {
  closed = false;
  close(): void {
    this.closed = true;
  }
}

const micPort = () => new FakeMicPort() as FakeMicPort & MessagePort;

const SILENT: InputLevel = { level: LEVEL_FLOOR_DB, peak: LEVEL_FLOOR_DB };

const OPTIONS: CaptureOptions = { echoCancellation: true, noiseSuppression: true, autoGainControl: true };

let media: FakeMediaDevices;
let contexts: FakeContext[];
let api: FakeApi;
let clock: number;
let focus: EventTarget;
let statuses: AudioEngineStatus[];

function makeEngine(extra: Partial<AudioEngineDeps> = {}): AudioEngine {
  return new AudioEngine({
    api,
    workletUrls: { capture: '/assets/capture-worklet-abc.js', playback: '/assets/playback-worklet-def.js' },
    mediaDevices: media as unknown as MediaDevices,
    createContext: (options) => {
      const context = new FakeContext(options);
      contexts.push(context);
      return context as unknown as AudioContext;
    },
    createWorkletNode: (context, name, options) => {
      const node = new FakeNode(name, options);
      (context as unknown as FakeContext).nodes.push(node);
      return node as unknown as AudioWorkletNode;
    },
    permissions: { query: () => Promise.reject(new Error('no permissions API here')) },
    focusTarget: focus,
    now: () => clock,
    onStatus: (status) => statuses.push(status),
    ...extra,
  });
}

const context = () => contexts.at(-1)!;

beforeEach(() => {
  vi.useFakeTimers();
  media = new FakeMediaDevices();
  contexts = [];
  api = new FakeApi();
  clock = 1000;
  focus = new EventTarget();
  statuses = [];
});

afterEach(() => {
  vi.useRealTimers();
});

describe('audio engine: start and capture', () => {
  it('opens an interactive context, both worklets, playback and the microphone with the processing asked', async () => {
    const engine = makeEngine();
    await engine.start(OPTIONS);
    expect(context().options).toEqual({ latencyHint: 'interactive' });
    expect(context().modules).toEqual(['/assets/capture-worklet-abc.js', '/assets/playback-worklet-def.js']);
    expect(media.calls).toEqual([
      { echoCancellation: true, noiseSuppression: true, autoGainControl: true, channelCount: { ideal: 1 } },
    ]);
    const playback = context().node(PLAYBACK_PROCESSOR);
    expect(playback.options).toMatchObject({
      numberOfInputs: 0,
      numberOfOutputs: 1,
      outputChannelCount: [1],
    });
    expect(playback.options.processorOptions.prebufferMs).toBeLessThanOrEqual(100);
    expect(playback.connections).toEqual([context().destination]);
    const capture = context().node(CAPTURE_PROCESSOR);
    expect(capture.options.processorOptions).toEqual({
      targetRate: 16_000,
      frameMs: 20,
      levelIntervalMs: 100,
      levelStepDb: 1,
    });
    expect(context().sources[0]!.connect).toHaveBeenCalledWith(capture);
    expect(engine.status).toMatchObject({
      state: 'capturing',
      device: { deviceId: 'built-in', label: 'Built-in Microphone' },
      sampleRate: 48_000,
    });
    expect(statuses.map((s) => s.state)).toEqual(['starting', 'starting', 'capturing']);
    expect(api.listening).toBe(true);
  });

  it('sends each frame to main with its age', async () => {
    const engine = makeEngine();
    await engine.start(OPTIONS);
    const samples = Int16Array.from({ length: 320 }, (_, i) => Math.round(16384 * Math.sin(i / 3)));
    context().currentTime = 10.05;
    const frame: CaptureOut = { type: 'frame', samples, time: 10.0 };
    context().node(CAPTURE_PROCESSOR).port.fromProcessor(frame);
    expect(api.up).toHaveLength(1);
    const mic = api.up[0] as Extract<AudioUp, { type: 'mic' }>;
    expect(mic.type).toBe('mic');
    expect(mic.samples).toBe(samples);
    // 50 ms on the context clock plus the track's reported input latency (10 ms).
    expect(mic.ageMs).toBeCloseTo(60, 6);
    // The page no longer meters the frames: the worklet does.
    expect(engine.level).toEqual({ level: LEVEL_FLOOR_DB, peak: LEVEL_FLOOR_DB });
  });

  it('passes the level processor option given to the engine on to the worklet', async () => {
    const engine = makeEngine({ levelIntervalMs: 250 });
    await engine.start(OPTIONS);
    expect(context().node(CAPTURE_PROCESSOR).options.processorOptions).toMatchObject({
      levelIntervalMs: 250,
      levelStepDb: 1,
    });
  });

  it('applies new options by reopening the microphone, and stops cleanly', async () => {
    const engine = makeEngine();
    await engine.start(OPTIONS);
    const first = media.tracks[0]!;
    await engine.start({ ...OPTIONS, echoCancellation: false });
    expect(first.stopped).toBe(true);
    expect(media.calls.at(-1)).toMatchObject({ echoCancellation: false });
    expect(context().node(CAPTURE_PROCESSOR).port.sent).toEqual([]);
    // Same options again: nothing reopens.
    await engine.start({ ...OPTIONS, echoCancellation: false });
    expect(media.calls).toHaveLength(2);
    const ctx = context();
    const capture = ctx.node(CAPTURE_PROCESSOR);
    await engine.stop();
    expect(engine.status).toEqual({ state: 'idle', sampleRate: 48_000 });
    expect(media.tracks[1]!.stopped).toBe(true);
    expect(capture.port.sent).toEqual([{ type: 'close' }]);
    expect(ctx.node(PLAYBACK_PROCESSOR).port.sent).toEqual([{ type: 'close' }]);
    expect(ctx.closed).toBe(true);
    expect(api.listening).toBe(false);
  });

  it('survives stop during start (React StrictMode) and starts again', async () => {
    const engine = makeEngine();
    const first = engine.start(OPTIONS);
    await engine.stop();
    await first;
    expect(engine.status.state).toBe('idle');
    await engine.start(OPTIONS);
    expect(engine.status.state).toBe('capturing');
    expect(media.tracks.filter((t) => !t.stopped)).toHaveLength(1);
  });

  it('lists input devices for the picker and tells when they change', async () => {
    const engine = makeEngine();
    expect(await engine.listInputDevices()).toEqual([
      { deviceId: 'default', label: 'Default - Built-in', groupId: 'g1', isDefault: true },
      { deviceId: 'built-in', label: 'Built-in Microphone', groupId: 'g1', isDefault: false },
    ]);
    const seen: string[][] = [];
    const unsubscribe = engine.onDevicesChange((devices) => seen.push(devices.map((d) => d.deviceId)));
    media.change([...media.devices, { deviceId: 'usb', label: 'USB Mic', groupId: 'g2' }]);
    await vi.advanceTimersByTimeAsync(300);
    expect(seen).toEqual([['default', 'built-in', 'usb']]);
    unsubscribe();
    media.change(media.devices.slice(0, 2));
    await vi.advanceTimersByTimeAsync(300);
    expect(seen).toHaveLength(1);
  });
});

describe('audio engine: playback', () => {
  it('resamples main audio to the context rate for the worklet, flushing the tail at the end', async () => {
    const engine = makeEngine();
    await engine.start(OPTIONS);
    const port = context().node(PLAYBACK_PROCESSOR).port;
    for (let i = 0; i < 4; i++)
      api.down({ type: 'audio', utterance: 3, samples: new Int16Array(2400).fill(8192), sampleRate: 24_000 });
    api.down({ type: 'pause' });
    api.down({ type: 'resume' });
    api.down({ type: 'end', utterance: 3 });
    const messages = port.sent as PlaybackIn[];
    const audio = messages.filter((m): m is Extract<PlaybackIn, { type: 'audio' }> => m.type === 'audio');
    const total = audio.reduce((n, m) => n + m.samples.length, 0);
    expect(total).toBe(4 * 2400 * 2);
    expect(audio.every((m) => m.utterance === 3 && m.samples instanceof Float32Array)).toBe(true);
    expect(audio[1]!.samples[100]).toBeCloseTo(0.25, 4);
    expect(messages.filter((m) => m.type !== 'audio')).toEqual([
      { type: 'pause' },
      { type: 'resume' },
      { type: 'end', utterance: 3 },
    ]);
    expect(messages.at(-1)).toEqual({ type: 'end', utterance: 3 });
  });

  it('reports played when the first sample is audible at the speaker, not when it is rendered', async () => {
    const engine = makeEngine();
    await engine.start(OPTIONS);
    const node = context().node(PLAYBACK_PROCESSOR);
    // The device is playing context time 10.0 right now (performance time 1000 ms).
    context().stamp = { contextTime: 10.0, performanceTime: 1000 };
    const played: PlaybackOut = { type: 'played', utterance: 7, contextTime: 10.03 };
    node.port.fromProcessor(played);
    expect(api.up).toEqual([]);
    clock = 1030;
    await vi.advanceTimersByTimeAsync(30);
    expect(api.up).toEqual([{ type: 'played', utterance: 7, ageMs: expect.closeTo(0, 6) }]);
    // Already audible 15 ms ago: reported at once with its age.
    clock = 1100;
    node.port.fromProcessor({ type: 'finished', utterance: 7, contextTime: 10.085, playedMs: 80 });
    expect(api.up.at(-1)).toEqual({
      type: 'finished',
      utterance: 7,
      ageMs: expect.closeTo(15, 6),
      playedMs: 80,
    });
  });

  it('falls back to the reported latencies before the output has a timestamp', async () => {
    const engine = makeEngine();
    await engine.start(OPTIONS);
    context().currentTime = 10.0;
    // base 5 ms + output 20 ms after the render clock.
    expect(engine.audibleAt(10.0)).toBeCloseTo(clock + 25, 6);
    context().stamp = { contextTime: 9.98, performanceTime: 990 };
    expect(engine.audibleAt(10.0)).toBeCloseTo(1010, 6);
  });

  it('clears at once: the worklet is told before anything else, and pending reports are dropped', async () => {
    const cleared: unknown[] = [];
    const engine = makeEngine({ onPlayback: (report) => cleared.push(report) });
    await engine.start(OPTIONS);
    const node = context().node(PLAYBACK_PROCESSOR);
    context().stamp = { contextTime: 10.0, performanceTime: 1000 };
    api.down({ type: 'audio', utterance: 2, samples: new Int16Array(1600), sampleRate: 16_000 });
    node.port.fromProcessor({ type: 'played', utterance: 2, contextTime: 10.05 });
    api.down({ type: 'clear', utterance: 2 });
    expect(node.port.sent.at(-1)).toEqual({ type: 'clear', utterance: 2 });
    node.port.fromProcessor({ type: 'cleared', utterance: 2, playedMs: 0 });
    await vi.advanceTimersByTimeAsync(100);
    expect(api.up).toEqual([]);
    expect(cleared).toEqual([{ type: 'cleared', utterance: 2, playedMs: 0 }]);
    // The next utterance starts a fresh resampler (no history of the cleared one).
    api.down({ type: 'audio', utterance: 3, samples: new Int16Array(1600).fill(1000), sampleRate: 16_000 });
    const last = node.port.sent.at(-1) as Extract<PlaybackIn, { type: 'audio' }>;
    expect(last.utterance).toBe(3);
  });
});

describe('audio engine: device problems and recovery', () => {
  it('maps getUserMedia errors to problems with messages for the user', () => {
    const named = (name: string) => Object.assign(new Error('x'), { name });
    expect(toAudioDeviceError(named('NotAllowedError')).problem).toBe('permission-denied');
    expect(toAudioDeviceError(named('SecurityError')).problem).toBe('permission-denied');
    expect(toAudioDeviceError(named('NotFoundError')).problem).toBe('no-device');
    expect(toAudioDeviceError(named('OverconstrainedError')).problem).toBe('no-device');
    expect(toAudioDeviceError(named('NotReadableError')).problem).toBe('device-busy');
    const other = toAudioDeviceError(new TypeError('bad constraint'));
    expect(other.problem).toBe('failed');
    expect(other.message).toMatch(/bad constraint/);
    expect(toAudioDeviceError(named('NotAllowedError')).message).toBe(AUDIO_MESSAGES['permission-denied']);
  });

  it('permission denied: says so, and tries again when the window gets the focus back', async () => {
    media.failWith = 'NotAllowedError';
    const engine = makeEngine();
    await engine.start(OPTIONS);
    expect(engine.status).toMatchObject({
      state: 'error',
      problem: 'permission-denied',
      message: AUDIO_MESSAGES['permission-denied'],
    });
    // Playback still works while the microphone is refused.
    expect(api.listening).toBe(true);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(media.calls).toHaveLength(1);
    media.failWith = null;
    focus.dispatchEvent(new Event('focus'));
    await vi.advanceTimersByTimeAsync(0);
    expect(engine.status.state).toBe('capturing');
    expect(engine.status.message).toBeUndefined();
  });

  it('permission denied: retry() tries at once', async () => {
    media.failWith = 'NotAllowedError';
    const engine = makeEngine();
    await engine.start(OPTIONS);
    media.failWith = null;
    await engine.retry();
    expect(engine.status.state).toBe('capturing');
  });

  it('no microphone: says so, and starts when one is plugged in', async () => {
    media.devices = [];
    const engine = makeEngine();
    await engine.start(OPTIONS);
    expect(engine.status).toMatchObject({
      state: 'error',
      problem: 'no-device',
      message: AUDIO_MESSAGES['no-device'],
    });
    media.change([{ deviceId: 'usb', label: 'USB Mic', groupId: 'g2' }]);
    await vi.advanceTimersByTimeAsync(300);
    expect(engine.status).toMatchObject({
      state: 'capturing',
      device: { deviceId: 'usb', label: 'USB Mic' },
    });
  });

  it('unplugged mid-session: says so, switches to another microphone if there is one', async () => {
    media.devices = [
      { deviceId: 'usb', label: 'USB Mic', groupId: 'g2' },
      { deviceId: 'built-in', label: 'Built-in Microphone', groupId: 'g1' },
    ];
    const engine = makeEngine();
    await engine.start(OPTIONS);
    expect(engine.status.device?.label).toBe('USB Mic');
    media.devices = media.devices.slice(1);
    media.tracks[0]!.unplug();
    expect(engine.status).toMatchObject({ state: 'error', problem: 'device-lost' });
    await vi.advanceTimersByTimeAsync(0);
    expect(engine.status).toMatchObject({
      state: 'capturing',
      device: { label: 'Built-in Microphone' },
      message: 'USB Mic was disconnected: now using Built-in Microphone.',
    });
  });

  it('unplugged with no other microphone: waits, and resumes when it comes back', async () => {
    media.devices = [{ deviceId: 'usb', label: 'USB Mic', groupId: 'g2' }];
    const engine = makeEngine();
    await engine.start(OPTIONS);
    media.devices = [];
    media.tracks[0]!.unplug();
    await vi.advanceTimersByTimeAsync(0);
    expect(engine.status).toMatchObject({
      state: 'error',
      problem: 'device-lost',
      message: AUDIO_MESSAGES['device-lost'],
    });
    expect(engine.status).not.toHaveProperty('level');
    expect(engine.level).toEqual({ level: LEVEL_FLOOR_DB, peak: LEVEL_FLOOR_DB });
    expect(media.tracks[0]!.stopped).toBe(true);
    // Frames from the closed capture node are not sent.
    media.change([{ deviceId: 'usb', label: 'USB Mic', groupId: 'g2' }]);
    await vi.advanceTimersByTimeAsync(300);
    expect(engine.status).toMatchObject({ state: 'capturing', device: { label: 'USB Mic' } });
    expect(engine.status.message).toBeUndefined();
    expect(media.tracks).toHaveLength(2);
  });

  it('keeps polling while no microphone is there, even without devicechange events', async () => {
    media.devices = [];
    const engine = makeEngine();
    await engine.start(OPTIONS);
    media.devices = [{ deviceId: 'usb', label: 'USB Mic', groupId: 'g2' }];
    await vi.advanceTimersByTimeAsync(5_100);
    expect(engine.status.state).toBe('capturing');
  });

  it('a microphone busy elsewhere: retries every 2 s', async () => {
    media.failWith = 'NotReadableError';
    const engine = makeEngine();
    await engine.start(OPTIONS);
    expect(engine.status.problem).toBe('device-busy');
    await vi.advanceTimersByTimeAsync(2_100);
    expect(media.calls).toHaveLength(2);
    expect(engine.status.state).toBe('error');
    media.failWith = null;
    await vi.advanceTimersByTimeAsync(2_100);
    expect(engine.status.state).toBe('capturing');
  });

  it('the selected microphone missing: uses the default meanwhile, switches back when it returns', async () => {
    const engine = makeEngine();
    await engine.start({ ...OPTIONS, deviceId: 'usb' });
    expect(media.calls[0]).toMatchObject({ deviceId: { exact: 'usb' } });
    expect(media.calls[1]!.deviceId).toBeUndefined();
    expect(engine.status).toMatchObject({
      state: 'capturing',
      device: { deviceId: 'built-in' },
      message: expect.stringMatching(/selected microphone is not connected/),
    });
    media.change([...media.devices, { deviceId: 'usb', label: 'USB Mic', groupId: 'g2' }]);
    await vi.advanceTimersByTimeAsync(300);
    expect(engine.status).toMatchObject({
      state: 'capturing',
      device: { deviceId: 'usb', label: 'USB Mic' },
    });
    expect(engine.status.message).toBeUndefined();
    expect(media.tracks[0]!.stopped).toBe(true);
  });

  it('on the system default: follows the OS when it switches the default microphone', async () => {
    const engine = makeEngine();
    await engine.start(OPTIONS);
    media.change([
      { deviceId: 'default', label: 'Default - USB Mic', groupId: 'g2' },
      { deviceId: 'usb', label: 'USB Mic', groupId: 'g2' },
      { deviceId: 'built-in', label: 'Built-in Microphone', groupId: 'g1' },
    ]);
    await vi.advanceTimersByTimeAsync(300);
    expect(media.calls).toHaveLength(2);
    expect(media.tracks[0]!.stopped).toBe(true);
  });

  it('no bridge to main yet: an error, and retry() asks for it again', async () => {
    let attempts = 0;
    const engine = makeEngine({
      api: () => {
        attempts++;
        return attempts === 1 ? Promise.reject(new Error('bridge closed')) : api;
      },
    });
    await engine.start(OPTIONS);
    expect(engine.status).toMatchObject({ state: 'error', problem: 'failed' });
    expect(engine.status.message).toMatch(/bridge closed/);
    await engine.retry();
    expect(attempts).toBe(2);
    expect(engine.status.state).toBe('capturing');
    expect(api.listening).toBe(true);
  });

  it('worklets that fail to load: an error naming the cause, and retry() starts over', async () => {
    let fail = true;
    const engine = makeEngine({
      createContext: (options) => {
        const ctx = new FakeContext(options);
        ctx.audioWorklet.addModule = async (url: string) => {
          if (fail) throw new Error(`blocked by CSP: ${url}`);
          ctx.modules.push(url);
        };
        contexts.push(ctx);
        return ctx as unknown as AudioContext;
      },
    });
    await engine.start(OPTIONS);
    expect(engine.status).toMatchObject({ state: 'error', problem: 'failed' });
    expect(engine.status.message).toMatch(/blocked by CSP/);
    expect(contexts[0]!.closed).toBe(true);
    fail = false;
    await engine.retry();
    expect(engine.status.state).toBe('capturing');
  });
});

describe('audio engine: the direct microphone port', () => {
  const frame = (): CaptureOut => ({ type: 'frame', samples: new Int16Array(320).fill(3), time: 10 });

  it('hands the port from openMicPort to the capture worklet (transferred) once capture is open', async () => {
    const ports = [micPort(), micPort()];
    const captureNodesAtCall: number[] = [];
    api.openMicPort = vi.fn(async () => {
      captureNodesAtCall.push(context().nodes.filter((n) => n.name === CAPTURE_PROCESSOR).length);
      return ports[captureNodesAtCall.length - 1]!;
    });
    const engine = makeEngine();
    await engine.start(OPTIONS);
    await vi.advanceTimersByTimeAsync(0);
    expect(api.openMicPort).toHaveBeenCalledTimes(1);
    expect(captureNodesAtCall).toEqual([1]);
    const first = context().node(CAPTURE_PROCESSOR);
    // The track reports 10 ms of input latency: the worklet adds it to each frame's age.
    expect(first.port.sent).toEqual([{ type: 'sink', port: ports[0], inputLatencyMs: 10 }]);
    expect(first.port.transfers).toEqual([[ports[0]]]);
    expect(ports[0]!.closed).toBe(false);
    // Frames the worklet posted before it had the port still reach main through the page.
    first.port.fromProcessor(frame());
    expect(api.up.map((m) => m.type)).toEqual(['mic']);

    // Reopened microphone: a new port for the new node.
    await engine.start({ ...OPTIONS, autoGainControl: false });
    await vi.advanceTimersByTimeAsync(0);
    expect(api.openMicPort).toHaveBeenCalledTimes(2);
    const second = context().node(CAPTURE_PROCESSOR);
    expect(second).not.toBe(first);
    expect(second.port.sent).toEqual([{ type: 'sink', port: ports[1], inputLatencyMs: 10 }]);
    expect(second.port.transfers).toEqual([[ports[1]]]);
    expect(first.port.sent).toEqual([
      { type: 'sink', port: ports[0], inputLatencyMs: 10 },
      { type: 'close' },
    ]);
  });

  it('without openMicPort: no sink, the frames go to sendAudio', async () => {
    expect(api.openMicPort).toBeUndefined();
    const engine = makeEngine();
    await engine.start(OPTIONS);
    await vi.advanceTimersByTimeAsync(0);
    const node = context().node(CAPTURE_PROCESSOR);
    expect(node.port.sent).toEqual([]);
    node.port.fromProcessor(frame());
    node.port.fromProcessor(frame());
    expect(api.up.map((m) => m.type)).toEqual(['mic', 'mic']);
    expect(engine.status.state).toBe('capturing');
  });

  it('openMicPort rejected: a warning, and the frames keep going to sendAudio', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      api.openMicPort = vi.fn(() => Promise.reject(new Error('no microphone port from the preload')));
      const engine = makeEngine();
      await engine.start(OPTIONS);
      await vi.advanceTimersByTimeAsync(0);
      expect(api.openMicPort).toHaveBeenCalledTimes(1);
      expect(warn).toHaveBeenCalledTimes(1);
      expect(String(warn.mock.calls[0]![0])).toMatch(/no microphone port from the preload/);
      const node = context().node(CAPTURE_PROCESSOR);
      expect(node.port.sent).toEqual([]);
      node.port.fromProcessor(frame());
      expect(api.up).toHaveLength(1);
      expect(api.up[0]).toMatchObject({ type: 'mic', ageMs: expect.closeTo(10, 6) });
      expect(engine.status).toMatchObject({ state: 'capturing' });
      expect(engine.status.message).toBeUndefined();
    } finally {
      warn.mockRestore();
    }
  });

  it('closes a port that arrives after its capture was closed (stop, or a reopened microphone)', async () => {
    const resolvers: ((port: MessagePort) => void)[] = [];
    api.openMicPort = vi.fn(() => new Promise<MessagePort>((resolve) => resolvers.push(resolve)));
    const engine = makeEngine();
    await engine.start(OPTIONS);
    const first = context().node(CAPTURE_PROCESSOR);
    // Reopened before the port came: the late port is closed, the new capture waits for its own.
    await engine.start({ ...OPTIONS, noiseSuppression: false });
    const second = context().node(CAPTURE_PROCESSOR);
    expect(resolvers).toHaveLength(2);
    const late = micPort();
    resolvers[0]!(late);
    await vi.advanceTimersByTimeAsync(0);
    expect(late.closed).toBe(true);
    expect(first.port.sent).toEqual([{ type: 'close' }]);
    expect(second.port.sent).toEqual([]);
    // Stopped before the port came: closed as well.
    await engine.stop();
    const afterStop = micPort();
    resolvers[1]!(afterStop);
    await vi.advanceTimersByTimeAsync(0);
    expect(afterStop.closed).toBe(true);
    expect(second.port.sent).toEqual([{ type: 'close' }]);
  });
});

describe('audio engine: the input level', () => {
  it('onLevel hears the worklet readings (not the status listeners); silent again when the state changes', async () => {
    const engine = makeEngine();
    await engine.start(OPTIONS);
    expect(engine.level).toEqual(SILENT);
    const heard: InputLevel[] = [];
    const off = engine.onLevel((level) => heard.push(level));
    const node = context().node(CAPTURE_PROCESSOR);
    const statusCount = statuses.length;
    node.port.fromProcessor({ type: 'level', level: -20, peak: -12 } satisfies CaptureOut);
    expect(engine.level).toEqual({ level: -20, peak: -12 });
    expect(heard).toEqual([{ level: -20, peak: -12 }]);
    // The same reading again is no news.
    node.port.fromProcessor({ type: 'level', level: -20, peak: -12 } satisfies CaptureOut);
    node.port.fromProcessor({ type: 'level', level: -31.5, peak: -12 } satisfies CaptureOut);
    expect(heard).toEqual([
      { level: -20, peak: -12 },
      { level: -31.5, peak: -12 },
    ]);
    expect(statuses).toHaveLength(statusCount);
    expect(api.up).toEqual([]);
    // The microphone goes away: the meter drops to silence with the state.
    media.tracks[0]!.unplug();
    expect(engine.status.state).toBe('error');
    expect(engine.level).toEqual(SILENT);
    expect(heard.at(-1)).toEqual(SILENT);
    await vi.advanceTimersByTimeAsync(0);
    expect(engine.status.state).toBe('capturing');
    const next = context().node(CAPTURE_PROCESSOR);
    expect(next).not.toBe(node);
    next.port.fromProcessor({ type: 'level', level: -40, peak: -30 } satisfies CaptureOut);
    expect(heard.at(-1)).toEqual({ level: -40, peak: -30 });
    off();
    const count = heard.length;
    next.port.fromProcessor({ type: 'level', level: -10, peak: -3 } satisfies CaptureOut);
    expect(engine.level).toEqual({ level: -10, peak: -3 });
    expect(heard).toHaveLength(count);
    // Stopped: silent.
    await engine.stop();
    expect(engine.level).toEqual(SILENT);
  });

  it('hidden page: tells the worklet to stop metering and shows silence; visible again: metering on', async () => {
    const visibility = new FakeVisibility();
    const engine = makeEngine({ visibility });
    await engine.start(OPTIONS);
    const node = context().node(CAPTURE_PROCESSOR);
    expect(node.port.sent).toEqual([]);
    const heard: InputLevel[] = [];
    engine.onLevel((level) => heard.push(level));
    node.port.fromProcessor({ type: 'level', level: -18, peak: -9 } satisfies CaptureOut);
    visibility.set('hidden');
    expect(node.port.sent).toEqual([{ type: 'meter', on: false }]);
    expect(engine.level).toEqual(SILENT);
    expect(heard).toEqual([{ level: -18, peak: -9 }, SILENT]);
    visibility.set('visible');
    expect(node.port.sent).toEqual([
      { type: 'meter', on: false },
      { type: 'meter', on: true },
    ]);
    node.port.fromProcessor({ type: 'level', level: -22, peak: -9 } satisfies CaptureOut);
    expect(engine.level).toEqual({ level: -22, peak: -9 });
    // Once the capture is closed, the page's visibility is none of its business.
    await engine.stop();
    visibility.set('hidden');
    visibility.set('visible');
    expect(node.port.sent.at(-1)).toEqual({ type: 'close' });
    expect(node.port.sent.filter((m) => (m as { type: string }).type === 'meter')).toHaveLength(2);
  });

  it('a capture opened while the page is hidden starts with the meter off', async () => {
    const visibility = new FakeVisibility();
    visibility.visibilityState = 'hidden';
    const engine = makeEngine({ visibility });
    await engine.start(OPTIONS);
    const node = context().node(CAPTURE_PROCESSOR);
    expect(node.port.sent).toEqual([{ type: 'meter', on: false }]);
    expect(engine.level).toEqual(SILENT);
    visibility.set('visible');
    expect(node.port.sent.at(-1)).toEqual({ type: 'meter', on: true });
  });
});

/** The capture worker, as the engine sees it: what it was sent, and messages from it. */
class FakeCaptureWorker implements CaptureWorkerLike {
  readonly sent: CaptureWorkerIn[] = [];
  readonly transfers: unknown[][] = [];
  terminated = false;
  onmessage: ((event: MessageEvent) => void) | null = null;
  onerror: ((event: ErrorEvent) => void) | null = null;
  postMessage(message: CaptureWorkerIn, transfer: unknown[] = []): void {
    this.sent.push(message);
    this.transfers.push(transfer);
  }
  terminate(): void {
    this.terminated = true;
  }
  fromWorker(data: CaptureWorkerOut): void {
    this.onmessage?.({ data } as MessageEvent);
  }
}

describe('audio engine: the capture worker', () => {
  const TIME_ORIGIN = 1_700_000_000_000;
  const IDLE_MS = 1500;
  let workers: FakeCaptureWorker[];
  let streams: { track: MediaStreamTrack; readable: ReadableStream }[];
  const worker = () => workers.at(-1)!;
  const makeWorkerEngine = (extra: Partial<AudioEngineDeps> = {}) =>
    makeEngine({
      createCaptureWorker: () => {
        const made = new FakeCaptureWorker();
        workers.push(made);
        return made;
      },
      createTrackStream: (track) => {
        const readable = new ReadableStream();
        streams.push({ track, readable });
        return readable;
      },
      timeOrigin: TIME_ORIGIN,
      idleSuspendMs: IDLE_MS,
      ...extra,
    });
  const utterance = (id: number): AudioDown => ({
    type: 'audio',
    utterance: id,
    samples: new Int16Array(480).fill(1000),
    sampleRate: 24_000,
  });

  beforeEach(() => {
    workers = [];
    streams = [];
  });

  it("reads the track's stream in the worker: no capture worklet, the stream moved there with the frame options", async () => {
    const engine = makeWorkerEngine();
    await engine.start(OPTIONS);
    expect(context().nodes.map((n) => n.name)).toEqual([PLAYBACK_PROCESSOR]);
    expect(context().sources).toEqual([]);
    expect(streams.map((s) => s.track)).toEqual([media.tracks[0]]);
    expect(worker().sent).toEqual([
      {
        type: 'start',
        readable: streams[0]!.readable,
        options: { targetRate: 16_000, frameMs: 20, levelIntervalMs: 100, levelStepDb: 1 },
      },
    ]);
    expect(worker().transfers).toEqual([[streams[0]!.readable]]);
    expect(engine.status.state).toBe('capturing');
  });

  it("sends the worker's frames to main aged from their epoch capture time, and its levels to the meter", async () => {
    const engine = makeWorkerEngine();
    await engine.start(OPTIONS);
    const samples = new Int16Array(320).fill(7);
    // Captured 35 ms before now (the clock reads 1000 ms after the time origin).
    worker().fromWorker({ type: 'frame', samples, capturedAt: TIME_ORIGIN + 965 });
    expect(api.up).toEqual([{ type: 'mic', samples, ageMs: expect.closeTo(35, 6) }]);
    worker().fromWorker({ type: 'level', level: -24, peak: -10 });
    expect(engine.level).toEqual({ level: -24, peak: -10 });
  });

  it('gives the worker the mic port (no input latency added: the chunk timestamps count it)', async () => {
    const port = micPort();
    api.openMicPort = vi.fn(async () => port);
    const engine = makeWorkerEngine();
    await engine.start(OPTIONS);
    await vi.advanceTimersByTimeAsync(0);
    expect(worker().sent.at(-1)).toEqual({ type: 'sink', port, inputLatencyMs: 0 });
    expect(worker().transfers.at(-1)).toEqual([port]);
  });

  it("where the API has the bridge's mic socket (browser build): the worker opens it, no mic port is asked", async () => {
    const url = 'ws://127.0.0.1:5173/bridge/mic?token=t&page=p';
    const fake = api as FakeApi & { micSocketUrl?: () => string };
    fake.micSocketUrl = () => url;
    api.openMicPort = vi.fn(async () => micPort());
    const engine = makeWorkerEngine();
    await engine.start(OPTIONS);
    await vi.advanceTimersByTimeAsync(0);
    expect(worker().sent.at(-1)).toEqual({ type: 'socket', url });
    expect(api.openMicPort).not.toHaveBeenCalled();
    // The worklet cannot open a socket: it gets a mic port.
    const worklet = makeWorkerEngine({ createTrackStream: () => null });
    await worklet.start(OPTIONS);
    await vi.advanceTimersByTimeAsync(0);
    expect(api.openMicPort).toHaveBeenCalledTimes(1);
    expect(context().node(CAPTURE_PROCESSOR).port.sent).toEqual([
      { type: 'sink', port: expect.anything(), inputLatencyMs: 10 },
    ]);
  });

  it('turns the meter off while the page is hidden, from the start too', async () => {
    const visibility = new FakeVisibility();
    visibility.visibilityState = 'hidden';
    const engine = makeWorkerEngine({ visibility });
    await engine.start(OPTIONS);
    expect(worker().sent.filter((m) => m.type === 'meter')).toEqual([{ type: 'meter', on: false }]);
    visibility.set('visible');
    expect(worker().sent.at(-1)).toEqual({ type: 'meter', on: true });
  });

  it('closes the worker with the capture (reopened microphone, stop), and ignores what it still says', async () => {
    const engine = makeWorkerEngine();
    await engine.start(OPTIONS);
    const first = worker();
    await engine.start({ ...OPTIONS, noiseSuppression: false });
    expect(first.sent.at(-1)).toEqual({ type: 'close' });
    expect(workers).toHaveLength(2);
    first.fromWorker({ type: 'frame', samples: new Int16Array(320), capturedAt: TIME_ORIGIN });
    expect(api.up).toEqual([]);
    await engine.stop();
    expect(worker().sent.at(-1)).toEqual({ type: 'close' });
    expect(media.tracks.every((t) => t.stopped)).toBe(true);
  });

  it('a worker that fails: capture falls back on the worklet, for good, and the context keeps running', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      const engine = makeWorkerEngine();
      await engine.start(OPTIONS);
      worker().fromWorker({ type: 'failed', message: 'AudioData.copyTo is not a function' });
      await vi.advanceTimersByTimeAsync(0);
      expect(String(warn.mock.calls[0]![0])).toMatch(/copyTo is not a function.*audio worklet/);
      expect(context().node(CAPTURE_PROCESSOR)).toBeDefined();
      expect(media.tracks[0]!.stopped).toBe(true);
      expect(engine.status.state).toBe('capturing');
      await vi.advanceTimersByTimeAsync(IDLE_MS * 3);
      expect(context().transitions).not.toContain('suspend');
      await engine.start({ ...OPTIONS, autoGainControl: false });
      expect(workers).toHaveLength(1);
    } finally {
      warn.mockRestore();
    }
  });

  it('no track stream in this browser: the worklet captures', async () => {
    const engine = makeWorkerEngine({ createTrackStream: () => null });
    await engine.start(OPTIONS);
    expect(workers).toEqual([]);
    expect(context().node(CAPTURE_PROCESSOR).options.processorOptions).toMatchObject({ targetRate: 16_000 });
  });

  it('a stream that ends while its track lives: the worklet captures from then on', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      const engine = makeWorkerEngine();
      await engine.start(OPTIONS);
      worker().fromWorker({ type: 'ended' });
      await vi.advanceTimersByTimeAsync(0);
      expect(String(warn.mock.calls[0]![0])).toMatch(/stream ended while the microphone was live/);
      expect(workers).toHaveLength(1);
      expect(media.tracks).toHaveLength(2);
      expect(context().node(CAPTURE_PROCESSOR)).toBeDefined();
      expect(engine.status.state).toBe('capturing');
    } finally {
      warn.mockRestore();
    }
  });

  it('the end of a stream whose track ended (unplugged) is left to the track', async () => {
    const engine = makeWorkerEngine();
    await engine.start(OPTIONS);
    media.tracks[0]!.readyState = 'ended';
    worker().fromWorker({ type: 'ended' });
    await vi.advanceTimersByTimeAsync(0);
    expect(workers).toHaveLength(1);
    expect(media.tracks).toHaveLength(1);
  });

  it('suspends the idle context, resumes it for a reply and suspends it again once the reply was heard', async () => {
    const engine = makeWorkerEngine();
    await engine.start(OPTIONS);
    const ctx = context();
    await vi.advanceTimersByTimeAsync(IDLE_MS - 1);
    expect(ctx.transitions).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(ctx.transitions).toEqual(['suspend']);
    // The browser says it is suspended: the engine does not fight its own suspension.
    ctx.onstatechange?.();
    expect(ctx.transitions).toEqual(['suspend']);
    // The reply's first audio wakes it, and nothing suspends it while the reply plays.
    api.down(utterance(4));
    expect(ctx.transitions).toEqual(['suspend', 'resume']);
    api.down({ type: 'end', utterance: 4 });
    await vi.advanceTimersByTimeAsync(IDLE_MS * 4);
    expect(ctx.transitions).toEqual(['suspend', 'resume']);
    // Heard to the end (audible now): idle again from here.
    ctx.stamp = { contextTime: 0, performanceTime: 0 };
    ctx.node(PLAYBACK_PROCESSOR).port.fromProcessor({
      type: 'finished',
      utterance: 4,
      contextTime: 0,
      playedMs: 20,
    } satisfies PlaybackOut);
    await vi.advanceTimersByTimeAsync(IDLE_MS);
    expect(ctx.transitions).toEqual(['suspend', 'resume', 'suspend']);
  });

  it('a cut-off reply idles the context too, and prepareOutput wakes it ahead of the next one', async () => {
    const engine = makeWorkerEngine();
    await engine.start(OPTIONS);
    const ctx = context();
    api.down(utterance(1));
    api.down(utterance(2));
    api.down({ type: 'clear', utterance: 1 });
    // Late audio of a cleared reply: the worklet drops it without a word, so it is not waited for.
    api.down(utterance(1));
    api.down(utterance(2));
    await vi.advanceTimersByTimeAsync(IDLE_MS);
    expect(ctx.transitions).toEqual(['suspend']);
    engine.prepareOutput();
    expect(ctx.transitions).toEqual(['suspend', 'resume']);
    // No reply came after all: suspended again.
    await vi.advanceTimersByTimeAsync(IDLE_MS);
    expect(ctx.transitions).toEqual(['suspend', 'resume', 'suspend']);
  });

  it('an unplugged microphone leaves the context as it is, and stop forgets the suspension', async () => {
    const engine = makeWorkerEngine();
    await engine.start(OPTIONS);
    await vi.advanceTimersByTimeAsync(IDLE_MS);
    media.tracks[0]!.unplug();
    await vi.advanceTimersByTimeAsync(0);
    expect(context().transitions).toEqual(['suspend']);
    await engine.stop();
    await vi.advanceTimersByTimeAsync(IDLE_MS * 2);
    expect(context().closed).toBe(true);
    expect(context().transitions).toEqual(['suspend']);
  });
});
