import { join } from 'node:path';
import type { requestSchemas } from '../../shared/contract';
import {
  ContractError,
  isRequestName,
  parseRequest,
  PROVIDERS,
  type AppInfo,
  type AppState,
  type AudioDown,
  type AudioUp,
  type EventName,
  type Events,
  type KeyId,
  type KeyStatus,
  type Notice,
  type RequestName,
  type Response,
  type TurnModelView,
} from '../../shared/contract';
import type { SessionReport } from '../../shared/report';
import {
  defaultSettings,
  describeOptions,
  parseSettings,
  SettingsError,
  type Settings,
} from '../../shared/settings';
import type { TimelineEvent } from '../../shared/timeline';
import { settingChanges } from './setting-changes';
import { RealClock, type Clock } from '../engine/clock';
import type { TurnDetector } from '../engine/ports';
import { VoiceSession, type VadStage } from '../engine/session';
import { CombinedTurnDetector, describeModelFailure } from '../engine/turn-detector/combined-detector';
import { DEFAULT_TURN_MODEL, type TurnModelDescriptor } from '../engine/turn-detector/model-catalog';
import {
  TurnModelStore,
  type ResolvedTurnModel,
  type TurnModelFetch,
  type TurnModelStatus,
} from '../engine/turn-detector/model-store';
import { SmartTurnWorkerDetector } from '../engine/turn-detector/smart-turn-worker-client';
import { loadSileroModel } from '../engine/vad/silero';
import { VoiceActivityDetector } from '../engine/vad/voice-activity-detector';
import {
  createProviders as createRealProviders,
  type ProviderEndpoints,
  type ProviderKeys,
  type Providers,
} from '../providers';
import { missingKey } from '../providers/errors';
import { MAX_PENDING_MIC_MS, MicFrameQueue } from './mic-frame-queue';
import { RemoteAudioOutput } from './remote-audio-output';
import {
  encodeEndpointKey,
  endpointKeyStatus,
  resolveLlmCredentials,
  type LlmCredentials,
} from './llm-credentials';
import { EncryptedSecretStore, keyStatus, resolveKey, type SafeStorageLike } from './secret-store';
import { FileSettingsStore, mergeSettings } from './settings-store';
import type { ContractHandler, SecretStore, SettingsStore } from './types';
import { RecordingsStore, type ActiveRecording } from './recordings-store';
import { RecordingRequests } from './recording-requests';
import type { z } from 'zod';

export interface DisposableVad extends VadStage {
  dispose?(): Promise<void>;
}

/** A loaded end-of-turn audio model. */
export type LoadedTurnModel = TurnDetector & { dispose?(): Promise<void> };

/** The end-of-turn audio model of turn detection "model": where its file comes from, how it loads. */
export interface TurnModelDeps {
  /** Finds the file (resources, cache) or downloads it, reporting its status (a TurnModelStore). */
  store: {
    readonly descriptor: Pick<TurnModelDescriptor, 'name'>;
    resolve(options: { signal?: AbortSignal }): Promise<ResolvedTurnModel>;
    subscribe(listener: (status: TurnModelStatus) => void): () => void;
  };
  /** Loads the file the store found (SmartTurnWorkerDetector.load in the app: off the main thread). */
  load(path: string): Promise<LoadedTurnModel>;
}

export interface AppCoreDeps {
  settingsStore: SettingsStore;
  secrets: SecretStore;
  env: NodeJS.ProcessEnv;
  clock: Clock;
  info: Omit<AppInfo, 'secretStorage' | 'shortcut'> & { shortcut: () => AppInfo['shortcut'] };
  createVad(settings: Settings): Promise<DisposableVad>;
  createProviders(settings: Settings, keys: ProviderKeys, endpoints: ProviderEndpoints): Providers;
  /** Replace the providers' endpoints (simulators, a proxy). */
  endpoints?: ProviderEndpoints;
  /** Keys that win over the store and the environment (simulator keys in the web dev mode). */
  keyOverrides?: ProviderKeys;
  /** The end-of-turn audio model; without it, turn detection "model" uses the transcript heuristic. */
  turnModel?: TurnModelDeps;
  /** Asked before each session start (macOS: the OS microphone permission, shell/microphone-access). */
  microphoneAccess?: () => Promise<{ ok: true } | { ok: false; message: string }>;
  /** The recorded sessions (recording.enabled); without it nothing is recorded and the list is empty. */
  recordings?: RecordingsStore;
}

type Payload<K extends RequestName> = z.output<(typeof requestSchemas)[K]>;
type Handlers = { [K in RequestName]: (payload: Payload<K>) => Promise<Response<K>> | Response<K> };
type Listener = <E extends EventName>(name: E, payload: Events[E]) => void;

const PROVIDER_NAME = { deepgram: 'Deepgram', openai: 'OpenAI', elevenlabs: 'ElevenLabs' } as const;
/** Notices kept for pages that load later. */
const MAX_KEPT_NOTICES = 20;

interface RunningSession {
  session: VoiceSession;
  /** The microphone's frames on their way into the session. */
  microphone: MicFrameQueue;
  providers: Providers;
  vad: DisposableVad;
  output: RemoteAudioOutput;
  /** The session's turn detector: the heuristic until the audio model is ready, then both. */
  detector: CombinedTurnDetector;
  /** The audio model has been asked for in this session. */
  modelRequested: boolean;
  /** This session's recording, when recording is on. */
  recording: ActiveRecording | null;
  unsubscribe: () => void;
}

/**
 * Everything main does for the renderer, behind the contract and independent of the carrier:
 * settings and keys, the voice session's lifecycle, push-to-talk and mute, the agent's status,
 * the audio channel. API keys stay here: responses and events carry key status only.
 */
export class AppCore implements ContractHandler {
  private settings: Settings;
  private readonly notices: Notice[];
  private running: RunningSession | null = null;
  private lastReport: SessionReport | null = null;
  private state: AppState;
  private readonly listeners = new Set<Listener>();
  private readonly audioListeners = new Set<(message: AudioDown) => void>();
  private starting: Promise<Response<'session:start'>> | null = null;
  /** The audio turn model, found and loaded once and shared by the sessions; null until asked or after a failure. */
  private turnModel: Promise<{ model: LoadedTurnModel; source: ResolvedTurnModel['source'] }> | null = null;
  /** Stops a model download when the app shuts down. */
  private readonly turnModelAbort = new AbortController();
  private readonly recordings: RecordingRequests;

  constructor(private readonly deps: AppCoreDeps) {
    this.recordings = new RecordingRequests({
      store: deps.recordings,
      createVad: (settings) => deps.createVad(settings),
      currentSettings: () => this.settings,
      writing: () => this.running?.recording?.id,
      turnDetector: (settings) => this.replayTurnDetector(settings),
    });
    const loaded = deps.settingsStore.load();
    this.settings = loaded.settings;
    this.notices = [...loaded.notices];
    const warning = deps.secrets.info().warning;
    if (warning) this.notices.push({ level: 'warning', message: warning });
    this.notices.push(...(deps.secrets.problems?.() ?? []));
    this.state = {
      status: 'stopped',
      running: false,
      muted: false,
      talking: false,
      mode: this.modeOf(this.settings),
      pendingRestart: [],
    };
    deps.turnModel?.store.subscribe((status) => this.onTurnModelStatus(status));
  }

  /** The current settings (the shell follows some of them, e.g. the push-to-talk shortcut). */
  get currentSettings(): Settings {
    return this.settings;
  }

  /** Whether a conversation is live (the shell never installs an update or reloads into one blindly). */
  get sessionRunning(): boolean {
    return this.running !== null;
  }

  /**
   * A notice from the shell (an update, a crashed window, an error in main): sent now, and kept
   * with the start-up notices so a page that loads later (a reloaded window) shows it too.
   */
  addNotice(notice: Notice): void {
    this.notices.push(notice);
    if (this.notices.length > MAX_KEPT_NOTICES)
      this.notices.splice(0, this.notices.length - MAX_KEPT_NOTICES);
    this.emit('notice', notice);
  }

  // ---------- ContractHandler ----------

  async request<K extends RequestName>(name: K, payload: unknown): Promise<Response<K>> {
    if (!isRequestName(name)) throw new ContractError(`unknown request "${String(name)}"`);
    const parsed = parseRequest(name, payload);
    const handler = this.handlers[name] as (p: Payload<K>) => Promise<Response<K>> | Response<K>;
    return handler(parsed);
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  audioUp(message: AudioUp): void {
    const running = this.running;
    if (!running) return;
    if (message.type !== 'mic') {
      running.output.report(message);
      return;
    }
    const capturedAt = this.deps.clock.now() - Math.max(0, message.ageMs);
    running.microphone.push({ samples: message.samples, capturedAt });
  }

  onAudioDown(listener: (message: AudioDown) => void): () => void {
    this.audioListeners.add(listener);
    return () => this.audioListeners.delete(listener);
  }

  async shutdown(): Promise<void> {
    await this.stopSession();
    this.turnModelAbort.abort();
    const loaded = await this.turnModel?.catch(() => null);
    this.turnModel = null;
    await loaded?.model.dispose?.().catch(() => undefined);
  }

  /** The global shortcut: press and release push-to-talk in turn (no key-up events from the OS). */
  async togglePushToTalk(): Promise<AppState> {
    return this.request('session:push-to-talk', { pressed: !this.state.talking });
  }

  // ---------- requests ----------

  private readonly handlers: Handlers = {
    'app:info': () => ({
      version: this.deps.info.version,
      platform: this.deps.info.platform,
      shortcut: this.deps.info.shortcut(),
      secretStorage: this.deps.secrets.info(),
    }),
    'app:state': () => ({ ...this.state }),
    'settings:get': () => ({ settings: this.settings, notices: [...this.notices] }),
    'settings:describe': () => describeOptions(),
    'settings:update': ({ patch }) => {
      let next: Settings;
      try {
        next = parseSettings(mergeSettings(this.settings, patch));
      } catch (error) {
        if (error instanceof SettingsError) return { ok: false, problems: [...error.problems] };
        throw error;
      }
      return { ok: true, settings: next, needsRestart: this.applySettings(next) };
    },
    'settings:reset': () => {
      this.applySettings(defaultSettings());
      return { settings: this.settings };
    },
    'keys:status': () => this.keyStatus(),
    'keys:set': async ({ provider, key }) => {
      await this.deps.secrets.set(provider, provider === 'llm_endpoint' ? this.bindEndpointKey(key) : key);
      this.markRestart(`keys.${provider}`);
      return this.keyStatus();
    },
    'keys:clear': async ({ provider }) => {
      await this.deps.secrets.clear(provider);
      this.markRestart(`keys.${provider}`);
      return this.keyStatus();
    },
    'session:start': () => this.startSession(),
    'session:stop': async () => {
      await this.stopSession();
      return { ok: true as const };
    },
    'session:push-to-talk': ({ pressed }) => {
      if (this.running && this.state.talking !== pressed)
        this.running.recording?.tap.action('push_to_talk', pressed);
      this.running?.session.pushToTalk(pressed);
      this.setState({ talking: pressed && this.running !== null });
      return { ...this.state };
    },
    'session:mute': ({ muted }) => {
      if (this.state.muted !== muted) this.running?.recording?.tap.action('mute', muted);
      this.running?.session.setMuted(muted);
      this.setState({ muted });
      return { ...this.state };
    },
    'session:report': () => this.running?.session.report() ?? this.lastReport,
    'recordings:list': () => this.recordings.list(),
    'recordings:open': ({ id }) => this.recordings.open(id),
    'recordings:replay': (payload) => this.recordings.replay(payload),
    'recordings:delete': ({ id }) => this.recordings.delete(id),
    'recordings:delete-all': () => this.recordings.deleteAll(),
  };

  // ---------- session lifecycle ----------

  private startSession(): Promise<Response<'session:start'>> {
    if (this.running) return Promise.resolve({ ok: true });
    this.starting ??= this.start().finally(() => {
      this.starting = null;
    });
    return this.starting;
  }

  private async start(): Promise<Response<'session:start'>> {
    const connection = this.providerConnection();
    if (!connection.ok) return { ok: false, error: connection.error };
    const { keys, endpoints } = connection;
    const missing = this.missingKeys(keys);
    if (missing.length) return { ok: false, error: missing.join('\n') };
    const microphone = await this.deps.microphoneAccess?.();
    if (microphone && !microphone.ok) return { ok: false, error: microphone.message };
    const settings = this.settings;
    let vad: DisposableVad | undefined;
    let providers: Providers | undefined;
    let recording: ActiveRecording | null = null;
    try {
      vad = await this.deps.createVad(settings);
      providers = this.deps.createProviders(settings, keys, endpoints);
      recording = this.beginRecording(settings);
      const tap = recording?.tap;
      const output = new RemoteAudioOutput(this.deps.clock, (m) => this.sendAudio(m));
      const detector = new CombinedTurnDetector({
        enabled:
          this.deps.turnModel !== undefined && settings.turn_handling.turn_detector.model !== 'heuristic',
      });
      const session = new VoiceSession(
        {
          clock: this.deps.clock,
          vad,
          stt: tap ? tap.wrapStt(providers.stt) : providers.stt,
          llm: tap ? tap.wrapLlm(providers.llm) : providers.llm,
          tts: tap ? tap.wrapTts(providers.tts) : providers.tts,
          output,
          turnDetector: detector,
        },
        settings,
      );
      const unsubscribeRecording = tap ? session.subscribe(tap.onTimeline) : () => undefined;
      const unsubscribeTimeline = session.subscribe((event) => this.onTimeline(session, event));
      const running: RunningSession = {
        session,
        microphone: this.microphoneInto(session, recording),
        providers,
        vad,
        output,
        detector,
        modelRequested: false,
        recording,
        unsubscribe: () => {
          unsubscribeRecording();
          unsubscribeTimeline();
          unsubscribeDetector();
        },
      };
      // The detector gave up on the model (unavailable, or it kept failing): the settings panel says so.
      const unsubscribeDetector = detector.subscribe((status) => {
        if (status.state === 'fallback' && this.running === running) {
          this.setTurnModel({ state: 'unavailable', reason: status.reason, message: status.detail });
        }
      });
      this.running = running;
      session.setMuted(this.state.muted);
      await session.start();
      this.setState({
        running: true,
        status: 'listening',
        pendingRestart: [],
        talking: false,
        ...(recording || this.state.recording !== undefined ? { recording: recording !== null } : {}),
      });
      // The session starts with the heuristic; the audio model joins when it is ready.
      this.prepareTurnModel();
      return { ok: true };
    } catch (error) {
      this.running = null;
      recording?.tap.finish(
        null,
        `the session did not start: ${error instanceof Error ? error.message : String(error)}`,
      );
      recording?.sink.close();
      await providers?.close().catch(() => undefined);
      await vad?.dispose?.().catch(() => undefined);
      return { ok: false, error: error instanceof Error ? error.message : String(error) };
    }
  }

  /**
   * The queue that feeds the microphone into a session: a frame that fails is reported (each
   * different problem once per session) and the stream goes on; audio that piles up beyond
   * MAX_PENDING_MIC_MS while the engine is behind is dropped, oldest first, and reported.
   */
  private microphoneInto(session: VoiceSession, recording: ActiveRecording | null): MicFrameQueue {
    const reported = new Set<string>();
    const warnOnce = (message: string) => {
      if (reported.has(message)) return;
      reported.add(message);
      this.addNotice({ level: 'warning', message });
    };
    return new MicFrameQueue({
      process: (frame) => {
        recording?.tap.audio(frame);
        return session.pushAudio(frame);
      },
      onError: (error) =>
        warnOnce(
          `A piece of microphone audio could not be processed (${error instanceof Error ? error.message : String(error)}); listening goes on.`,
        ),
      onDropped: () =>
        warnOnce(
          `The voice engine fell more than ${MAX_PENDING_MIC_MS / 1000} s behind the microphone; the oldest audio was dropped to catch up.`,
        ),
    });
  }

  private async stopSession(): Promise<void> {
    await this.starting;
    const running = this.running;
    if (!running) return;
    this.running = null;
    await running.microphone.idle();
    this.lastReport = running.session.report();
    await running.session.stop();
    running.unsubscribe();
    if (running.recording) {
      running.recording.tap.finish(this.lastReport);
      running.recording.sink.close();
    }
    await running.providers.close().catch(() => undefined);
    await running.vad.dispose?.().catch(() => undefined);
    this.setState({
      running: false,
      status: 'stopped',
      talking: false,
      ...(this.state.recording === undefined ? {} : { recording: false }),
    });
  }

  /**
   * The turn detector a replay under `settings` uses: as a live session's, with the Smart Turn
   * model once the app has it (loaded once, shared); the heuristic alone when it cannot be had.
   */
  private async replayTurnDetector(settings: Settings): Promise<CombinedTurnDetector | undefined> {
    if (!this.deps.turnModel || !this.wantsTurnModel(settings)) return undefined;
    const detector = new CombinedTurnDetector({ enabled: true });
    try {
      detector.attachModel((await this.loadTurnModel()).model);
    } catch (error) {
      detector.modelUnavailable(error);
    }
    return detector;
  }

  /** Opens this session's recording when recording is on; a failure is told and the session goes on unrecorded. */
  private beginRecording(settings: Settings): ActiveRecording | null {
    const store = this.deps.recordings;
    if (!settings.recording.enabled || !store) return null;
    try {
      return store.begin({
        clock: this.deps.clock,
        settings,
        appVersion: this.deps.info.version,
        onStopped: (reason) => {
          this.addNotice({ level: 'warning', message: `Recording: ${reason}.` });
          this.setState({ recording: false });
        },
      });
    } catch (error) {
      this.addNotice({
        level: 'warning',
        message: `This session is not recorded: ${error instanceof Error ? error.message : String(error)}`,
      });
      return null;
    }
  }

  private onTimeline(session: VoiceSession, event: TimelineEvent): void {
    this.emit('timeline', event);
    switch (event.type) {
      case 'turn_committed':
        if (this.state.status !== 'speaking') this.setState({ status: 'thinking' });
        break;
      case 'agent_speech_started':
        this.setState({ status: 'speaking' });
        break;
      case 'agent_speech_ended': {
        this.setState({ status: 'listening' });
        const turn = session.report().turns.find((t) => t.index === event.turn);
        if (turn) this.emit('turn', turn);
        break;
      }
      case 'error':
        this.emit('notice', { level: event.recoverable ? 'warning' : 'error', message: event.message });
        break;
      default:
        break;
    }
  }

  // ---------- settings and keys ----------

  /** Saves and applies settings; returns the options waiting for a session restart. */
  private applySettings(next: Settings): string[] {
    this.deps.settingsStore.save(next);
    const previous = this.settings;
    this.settings = next;
    const session = this.running?.session;
    const restart = session ? session.updateSettings(next).needsRestart : [];
    if (session && previous.recording.enabled !== next.recording.enabled) restart.push('recording.enabled');
    // On the running session's timeline: the turns after this mark run under the new settings.
    const changes = session ? settingChanges(previous, next, restart) : [];
    if (session && changes.length) session.bus.emit({ type: 'settings_changed', changes });
    this.prepareTurnModel();
    this.setState({
      mode: this.modeOf(next),
      pendingRestart: [...new Set([...this.state.pendingRestart, ...restart])],
    });
    this.emit('settings:changed', { settings: next });
    return restart;
  }

  private markRestart(path: string): void {
    if (this.running) this.setState({ pendingRestart: [...new Set([...this.state.pendingRestart, path])] });
  }

  /**
   * The keys and endpoints a session starts with. The LLM's endpoint and key follow
   * llm-credentials.ts (the OpenAI key only to OpenAI's API; a custom endpoint only its own key),
   * unless this run was given its endpoints and keys directly (the simulators of the web mode).
   */
  private providerConnection():
    { ok: true; keys: ProviderKeys; endpoints: ProviderEndpoints } | { ok: false; error: string } {
    const overrides = this.deps.keyOverrides ?? {};
    const keys: ProviderKeys = {};
    for (const provider of PROVIDERS) {
      keys[provider] = overrides[provider] ?? resolveKey(provider, this.deps.secrets, this.deps.env);
    }
    const endpoints: ProviderEndpoints = { ...this.deps.endpoints };
    if (endpoints.openai) return { ok: true, keys, endpoints };
    const llm = this.llmCredentials();
    if (!llm.ok) return llm;
    keys.openai = overrides.openai ?? llm.apiKey;
    endpoints.openai = llm.endpoint.baseUrl;
    return { ok: true, keys, endpoints };
  }

  private llmCredentials(): LlmCredentials {
    return resolveLlmCredentials({
      baseUrlSetting: this.settings.llm.base_url,
      env: this.deps.env,
      storedOpenAiKey: this.deps.secrets.get('openai'),
      storedEndpointKey: this.deps.secrets.get('llm_endpoint'),
    });
  }

  /** The custom endpoint key, bound to the endpoint configured now; refused when there is none. */
  private bindEndpointKey(key: string): string {
    const llm = this.llmCredentials();
    if (!llm.ok) throw new Error(`The custom endpoint key cannot be saved: ${llm.error}`);
    if (llm.endpoint.kind !== 'custom') {
      throw new Error(
        "The custom endpoint key is for an LLM endpoint other than OpenAI's: set llm.base_url to that " +
          'endpoint first. The key is then sent there only, never to another endpoint.',
      );
    }
    return encodeEndpointKey(llm.endpoint.origin, key);
  }

  private keyStatus(): Record<KeyId, KeyStatus> {
    const status = keyStatus(this.deps.secrets, this.deps.env);
    status.llm_endpoint = endpointKeyStatus(this.llmCredentials());
    for (const provider of PROVIDERS) {
      if (this.deps.keyOverrides?.[provider]) status[provider] = { set: true, source: 'override' };
    }
    return status;
  }

  /** Messages for keys that are needed and missing, each naming the provider and the setting. */
  private missingKeys(keys: ProviderKeys): string[] {
    const out: string[] = [];
    for (const provider of PROVIDERS) {
      if (keys[provider]) continue;
      if (provider === 'openai' && this.usesCustomLlm()) continue;
      out.push(missingKey(PROVIDER_NAME[provider]).message);
    }
    return out;
  }

  /** A custom LLM endpoint (its key is optional), or simulators given to this run. */
  private usesCustomLlm(): boolean {
    if (this.deps.endpoints?.openai) return true;
    const llm = this.llmCredentials();
    return llm.ok && llm.endpoint.kind === 'custom';
  }

  private modeOf(settings: Settings): AppState['mode'] {
    return settings.turn_handling.turn_detection === 'manual' ? 'push-to-talk' : 'always-on';
  }

  // ---------- the end-of-turn audio model ----------

  /** Whether the settings call for the audio model: turn detection "model" with Smart Turn. */
  private wantsTurnModel(settings: Settings): boolean {
    return (
      settings.turn_handling.turn_detection === 'model' &&
      settings.turn_handling.turn_detector.model === 'smart-turn-v3'
    );
  }

  /**
   * Gives the running session's detector the audio model when the settings want it: found,
   * downloaded if needed and loaded in the background (never blocking the session), or, when that
   * fails, the detector falls back on the heuristic and says so. Also follows live settings changes.
   */
  private prepareTurnModel(): void {
    const running = this.running;
    if (!running || !this.deps.turnModel) return;
    const enabled = this.settings.turn_handling.turn_detector.model === 'smart-turn-v3';
    const wasOff = running.detector.status.state === 'off';
    running.detector.setModelEnabled(enabled);
    if (!enabled) {
      this.setTurnModel({ state: 'off' });
      return;
    }
    // Turned back on: a model that failed earlier in this session is tried again.
    if (wasOff) running.modelRequested = false;
    if (!this.wantsTurnModel(this.settings) || running.modelRequested) return;
    running.modelRequested = true;
    this.loadTurnModel().then(
      ({ model, source }) => {
        if (this.running !== running) return;
        running.detector.attachModel(model);
        if (running.detector.status.state === 'active') this.setTurnModel({ state: 'ready', source });
      },
      (error: unknown) => {
        // Not tried again in this session (unless the model is turned off and on): the next start retries.
        if (this.running === running) running.detector.modelUnavailable(error);
      },
    );
  }

  /** The shared model: resolved by the store (resources, cache, download) and loaded once. */
  private loadTurnModel(): Promise<{ model: LoadedTurnModel; source: ResolvedTurnModel['source'] }> {
    const deps = this.deps.turnModel!;
    this.turnModel ??= (async () => {
      const found = await deps.store.resolve({ signal: this.turnModelAbort.signal });
      this.setTurnModel({ state: 'checking' });
      const model = await deps.load(found.path);
      this.setTurnModel({ state: 'ready', source: found.source });
      return { model, source: found.source };
    })().catch((error: unknown) => {
      // The next session start tries again (the store retries a failed download).
      this.turnModel = null;
      const { reason, detail } = describeModelFailure(error);
      this.setTurnModel({ state: 'unavailable', reason, message: detail });
      throw error;
    });
    return this.turnModel;
  }

  /** The store's progress, for the settings panel (its "ready" waits for the model to load). */
  private onTurnModelStatus(status: TurnModelStatus): void {
    switch (status.state) {
      case 'checking':
        this.setTurnModel({ state: 'checking' });
        break;
      case 'downloading':
        this.setTurnModel({
          state: 'downloading',
          receivedBytes: status.receivedBytes,
          totalBytes: status.totalBytes,
        });
        break;
      case 'unavailable':
        this.setTurnModel({ state: 'unavailable', reason: status.reason, message: status.message });
        break;
      default:
        break;
    }
  }

  private setTurnModel(view: DistributiveOmit<TurnModelView, 'name'>): void {
    const name = this.deps.turnModel?.store.descriptor.name ?? 'Smart Turn v3';
    this.setState({ turnModel: { ...view, name } as TurnModelView });
  }

  // ---------- events ----------

  private setState(patch: Partial<AppState>): void {
    const next = { ...this.state, ...patch };
    if (JSON.stringify(next) === JSON.stringify(this.state)) return;
    this.state = next;
    this.emit('state', { ...next });
  }

  private emit<E extends EventName>(name: E, payload: Events[E]): void {
    for (const listener of this.listeners) listener(name, payload);
  }

  private sendAudio(message: AudioDown): void {
    for (const listener of this.audioListeners) listener(message);
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

export interface CreateAppCoreOptions {
  userDataDir: string;
  safeStorage: SafeStorageLike;
  env: NodeJS.ProcessEnv;
  platform: string;
  version: string;
  /** Folder holding models/ (bundled weights); the npm packages are searched too. */
  resourcesDir?: string;
  /** The global shortcut's current status (it changes with the settings). */
  shortcut?: () => AppInfo['shortcut'];
  /** Asked before each session start (the OS microphone permission on macOS). */
  microphoneAccess?: AppCoreDeps['microphoneAccess'];
  endpoints?: ProviderEndpoints;
  keys?: ProviderKeys;
  clock?: Clock;
  /**
   * The end-of-turn model to use and how to fetch it (default: Smart Turn v3.2 from its published
   * location with the global fetch). Its file is looked for in `<resourcesDir>/models/`, then in
   * `<userDataDir>/models/`, and downloaded there on first use.
   */
  turnModel?: { model?: TurnModelDescriptor; fetch?: TurnModelFetch };
}

/** The app core with its stores in the user data folder, the real providers and Silero VAD. */
export async function createAppCore(options: CreateAppCoreOptions): Promise<AppCore> {
  const clock = options.clock ?? new RealClock();
  return new AppCore({
    settingsStore: new FileSettingsStore({ dir: options.userDataDir }),
    secrets: await new EncryptedSecretStore({
      safeStorage: options.safeStorage,
      dir: options.userDataDir,
      platform: options.platform,
    }).open(),
    env: options.env,
    clock,
    info: {
      version: options.version,
      platform: options.platform,
      shortcut: options.shortcut ?? (() => ({ accelerator: '', registered: false, hold: false })),
    },
    createVad: async (settings) => {
      const model = await loadSileroModel(
        settings.vad.model,
        options.resourcesDir ? { resourcesDir: options.resourcesDir } : undefined,
      );
      const vad = new VoiceActivityDetector(model, settings.vad);
      return Object.assign(vad, { dispose: () => model.dispose() });
    },
    createProviders: (settings, keys, endpoints) => createRealProviders({ settings, keys, endpoints, clock }),
    turnModel: {
      store: new TurnModelStore({
        model: options.turnModel?.model ?? DEFAULT_TURN_MODEL,
        cacheDir: join(options.userDataDir, 'models'),
        clock,
        ...(options.resourcesDir ? { resourcesDir: options.resourcesDir } : {}),
        ...(options.turnModel?.fetch ? { fetch: options.turnModel.fetch } : {}),
      }),
      // In a worker thread: features and inference never hold the main thread's event loop.
      load: (path) => SmartTurnWorkerDetector.load(path),
    },
    ...(options.endpoints ? { endpoints: options.endpoints } : {}),
    ...(options.keys ? { keyOverrides: options.keys } : {}),
    ...(options.microphoneAccess ? { microphoneAccess: options.microphoneAccess } : {}),
    recordings: new RecordingsStore(join(options.userDataDir, 'recordings')),
  });
}
