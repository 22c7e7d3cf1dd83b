import { mkdirSync, renameSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { KEY_IDS } from '../../shared/contract';
import type { KeyId, KeyStatus, Notice, SecretStorageInfo } from '../../shared/contract';
import { writeFileAtomic } from './settings-store';
import type { SecretStore } from './types';

/**
 * API keys in `secrets.json` in the user data folder, each stored as base64 of the bytes that
 * Electron's safeStorage (injected, so this runs in plain Node) encrypted with the OS store.
 *
 * Electron 45 deprecates the synchronous safeStorage calls: this store uses the asynchronous ones
 * (isAsyncEncryptionAvailable, encryptStringAsync, decryptStringAsync), and the synchronous ones
 * only where an implementation has nothing else (the stand-ins of the web mode and the tests).
 * Keys written by the synchronous API decrypt with the asynchronous one. When decryption says
 * `shouldReEncrypt` (the OS key was rotated, or a stronger one became available), the key is
 * encrypted again and the file rewritten at once, so it never stays on the old key.
 *
 * - Encryption available: keys are encrypted at rest; the file is written atomically with 0600.
 * - Linux `basic_text` backend (no keyring found): keys are still saved, but only obfuscated,
 *   and info() carries a warning saying so.
 * - No encryption at all: keys are never written to disk in clear; they are kept in memory for
 *   this run only, and info() says so.
 * A saved key that cannot be decrypted (the OS keyring changed, a damaged file) is reported by
 * problems() and treated as not set; it never throws.
 *
 * Construct it after Electron's `ready` (safeStorage answers only then) and `await open()` before
 * anything else: it reads and decrypts the file once; reads are from memory after that.
 */

/** What this store needs from Electron's `safeStorage`. */
export interface SafeStorageLike {
  isAsyncEncryptionAvailable?(): Promise<boolean>;
  encryptStringAsync?(plainText: string): Promise<Buffer>;
  decryptStringAsync?(encrypted: Buffer): Promise<{ shouldReEncrypt: boolean; result: string }>;
  /** The deprecated synchronous API, used only when the asynchronous call is missing. */
  isEncryptionAvailable?(): boolean;
  encryptString?(plainText: string): Buffer;
  decryptString?(encrypted: Buffer): string;
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

/** Environment variables read when the store holds no key. */
export const KEY_ENV_VARS: Readonly<Record<KeyId, string>> = {
  deepgram: 'DEEPGRAM_API_KEY',
  openai: 'OPENAI_API_KEY',
  elevenlabs: 'ELEVENLABS_API_KEY',
  llm_endpoint: 'CUE_LLM_ENDPOINT_KEY',
};

const KEY_NAMES: Readonly<Record<KeyId, string>> = {
  deepgram: 'Deepgram API key',
  openai: 'OpenAI API key',
  elevenlabs: 'ElevenLabs API key',
  llm_endpoint: 'custom endpoint key',
};

const ENV_HINT = `or set ${KEY_IDS.map((p) => KEY_ENV_VARS[p]).join(', ')} in the environment instead`;

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
  keys: Map<KeyId, string>;
  /** The file's entries as stored (base64), kept verbatim, undecryptable ones included. */
  stored: Record<string, string>;
  problems: { key: KeyId | null; notice: Notice }[];
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
  private opened: State | undefined;
  private opening: Promise<State> | undefined;
  /** Writes, one after another in call order. */
  private writes: Promise<unknown> = Promise.resolve();
  /** How many keys were re-encrypted when the store was opened (decryption asked for it). */
  reEncrypted = 0;

  constructor(options: EncryptedSecretStoreOptions) {
    this.safeStorage = options.safeStorage;
    this.dir = options.dir;
    this.platform = options.platform;
    this.now = options.now ?? (() => new Date());
    this.file = join(options.dir, SECRETS_FILE);
  }

  /** Reads and decrypts the file (once); every other method needs it done. */
  async open(): Promise<this> {
    this.opening ??= this.read().then((state) => (this.opened = state));
    await this.opening;
    return this;
  }

  get(key: KeyId): string | undefined {
    return this.state.keys.get(key);
  }

  has(key: KeyId): boolean {
    return this.state.keys.has(key);
  }

  /** Saves a key (encrypted; in memory only when the OS cannot encrypt). Rejects if it cannot be saved. */
  set(key: KeyId, value: string): Promise<void> {
    assertKeyId(key);
    const trimmed = value.trim();
    if (!trimmed) return Promise.reject(new Error(`The ${KEY_NAMES[key]} is empty.`));
    return this.queue(async () => {
      const state = this.state;
      if (state.mode !== 'memory') {
        let encrypted: Buffer;
        try {
          encrypted = await this.encrypt(trimmed);
        } catch (error) {
          throw new Error(`The ${KEY_NAMES[key]} could not be encrypted (${errorText(error)}).`, {
            cause: error,
          });
        }
        const stored = { ...state.stored, [key]: encrypted.toString('base64') };
        this.write(stored);
        state.stored = stored;
      }
      state.keys.set(key, trimmed);
      this.resolveProblems(key);
    });
  }

  /** Forgets a key, in memory and on disk (an undecryptable saved entry is removed too). */
  clear(key: KeyId): Promise<void> {
    assertKeyId(key);
    return this.queue(async () => {
      const state = this.state;
      state.keys.delete(key);
      if (Object.hasOwn(state.stored, key)) {
        const stored = { ...state.stored };
        delete stored[key];
        this.write(stored);
        state.stored = stored;
      }
      this.resolveProblems(key);
    });
  }

  info(): SecretStorageInfo {
    const { mode, backend } = this.state;
    return {
      encrypted: mode === 'encrypted',
      backend,
      warning: mode === 'obfuscated' ? BASIC_TEXT_WARNING : mode === 'memory' ? MEMORY_ONLY_WARNING : null,
    };
  }

  /** Saved keys that could not be used (undecryptable, damaged file), each as a warning for the user. */
  problems(): Notice[] {
    return this.state.problems.map(({ notice }) => ({ ...notice }));
  }

  private get state(): State {
    if (!this.opened) throw new Error('EncryptedSecretStore: await open() before using the store');
    return this.opened;
  }

  private queue(task: () => Promise<void>): Promise<void> {
    const run = this.writes.then(task);
    this.writes = run.catch(() => undefined);
    return run;
  }

  private async read(): Promise<State> {
    const { mode, backend } = await this.detect();
    const state: State = { mode, backend, keys: new Map(), stored: {}, problems: [] };
    const warn = (message: string, key: KeyId | null = null) =>
      state.problems.push({ key, notice: { level: 'warning', message } });

    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
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
    let rotated = false;
    for (const key of KEY_IDS) {
      if (!Object.hasOwn(parsed.keys, key)) continue;
      const label = `The saved ${KEY_NAMES[key]}`;
      const value = parsed.keys[key];
      if (typeof value !== 'string' || !/^[A-Za-z0-9+/]+={0,2}$/.test(value)) {
        warn(
          `${label} in ${this.file} is damaged, so it is treated as not set: enter it again in Settings.`,
          key,
        );
        continue;
      }
      if (mode === 'memory') {
        warn(
          `${label} cannot be decrypted because encryption is not available on this system now, ` +
            'so it is treated as not set.',
          key,
        );
        continue;
      }
      try {
        const { result, shouldReEncrypt } = await this.decrypt(Buffer.from(value, 'base64'));
        if (!result.trim()) throw new Error('it decrypted to nothing');
        state.keys.set(key, result);
        if (shouldReEncrypt) {
          state.stored[key] = (await this.encrypt(result)).toString('base64');
          rotated = true;
          this.reEncrypted++;
        }
      } catch (error) {
        warn(
          `${label} could not be decrypted (${errorText(error)}); the system keyring may have changed. ` +
            'It is treated as not set: enter it again in Settings.',
          key,
        );
      }
    }
    if (rotated) {
      try {
        this.write(state.stored);
      } catch (error) {
        warn(`The re-encrypted API keys could not be saved to ${this.file} (${errorText(error)}).`);
      }
    }
    return state;
  }

  private async detect(): Promise<{ mode: Mode; backend: string }> {
    let available: boolean;
    try {
      available = this.safeStorage.isAsyncEncryptionAvailable
        ? await this.safeStorage.isAsyncEncryptionAvailable()
        : (this.safeStorage.isEncryptionAvailable?.() ?? false);
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

  private async encrypt(text: string): Promise<Buffer> {
    const { encryptStringAsync, encryptString } = this.safeStorage;
    if (encryptStringAsync) return encryptStringAsync.call(this.safeStorage, text);
    if (encryptString) return encryptString.call(this.safeStorage, text);
    throw new Error('safeStorage offers no way to encrypt');
  }

  private async decrypt(data: Buffer): Promise<{ result: string; shouldReEncrypt: boolean }> {
    const { decryptStringAsync, decryptString } = this.safeStorage;
    if (decryptStringAsync) return decryptStringAsync.call(this.safeStorage, data);
    if (decryptString) return { result: decryptString.call(this.safeStorage, data), shouldReEncrypt: false };
    throw new Error('safeStorage offers no way to decrypt');
  }

  private write(stored: Record<string, string>): void {
    const content: SecretsFile = { version: 1, keys: stored };
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    writeFileAtomic(this.file, `${JSON.stringify(content, null, 2)}\n`, { mode: 0o600 });
  }

  /** Drops the problems about a key once it has been set or cleared. */
  private resolveProblems(key: KeyId): void {
    const state = this.state;
    state.problems = state.problems.filter((problem) => problem.key !== key);
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

function assertKeyId(key: string): asserts key is KeyId {
  if (!(KEY_IDS as readonly string[]).includes(key)) throw new Error(`unknown key "${key}"`);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

// ---------- keys from the store or the environment ----------

export type KeyEnvironment = Readonly<Record<string, string | undefined>>;

function envKey(provider: KeyId, env: KeyEnvironment): string | undefined {
  const value = env[KEY_ENV_VARS[provider]]?.trim();
  return value ? value : undefined;
}

/** Where each provider's key comes from: the store wins over the environment. */
export function keyStatus(store: Pick<SecretStore, 'has'>, env: KeyEnvironment): Record<KeyId, KeyStatus> {
  const out = {} as Record<KeyId, KeyStatus>;
  for (const provider of KEY_IDS) {
    const source = store.has(provider) ? 'store' : envKey(provider, env) ? 'environment' : null;
    out[provider] = { set: source !== null, source };
  }
  return out;
}

/** The key to use for a provider: the store's, else the environment variable's, else undefined. */
export function resolveKey(
  provider: KeyId,
  store: Pick<SecretStore, 'get'>,
  env: KeyEnvironment,
): string | undefined {
  return store.get(provider) ?? envKey(provider, env);
}

/** The environment-key helpers together. */
export const EnvironmentKeys = { variables: KEY_ENV_VARS, keyStatus, resolveKey } as const;
