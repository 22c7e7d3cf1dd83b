/**
 * The renderer's audio: microphone to main, main's speech to the speaker. Framework-free; the
 * UI uses it through `useAudioEngine`.
 *
 * Capture: getUserMedia (echo cancellation, noise suppression and auto gain as asked) → the
 * capture worker reading the track's MediaStreamTrackProcessor stream, or where the browser has
 * no such stream (or cannot move it to a worker), the capture worklet (either: mono, 16 kHz,
 * 20 ms Int16 frames, each with the age of its first sample) → main. Where the API offers a mic
 * port (`openMicPort`), the worker or worklet sends the frames straight to it and the page's main
 * thread never handles one; else they come through here to `sendAudio({type:'mic'})`. Capture
 * meters the input: the level (dBFS) reaches status listeners at most 10 times a second, and only
 * when it moved by a decibel.
 *
 * Playback: AudioDown from main → resampled from the provider's rate to the context rate → the
 * playback worklet. Its reports become `played` (the first sample of an utterance is audible) and
 * `finished` (all of an ended utterance was heard), timed at the speaker with the context's
 * output timestamp: a report whose sample is still in the output pipeline waits until it is not.
 * `clear` reaches the worklet at once and is effective from its next render quantum. While the
 * worker captures, the AudioContext serves playback alone: it is suspended once nothing has
 * played for `idleSuspendMs` (its audio thread then costs nothing while the user talks or the
 * room is quiet) and resumed by the next reply's first audio, or earlier by `prepareOutput()`.
 *
 * Devices: permission denied, no microphone, a microphone busy elsewhere or unplugged mid-session
 * each give a status with a user-facing message; capture comes back by itself when a device
 * appears (devicechange), the selected one returns, the permission changes or the window gets the
 * focus again, and `retry()` tries at once.
 */
import type { AudioDown, AudioUp, CueApi } from '../../../shared/contract';
import { LEVEL_FLOOR_DB } from './level-meter';
import { int16ToFloat } from './pcm';
import { StreamResampler } from './resampler';
import { CLEARED_MEMORY, DEFAULT_PREBUFFER_MS } from './ring-buffer';
import {
  CAPTURE_PROCESSOR,
  PLAYBACK_PROCESSOR,
  type CaptureIn,
  type CaptureOut,
  type CaptureProcessorOptions,
  type CaptureWorkerIn,
  type CaptureWorkerOut,
  type PlaybackIn,
  type PlaybackOut,
  type PlaybackProcessorOptions,
} from './worklet-protocol';

/** Rate and frame length of the microphone audio main expects. */
export const MIC_RATE = 16_000;
export const MIC_FRAME_MS = 20;

export interface CaptureOptions {
  /** A device from `listInputDevices()`; empty, undefined or 'default': the system default. */
  deviceId?: string;
  echoCancellation: boolean;
  noiseSuppression: boolean;
  autoGainControl: boolean;
  /**
   * The audio's rate in the page, Hz (read when the audio opens): the agent's voice at this rate
   * plays without resampling in the page, and the audio thread runs fewer quanta than at the
   * device's 48 kHz; the browser resamples the microphone and the speaker natively. Default: the
   * device's.
   */
  contextRate?: number;
}

/** On by default: the assistant talks through the speakers while it listens. */
export const DEFAULT_CAPTURE_OPTIONS: Readonly<CaptureOptions> = Object.freeze({
  echoCancellation: true,
  noiseSuppression: true,
  autoGainControl: true,
});

export type AudioEngineState = 'idle' | 'starting' | 'capturing' | 'error';

/** Why the microphone is not capturing. */
export type AudioProblem =
  'permission-denied' | 'no-device' | 'device-lost' | 'device-busy' | 'unsupported' | 'failed';

export interface AudioEngineStatus {
  state: AudioEngineState;
  /** For the user: what is wrong and what to do (state 'error'), or a notice while capturing. */
  message?: string;
  problem?: AudioProblem;
  /** The microphone in use. */
  device?: { deviceId: string; label: string };
  /** The AudioContext's rate, Hz, once open. */
  sampleRate?: number;
}

/** The input meter: smoothed RMS and held peak, dBFS (LEVEL_FLOOR_DB when not capturing). */
export interface InputLevel {
  level: number;
  peak: number;
}

const SILENT: InputLevel = Object.freeze({ level: LEVEL_FLOOR_DB, peak: LEVEL_FLOOR_DB });

export interface InputDevice {
  deviceId: string;
  /** Empty until the microphone permission is granted; then the OS name. */
  label: string;
  groupId: string;
  /** The browser's "default" entry (follows the OS default microphone). */
  isDefault: boolean;
}

/** What the playback worklet reported, for the UI or diagnostics (main gets played/finished). */
export type PlaybackReport =
  | { type: 'played'; utterance: number; ageMs: number }
  | { type: 'finished'; utterance: number; ageMs: number; playedMs: number }
  | { type: 'cleared'; utterance: number; playedMs: number };

export const AUDIO_MESSAGES: Record<AudioProblem, string> = {
  'permission-denied':
    'Cue is not allowed to use the microphone. Allow microphone access for Cue in your system settings ' +
    '(macOS: System Settings › Privacy & Security › Microphone; Windows: Settings › Privacy › Microphone), ' +
    'then come back to Cue or choose Retry.',
  'no-device': 'No microphone found. Connect a microphone: Cue starts listening as soon as one is available.',
  'device-lost':
    'The microphone was disconnected. Reconnect it or connect another one: Cue resumes listening as soon as one is available.',
  'device-busy':
    'The microphone could not be opened: another app may be using it, or the system blocked it. ' +
    'Cue keeps trying; close the other app or choose another microphone.',
  unsupported: 'This window cannot record audio (no microphone access or AudioWorklet support).',
  failed: 'The microphone could not be started.',
};

/** Smallest level change (dB) worth a meter reading. */
const LEVEL_STEP_DB = 1;
/** Minimum interval of meter readings, ms: each one repaints the window, all day. */
const LEVEL_INTERVAL_MS = 100;

export class AudioDeviceError extends Error {
  override name = 'AudioDeviceError';
  constructor(
    readonly problem: AudioProblem,
    message: string = AUDIO_MESSAGES[problem],
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Maps a getUserMedia / Web Audio failure to a problem with a message for the user. */
export function toAudioDeviceError(error: unknown): AudioDeviceError {
  if (error instanceof AudioDeviceError) return error;
  const name = (error as { name?: unknown } | null)?.name;
  switch (name) {
    case 'NotAllowedError':
    case 'PermissionDeniedError':
    case 'SecurityError':
      return new AudioDeviceError('permission-denied', undefined, { cause: error });
    case 'NotFoundError':
    case 'DevicesNotFoundError':
    case 'OverconstrainedError':
    case 'ConstraintNotSatisfiedError':
      return new AudioDeviceError('no-device', undefined, { cause: error });
    case 'NotReadableError':
    case 'TrackStartError':
    case 'AbortError':
      return new AudioDeviceError('device-busy', undefined, { cause: error });
    default: {
      const detail = error instanceof Error ? error.message : String(error);
      return new AudioDeviceError(
        'failed',
        `${AUDIO_MESSAGES.failed}${detail ? ` (${detail})` : ''} Choose Retry to try again.`,
        { cause: error },
      );
    }
  }
}

type MediaDevicesLike = Pick<
  MediaDevices,
  'getUserMedia' | 'enumerateDevices' | 'addEventListener' | 'removeEventListener'
>;

export interface AudioEngineDeps {
  /**
   * The bridge to main, or a function giving it (`getCueApi`: asked again at each start, so a
   * failed connection is retried); audio flows once it resolves.
   */
  api: CueApi | Promise<CueApi> | (() => CueApi | Promise<CueApi>);
  /** The built worklet modules (worklet-urls.ts). */
  workletUrls: { capture: string | URL; playback: string | URL };
  /** Status changes (also available with `onStatus` / `subscribe`). */
  onStatus?: (status: AudioEngineStatus) => void;
  /** Playback reports, for diagnostics. */
  onPlayback?: (report: PlaybackReport) => void;
  /** Playback prebuffer per utterance, ms (at most 100). */
  prebufferMs?: number;
  /** Minimum interval of meter readings, ms (default 100). */
  levelIntervalMs?: number;
  // Seams for tests and other hosts; the browser's by default.
  mediaDevices?: MediaDevicesLike;
  createContext?: (options: AudioContextOptions) => AudioContext;
  createWorkletNode?: (
    context: BaseAudioContext,
    name: string,
    options: AudioWorkletNodeOptions,
  ) => AudioWorkletNode;
  permissions?: Pick<Permissions, 'query'>;
  /**
   * Starts a capture worker (capture-worker.ts); without it, or without `createTrackStream`'s
   * stream, the capture worklet captures.
   */
  createCaptureWorker?: () => CaptureWorkerLike;
  /**
   * The track's stream of audio chunks for the capture worker (a MediaStreamTrackProcessor's
   * readable where the browser has one; null where it has not).
   */
  createTrackStream?: (track: MediaStreamTrack) => ReadableStream | null;
  /** performance.timeOrigin, the epoch of `now()` (the capture worker's frame times are epoch ms). */
  timeOrigin?: number;
  /**
   * While the capture worker captures: ms without playback after which the AudioContext is
   * suspended (default 1500).
   */
  idleSuspendMs?: number;
  /** Where focus events come from (window); recovery after a permission change in system settings. */
  focusTarget?: Pick<EventTarget, 'addEventListener' | 'removeEventListener'>;
  /** Whether anyone can see the meter (document): no level readings while it is hidden. */
  visibility?: Pick<Document, 'visibilityState' | 'addEventListener' | 'removeEventListener'>;
  now?: () => number;
}

/** The part of a Worker the engine uses to capture. */
export interface CaptureWorkerLike {
  postMessage(message: CaptureWorkerIn, transfer?: Transferable[]): void;
  onmessage: ((event: MessageEvent) => void) | null;
  onerror: ((event: ErrorEvent) => void) | null;
  terminate(): void;
}

/** The ms without playback after which a context that captures nothing is suspended. */
export const DEFAULT_IDLE_SUSPEND_MS = 1500;

const DEVICE_CHANGE_DEBOUNCE_MS = 250;
/** Retry intervals while capture is failing, by problem (none: wait for an event). */
const RETRY_MS: Partial<Record<AudioProblem, number>> = {
  'device-busy': 2000,
  'no-device': 5000,
  'device-lost': 5000,
};

/** Where the frames are made: the capture worklet in the context, or the capture worker. */
interface CapturePath {
  kind: 'worklet' | 'worker';
  post(message: Exclude<CaptureWorkerIn, { type: 'start' }>, transfer?: Transferable[]): void;
  close(): void;
}

interface Capture {
  /** The options it was opened with. */
  options: CaptureOptions;
  stream: MediaStream;
  track: MediaStreamTrack;
  path: CapturePath;
  /**
   * Capture latency the browser reports for the track, ms, added to the worklet's frame ages
   * (the worker's chunk timestamps count it already).
   */
  inputLatencyMs: number;
  groupId: string;
  deviceId: string;
  cleanup: () => void;
}

interface PendingReport {
  utterance: number;
  timer: ReturnType<typeof setTimeout>;
}

export class AudioEngine {
  private readonly deps: AudioEngineDeps;
  private readonly statusListeners = new Set<(status: AudioEngineStatus) => void>();
  private readonly deviceListeners = new Set<(devices: InputDevice[]) => void>();
  private currentStatus: AudioEngineStatus = { state: 'idle' };
  private currentLevel: InputLevel = SILENT;
  private readonly levelListeners = new Set<(level: InputLevel) => void>();
  private options: CaptureOptions = { ...DEFAULT_CAPTURE_OPTIONS };
  private wanted = false;
  /** Bumped by start/stop: async work of an older generation gives up. */
  private generation = 0;
  private api: CueApi | null = null;
  private unsubscribeAudio: (() => void) | null = null;
  private context: AudioContext | null = null;
  private playback: AudioWorkletNode | null = null;
  private capture: Capture | null = null;
  private starting: Promise<void> | null = null;
  private opening: Promise<void> | null = null;
  private openAgain = false;
  /** The selected device was missing at the last open: the default is in use until it returns. */
  private usingFallback = false;
  /** The last microphone was unplugged and none has replaced it yet. */
  private lost: { label: string } | null = null;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private deviceTimer: ReturnType<typeof setTimeout> | undefined;
  private deviceListening = false;
  private permissionStatus: PermissionStatus | null = null;
  private readonly resamplers = new Map<number, StreamResampler>();
  private readonly pendingReports = new Set<PendingReport>();
  /** Utterances given to the playback worklet and not yet finished or cleared. */
  private readonly playing = new Set<number>();
  /** The last utterances cleared: the worklet drops their late audio without a report. */
  private readonly cleared: number[] = [];
  /** The context is suspended because nothing plays (not by the browser's autoplay rules). */
  private outputSuspended = false;
  private suspendTimer: ReturnType<typeof setTimeout> | undefined;
  /** The capture worker failed on this page: capture with the worklet from now on. */
  private workerBroken = false;

  constructor(deps: AudioEngineDeps) {
    this.deps = deps;
    if (deps.onStatus) this.statusListeners.add(deps.onStatus);
  }

  // ---------- status ----------

  get status(): AudioEngineStatus {
    return this.currentStatus;
  }

  /** The current status (a new object on every change; for useSyncExternalStore). */
  readonly getStatus = (): AudioEngineStatus => this.currentStatus;

  /** Calls `listener` on every status change; returns the unsubscribe function. */
  readonly subscribe = (listener: () => void): (() => void) => this.onStatus(() => listener());

  onStatus(listener: (status: AudioEngineStatus) => void): () => void {
    this.statusListeners.add(listener);
    return () => {
      this.statusListeners.delete(listener);
    };
  }

  /** The input meter's last reading. */
  get level(): InputLevel {
    return this.currentLevel;
  }

  /**
   * The input meter, apart from the status: at most 10 readings a second while capturing and the
   * page is visible (none while it is hidden), for a meter that draws them without re-rendering.
   */
  onLevel(listener: (level: InputLevel) => void): () => void {
    this.levelListeners.add(listener);
    return () => {
      this.levelListeners.delete(listener);
    };
  }

  /** Devices change (plugged, unplugged, labels after permission); returns the unsubscribe function. */
  onDevicesChange(listener: (devices: InputDevice[]) => void): () => void {
    this.deviceListeners.add(listener);
    this.updateDeviceListening();
    return () => {
      this.deviceListeners.delete(listener);
      this.updateDeviceListening();
    };
  }

  /** The microphones the system offers (labels stay empty until the permission is granted). */
  async listInputDevices(): Promise<InputDevice[]> {
    const media = this.mediaDevices();
    if (!media) return [];
    const all = await media.enumerateDevices();
    return all
      .filter((d) => d.kind === 'audioinput')
      .map((d, i) => ({
        deviceId: d.deviceId,
        label: d.label || (d.deviceId === 'default' ? 'Default microphone' : `Microphone ${i + 1}`),
        groupId: d.groupId,
        isDefault: d.deviceId === 'default',
      }));
  }

  // ---------- lifecycle ----------

  /**
   * Opens the audio (context, worklets, playback) and the microphone. Resolves when capture is
   * running or has failed with a status saying why (it never rejects). Calling it again while
   * started applies new options (reopening the microphone if they changed).
   */
  async start(options: CaptureOptions = DEFAULT_CAPTURE_OPTIONS): Promise<void> {
    const changed = !sameOptions(this.options, options);
    this.options = { ...options };
    if (this.wanted) {
      if (this.starting) await this.starting;
      if (!this.wanted) return;
      // New options, or asked again after a failure: (re)open the microphone.
      const reopen = this.opening
        ? changed
        : !this.capture || !sameOptions(this.capture.options, this.options);
      if (reopen) {
        this.usingFallback = false;
        await this.openCapture();
      }
      return;
    }
    this.wanted = true;
    const generation = ++this.generation;
    this.updateDeviceListening();
    this.setStatus({ state: 'starting', message: undefined, problem: undefined });
    const starting = this.startAudio(generation);
    this.starting = starting;
    try {
      await starting;
    } finally {
      if (this.starting === starting) this.starting = null;
    }
  }

  /** Applies new capture options while started (same as `start(options)`). */
  setOptions(options: CaptureOptions): Promise<void> {
    if (!this.wanted) {
      this.options = { ...options };
      return Promise.resolve();
    }
    return this.start(options);
  }

  /** Tries to open the microphone again now (after an error). */
  retry(): Promise<void> {
    if (!this.wanted) return Promise.resolve();
    if (!this.context) {
      this.wanted = false;
      return this.start(this.options);
    }
    return this.openCapture();
  }

  /**
   * A reply is on its way (the agent started thinking): resumes the output if it was suspended
   * for being idle, so the reply's first audio does not wait for it. Suspended again if nothing
   * plays within `idleSuspendMs`.
   */
  prepareOutput(): void {
    this.wakeOutput();
    this.updateOutputIdle();
  }

  /** Closes the microphone and the audio output; status 'idle'. */
  async stop(): Promise<void> {
    if (!this.wanted && !this.context) return;
    this.wanted = false;
    this.generation++;
    this.clearRetry();
    this.closeCapture();
    this.unsubscribeAudio?.();
    this.unsubscribeAudio = null;
    for (const pending of this.pendingReports) clearTimeout(pending.timer);
    this.pendingReports.clear();
    this.resamplers.clear();
    this.playing.clear();
    this.cancelSuspend();
    this.outputSuspended = false;
    this.watchPermission(false);
    this.updateDeviceListening();
    const context = this.context;
    const playback = this.playback;
    this.context = null;
    this.playback = null;
    this.lost = null;
    this.usingFallback = false;
    this.setStatus({
      state: 'idle',
      message: undefined,
      problem: undefined,
      device: undefined,
    });
    if (playback) {
      this.postPlayback({ type: 'close' }, playback);
      playback.port.onmessage = null;
      playback.disconnect();
    }
    if (context) await context.close().catch(() => undefined);
  }

  /** Stops and forgets all listeners. */
  async dispose(): Promise<void> {
    this.statusListeners.clear();
    this.deviceListeners.clear();
    await this.stop();
    this.updateDeviceListening();
  }

  private async startAudio(generation: number): Promise<void> {
    const source = this.deps.api;
    const api = await Promise.resolve()
      .then(() => (typeof source === 'function' ? source() : source))
      .catch((error: unknown) => {
        if (generation === this.generation)
          this.fail(
            new AudioDeviceError('failed', `Cue's audio channel is not available: ${messageOf(error)}`),
          );
        return null;
      });
    if (!api || generation !== this.generation) return;
    this.api = api;
    try {
      await this.openContext(generation);
    } catch (error) {
      if (generation !== this.generation) return;
      this.fail(
        error instanceof AudioDeviceError
          ? error
          : new AudioDeviceError('failed', `Audio output could not start: ${messageOf(error)}`, {
              cause: error,
            }),
      );
      await this.closeContextAfterFailure();
      return;
    }
    if (generation !== this.generation) return;
    this.unsubscribeAudio = api.onAudio((message) => this.onAudioDown(message));
    this.watchPermission(true);
    await this.openCapture();
  }

  private async openContext(generation: number): Promise<void> {
    const create =
      this.deps.createContext ??
      ((options: AudioContextOptions) => {
        if (typeof AudioContext === 'undefined') throw new AudioDeviceError('unsupported');
        return new AudioContext(options);
      });
    const rate = this.options.contextRate;
    const context = create(
      rate && rate >= 8000 && rate <= 96_000
        ? { latencyHint: 'interactive', sampleRate: rate }
        : { latencyHint: 'interactive' },
    );
    this.context = context;
    if (!context.audioWorklet) throw new AudioDeviceError('unsupported');
    await context.audioWorklet.addModule(String(this.deps.workletUrls.capture));
    await context.audioWorklet.addModule(String(this.deps.workletUrls.playback));
    if (generation !== this.generation) return;
    const options: PlaybackProcessorOptions = {
      prebufferMs: this.deps.prebufferMs ?? DEFAULT_PREBUFFER_MS,
    };
    const playback = this.createNode(context, PLAYBACK_PROCESSOR, {
      numberOfInputs: 0,
      numberOfOutputs: 1,
      outputChannelCount: [1],
      processorOptions: options,
    });
    playback.port.onmessage = (event: MessageEvent) => this.onPlaybackMessage(event.data as PlaybackOut);
    playback.connect(context.destination);
    this.playback = playback;
    this.setStatus({ sampleRate: context.sampleRate });
    // Autoplay rules may leave a new context suspended until the user has interacted.
    context.onstatechange = () => {
      if (this.context === context && context.state === 'suspended' && this.wanted && !this.outputSuspended)
        void context.resume().catch(() => undefined);
    };
    if (context.state !== 'running') void context.resume().catch(() => undefined);
  }

  private async closeContextAfterFailure(): Promise<void> {
    const context = this.context;
    this.context = null;
    this.playback = null;
    if (context) await context.close().catch(() => undefined);
  }

  private createNode(
    context: AudioContext,
    name: string,
    options: AudioWorkletNodeOptions,
  ): AudioWorkletNode {
    if (this.deps.createWorkletNode) return this.deps.createWorkletNode(context, name, options);
    return new AudioWorkletNode(context, name, options);
  }

  private mediaDevices(): MediaDevicesLike | null {
    if (this.deps.mediaDevices) return this.deps.mediaDevices;
    return typeof navigator !== 'undefined' && navigator.mediaDevices ? navigator.mediaDevices : null;
  }

  // ---------- capture ----------

  /** Opens (or reopens) the microphone; concurrent calls coalesce into one more attempt. */
  private openCapture(): Promise<void> {
    if (this.opening) {
      this.openAgain = true;
      return this.opening;
    }
    const run = async () => {
      do {
        this.openAgain = false;
        await this.openCaptureOnce();
      } while (this.openAgain && this.wanted);
    };
    const opening = run().finally(() => {
      if (this.opening === opening) this.opening = null;
    });
    this.opening = opening;
    return opening;
  }

  private async openCaptureOnce(): Promise<void> {
    const generation = this.generation;
    const context = this.context;
    if (!this.wanted || !context) return;
    this.clearRetry();
    this.closeCapture();
    const media = this.mediaDevices();
    if (!media) {
      this.fail(new AudioDeviceError('unsupported'));
      return;
    }
    // Background retries after an error keep the error on screen until they succeed.
    if (this.currentStatus.state !== 'error') this.setStatus({ state: 'starting' });
    const options = { ...this.options };
    const requested = normalDeviceId(options.deviceId);
    let stream: MediaStream;
    let fellBack = false;
    try {
      try {
        stream = await media.getUserMedia({ audio: constraints(options, requested) });
      } catch (error) {
        const name = (error as { name?: string } | null)?.name;
        // The selected microphone is not there: use the default one until it returns.
        if (requested && (name === 'OverconstrainedError' || name === 'NotFoundError')) {
          if (generation !== this.generation) return;
          stream = await media.getUserMedia({ audio: constraints(options, undefined) });
          fellBack = true;
        } else throw error;
      }
    } catch (error) {
      if (generation !== this.generation || !this.wanted) return;
      const problem = toAudioDeviceError(error);
      this.fail(problem.problem === 'no-device' && this.lost ? new AudioDeviceError('device-lost') : problem);
      return;
    }
    if (generation !== this.generation || !this.wanted || this.context !== context) {
      for (const track of stream.getTracks()) track.stop();
      return;
    }
    const track = stream.getAudioTracks()[0];
    if (!track) {
      for (const t of stream.getTracks()) t.stop();
      this.fail(new AudioDeviceError('no-device'));
      return;
    }
    let capture: Capture;
    try {
      capture = this.connectCapture(context, stream, track, options);
    } catch (error) {
      for (const t of stream.getTracks()) t.stop();
      this.fail(toAudioDeviceError(error));
      return;
    }
    this.capture = capture;
    this.connectMicPort(capture);
    this.usingFallback = fellBack;
    const label = track.label || 'Microphone';
    let message: string | undefined;
    if (fellBack)
      message = 'The selected microphone is not connected: using the default microphone until it is back.';
    else if (this.lost && this.lost.label !== label)
      message = `${this.lost.label || 'The microphone'} was disconnected: now using ${label}.`;
    this.lost = null;
    this.setStatus({
      state: 'capturing',
      problem: undefined,
      message,
      device: { deviceId: capture.deviceId, label },
    });
    if (capture.path.kind === 'worklet') {
      // The worklet captures in the context: it runs, whatever plays.
      this.cancelSuspend();
      this.outputSuspended = false;
      if (context.state !== 'running') void context.resume().catch(() => undefined);
    } else this.updateOutputIdle();
  }

  private connectCapture(
    context: AudioContext,
    stream: MediaStream,
    track: MediaStreamTrack,
    options: CaptureOptions,
  ): Capture {
    const processorOptions: CaptureProcessorOptions = {
      targetRate: MIC_RATE,
      frameMs: MIC_FRAME_MS,
      levelIntervalMs: this.deps.levelIntervalMs ?? LEVEL_INTERVAL_MS,
      levelStepDb: LEVEL_STEP_DB,
    };
    const path =
      this.openWorkerPath(track, processorOptions) ?? this.openWorkletPath(context, stream, processorOptions);
    const settings = track.getSettings?.() ?? {};
    const latency = (settings as { latency?: unknown }).latency;
    const onEnded = () => this.onTrackEnded(track);
    const onMute = () => {
      if (this.capture?.track === track)
        this.setStatus({
          message: 'The system has muted the microphone: Cue hears nothing until it is unmuted.',
        });
    };
    const onUnmute = () => {
      if (this.capture?.track === track) this.setStatus({ message: undefined });
    };
    track.addEventListener('ended', onEnded);
    track.addEventListener('mute', onMute);
    track.addEventListener('unmute', onUnmute);
    const visibility = this.deps.visibility;
    const onVisibility = () => {
      const message: CaptureIn = { type: 'meter', on: visibility?.visibilityState !== 'hidden' };
      path.post(message);
      if (!message.on) this.setLevel(SILENT);
    };
    if (visibility?.visibilityState === 'hidden') onVisibility();
    visibility?.addEventListener('visibilitychange', onVisibility);
    return {
      options,
      stream,
      track,
      path,
      inputLatencyMs: typeof latency === 'number' && latency > 0 ? latency * 1000 : 0,
      groupId: settings.groupId ?? '',
      deviceId: settings.deviceId ?? '',
      cleanup: () => {
        track.removeEventListener('ended', onEnded);
        track.removeEventListener('mute', onMute);
        track.removeEventListener('unmute', onUnmute);
        visibility?.removeEventListener('visibilitychange', onVisibility);
      },
    };
  }

  /**
   * The capture worker on the track's chunk stream, or null where there is none (no worker, no
   * MediaStreamTrackProcessor, a stream that cannot move to a worker, or a worker that failed).
   */
  private openWorkerPath(track: MediaStreamTrack, options: CaptureProcessorOptions): CapturePath | null {
    const { createCaptureWorker, createTrackStream = defaultTrackStream } = this.deps;
    if (!createCaptureWorker || this.workerBroken) return null;
    let readable: ReadableStream | null = null;
    let worker: CaptureWorkerLike | null = null;
    try {
      readable = createTrackStream(track);
      if (!readable) return null;
      worker = createCaptureWorker();
      worker.postMessage({ type: 'start', readable, options }, [readable as unknown as Transferable]);
    } catch (error) {
      worker?.terminate();
      void readable?.cancel().catch(() => undefined);
      this.workerBroken = true;
      console.warn(
        `cue: capturing with the audio worklet, the capture worker could not start (${messageOf(error)})`,
      );
      return null;
    }
    const running = worker;
    const path: CapturePath = {
      kind: 'worker',
      post: (message, transfer = []) => running.postMessage(message, transfer),
      close: () => {
        running.onmessage = null;
        running.onerror = null;
        // It cancels the stream, closes its sink and ends itself.
        running.postMessage({ type: 'close' });
      },
    };
    running.onmessage = (event: MessageEvent) => this.onWorkerMessage(path, event.data as CaptureWorkerOut);
    running.onerror = (event: ErrorEvent) =>
      this.onWorkerMessage(path, {
        type: 'failed',
        message: event.message || 'the worker could not run',
      });
    return path;
  }

  private openWorkletPath(
    context: AudioContext,
    stream: MediaStream,
    processorOptions: CaptureProcessorOptions,
  ): CapturePath {
    const source = context.createMediaStreamSource(stream);
    const node = this.createNode(context, CAPTURE_PROCESSOR, {
      numberOfInputs: 1,
      // One silent output, connected: every browser then pulls the node each quantum.
      numberOfOutputs: 1,
      outputChannelCount: [1],
      processorOptions,
    });
    node.port.onmessage = (event: MessageEvent) => this.onCaptureMessage(event.data as CaptureOut);
    source.connect(node);
    node.connect(context.destination);
    return {
      kind: 'worklet',
      post: (message, transfer = []) => node.port.postMessage(message, transfer),
      close: () => {
        node.port.postMessage({ type: 'close' } satisfies CaptureIn);
        node.port.onmessage = null;
        source.disconnect();
        node.disconnect();
      },
    };
  }

  private closeCapture(): void {
    const capture = this.capture;
    if (!capture) return;
    this.capture = null;
    capture.cleanup();
    capture.path.close();
    for (const track of capture.stream.getTracks()) track.stop();
  }

  private onTrackEnded(track: MediaStreamTrack): void {
    if (this.capture?.track !== track || !this.wanted) return;
    this.lost = { label: track.label };
    this.closeCapture();
    this.setStatus({
      state: 'error',
      problem: 'device-lost',
      message: AUDIO_MESSAGES['device-lost'],
    });
    // Another microphone (the new system default) may be there already.
    void this.openCapture();
  }

  private onCaptureMessage(message: CaptureOut): void {
    if (!this.capture || !this.context) return;
    if (message?.type === 'level') {
      this.setLevel({ level: message.level, peak: message.peak });
    } else if (message?.type === 'frame') {
      const ageMs =
        Math.max(0, (this.context.currentTime - message.time) * 1000) + this.capture.inputLatencyMs;
      this.api?.sendAudio({ type: 'mic', samples: message.samples, ageMs });
    }
  }

  private onWorkerMessage(path: CapturePath, message: CaptureWorkerOut): void {
    const capture = this.capture;
    if (capture?.path !== path) return;
    switch (message?.type) {
      case 'level':
        this.setLevel({ level: message.level, peak: message.peak });
        break;
      case 'frame': {
        const ageMs = Math.max(0, this.timeOrigin() + this.now() - message.capturedAt);
        this.api?.sendAudio({ type: 'mic', samples: message.samples, ageMs });
        break;
      }
      case 'ended':
        // The track's own 'ended' event says why (unplugged); a stream that ends while its track
        // lives is a broken capture path.
        if (capture.track.readyState !== 'ended')
          this.abandonWorker('its stream ended while the microphone was live');
        break;
      case 'failed':
        this.abandonWorker(message.message);
        break;
    }
  }

  /** Captures with the worklet from now on (reopening the microphone). */
  private abandonWorker(reason: string): void {
    console.warn(`cue: the capture worker failed (${reason}); capturing with the audio worklet`);
    this.workerBroken = true;
    void this.openCapture();
  }

  /**
   * Gives the capture worker the bridge's mic socket address where the API has one (browser
   * build): the worker sends its frames on a socket of its own. Else asks the API for a port to
   * main and hands it to the capture worker or worklet, which then sends its frames there itself.
   * Until it arrives (or if the API has neither), frames come through here.
   */
  private connectMicPort(capture: Capture): void {
    const socketUrl = this.api?.micSocketUrl?.();
    if (socketUrl && capture.path.kind === 'worker') {
      capture.path.post({ type: 'socket', url: socketUrl });
      return;
    }
    const open = this.api?.openMicPort;
    if (!open) return;
    open.call(this.api).then(
      (port) => {
        if (this.capture !== capture) {
          port.close();
          return;
        }
        const inputLatencyMs = capture.path.kind === 'worklet' ? capture.inputLatencyMs : 0;
        capture.path.post({ type: 'sink', port, inputLatencyMs }, [port]);
      },
      (error: unknown) => {
        // Frames keep coming through the page: slower, but nothing is lost.
        console.warn(
          `cue: no direct microphone channel to main (${messageOf(error)}); sending through the page`,
        );
      },
    );
  }

  // ---------- playback ----------

  private onAudioDown(message: AudioDown): void {
    const playback = this.playback;
    const context = this.context;
    if (!playback || !context) return;
    switch (message.type) {
      case 'audio': {
        if (!this.cleared.includes(message.utterance)) {
          this.playing.add(message.utterance);
          this.wakeOutput();
        }
        let resampler = this.resamplers.get(message.utterance);
        if (resampler && resampler.inRate !== message.sampleRate) {
          this.postSamples(message.utterance, resampler.flush());
          resampler = undefined;
        }
        if (!resampler) {
          resampler = new StreamResampler(message.sampleRate, context.sampleRate);
          this.resamplers.set(message.utterance, resampler);
        }
        this.postSamples(message.utterance, resampler.push(int16ToFloat(message.samples)));
        break;
      }
      case 'end': {
        const resampler = this.resamplers.get(message.utterance);
        if (resampler) this.postSamples(message.utterance, resampler.flush());
        this.resamplers.delete(message.utterance);
        this.postPlayback({ type: 'end', utterance: message.utterance });
        break;
      }
      case 'pause':
      case 'resume':
        this.postPlayback({ type: message.type });
        break;
      case 'clear':
        this.postPlayback({ type: 'clear', utterance: message.utterance });
        // The worklet drops everything queued; so is everything on the way to it.
        this.resamplers.clear();
        for (const pending of this.pendingReports) clearTimeout(pending.timer);
        this.pendingReports.clear();
        for (const utterance of [...this.playing, message.utterance])
          if (!this.cleared.includes(utterance)) this.cleared.push(utterance);
        this.cleared.splice(0, Math.max(0, this.cleared.length - CLEARED_MEMORY));
        this.playing.clear();
        this.updateOutputIdle();
        break;
    }
  }

  private postSamples(utterance: number, samples: Float32Array): void {
    if (samples.length === 0) return;
    // A compact copy, transferred.
    const copy = samples.slice();
    this.postPlayback({ type: 'audio', utterance, samples: copy }, this.playback, [copy.buffer]);
  }

  private postPlayback(
    message: PlaybackIn,
    node: AudioWorkletNode | null = this.playback,
    transfer: Transferable[] = [],
  ): void {
    node?.port.postMessage(message, transfer);
  }

  private onPlaybackMessage(message: PlaybackOut): void {
    if (!message || !this.context) return;
    if (message.type === 'cleared') {
      this.playing.delete(message.utterance);
      this.updateOutputIdle();
      this.deps.onPlayback?.({ type: 'cleared', utterance: message.utterance, playedMs: message.playedMs });
      return;
    }
    if (message.type === 'finished') this.playing.delete(message.utterance);
    const audibleAt = this.audibleAt(message.contextTime);
    const send = () => {
      const ageMs = Math.max(0, this.now() - audibleAt);
      const up: AudioUp =
        message.type === 'played'
          ? { type: 'played', utterance: message.utterance, ageMs }
          : { type: 'finished', utterance: message.utterance, ageMs, playedMs: message.playedMs };
      this.api?.sendAudio(up);
      this.deps.onPlayback?.(up);
    };
    const wait = audibleAt - this.now();
    if (wait <= 0) {
      send();
      this.updateOutputIdle();
      return;
    }
    // Not audible yet (still in the output pipeline): report when it is.
    const pending: PendingReport = {
      utterance: message.utterance,
      timer: setTimeout(() => {
        this.pendingReports.delete(pending);
        send();
        this.updateOutputIdle();
      }, wait),
    };
    this.pendingReports.add(pending);
  }

  /**
   * Suspends the context once nothing has played for `idleSuspendMs`, while the capture worker
   * captures (the worklet captures in the context, which then runs).
   */
  private updateOutputIdle(): void {
    this.cancelSuspend();
    if (!this.wanted || !this.context || this.capture?.path.kind !== 'worker') return;
    if (this.playing.size > 0 || this.pendingReports.size > 0 || this.outputSuspended) return;
    this.suspendTimer = setTimeout(() => {
      this.suspendTimer = undefined;
      const context = this.context;
      if (!context || context.state !== 'running' || this.capture?.path.kind !== 'worker') return;
      if (this.playing.size > 0 || this.pendingReports.size > 0) return;
      this.outputSuspended = true;
      context.suspend().catch(() => {
        this.outputSuspended = false;
      });
    }, this.deps.idleSuspendMs ?? DEFAULT_IDLE_SUSPEND_MS);
  }

  private cancelSuspend(): void {
    clearTimeout(this.suspendTimer);
    this.suspendTimer = undefined;
  }

  /** Resumes a context suspended for being idle. */
  private wakeOutput(): void {
    this.cancelSuspend();
    if (!this.outputSuspended) return;
    this.outputSuspended = false;
    void this.context?.resume().catch(() => undefined);
  }

  /**
   * The performance.now() time at which the sample rendered at `contextTime` comes out of the
   * speaker: from the output timestamp (which context time the device is playing right now),
   * else from the context's reported latencies.
   */
  audibleAt(contextTime: number): number {
    const context = this.context;
    if (!context) return this.now();
    const stamp = typeof context.getOutputTimestamp === 'function' ? context.getOutputTimestamp() : undefined;
    if (stamp && stamp.performanceTime && stamp.performanceTime > 0 && stamp.contextTime !== undefined)
      return stamp.performanceTime + (contextTime - stamp.contextTime) * 1000;
    const latency = (context.baseLatency || 0) + (context.outputLatency || 0);
    return this.now() + (contextTime - context.currentTime + latency) * 1000;
  }

  // ---------- recovery ----------

  private fail(error: AudioDeviceError): void {
    this.setStatus({
      state: 'error',
      problem: error.problem,
      message: error.message,
      device: undefined,
    });
    this.scheduleRetry(error.problem);
  }

  private scheduleRetry(problem: AudioProblem): void {
    this.clearRetry();
    const ms = RETRY_MS[problem];
    if (ms === undefined || !this.wanted || !this.context) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.retryIfDeviceAvailable();
    }, ms);
  }

  private clearRetry(): void {
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
  }

  private async retryIfDeviceAvailable(): Promise<void> {
    if (!this.wanted || this.currentStatus.state !== 'error') return;
    const problem = this.currentStatus.problem;
    const devices = await this.listInputDevices().catch(() => []);
    if (!this.wanted || this.currentStatus.state !== 'error') return;
    if (devices.length > 0 || problem === 'device-busy') await this.openCapture();
    else if (problem) this.scheduleRetry(problem);
  }

  private updateDeviceListening(): void {
    const media = this.mediaDevices();
    const want = this.wanted || this.deviceListeners.size > 0;
    if (!media || want === this.deviceListening) return;
    this.deviceListening = want;
    if (want) {
      media.addEventListener('devicechange', this.onDeviceChange);
      this.deps.focusTarget?.addEventListener('focus', this.onFocus);
    } else {
      media.removeEventListener('devicechange', this.onDeviceChange);
      this.deps.focusTarget?.removeEventListener('focus', this.onFocus);
      clearTimeout(this.deviceTimer);
    }
  }

  private readonly onDeviceChange = (): void => {
    clearTimeout(this.deviceTimer);
    this.deviceTimer = setTimeout(() => void this.devicesChanged(), DEVICE_CHANGE_DEBOUNCE_MS);
  };

  private readonly onFocus = (): void => {
    if (
      this.wanted &&
      this.currentStatus.state === 'error' &&
      this.currentStatus.problem === 'permission-denied'
    )
      void this.openCapture();
  };

  private async devicesChanged(): Promise<void> {
    let devices: InputDevice[];
    try {
      devices = await this.listInputDevices();
    } catch {
      return;
    }
    for (const listener of this.deviceListeners) listener(devices);
    if (!this.wanted || !this.context) return;
    const { state, problem } = this.currentStatus;
    if (state === 'error') {
      if (devices.length > 0 && problem !== 'unsupported') await this.openCapture();
      return;
    }
    if (state !== 'capturing' || !this.capture) return;
    const requested = normalDeviceId(this.options.deviceId);
    if (this.usingFallback && requested && devices.some((d) => d.deviceId === requested)) {
      // The selected microphone is back.
      await this.openCapture();
      return;
    }
    if (this.capture.track.readyState === 'ended') {
      await this.openCapture();
      return;
    }
    // On the system default: follow it when the OS switches to another microphone.
    if (!requested) {
      const current = devices.find((d) => d.isDefault);
      if (current?.groupId && this.capture.groupId && current.groupId !== this.capture.groupId)
        await this.openCapture();
    }
  }

  private watchPermission(on: boolean): void {
    if (!on) {
      if (this.permissionStatus) this.permissionStatus.onchange = null;
      this.permissionStatus = null;
      return;
    }
    const permissions =
      this.deps.permissions ?? (typeof navigator !== 'undefined' ? navigator.permissions : undefined);
    if (!permissions) return;
    const generation = this.generation;
    permissions
      .query({ name: 'microphone' as PermissionName })
      .then((status) => {
        if (generation !== this.generation) return;
        this.permissionStatus = status;
        status.onchange = () => {
          if (status.state !== 'denied' && this.wanted && this.currentStatus.problem === 'permission-denied')
            void this.openCapture();
        };
      })
      .catch(() => undefined);
  }

  private now(): number {
    return this.deps.now ? this.deps.now() : performance.now();
  }

  private timeOrigin(): number {
    return this.deps.timeOrigin ?? performance.timeOrigin;
  }

  private setStatus(patch: Partial<AudioEngineStatus>): void {
    const next = { ...this.currentStatus, ...patch };
    for (const key of Object.keys(next) as (keyof AudioEngineStatus)[])
      if (next[key] === undefined) delete next[key];
    if (sameStatus(next, this.currentStatus)) return;
    const stateChanged = next.state !== this.currentStatus.state;
    this.currentStatus = next;
    for (const listener of [...this.statusListeners]) listener(next);
    if (stateChanged) this.setLevel(SILENT);
  }

  private setLevel(level: InputLevel): void {
    if (level.level === this.currentLevel.level && level.peak === this.currentLevel.peak) return;
    this.currentLevel = level;
    for (const listener of [...this.levelListeners]) listener(level);
  }
}

/** Chromium's MediaStreamTrackProcessor (not in TypeScript's DOM library), where the page has it. */
function defaultTrackStream(track: MediaStreamTrack): ReadableStream | null {
  const Processor = (
    globalThis as {
      MediaStreamTrackProcessor?: new (init: { track: MediaStreamTrack }) => { readable: ReadableStream };
    }
  ).MediaStreamTrackProcessor;
  return typeof Processor === 'function' ? new Processor({ track }).readable : null;
}

function constraints(options: CaptureOptions, deviceId: string | undefined): MediaTrackConstraints {
  const { echoCancellation, noiseSuppression, autoGainControl } = options;
  return {
    ...(deviceId ? { deviceId: { exact: deviceId } } : {}),
    echoCancellation,
    noiseSuppression,
    autoGainControl,
    channelCount: { ideal: 1 },
  };
}

function normalDeviceId(deviceId: string | undefined): string | undefined {
  return deviceId && deviceId !== 'default' ? deviceId : undefined;
}

function sameOptions(a: CaptureOptions, b: CaptureOptions): boolean {
  return (
    normalDeviceId(a.deviceId) === normalDeviceId(b.deviceId) &&
    a.echoCancellation === b.echoCancellation &&
    a.noiseSuppression === b.noiseSuppression &&
    a.autoGainControl === b.autoGainControl
  );
}

function sameStatus(a: AudioEngineStatus, b: AudioEngineStatus): boolean {
  const keys = Object.keys(a) as (keyof AudioEngineStatus)[];
  if (keys.length !== Object.keys(b).length) return false;
  return keys.every((key) =>
    key === 'device'
      ? a.device?.deviceId === b.device?.deviceId && a.device?.label === b.device?.label
      : a[key] === b[key],
  );
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
