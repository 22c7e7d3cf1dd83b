import { mkdirSync, readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { PROVIDERS } from '../../shared/contract';
import type { KeyStatus, Notice, ProviderId, SecretStorageInfo } from '../../shared/contract';
import { writeFileAtomic } from './settings-store';
import type { SecretStore } from './types';

/**
 * API keys in `secrets.json` in the user data folder, each stored as base64 of the bytes that
 * Electron's safeStorage (injected, so this runs in plain Node) encrypted with the OS store.
 *
 * - Encryption available: keys are encrypted at rest; the file is written atomically with 0600.
 * - Linux `basic_text` backend (no keyring found): keys are still saved, but only obfuscated,
 *   and info() carries a warning saying so.
 * - No encryption at all: keys are never written to disk in clear; they are kept in memory for
 *   this run only, and info() says so.
 * A saved key that cannot be decrypted (the OS keyring changed, a damaged file) is reported by
 * problems() and treated as not set; it never throws.
 *
 * Construct it after Electron's `ready` (safeStorage answers only then); the file is read on first use.
 */

/** What this store needs from Electron's `safeStorage`. */
export interface SafeStorageLike {
  isEncryptionAvailable(): boolean;
  encryptString(plainText: string): Buffer;
  decryptString(encrypted: Buffer): string;
  /** Linux only: gnome_libsecret, kwallet, kwallet5, kwallet6, basic_text or unknown. */
  getSelectedStorageBackend?(): string;
}

export interface EncryptedSecretStoreOptions {
  safeStorage: SafeStorageLike;
  /** The user data folder (app.getPath('userData') in the app). */
  dir: string;
  /** process.platform. */
  platform: string;
  /** Clock for the timestamp of a damaged file kept aside (tests). */
  now?: () => Date;
}

export const SECRETS_FILE = 'secrets.json';

/** Environment variables read when the store holds no key for a provider. */
export const KEY_ENV_VARS: Readonly<Record<ProviderId, string>> = {
  deepgram: 'DEEPGRAM_API_KEY',
  openai: 'OPENAI_API_KEY',
  elevenlabs: 'ELEVENLABS_API_KEY',
};

const PROVIDER_NAMES: Readonly<Record<ProviderId, string>> = {
  deepgram: 'Deepgram',
  openai: 'OpenAI',
  elevenlabs: 'ElevenLabs',
};

const ENV_HINT = `or set ${PROVIDERS.map((p) => KEY_ENV_VARS[p]).join(', ')} in the environment instead`;

export const BASIC_TEXT_WARNING =
  'No secret store (e.g. GNOME Keyring or KWallet) was found, so keys are only obfuscated on disk, ' +
  'not encrypted: anyone who can read your files can recover them. Install and unlock a secret store ' +
  `and restart Cue, ${ENV_HINT}.`;

export const MEMORY_ONLY_WARNING =
  'Keys cannot be encrypted on this system (no OS secret store is available), so Cue does not save ' +
  'them to disk: keys you enter are kept in memory for this run only and must be entered again next ' +
  `time. Make a secret store available and restart Cue, ${ENV_HINT}.`;

type Mode = 'encrypted' | 'obfuscated' | 'memory';

interface State {
  mode: Mode;
  backend: string;
  /** Decrypted keys (or, in memory mode, keys entered this run). */
  keys: Map<ProviderId, string>;
  /** The file's entries as stored (base64), kept verbatim, undecryptable ones included. */
  stored: Record<string, string>;
  problems: { provider: ProviderId | null; notice: Notice }[];
}

interface SecretsFile {
  version: 1;
  keys: Record<string, string>;
}

export class EncryptedSecretStore implements SecretStore {
  readonly file: string;
  private readonly safeStorage: SafeStorageLike;
  private readonly dir: string;
  private readonly platform: string;
  private readonly now: () => Date;
  private state: State | undefined;

  constructor(options: EncryptedSecretStoreOptions) {
    this.safeStorage = options.safeStorage;
    this.dir = options.dir;
    this.platform = options.platform;
    this.now = options.now ?? (() => new Date());
    this.file = join(options.dir, SECRETS_FILE);
  }

  get(provider: ProviderId): string | undefined {
    return this.load().keys.get(provider);
  }

  has(provider: ProviderId): boolean {
    return this.load().keys.has(provider);
  }

  /** Saves a key (encrypted; in memory only when the OS cannot encrypt). Throws if it cannot be saved. */
  set(provider: ProviderId, key: string): void {
    assertProvider(provider);
    const value = key.trim();
    if (!value) throw new Error(`The ${PROVIDER_NAMES[provider]} API key is empty.`);
    const state = this.load();
    if (state.mode !== 'memory') {
      let encrypted: Buffer;
      try {
        encrypted = this.safeStorage.encryptString(value);
      } catch (error) {
        throw new Error(
          `The ${PROVIDER_NAMES[provider]} API key could not be encrypted (${errorText(error)}).`,
          { cause: error },
        );
      }
      const stored = { ...state.stored, [provider]: encrypted.toString('base64') };
      this.write(stored);
      state.stored = stored;
    }
    state.keys.set(provider, value);
    this.resolveProblems(provider);
  }

  /** Forgets a key, in memory and on disk (an undecryptable saved entry is removed too). */
  clear(provider: ProviderId): void {
    assertProvider(provider);
    const state = this.load();
    state.keys.delete(provider);
    if (Object.hasOwn(state.stored, provider)) {
      const stored = { ...state.stored };
      delete stored[provider];
      this.write(stored);
      state.stored = stored;
    }
    this.resolveProblems(provider);
  }

  info(): SecretStorageInfo {
    const { mode, backend } = this.load();
    return {
      encrypted: mode === 'encrypted',
      backend,
      warning: mode === 'obfuscated' ? BASIC_TEXT_WARNING : mode === 'memory' ? MEMORY_ONLY_WARNING : null,
    };
  }

  /** Saved keys that could not be used (undecryptable, damaged file), each as a warning for the user. */
  problems(): Notice[] {
    return this.load().problems.map(({ notice }) => ({ ...notice }));
  }

  private load(): State {
    if (this.state) return this.state;
    const { mode, backend } = this.detect();
    const state: State = { mode, backend, keys: new Map(), stored: {}, problems: [] };
    this.state = state;
    const warn = (message: string, provider: ProviderId | null = null) =>
      state.problems.push({ provider, notice: { level: 'warning', message } });

    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
        warn(
          `Saved API keys could not be read from ${this.file} (${errorText(error)}), so they are treated as not set.`,
        );
      }
      return state;
    }

    const parsed = parseSecretsFile(text);
    if (!parsed) {
      const aside = this.keepAside();
      warn(
        `${this.file} is damaged, so the API keys saved in it are treated as not set: enter them again in Settings.` +
          (aside ? ` The damaged file was moved to ${aside}.` : ''),
      );
      return state;
    }

    for (const [name, value] of Object.entries(parsed.keys)) {
      if (typeof value === 'string') state.stored[name] = value;
    }
    for (const provider of PROVIDERS) {
      if (!Object.hasOwn(parsed.keys, provider)) continue;
      const label = `The saved ${PROVIDER_NAMES[provider]} API key`;
      const value = parsed.keys[provider];
      if (typeof value !== 'string' || !/^[A-Za-z0-9+/]+={0,2}$/.test(value)) {
        warn(
          `${label} in ${this.file} is damaged, so it is treated as not set: enter it again in Settings.`,
          provider,
        );
        continue;
      }
      if (mode === 'memory') {
        warn(
          `${label} cannot be decrypted because encryption is not available on this system now, ` +
            'so it is treated as not set.',
          provider,
        );
        continue;
      }
      try {
        const key = this.safeStorage.decryptString(Buffer.from(value, 'base64'));
        if (!key.trim()) throw new Error('it decrypted to nothing');
        state.keys.set(provider, key);
      } catch (error) {
        warn(
          `${label} could not be decrypted (${errorText(error)}); the system keyring may have changed. ` +
            'It is treated as not set: enter it again in Settings.',
          provider,
        );
      }
    }
    return state;
  }

  private detect(): { mode: Mode; backend: string } {
    let available: boolean;
    try {
      available = this.safeStorage.isEncryptionAvailable();
    } catch {
      available = false;
    }
    let backend = this.platform;
    if (this.platform === 'linux') {
      try {
        backend = this.safeStorage.getSelectedStorageBackend?.() ?? 'unknown';
      } catch {
        backend = 'unknown';
      }
    }
    if (!available) return { mode: 'memory', backend };
    if (this.platform === 'linux' && backend === 'basic_text') return { mode: 'obfuscated', backend };
    return { mode: 'encrypted', backend };
  }

  private write(stored: Record<string, string>): void {
    const content: SecretsFile = { version: 1, keys: stored };
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    writeFileAtomic(this.file, `${JSON.stringify(content, null, 2)}\n`, { mode: 0o600 });
  }

  /** Drops the problems about a provider once its key has been set or cleared. */
  private resolveProblems(provider: ProviderId): void {
    const state = this.load();
    state.problems = state.problems.filter((problem) => problem.provider !== provider);
  }

  private keepAside(): string | null {
    const path = join(this.dir, `secrets.corrupt-${this.now().toISOString().replace(/:/g, '-')}.json`);
    try {
      renameSync(this.file, path);
      return path;
    } catch {
      return null;
    }
  }
}

function parseSecretsFile(text: string): { keys: Record<string, unknown> } | null {
  try {
    const raw: unknown = JSON.parse(text);
    if (!isPlainObject(raw) || !isPlainObject(raw.keys)) return null;
    return { keys: raw.keys };
  } catch {
    return null;
  }
}

function assertProvider(provider: string): asserts provider is ProviderId {
  if (!(PROVIDERS as readonly string[]).includes(provider)) throw new Error(`unknown provider "${provider}"`);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

// ---------- keys from the store or the environment ----------

export type KeyEnvironment = Readonly<Record<string, string | undefined>>;

function envKey(provider: ProviderId, env: KeyEnvironment): string | undefined {
  const value = env[KEY_ENV_VARS[provider]]?.trim();
  return value ? value : undefined;
}

/** Where each provider's key comes from: the store wins over the environment. */
export function keyStatus(
  store: Pick<SecretStore, 'has'>,
  env: KeyEnvironment,
): Record<ProviderId, KeyStatus> {
  const out = {} as Record<ProviderId, KeyStatus>;
  for (const provider of PROVIDERS) {
    const source = store.has(provider) ? 'store' : envKey(provider, env) ? 'environment' : null;
    out[provider] = { set: source !== null, source };
  }
  return out;
}

/** The key to use for a provider: the store's, else the environment variable's, else undefined. */
export function resolveKey(
  provider: ProviderId,
  store: Pick<SecretStore, 'get'>,
  env: KeyEnvironment,
): string | undefined {
  return store.get(provider) ?? envKey(provider, env);
}

/** The environment-key helpers together. */
export const EnvironmentKeys = { variables: KEY_ENV_VARS, keyStatus, resolveKey } as const;
