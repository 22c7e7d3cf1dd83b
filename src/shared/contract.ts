import { z } from 'zod';
import {
  EVENT_NAMES as LISTED_EVENT_NAMES,
  type EventName as ListedEventName,
  type RequestName as ListedRequestName,
} from './contract-names';
import type { RecordedSession, RecordingSummary, ReplayComparison } from './recording';
import type { SessionReport, TurnReport } from './report';
import type { OptionInfo, Settings, SettingsInput } from './settings';
import type { TimelineEvent } from './timeline';

/**
 * The renderer ↔ main contract, defined once. Electron IPC (preload), the local WebSocket
 * bridge (browser runs, e2e tests) and in-memory test carriers all carry exactly this:
 * requests from the renderer with their responses, events from main, and the audio channel.
 * Every request payload is validated in main with the schema below; nobody re-declares a
 * channel name or a payload type. Events come from main itself, so they are typed, not validated.
 */

export const PROVIDERS = ['deepgram', 'openai', 'elevenlabs'] as const;
export type ProviderId = (typeof PROVIDERS)[number];

/**
 * The keys the app keeps: one per provider, and `llm_endpoint`, the optional key of a custom
 * LLM endpoint (llm.base_url other than OpenAI's), sent only to the endpoint it was saved for.
 */
export const KEY_IDS = [...PROVIDERS, 'llm_endpoint'] as const;
export type KeyId = (typeof KEY_IDS)[number];

/** Where a key comes from; the key itself never leaves main. */
export interface KeyStatus {
  set: boolean;
  /** `override`: a key given to this run directly (the simulators' key in the web dev mode). */
  source: 'store' | 'environment' | 'override' | null;
}

export interface SecretStorageInfo {
  /** Keys are encrypted at rest with the OS store. */
  encrypted: boolean;
  /** safeStorage backend on Linux (e.g. gnome_libsecret, kwallet, basic_text), or the platform name. */
  backend: string;
  /** Shown to the user when keys cannot be encrypted (Linux basic_text, no store at all). */
  warning: string | null;
}

export type AgentStatus = 'stopped' | 'listening' | 'thinking' | 'speaking';

export interface AppState {
  status: AgentStatus;
  running: boolean;
  muted: boolean;
  /** Push-to-talk held (manual turn detection). */
  talking: boolean;
  mode: 'always-on' | 'push-to-talk';
  /** Options changed that take effect at the next session start. */
  pendingRestart: string[];
  /** The end-of-turn audio model (turn detection "model"), once a session has asked for it. */
  turnModel?: TurnModelView;
  /** The running session is being recorded (recording.enabled); the window shows it. */
  recording?: boolean;
}

/**
 * Where the end-of-turn audio model stands. `name` is the model's human name. While it is not
 * ready, turn detection uses the transcript heuristic and the endpointing delays.
 */
export type TurnModelView =
  /** Looking for the file, verifying it, or loading it. */
  | { state: 'checking'; name: string }
  /** Downloading on first use; `totalBytes` null when the size is unknown. */
  | { state: 'downloading'; name: string; receivedBytes: number; totalBytes: number | null }
  /** In use, from the app's resources, the model cache, or just downloaded. */
  | { state: 'ready'; name: string; source: 'resources' | 'cache' | 'download' }
  /**
   * Not usable: `reason` in a word (offline, http, checksum, io, aborted, missing, corrupt, failed
   * N times…), `message` the full explanation with what to do.
   */
  | { state: 'unavailable'; name: string; reason: string; message: string }
  /** Turned off in the settings (turn_detector.model = heuristic). */
  | { state: 'off'; name: string };

export interface Notice {
  level: 'info' | 'warning' | 'error';
  message: string;
}

export type SettingsUpdateResult =
  { ok: true; settings: Settings; needsRestart: string[] } | { ok: false; problems: string[] };

export interface AppInfo {
  version: string;
  platform: string;
  secretStorage: SecretStorageInfo;
  /** Global push-to-talk shortcut as registered, and whether holding it works on this platform. */
  shortcut: { accelerator: string; registered: boolean; hold: boolean };
}

const provider = z.enum(KEY_IDS, { error: `must be one of ${KEY_IDS.join(', ')}` });
const recordingId = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/, { error: 'must be the id of a recording (its folder name)' });
const empty = z.object({}).strict();

/** Requests: renderer → main, each with its payload schema and response type. */
export const requestSchemas = {
  'app:info': empty,
  'app:state': empty,
  'settings:get': empty,
  'settings:describe': empty,
  /** A partial settings object merged over the current settings. */
  'settings:update': z.object({ patch: z.record(z.string(), z.unknown()) }).strict(),
  'settings:reset': empty,
  'keys:status': empty,
  'keys:set': z
    .object({ provider, key: z.string().trim().min(8, { error: 'must be at least 8 characters' }).max(400) })
    .strict(),
  'keys:clear': z.object({ provider }).strict(),
  'session:start': empty,
  'session:stop': empty,
  'session:push-to-talk': z.object({ pressed: z.boolean() }).strict(),
  'session:mute': z.object({ muted: z.boolean() }).strict(),
  'session:report': empty,
  'recordings:list': empty,
  'recordings:open': z.object({ id: recordingId }).strict(),
  /**
   * Replays a recording under `patch` merged over `base`: the current settings, or the recording's own
   * (to try one option changed against exactly what happened).
   */
  'recordings:replay': z
    .object({
      id: recordingId,
      base: z.enum(['current', 'recorded'], { error: 'must be "current" or "recorded"' }),
      patch: z.record(z.string(), z.unknown()),
    })
    .strict(),
  'recordings:delete': z.object({ id: recordingId }).strict(),
  'recordings:delete-all': empty,
} as const satisfies Record<ListedRequestName, z.ZodType>;

export interface Responses {
  'app:info': AppInfo;
  'app:state': AppState;
  'settings:get': { settings: Settings; notices: Notice[] };
  'settings:describe': OptionInfo[];
  'settings:update': SettingsUpdateResult;
  'settings:reset': { settings: Settings };
  'keys:status': Record<KeyId, KeyStatus>;
  'keys:set': Record<KeyId, KeyStatus>;
  'keys:clear': Record<KeyId, KeyStatus>;
  'session:start': { ok: true } | { ok: false; error: string };
  'session:stop': { ok: true };
  'session:push-to-talk': AppState;
  'session:mute': AppState;
  'session:report': SessionReport | null;
  'recordings:list': RecordingSummary[];
  'recordings:open': { ok: true; session: RecordedSession } | { ok: false; error: string };
  'recordings:replay': { ok: true; comparison: ReplayComparison } | { ok: false; error: string };
  'recordings:delete': RecordingSummary[];
  'recordings:delete-all': RecordingSummary[];
}

export type RequestName = keyof typeof requestSchemas;
export type RequestPayload<K extends RequestName> = z.input<(typeof requestSchemas)[K]>;
export type Response<K extends RequestName> = Responses[K];

/** Events: main → renderer. */
export interface Events {
  timeline: TimelineEvent;
  /**
   * Timeline events carried together, in order, as if each had come as a `timeline` event: the
   * carriers send the VAD trace's per-frame events this way (src/main/app/timeline-batcher.ts).
   */
  'timeline:batch': TimelineEvent[];
  state: AppState;
  notice: Notice;
  'settings:changed': { settings: Settings };
  /** A turn's report once its reply has finished (or it was dropped). */
  turn: TurnReport;
}
export type EventName = keyof Events;
export const EVENT_NAMES: readonly EventName[] = LISTED_EVENT_NAMES;

// The zod-free name lists (contract-names.ts, bundled by the preload) must match exactly.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Assert<T extends true> = T;
type _RequestNamesMatch = Assert<Same<RequestName, ListedRequestName>>;
type _EventNamesMatch = Assert<Same<EventName, ListedEventName>>;

// ---------- the audio channel (a MessagePort in Electron, binary frames on the WebSocket) ----------

/** Renderer → main. Times are ages (ms before sending), so the two clocks need no alignment. */
export type AudioUp =
  /** 16 kHz mono Int16 microphone samples; `ageMs`: how long ago the first sample was captured. */
  | { type: 'mic'; samples: Int16Array; ageMs: number }
  /** The first sample of an utterance became audible `ageMs` ago. */
  | { type: 'played'; utterance: number; ageMs: number }
  /** All audio of an ended utterance has been played. */
  | { type: 'finished'; utterance: number; ageMs: number; playedMs: number };

/** Main → renderer. */
export type AudioDown =
  | { type: 'audio'; utterance: number; samples: Int16Array; sampleRate: number }
  | { type: 'end'; utterance: number }
  | { type: 'pause' }
  | { type: 'resume' }
  /** Flush at once (barge-in); the renderer answers with the ms heard of the utterance. */
  | { type: 'clear'; utterance: number };

/** The API the renderer sees (window.cue in Electron, the WebSocket client in a browser). */
export interface CueApi {
  request<K extends RequestName>(name: K, payload: RequestPayload<K>): Promise<Response<K>>;
  on<E extends EventName>(name: E, listener: (payload: Events[E]) => void): () => void;
  /** Sends microphone audio and playback reports to main. */
  sendAudio(message: AudioUp): void;
  onAudio(listener: (message: AudioDown) => void): () => void;
  /**
   * A port to main for microphone audio only (AudioUp `mic` messages, samples transferred) that
   * the page hands to its capture worker (or worklet), so the frames never wait for the page's
   * main thread.
   * Each call opens a new one; closing it ends it. Absent where the API has none.
   */
  openMicPort?(): Promise<MessagePort>;
  /**
   * Browser build only: the address (with the run's token) of the bridge's microphone socket,
   * which the page's capture worker opens itself, so its frames reach main without another
   * thread. A new socket there replaces the one before it. Absent where the API has none.
   */
  micSocketUrl?(): string;
}

export class ContractError extends Error {
  override name = 'ContractError';
}

/** Validates a request payload against the contract; throws a ContractError naming the field. */
export function parseRequest<K extends RequestName>(
  name: K,
  payload: unknown,
): z.output<(typeof requestSchemas)[K]> {
  const schema = requestSchemas[name] as z.ZodType;
  if (!schema) throw new ContractError(`unknown request "${String(name)}"`);
  const result = schema.safeParse(payload ?? {});
  if (!result.success) {
    const problems = result.error.issues.map(
      (i) => `${i.path.map(String).join('.') || '(payload)'}: ${i.message}`,
    );
    throw new ContractError(`${String(name)}: ${problems.join('; ')}`);
  }
  return result.data as z.output<(typeof requestSchemas)[K]>;
}

export { REQUEST_NAMES, ipcChannel, isEventName, isRequestName } from './contract-names';

export type { SettingsInput };
