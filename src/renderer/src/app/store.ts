/**
 * The app's state over the CueApi, framework-free (useCue() wraps it for React; tests drive it
 * with an in-memory CueApi). It keeps one immutable snapshot, replaced on every change:
 * connection, app info and state, notices, settings and their descriptions, key status, the
 * conversation built from timeline events, and the current session's turn reports.
 *
 * Timeline events come one by one (`timeline`) or several in one message (`timeline:batch`, the
 * VAD trace): each event of a batch is handled as if it had come alone, but the store's
 * subscribers (React) are told at most once per batch.
 */
import type {
  AppInfo,
  AppState,
  CueApi,
  KeyStatus,
  Notice,
  KeyId,
  RequestName,
  RequestPayload,
  Response,
  SettingsUpdateResult,
} from '../../../shared/contract';
import type { SessionReport, TurnReport } from '../../../shared/report';
import type { OptionInfo, Settings } from '../../../shared/settings';
import type { TimelineEvent } from '../../../shared/timeline';
import {
  applyTimelineEvent,
  applyTurnReport,
  conversationFromReport,
  EMPTY_CONVERSATION,
  type Conversation,
} from './conversation';
import { addNotice, dismissNotice, noticeKey, type NoticeAction, type NoticeItem } from './notices';

/** Turn reports kept for the current session. */
export const MAX_TURN_REPORTS = 200;

export type ConnectionState =
  { status: 'connecting' } | { status: 'connected' } | { status: 'failed'; error: string };

export interface CueSnapshot {
  connection: ConnectionState;
  /** The bridge once connected (for the audio engine and the timeline mounts). */
  api: CueApi | null;
  info: AppInfo | null;
  state: AppState | null;
  notices: readonly NoticeItem[];
  settings: Settings | null;
  /** Every option's path, label, meaning, default, unit and range (settings:describe). */
  options: readonly OptionInfo[];
  keys: Readonly<Record<KeyId, KeyStatus>> | null;
  conversation: Conversation;
  /** Reports of the current session's turns, oldest first. */
  turns: readonly TurnReport[];
  busy: { starting: boolean; stopping: boolean; exporting: boolean };
}

export type KeyResult = { ok: true } | { ok: false; error: string };

export interface CueActions {
  /** (Re)connects to main: after a failed connection, or to reload everything. */
  connect(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Stop then start: applies the options waiting for a restart. */
  restart(): Promise<void>;
  setMuted(muted: boolean): Promise<void>;
  /** Mutes if unmuted, and back: from the value last asked, so two quick clicks end where they started. */
  toggleMuted(): Promise<void>;
  /** Push-to-talk pressed or released (a repeat of the value still unanswered is not sent). */
  pushToTalk(pressed: boolean): void;
  /** Saves the session report (the running session's, else the last one's) as a JSON file. */
  exportReport(): Promise<void>;
  /** Sends a settings patch; problems come back as `path: message` lines, nothing is thrown. */
  updateSettings(patch: Record<string, unknown>): Promise<SettingsUpdateResult>;
  resetSettings(): Promise<void>;
  setKey(provider: KeyId, key: string): Promise<KeyResult>;
  clearKey(provider: KeyId): Promise<KeyResult>;
  /** Shows a notice; returns the id of the notice shown (for dismissNotice), undefined for an empty one. */
  pushNotice(notice: Notice & { action?: NoticeAction }): number | undefined;
  dismissNotice(id: number): void;
  /** Every timeline event as it arrives (the per-frame VAD lane included), for the live timeline. */
  subscribeTimeline(listener: (event: TimelineEvent) => void): () => void;
}

export interface CueStoreDeps {
  getApi: () => Promise<CueApi>;
  /** Saves an exported report (a file download in the page). */
  saveReport: (report: SessionReport) => void;
}

const INITIAL: CueSnapshot = {
  connection: { status: 'connecting' },
  api: null,
  info: null,
  state: null,
  notices: [],
  settings: null,
  options: [],
  keys: null,
  conversation: EMPTY_CONVERSATION,
  turns: [],
  busy: { starting: false, stopping: false, exporting: false },
};

export class CueStore {
  private snapshot: CueSnapshot = INITIAL;
  private readonly listeners = new Set<() => void>();
  private readonly timelineListeners = new Set<(event: TimelineEvent) => void>();
  private unsubscribers: (() => void)[] = [];
  /** Bumped by every connect/disconnect: answers to an older connection are ignored. */
  private generation = 0;
  private nextNoticeId = 1;
  /**
   * The push-to-talk value asked of main and not answered yet. Only a repeat of it is dropped: a
   * state event from main (sent before it heard the press) must never swallow the release.
   */
  private pttPending: boolean | null = null;
  /** The mute value asked of main and not answered yet (toggleMuted toggles from it). */
  private mutePending: boolean | null = null;
  /** Warnings that the STT lost its connection and is reconnecting, until it delivers again. */
  private readonly sttReconnecting = new Set<string>();
  /** While true, changes to the snapshot wait in `changedWhileHeld` to be announced once. */
  private holdingNotifications = false;
  private changedWhileHeld = false;

  constructor(private readonly deps: CueStoreDeps) {}

  // ---------- the external-store protocol (useSyncExternalStore) ----------

  readonly subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  readonly getSnapshot = (): CueSnapshot => this.snapshot;

  // ---------- connection ----------

  readonly connect = async (): Promise<void> => {
    const generation = ++this.generation;
    this.detach();
    this.set({ connection: { status: 'connecting' } });
    let api: CueApi;
    try {
      api = await this.deps.getApi();
    } catch (error) {
      if (generation === this.generation)
        this.set({ connection: { status: 'failed', error: messageOf(error) } });
      return;
    }
    if (generation !== this.generation) return;
    const live = () => generation === this.generation;
    this.unsubscribers = [
      api.on('state', (state) => live() && this.onState(state)),
      api.on('notice', (notice) => live() && this.pushNotice(notice)),
      api.on('settings:changed', ({ settings }) => {
        if (!live()) return;
        this.set({ settings });
        // The shell follows some settings (the push-to-talk shortcut): its status may have changed.
        api.request('app:info', {}).then(
          (info) => live() && this.set({ info }),
          () => undefined,
        );
      }),
      api.on('turn', (report) => live() && this.onTurn(report)),
      api.on('timeline', (event) => live() && this.onTimeline(event)),
      api.on('timeline:batch', (events) => live() && this.onTimelineBatch(events)),
    ];
    this.set({ connection: { status: 'connected' }, api });
    const load = async <K extends RequestName>(name: K, apply: (response: Response<K>) => void) => {
      try {
        const response = await api.request(name, {} as RequestPayload<K>);
        if (live()) apply(response);
      } catch (error) {
        if (live())
          this.pushNotice({ level: 'error', message: `Could not load ${name}: ${messageOf(error)}` });
      }
    };
    await Promise.all([
      load('app:info', (info) => {
        this.set({ info });
        const warning = info.secretStorage.warning;
        if (warning) this.addQuietly({ level: 'warning', message: warning });
      }),
      load('app:state', (state) => {
        this.onState(state);
        if (state.running) void this.restoreSession(api, live);
      }),
      load('settings:get', ({ settings, notices }) => {
        this.set({ settings });
        for (const notice of notices) this.addQuietly(notice);
      }),
      load('settings:describe', (options) => this.set({ options })),
      load('keys:status', (keys) => this.set({ keys })),
    ]);
  };

  /**
   * A window that connects while a session runs (a reload) rebuilds the conversation and the
   * turns' reports from main's session report, unless events have already started filling them.
   */
  private async restoreSession(api: CueApi, live: () => boolean): Promise<void> {
    let report: SessionReport | null;
    try {
      report = await api.request('session:report', {});
    } catch {
      return;
    }
    if (!report || !live() || this.snapshot.conversation.entries.length > 0 || this.snapshot.turns.length > 0)
      return;
    this.set({
      conversation: conversationFromReport(report),
      turns: report.turns.slice(-MAX_TURN_REPORTS),
    });
  }

  /** Stops listening to main (the snapshot stays as it was). */
  readonly disconnect = (): void => {
    this.generation++;
    this.detach();
  };

  // ---------- session ----------

  readonly start = async (): Promise<void> => {
    if (this.snapshot.busy.starting) return;
    this.setBusy({ starting: true });
    try {
      const result = await this.request('session:start', {});
      if (result && !result.ok)
        this.pushNotice({ level: 'error', message: `Could not start: ${result.error}` });
    } finally {
      this.setBusy({ starting: false });
    }
  };

  readonly stop = async (): Promise<void> => {
    if (this.snapshot.busy.stopping) return;
    this.setBusy({ stopping: true });
    try {
      await this.request('session:stop', {});
    } finally {
      this.setBusy({ stopping: false });
    }
  };

  readonly restart = async (): Promise<void> => {
    await this.stop();
    await this.start();
  };

  readonly setMuted = async (muted: boolean): Promise<void> => {
    this.mutePending = muted;
    const state = await this.request('session:mute', { muted });
    if (this.mutePending === muted) this.mutePending = null;
    if (state) this.onState(state);
  };

  readonly toggleMuted = (): Promise<void> =>
    this.setMuted(!(this.mutePending ?? this.snapshot.state?.muted ?? false));

  readonly pushToTalk = (pressed: boolean): void => {
    if (pressed === this.pttPending || !this.snapshot.api) return;
    this.pttPending = pressed;
    void this.request('session:push-to-talk', { pressed }).then((state) => {
      if (this.pttPending === pressed) this.pttPending = null;
      if (state) this.onState(state);
    });
  };

  readonly exportReport = async (): Promise<void> => {
    if (this.snapshot.busy.exporting) return;
    this.setBusy({ exporting: true });
    try {
      const report = await this.request('session:report', {});
      if (report === null)
        this.pushNotice({ level: 'info', message: 'No session report yet: start a session first.' });
      else if (report) this.deps.saveReport(report);
    } catch (error) {
      this.pushNotice({ level: 'error', message: `Could not save the report: ${messageOf(error)}` });
    } finally {
      this.setBusy({ exporting: false });
    }
  };

  // ---------- settings and keys ----------

  readonly updateSettings = async (patch: Record<string, unknown>): Promise<SettingsUpdateResult> => {
    const api = this.snapshot.api;
    if (!api) return { ok: false, problems: ['Not connected to Cue.'] };
    try {
      const result = await api.request('settings:update', { patch });
      if (result.ok) this.set({ settings: result.settings });
      return result;
    } catch (error) {
      return { ok: false, problems: [messageOf(error)] };
    }
  };

  readonly resetSettings = async (): Promise<void> => {
    const result = await this.request('settings:reset', {});
    if (result) this.set({ settings: result.settings });
  };

  readonly setKey = (provider: KeyId, key: string): Promise<KeyResult> =>
    this.keyRequest(() => this.snapshot.api!.request('keys:set', { provider, key }));

  readonly clearKey = (provider: KeyId): Promise<KeyResult> =>
    this.keyRequest(() => this.snapshot.api!.request('keys:clear', { provider }));

  // ---------- notices and the timeline ----------

  readonly pushNotice = (notice: Notice & { action?: NoticeAction }): number | undefined => {
    const notices = addNotice(this.snapshot.notices, notice, this.nextNoticeId++);
    if (notices !== this.snapshot.notices) this.set({ notices });
    const key = noticeKey(notice);
    return notices.find((item) => noticeKey(item) === key)?.id;
  };

  /** A notice read at start-up: shown once even when two requests report it (no repeat count). */
  private addQuietly(notice: Notice): void {
    const notices = addNotice(this.snapshot.notices, notice, this.nextNoticeId++, { countRepeat: false });
    if (notices !== this.snapshot.notices) this.set({ notices });
  }

  readonly dismissNotice = (id: number): void => {
    const notices = dismissNotice(this.snapshot.notices, id);
    if (notices !== this.snapshot.notices) this.set({ notices });
  };

  readonly subscribeTimeline = (listener: (event: TimelineEvent) => void): (() => void) => {
    this.timelineListeners.add(listener);
    return () => this.timelineListeners.delete(listener);
  };

  /** The actions as one stable object. */
  readonly actions: CueActions = {
    connect: this.connect,
    start: this.start,
    stop: this.stop,
    restart: this.restart,
    setMuted: this.setMuted,
    toggleMuted: this.toggleMuted,
    pushToTalk: this.pushToTalk,
    exportReport: this.exportReport,
    updateSettings: this.updateSettings,
    resetSettings: this.resetSettings,
    setKey: this.setKey,
    clearKey: this.clearKey,
    pushNotice: this.pushNotice,
    dismissNotice: this.dismissNotice,
    subscribeTimeline: this.subscribeTimeline,
  };

  // ---------- internals ----------

  private onState(state: AppState): void {
    this.set({ state });
  }

  private onTimelineBatch(events: readonly TimelineEvent[]): void {
    this.holdingNotifications = true;
    try {
      for (const event of events) this.onTimeline(event);
    } finally {
      this.holdingNotifications = false;
      if (this.changedWhileHeld) {
        this.changedWhileHeld = false;
        this.notify();
      }
    }
  }

  private onTimeline(event: TimelineEvent): void {
    this.followSttConnection(event);
    const conversation = applyTimelineEvent(this.snapshot.conversation, event);
    if (event.type === 'session_started') this.set({ conversation, turns: [] });
    else if (conversation !== this.snapshot.conversation) this.set({ conversation });
    for (const listener of [...this.timelineListeners]) {
      try {
        listener(event);
      } catch (error) {
        console.error('cue: a timeline listener failed:', error);
      }
    }
  }

  /**
   * "Connection lost; reconnecting" is true until the STT delivers again: its next transcript
   * withdraws the warning (it stayed up for minutes after a reconnect that had succeeded).
   */
  private followSttConnection(event: TimelineEvent): void {
    if (
      event.type === 'error' &&
      event.source === 'stt' &&
      event.recoverable &&
      /reconnecting/i.test(event.message)
    ) {
      this.sttReconnecting.add(noticeKey({ level: 'warning', message: event.message }));
      return;
    }
    const delivering =
      event.type === 'transcript_interim' || event.type === 'transcript_final' || event.type === 'turn_event';
    if (!delivering || this.sttReconnecting.size === 0) return;
    const stale = this.snapshot.notices.filter((notice) => this.sttReconnecting.has(noticeKey(notice)));
    this.sttReconnecting.clear();
    for (const notice of stale) this.dismissNotice(notice.id);
  }

  private onTurn(report: TurnReport): void {
    const turns = [...this.snapshot.turns.filter((t) => t.index !== report.index), report]
      .sort((a, b) => a.index - b.index)
      .slice(-MAX_TURN_REPORTS);
    this.set({ turns, conversation: applyTurnReport(this.snapshot.conversation, report) });
  }

  /** A request whose failure becomes an error notice (and undefined). */
  private async request<K extends RequestName>(
    name: K,
    payload: RequestPayload<K>,
  ): Promise<Response<K> | undefined> {
    const api = this.snapshot.api;
    if (!api) {
      this.pushNotice({ level: 'error', message: 'Not connected to Cue: the request was not sent.' });
      return undefined;
    }
    try {
      return await api.request(name, payload);
    } catch (error) {
      this.pushNotice({ level: 'error', message: `${describeRequest(name)} failed: ${messageOf(error)}` });
      return undefined;
    }
  }

  private async keyRequest(send: () => Promise<Record<KeyId, KeyStatus>>): Promise<KeyResult> {
    if (!this.snapshot.api) return { ok: false, error: 'Not connected to Cue.' };
    try {
      this.set({ keys: await send() });
      return { ok: true };
    } catch (error) {
      return { ok: false, error: messageOf(error) };
    }
  }

  private setBusy(patch: Partial<CueSnapshot['busy']>): void {
    this.set({ busy: { ...this.snapshot.busy, ...patch } });
  }

  private set(patch: Partial<CueSnapshot>): void {
    this.snapshot = { ...this.snapshot, ...patch };
    if (this.holdingNotifications) this.changedWhileHeld = true;
    else this.notify();
  }

  private notify(): void {
    for (const listener of [...this.listeners]) listener();
  }

  private detach(): void {
    for (const unsubscribe of this.unsubscribers) unsubscribe();
    this.unsubscribers = [];
  }
}

const REQUEST_LABEL: Partial<Record<RequestName, string>> = {
  'session:start': 'Starting the session',
  'session:stop': 'Stopping the session',
  'session:mute': 'Muting',
  'session:push-to-talk': 'Push-to-talk',
  'session:report': 'Loading the session report',
  'settings:reset': 'Resetting the settings',
};

function describeRequest(name: RequestName): string {
  return REQUEST_LABEL[name] ?? name;
}

export function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  return typeof error === 'string' ? error : JSON.stringify(error);
}
