import type {
  AudioDown,
  AudioUp,
  EventName,
  Events,
  KeyId,
  RequestName,
  Response,
  SecretStorageInfo,
} from '../../shared/contract';
import type { Notice } from '../../shared/contract';
import type { Settings } from '../../shared/settings';

/**
 * What a carrier (Electron IPC, the WebSocket bridge, an in-memory test carrier) talks to:
 * the app core behind the contract. Carriers validate nothing themselves beyond the sender;
 * `request` validates payloads against the contract and answers or throws a ContractError.
 */
export interface ContractHandler {
  request<K extends RequestName>(name: K, payload: unknown): Promise<Response<K>>;
  subscribe(listener: <E extends EventName>(name: E, payload: Events[E]) => void): () => void;
  audioUp(message: AudioUp): void;
  onAudioDown(listener: (message: AudioDown) => void): () => void;
}

/** Settings persisted as JSON in the user data folder. */
export interface SettingsStore {
  /** Reads the settings; a corrupt or invalid file is recovered (backup, else defaults) with notices naming what was dropped. */
  load(): { settings: Settings; notices: Notice[] };
  /** Writes atomically (temp file + rename), keeping the previous good file as a backup. */
  save(settings: Settings): void;
}

/** API keys, encrypted at rest where the OS allows; never returned to the renderer. */
export interface SecretStore {
  get(key: KeyId): string | undefined;
  set(key: KeyId, value: string): void | Promise<void>;
  clear(key: KeyId): void | Promise<void>;
  has(key: KeyId): boolean;
  info(): SecretStorageInfo;
  /** Keys that could not be read back (e.g. the OS keyring changed), as notices for the user. */
  problems?(): Notice[];
}
